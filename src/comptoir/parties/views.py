"""Parties screens: lists, the party page with its contacts and addresses, and the forms."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from comptoir.core.audit import action_label, history_for
from comptoir.core.exports import Raw
from comptoir.core.identifiers import display_phone
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.models import PaymentTermsBase, User
from comptoir.core.money import format_amount
from comptoir.core.roles import Role, is_sales_rep
from comptoir.core.views import FormScreen
from comptoir.parties import actions
from comptoir.parties.forms import (
    ADDRESS_FORM_FIELDS,
    AddressForm,
    ContactForm,
    PartyForm,
    _attach_errors,
)
from comptoir.parties.models import (
    Address,
    Contact,
    ContactFunction,
    CustomerCategory,
    Party,
    Tag,
    Territory,
)
from comptoir.parties.selectors import (
    addresses_visible_to,
    contacts_visible_to,
    effective_payment_terms,
    likely_duplicates,
    parties_visible_to,
    party_search_condition,
)

ROLES = {
    "customer": gettext_lazy("Customers"),
    "prospect": gettext_lazy("Prospects"),
    "supplier": gettext_lazy("Suppliers"),
}
_PHONE_TEXT = re.compile(r"\+?[\d ]+")


def _phone_cell(number: str) -> str:
    """Show a phone French style; mark it as ours so the export leaves its '+' alone."""
    text = display_phone(number)
    return Raw(text) if _PHONE_TEXT.fullmatch(text) else text


def _str_or_blank(value: Any) -> str:
    return str(value) if value is not None else ""


def _filter_sales_rep(queryset: QuerySet[Party], value: str) -> QuerySet[Party]:
    if value == "none":
        return queryset.filter(sales_rep__isnull=True)
    return queryset.filter(sales_rep_id=int(value)) if value.isdigit() else queryset.none()


def _filter_by_id(field: str) -> Any:
    def apply(queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
        return queryset.filter(**{field: int(value)}) if value.isdigit() else queryset.none()

    return apply


def _filter_active(queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
    if value in {"yes", "no"}:
        return queryset.filter(is_active=value == "yes")
    return queryset


ACTIVE_CHOICES = [("yes", gettext_lazy("Active")), ("no", gettext_lazy("Archived"))]


class PartyList(ListScreen):
    title = gettext_lazy("Parties")
    permission = "parties.view_party"
    columns = (
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("roles", gettext_lazy("Roles"), value=lambda p: ", ".join(p.roles())),
        Column("city", gettext_lazy("City"), sort="city"),
        Column("postcode", gettext_lazy("Postcode"), sort="postcode"),
        Column("siren", gettext_lazy("SIREN"), sort="siren"),
        Column("phone", gettext_lazy("Phone"), kind="phone", value=lambda p: _phone_cell(p.phone)),
        Column("email", gettext_lazy("Email"), sort="email"),
        Column(
            "sales_rep",
            gettext_lazy("Sales rep"),
            sort="sales_rep__last_name",
            value=lambda p: _str_or_blank(p.sales_rep),
        ),
        Column(
            "territory",
            gettext_lazy("Territory"),
            sort="territory__name",
            value=lambda p: _str_or_blank(p.territory),
        ),
        Column(
            "category",
            gettext_lazy("Category"),
            sort="category__name",
            value=lambda p: _str_or_blank(p.category),
        ),
        Column(
            "created_at",
            gettext_lazy("Created"),
            sort="created_at",
            kind="date",
            value=lambda p: timezone.localdate(p.created_at),
        ),
        Column("siret", gettext_lazy("SIRET"), export_only=True),
        Column("vat_number", gettext_lazy("VAT number"), export_only=True),
        Column("is_active", gettext_lazy("Active"), kind="bool", export_only=True),
    )
    search_fields = ("name", "name_key", "siren", "siret", "email", "city", "postcode")

    def search_filter(self, term: str) -> Q:
        return party_search_condition(term)

    filters = (
        Filter(
            "role",
            gettext_lazy("Role"),
            lambda request: [
                ("customer", gettext_lazy("Customer")),
                ("prospect", gettext_lazy("Prospect")),
                ("supplier", gettext_lazy("Supplier")),
            ],
            lambda qs, v: qs.filter(**{f"is_{v}": True}) if v in ROLES else qs.none(),
        ),
        Filter(
            "sales_rep",
            gettext_lazy("Sales rep"),
            lambda request: [
                *((str(u.pk), str(u)) for u in User.objects.filter(role=Role.SALES_REP)),
                ("none", gettext_lazy("(none)")),
            ],
            _filter_sales_rep,
        ),
        Filter(
            "territory",
            gettext_lazy("Territory"),
            lambda request: [(str(t.pk), t.name) for t in Territory.objects.all()],
            _filter_by_id("territory_id"),
        ),
        Filter(
            "category",
            gettext_lazy("Category"),
            lambda request: [(str(c.pk), c.name) for c in CustomerCategory.objects.all()],
            _filter_by_id("category_id"),
        ),
        Filter(
            "tag",
            gettext_lazy("Tag"),
            lambda request: [(str(t.pk), t.name) for t in Tag.objects.all()],
            _filter_by_id("tags"),
        ),
        Filter("active", gettext_lazy("Active"), lambda request: ACTIVE_CHOICES, _filter_active),
    )
    default_sort = "name"
    export_name = gettext_lazy("parties")
    create_label = gettext_lazy("New party")

    def get_queryset(self) -> QuerySet[Party]:
        return parties_visible_to(self.request.user).select_related(
            "sales_rep", "territory", "category"
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        role = request.GET.get("role", "")
        if role in ROLES:
            self.title = ROLES[role]
            self.export_name = str(ROLES[role])
        if is_sales_rep(request.user):
            # A rep's list is their own portfolio: choosing a rep would only empty it.
            self.filters = [f for f in self.filters if f.name != "sales_rep"]
        if request.user.has_perm("parties.add_party"):
            self.create_url = reverse("parties:create") + (f"?role={role}" if role in ROLES else "")
        self.detail_url = lambda party: reverse("parties:detail", args=[party.pk])
        return super().get(request, *args, **kwargs)


class ContactList(ListScreen):
    title = gettext_lazy("Contacts")
    permission = "parties.view_party"
    columns = (
        Column("last_name", gettext_lazy("Last name"), sort="last_name", link=True),
        Column("first_name", gettext_lazy("First name"), sort="first_name"),
        Column("party", gettext_lazy("Party"), sort="party__name", value=lambda c: c.party.name),
        Column("job_title", gettext_lazy("Job title"), sort="job_title"),
        Column(
            "functions", gettext_lazy("Functions"), value=lambda c: ", ".join(c.function_labels())
        ),
        Column("email", gettext_lazy("Email"), sort="email"),
        Column("phone", gettext_lazy("Phone"), kind="phone", value=lambda c: _phone_cell(c.phone)),
        Column(
            "mobile", gettext_lazy("Mobile"), kind="phone", value=lambda c: _phone_cell(c.mobile)
        ),
        Column("is_primary", gettext_lazy("Primary"), kind="bool"),
        Column("party_city", gettext_lazy("City"), value=lambda c: c.party.city, export_only=True),
    )
    search_fields = ("last_name", "first_name", "email", "job_title", "party__name")
    filters = (
        Filter(
            "function",
            gettext_lazy("Function"),
            lambda request: ContactFunction.choices,
            lambda qs, v: (
                qs.filter(functions__icontains=f'"{v}"')
                if v in ContactFunction.values
                else qs.none()
            ),
        ),
        Filter(
            "primary",
            gettext_lazy("Primary"),
            lambda request: [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
            lambda qs, v: qs.filter(is_primary=v == "yes") if v in {"yes", "no"} else qs,
        ),
        Filter("active", gettext_lazy("Active"), lambda request: ACTIVE_CHOICES, _filter_active),
    )
    default_sort = "last_name"
    export_name = gettext_lazy("contacts")

    def get_queryset(self) -> QuerySet[Contact]:
        return contacts_visible_to(self.request.user).select_related("party")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.detail_url = lambda contact: (
            reverse("parties:detail", args=[contact.party_id]) + f"#contact-{contact.pk}"
        )
        return super().get(request, *args, **kwargs)


# -- the party page ----------------------------------------------------------------------

# Keys that other apps record against the party, labelled here (they are no field of it).
_OTHER_KEY_LABELS = {
    "payment": gettext_lazy("Payment"),
    "amount": gettext_lazy("Amount"),
    "method": gettext_lazy("Method"),
    "invoices": gettext_lazy("Invoices"),
    "invoice": gettext_lazy("Invoice"),
    "credit": gettext_lazy("Credit left"),
    "credit_note": gettext_lazy("Credit note"),
    "mandate": gettext_lazy("Mandate"),
    "disputed": gettext_lazy("Disputed"),
    "dispute_note": gettext_lazy("Dispute note"),
    "address_text": gettext_lazy("Address"),
}
_HIDDEN_KEYS = {"contact", "address"}
# Actions whose audit values are [old, new] pairs (the others record the values set).
_DIFF_ACTIONS = {
    "update_party",
    "set_party_tags",
    "archive_party",
    "restore_party",
    "update_contact",
    "update_address",
}


def _model_field(name: str, action: str = "") -> Any:
    # An address's "kind" is not the party's: look first in the model the action is about.
    if action.endswith("_address"):
        models_in_order: tuple[Any, ...] = (Address, Party, Contact)
    elif action.endswith("_contact"):
        models_in_order = (Contact, Party, Address)
    else:
        models_in_order = (Party, Contact, Address)
    for model in models_in_order:
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def _field_label(name: str, action: str = "") -> str:
    if name in _OTHER_KEY_LABELS:
        return capfirst(str(_OTHER_KEY_LABELS[name]))
    # A reverse relation has no verbose_name: fall back to the key itself.
    label = getattr(_model_field(name, action), "verbose_name", None)
    return capfirst(str(label) if label is not None else name.replace("_", " "))


# Foreign keys are audited by id: show the name of what they point to.
_AUDITED_FOREIGN_KEYS = {"sales_rep": User, "territory": Territory, "category": CustomerCategory}


class _HistoryText:
    """Turn audited values into words: labels for codes, names for ids, Yes/No for flags."""

    def __init__(self, entries: list[Any]) -> None:
        wanted: dict[str, set[int]] = {name: set() for name in _AUDITED_FOREIGN_KEYS}
        for entry in entries:
            for key, value in (entry.changes or {}).items():
                if key in wanted:
                    pair = value if isinstance(value, list) else [value]
                    wanted[key].update(v for v in pair if isinstance(v, int))
        self.names = {
            key: {obj.pk: str(obj) for obj in model._default_manager.filter(pk__in=ids)}
            for key, model in _AUDITED_FOREIGN_KEYS.items()
            if (ids := wanted[key])
        }

    def change(self, action: str, key: str, value: Any) -> str:
        if action in _DIFF_ACTIONS and isinstance(value, list) and len(value) == 2:
            return f"{self.value(key, value[0], action)} → {self.value(key, value[1], action)}"
        return self.value(key, value, action)

    def value(self, key: str, value: Any, action: str = "") -> str:
        if value in (None, "", []):
            return "—"
        if value is True:
            return _("Yes")
        if value is False:
            return _("No")
        if key == "functions" and isinstance(value, list):
            labels = dict(ContactFunction.choices)
            return ", ".join(str(labels.get(code, code)) for code in value)
        if isinstance(value, list):
            return ", ".join(self.value(key, v, action) for v in value)
        if key in _AUDITED_FOREIGN_KEYS:
            return self.names.get(key, {}).get(value, f"#{value}")
        if key in _OTHER_KEY_LABELS:
            if key in {"amount", "credit"}:
                try:
                    return format_amount(Decimal(str(value))) + " €"
                except InvalidOperation:
                    return str(value)
            if key == "method":
                from comptoir.payments.models import PaymentMethod

                return str(dict(PaymentMethod.choices).get(value, value))
            return str(value)
        field = _model_field(key, action)
        if getattr(field, "choices", None):
            return str(dict(field.flatchoices).get(value, value))
        return str(value)


def _history(party: Party) -> list[dict[str, Any]]:
    entries = list(history_for(party)[:100])
    text = _HistoryText(entries)
    rows = []
    for entry in entries:
        changes = entry.changes if isinstance(entry.changes, dict) else {}
        rows.append(
            {
                "at": entry.at,
                "actor": entry.actor,
                "action": action_label(entry.action),
                "changes": [
                    (_field_label(key, entry.action), text.change(entry.action, key, value))
                    for key, value in changes.items()
                    if key not in _HIDDEN_KEYS
                ],
            }
        )
    return rows


def _visible_party(request: HttpRequest, pk: int) -> Party:
    """Return the party if the user may see it; 404 otherwise, even if it exists."""
    party = get_object_or_404(
        parties_visible_to(request.user).select_related(
            "sales_rep", "territory", "category", "created_by", "updated_by"
        ),
        pk=pk,
    )
    if not request.user.has_perm("parties.view_party", party):
        raise PermissionDenied
    return party


@login_required
def party_detail(request: HttpRequest, pk: int) -> HttpResponse:
    party = _visible_party(request, pk)
    terms = effective_payment_terms(party)
    return render(
        request,
        "parties/party_detail.html",
        {
            "title": party.name,
            "party": party,
            "tags": list(party.tags.all()),
            "contacts": list(party.contacts.all()),
            "addresses": list(party.addresses.all()),
            "terms": terms,
            "terms_are_default": party.payment_terms_days is None,
            "terms_base_label": dict(PaymentTermsBase.choices).get(terms.base, terms.base),
            "history": _history(party),
            "can_change": request.user.has_perm("parties.change_party", party),
            "can_archive": request.user.has_perm("parties.delete_party", party),
        },
    )


@require_POST
@login_required
def party_archive(request: HttpRequest, pk: int) -> HttpResponse:
    party = _visible_party(request, pk)
    if not request.user.has_perm("parties.delete_party", party):
        raise PermissionDenied
    actions.archive_party(party, by=request.user)
    messages.success(request, _("%(name)s is archived.") % {"name": party.name})
    return redirect("parties:detail", pk=party.pk)


@require_POST
@login_required
def party_restore(request: HttpRequest, pk: int) -> HttpResponse:
    party = _visible_party(request, pk)
    if not request.user.has_perm("parties.delete_party", party):
        raise PermissionDenied
    actions.restore_party(party, by=request.user)
    messages.success(request, _("%(name)s is active again.") % {"name": party.name})
    return redirect("parties:detail", pk=party.pk)


# -- party forms -------------------------------------------------------------------------

_ADDRESS_ERRORS = {f"billing_address.{field}": name for name, field in ADDRESS_FORM_FIELDS.items()}
_LOCATION_ERRORS = {"postcode": "address_postcode", "city": "address_city"}


class PartyCreate(FormScreen):
    form_class = PartyForm
    template_name = "parties/party_form.html"
    title = gettext_lazy("New party")
    submit_label = gettext_lazy("Create")
    permission = "parties.add_party"

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        role = self.request.GET.get("role", "")
        initial = {f"is_{role}": True} if role in ROLES else {}
        return PartyForm(data=data, user=self.request.user, initial=initial)

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(form, cancel_url=reverse("parties:list"), **extra)

    def get_warnings(self, form: forms.BaseForm) -> list[str]:
        assert isinstance(form, PartyForm)
        data = form.cleaned_data
        address = form.billing_address() or form.location_values()
        candidates = likely_duplicates(
            siren=data.get("siren") or "",
            siret=data.get("siret") or "",
            email=data.get("email") or "",
            name=data.get("name") or "",
            postcode=(address.get("postcode") or "").strip(),
        )
        warnings: list[str] = []
        for candidate in candidates[:10]:
            party = candidate.party
            reasons = ", ".join(candidate.reasons)
            where = " ".join(p for p in (party.postcode, party.city) if p)
            if self.request.user.has_perm("parties.view_party", party):
                name = format_html(
                    '<a href="{}" class="alert-link duplicate-link" target="_blank">{}</a>',
                    reverse("parties:detail", args=[party.pk]),
                    party.name,
                )
            else:
                name = format_html("{}", party.name)
            warnings.append(
                format_html(
                    "{} {} ({}) — {}",
                    _("This may be a party that already exists:"),
                    name,
                    where or "—",
                    reasons,
                )
            )
        return warnings

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, PartyForm)
        try:
            party = actions.create_party(
                by=self.request.user,
                tags=form.tag_names(),
                billing_address=form.billing_address(),
                **form.party_values(),
                **form.location_values(),
            )
        except ValidationError as exc:
            _attach_errors(form, exc, {**_ADDRESS_ERRORS, **_LOCATION_ERRORS})
            raise ValidationError(form.errors.as_data()) from exc
        messages.success(self.request, _("%(name)s created.") % {"name": party.name})
        return redirect("parties:detail", pk=party.pk)


class PartyEdit(FormScreen):
    form_class = PartyForm
    template_name = "parties/party_form.html"
    permission = "parties.change_party"

    def get_object(self) -> Party:
        if not hasattr(self, "_party"):
            self._party = get_object_or_404(
                parties_visible_to(self.request.user), pk=self.kwargs["pk"]
            )
        return self._party

    @property
    def title(self) -> str:  # type: ignore[override]
        return _("Edit %(name)s") % {"name": self.get_object().name}

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return PartyForm(data=data, user=self.request.user, party=self.get_object())

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        cancel = reverse("parties:detail", args=[self.get_object().pk])
        return super().context(form, cancel_url=cancel, **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, PartyForm)
        party = actions.update_party(
            self.get_object(), by=self.request.user, tags=form.tag_names(), **form.party_values()
        )
        messages.success(self.request, _("%(name)s saved.") % {"name": party.name})
        return redirect("parties:detail", pk=party.pk)


# -- contacts and addresses --------------------------------------------------------------


class _PartyPartScreen(FormScreen):
    """A contact or address form reached from its party's page."""

    def party(self) -> Party:
        raise NotImplementedError

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        party = self.party()
        cancel = reverse("parties:detail", args=[party.pk])
        return super().context(form, cancel_url=cancel, party=party, **extra)

    def back(self) -> HttpResponse:
        return redirect("parties:detail", pk=self.party().pk)


class _PartyPartCreate(_PartyPartScreen):
    """Add a contact or an address to the party named in the URL, if the user may."""

    submit_label = gettext_lazy("Add")
    add_permission = ""

    def party(self) -> Party:
        if not hasattr(self, "_party"):
            self._party = get_object_or_404(
                parties_visible_to(self.request.user), pk=self.kwargs["pk"]
            )
        return self._party

    def check_access(self) -> None:
        if not self.request.user.has_perm(self.add_permission, self.party()):
            raise PermissionDenied


class ContactCreate(_PartyPartCreate):
    form_class = ContactForm
    add_permission = "parties.add_contact"

    @property
    def title(self) -> str:  # type: ignore[override]
        return _("New contact at %(name)s") % {"name": self.party().name}

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return ContactForm(data=data, party=self.party())

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, ContactForm)
        contact = actions.add_contact(self.party(), by=self.request.user, **form.contact_values())
        messages.success(self.request, _("Contact %(name)s added.") % {"name": contact})
        return self.back()


class ContactEdit(_PartyPartScreen):
    form_class = ContactForm
    permission = "parties.change_contact"

    def get_object(self) -> Contact:
        if not hasattr(self, "_contact"):
            self._contact = get_object_or_404(
                contacts_visible_to(self.request.user).select_related("party"),
                pk=self.kwargs["contact_pk"],
            )
        return self._contact

    def party(self) -> Party:
        return self.get_object().party

    @property
    def title(self) -> str:  # type: ignore[override]
        return _("Edit contact %(name)s") % {"name": self.get_object()}

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return ContactForm(data=data, party=self.party(), contact=self.get_object())

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, ContactForm)
        actions.update_contact(self.get_object(), by=self.request.user, **form.contact_values())
        messages.success(self.request, _("Contact saved."))
        return self.back()


@require_POST
@login_required
def contact_remove(request: HttpRequest, contact_pk: int) -> HttpResponse:
    contact = get_object_or_404(
        contacts_visible_to(request.user).select_related("party"), pk=contact_pk
    )
    if not request.user.has_perm("parties.delete_contact", contact):
        raise PermissionDenied
    party_pk = contact.party_id
    actions.remove_contact(contact, by=request.user)
    messages.success(request, _("Contact %(name)s removed.") % {"name": contact})
    return redirect("parties:detail", pk=party_pk)


class AddressCreate(_PartyPartCreate):
    form_class = AddressForm
    add_permission = "parties.add_address"

    @property
    def title(self) -> str:  # type: ignore[override]
        return _("New address for %(name)s") % {"name": self.party().name}

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        kind = self.request.GET.get("kind", "")
        initial = {"kind": kind} if kind else {}
        return AddressForm(data=data, initial={"country": self.party().country, **initial})

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, AddressForm)
        actions.add_address(self.party(), by=self.request.user, **form.address_values())
        messages.success(self.request, _("Address added."))
        return self.back()


class AddressEdit(_PartyPartScreen):
    form_class = AddressForm
    permission = "parties.change_address"
    title = gettext_lazy("Edit address")

    def get_object(self) -> Address:
        if not hasattr(self, "_address"):
            self._address = get_object_or_404(
                addresses_visible_to(self.request.user).select_related("party"),
                pk=self.kwargs["address_pk"],
            )
        return self._address

    def party(self) -> Party:
        return self.get_object().party

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return AddressForm(data=data, address=self.get_object())

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, AddressForm)
        actions.update_address(self.get_object(), by=self.request.user, **form.address_values())
        messages.success(self.request, _("Address saved."))
        return self.back()


@require_POST
@login_required
def address_remove(request: HttpRequest, address_pk: int) -> HttpResponse:
    address = get_object_or_404(
        addresses_visible_to(request.user).select_related("party"), pk=address_pk
    )
    if not request.user.has_perm("parties.delete_address", address):
        raise PermissionDenied
    party_pk = address.party_id
    try:
        actions.remove_address(address, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Address removed."))
    return redirect("parties:detail", pk=party_pk)
