"""Parties API: parties, their contacts and addresses, through the same actions as the UI."""

# No `from __future__ import annotations`: django-ninja reads the endpoint annotations at
# import time, and `idempotent` wraps endpoints in a function from another module.

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from comptoir.core.models import User
from comptoir.parties import actions
from comptoir.parties.models import Address, Contact, CustomerCategory, Party, Territory
from comptoir.parties.selectors import (
    addresses_visible_to,
    contacts_visible_to,
    parties_visible_to,
    search_parties,
)

router = Router(tags=["parties"])

# Imported after `router` exists: comptoir.api.api mounts this router when it loads, so
# whichever of the two modules is imported first, the other finds what it needs.
from comptoir.api.api import idempotent  # noqa: E402

# API field (an id) -> action field (an object), and the model to find the id in.
_FOREIGN_KEYS: dict[str, tuple[str, type[Model]]] = {
    "sales_rep_id": ("sales_rep", User),
    "territory_id": ("territory", Territory),
    "category_id": ("category", CustomerCategory),
}


class AddressIn(Schema):
    kind: str = "billing"
    label: str = ""
    line1: str = ""
    line2: str = ""
    line3: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "FR"
    is_default: bool = False


class AddressPatch(Schema):
    kind: str | None = None
    label: str | None = None
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    is_default: bool | None = None


class AddressOut(Schema):
    id: int
    party_id: int
    kind: str
    label: str
    line1: str
    line2: str
    line3: str
    postcode: str
    city: str
    country: str
    is_default: bool


class PartyPatch(Schema):
    kind: Literal["organisation", "person"] | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    legal_form: str | None = None
    siren: str | None = None
    siret: str | None = None
    vat_number: str | None = None
    naf_code: str | None = None
    is_customer: bool | None = None
    is_prospect: bool | None = None
    is_supplier: bool | None = None
    category_id: int | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    website: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    sales_rep_id: int | None = None
    territory_id: int | None = None
    payment_terms_days: int | None = None
    payment_terms_base: Literal["net", "end_of_month"] | None = None
    notes: str | None = None
    is_active: bool | None = None
    tags: list[str] | None = None


class PartyIn(PartyPatch):
    billing_address: AddressIn | None = None


class PartyOut(Schema):
    id: int
    kind: str
    name: str
    first_name: str
    last_name: str
    legal_form: str
    siren: str
    siret: str
    vat_number: str
    naf_code: str
    is_customer: bool
    is_prospect: bool
    is_supplier: bool
    category_id: int | None
    email: str
    phone: str
    mobile: str
    website: str
    postcode: str
    city: str
    country: str
    sales_rep_id: int | None
    territory_id: int | None
    payment_terms_days: int | None
    payment_terms_base: str
    notes: str
    is_active: bool
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_tags(obj: Party) -> list[str]:
        return [tag.name for tag in obj.tags.all()]


class ContactIn(Schema):
    civility: str = ""
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    functions: list[str] = []
    email: str = ""
    phone: str = ""
    mobile: str = ""
    is_primary: bool = False
    notes: str = ""


class ContactPatch(Schema):
    civility: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    functions: list[str] | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    is_primary: bool | None = None
    notes: str | None = None
    is_active: bool | None = None


class ContactOut(Schema):
    id: int
    party_id: int
    civility: str
    first_name: str
    last_name: str
    job_title: str
    functions: list[str]
    email: str
    phone: str
    mobile: str
    is_primary: bool
    notes: str
    is_active: bool


@contextmanager
def _api_field_names() -> Iterator[None]:
    """Name the fields in errors as the API client sent them (`sales_rep_id`, not `sales_rep`)."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {field: api_name for api_name, (field, _model) in _FOREIGN_KEYS.items()}
        raise ValidationError(
            {renamed.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from exc


def _values(payload: Schema, *, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Return the fields the client sent; null means blank, except where null has a meaning."""
    values = payload.dict(exclude_unset=True)
    errors: dict[str, list[str]] = {}
    for api_name, (field, model) in _FOREIGN_KEYS.items():
        if api_name in values:
            pk = values.pop(api_name)
            if pk is None:
                values[field] = None
                continue
            obj = model._default_manager.filter(pk=pk).first()
            if obj is None:
                errors[api_name] = [f"No {field.replace('_', ' ')} has id {pk}."]
            values[field] = obj
    if errors:
        raise ValidationError(errors)
    keep_null = nullable | {field for field, _model in _FOREIGN_KEYS.values()}
    for name, value in list(values.items()):
        if value is None and name not in keep_null:
            values[name] = False if name.startswith("is_") else ""
    return values


def _require(request: HttpRequest, perm: str, obj: Any = None) -> None:
    if not request.auth.has_perm(perm, obj):  # type: ignore[attr-defined]
        raise PermissionDenied


def _party(request: HttpRequest, party_id: int) -> Party:
    return get_object_or_404(parties_visible_to(request.auth), pk=party_id)


# -- parties ------------------------------------------------------------------------------


@router.get("/parties", response=list[PartyOut])
@paginate(PageNumberPagination)
def list_parties(
    request: HttpRequest,
    role: Literal["customer", "prospect", "supplier"] | None = None,
    q: str | None = None,
    sales_rep: int | None = None,
) -> QuerySet[Party]:
    """List the parties you may see, by name; filter by role, search text or sales rep id."""
    _require(request, "parties.view_party")
    queryset = search_parties(parties_visible_to(request.auth), q or "")
    if role:
        queryset = queryset.filter(**{f"is_{role}": True})
    if sales_rep is not None:
        queryset = queryset.filter(sales_rep_id=sales_rep)
    return queryset.prefetch_related("tags").order_by("name", "pk")


@router.post("/parties", response={201: PartyOut})
@idempotent
def create_party(request: HttpRequest, payload: PartyIn) -> tuple[int, Any]:
    """Create a party (send `Idempotency-Key` to retry safely)."""
    _require(request, "parties.add_party")
    values = _values(payload, nullable=frozenset({"payment_terms_days", "billing_address"}))
    billing = values.pop("billing_address", None)
    tags = values.pop("tags", None)
    with _api_field_names():
        party = actions.create_party(by=request.auth, tags=tags, billing_address=billing, **values)
    return 201, PartyOut.from_orm(party)


@router.get("/parties/{party_id}", response=PartyOut)
def get_party(request: HttpRequest, party_id: int) -> Party:
    party = _party(request, party_id)
    _require(request, "parties.view_party", party)
    return party


@router.patch("/parties/{party_id}", response=PartyOut)
def update_party(request: HttpRequest, party_id: int, payload: PartyPatch) -> Party:
    """Change the fields sent; the others stay as they are."""
    party = _party(request, party_id)
    _require(request, "parties.change_party", party)
    values = _values(payload, nullable=frozenset({"payment_terms_days", "tags"}))
    tags = values.pop("tags", None)
    with _api_field_names():
        return actions.update_party(party, by=request.auth, tags=tags, **values)


@router.delete("/parties/{party_id}", response={204: None})
def archive_party(request: HttpRequest, party_id: int) -> tuple[int, None]:
    """Archive the party (it stays, with its documents and history)."""
    party = _party(request, party_id)
    _require(request, "parties.delete_party", party)
    actions.archive_party(party, by=request.auth)
    return 204, None


# -- contacts -----------------------------------------------------------------------------


def _contact(request: HttpRequest, contact_id: int) -> Contact:
    return get_object_or_404(
        contacts_visible_to(request.auth).select_related("party"), pk=contact_id
    )


@router.get("/parties/{party_id}/contacts", response=list[ContactOut])
@paginate(PageNumberPagination)
def list_contacts(request: HttpRequest, party_id: int) -> QuerySet[Contact]:
    party = _party(request, party_id)
    _require(request, "parties.view_party", party)
    return party.contacts.order_by("last_name", "first_name", "pk")


@router.post("/parties/{party_id}/contacts", response={201: ContactOut})
@idempotent
def add_contact(request: HttpRequest, party_id: int, payload: ContactIn) -> tuple[int, Any]:
    party = _party(request, party_id)
    _require(request, "parties.add_contact", party)
    contact = actions.add_contact(party, by=request.auth, **_values(payload))
    return 201, ContactOut.from_orm(contact)


@router.get("/contacts/{contact_id}", response=ContactOut)
def get_contact(request: HttpRequest, contact_id: int) -> Contact:
    contact = _contact(request, contact_id)
    _require(request, "parties.view_contact", contact)
    return contact


@router.patch("/contacts/{contact_id}", response=ContactOut)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> Contact:
    contact = _contact(request, contact_id)
    _require(request, "parties.change_contact", contact)
    return actions.update_contact(contact, by=request.auth, **_values(payload))


@router.delete("/contacts/{contact_id}", response={204: None})
def remove_contact(request: HttpRequest, contact_id: int) -> tuple[int, None]:
    contact = _contact(request, contact_id)
    _require(request, "parties.delete_contact", contact)
    actions.remove_contact(contact, by=request.auth)
    return 204, None


# -- addresses ----------------------------------------------------------------------------


def _address(request: HttpRequest, address_id: int) -> Address:
    return get_object_or_404(
        addresses_visible_to(request.auth).select_related("party"), pk=address_id
    )


@router.get("/parties/{party_id}/addresses", response=list[AddressOut])
@paginate(PageNumberPagination)
def list_addresses(request: HttpRequest, party_id: int) -> QuerySet[Address]:
    party = _party(request, party_id)
    _require(request, "parties.view_party", party)
    return party.addresses.order_by("kind", "-is_default", "pk")


@router.post("/parties/{party_id}/addresses", response={201: AddressOut})
@idempotent
def add_address(request: HttpRequest, party_id: int, payload: AddressIn) -> tuple[int, Any]:
    party = _party(request, party_id)
    _require(request, "parties.add_address", party)
    address = actions.add_address(party, by=request.auth, **_values(payload))
    return 201, AddressOut.from_orm(address)


@router.get("/addresses/{address_id}", response=AddressOut)
def get_address(request: HttpRequest, address_id: int) -> Address:
    address = _address(request, address_id)
    _require(request, "parties.view_address", address)
    return address


@router.patch("/addresses/{address_id}", response=AddressOut)
def update_address(request: HttpRequest, address_id: int, payload: AddressPatch) -> Address:
    address = _address(request, address_id)
    _require(request, "parties.change_address", address)
    return actions.update_address(address, by=request.auth, **_values(payload))


@router.delete("/addresses/{address_id}", response={204: None})
def remove_address(request: HttpRequest, address_id: int) -> tuple[int, None]:
    address = _address(request, address_id)
    _require(request, "parties.delete_address", address)
    actions.remove_address(address, by=request.auth)
    return 204, None
