"""Parties writes: parties, contacts, addresses and tags. Each is atomic and audited.

Every action normalises what the user typed (SIREN/SIRET/VAT, phones to E.164, emails), checks
the rules that span several fields, runs ``full_clean`` and raises one ``ValidationError`` whose
dict is keyed by field name, so the UI and the API can show each message next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.core import identifiers
from comptoir.core.audit import changed_fields, record_audit
from comptoir.core.roles import is_sales_rep
from comptoir.core.terms import payment_terms_message
from comptoir.parties.models import (
    Address,
    AddressKind,
    Contact,
    ContactFunction,
    Party,
    PartyKind,
    Tag,
    name_key,
)

# The fields an action may set on a party; the rest (name_key, created_*, updated_*) are derived.
PARTY_FIELDS = frozenset(
    {
        "kind",
        "name",
        "first_name",
        "last_name",
        "legal_form",
        "siren",
        "siret",
        "vat_number",
        "naf_code",
        "is_customer",
        "is_prospect",
        "is_supplier",
        "category",
        "email",
        "phone",
        "mobile",
        "website",
        "postcode",
        "city",
        "country",
        "sales_rep",
        "territory",
        "payment_terms_days",
        "payment_terms_base",
        "notes",
        "is_active",
    }
)
CONTACT_FIELDS = frozenset(
    {
        "civility",
        "first_name",
        "last_name",
        "job_title",
        "functions",
        "email",
        "phone",
        "mobile",
        "is_primary",
        "notes",
        "is_active",
    }
)
ADDRESS_FIELDS = frozenset(
    {"kind", "label", "line1", "line2", "line3", "postcode", "city", "country", "is_default"}
)
LOCATION_FIELDS = ("postcode", "city", "country")

Errors = dict[str, list[str]]


class _Collector:
    """Gather messages per field, then raise them all at once."""

    def __init__(self) -> None:
        self.errors: Errors = {}

    def add(self, field: str, message: str | Iterable[str]) -> None:
        messages = [message] if isinstance(message, str) else list(message)
        bucket = self.errors.setdefault(field, [])
        bucket.extend(m for m in messages if m not in bucket)

    def merge(self, exc: ValidationError, prefix: str = "") -> None:
        if hasattr(exc, "error_dict"):
            for field, messages in exc.message_dict.items():
                self.add(prefix + field if field != NON_FIELD_ERRORS else field, messages)
        else:
            self.add(NON_FIELD_ERRORS, exc.messages)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _reject_unknown(values: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise TypeError(f"Unknown {what} field(s): {', '.join(unknown)}")


def _strip(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}


def _actor(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


def _normalise_into(
    clean: dict[str, Any], errors: _Collector, normalisers: Mapping[str, Any]
) -> None:
    for field, normalise in normalisers.items():
        if clean.get(field):
            try:
                clean[field] = normalise(clean[field])
            except ValidationError as exc:
                errors.add(field, exc.messages)


def _check_country(clean: dict[str, Any], errors: _Collector) -> None:
    if "country" in clean:
        clean["country"] = (clean["country"] or "FR").upper()
        if not re.fullmatch(r"[A-Z]{2}", clean["country"]):
            errors.add("country", _("Use the two-letter ISO code of the country, e.g. FR."))


def _check_postcode(postcode: str, country: str, errors: _Collector) -> None:
    if postcode and country == "FR" and not re.fullmatch(r"\d{5}", postcode):
        errors.add("postcode", _("A French postcode has 5 digits."))


# -- parties ------------------------------------------------------------------------------


def check_party_values(
    values: Mapping[str, Any], *, party: Party | None = None, errors: _Collector | None = None
) -> dict[str, Any]:
    """Return the values normalised, or raise a ValidationError keyed by field.

    Cross-field rules are checked on the party as it would be after the change, so that a
    partial update (API PATCH) is held to the same rules as a full form.
    """
    _reject_unknown(values, PARTY_FIELDS, "party")
    collector = errors or _Collector()
    clean = _strip(values)
    current = party if party is not None else Party()
    _check_country(clean, collector)
    country = clean.get("country") or current.country or "FR"
    _normalise_into(
        clean,
        collector,
        {
            "siren": identifiers.normalise_siren,
            "siret": identifiers.normalise_siret,
            "vat_number": identifiers.normalise_vat_number,
            "naf_code": identifiers.normalise_naf,
            "email": identifiers.normalise_email,
            "phone": lambda v: identifiers.normalise_phone(v, country),
            "mobile": lambda v: identifiers.normalise_phone(v, country),
        },
    )
    if "postcode" in clean:
        _check_postcode(clean["postcode"], country, collector)

    def state(field: str) -> Any:
        return clean[field] if field in clean else getattr(current, field)

    bad = set(collector.errors)
    siren, siret, vat = state("siren"), state("siret"), state("vat_number")
    if "siret" not in bad and siret:
        if not siren and "siren" not in bad:
            siren = clean["siren"] = siret[:9]
        elif siren and "siren" not in bad and not siret.startswith(siren):
            collector.add(
                "siret", _("The SIRET must start with the SIREN %(siren)s.") % {"siren": siren}
            )
        duplicate = Party.objects.filter(siret=siret).exclude(pk=current.pk).first()
        if duplicate is not None:
            collector.add(
                "siret",
                _("Another party already has this SIRET: %(name)s.") % {"name": duplicate.name},
            )
    vat_siren = identifiers.vat_siren(vat) if vat and "vat_number" not in bad else None
    if vat_siren:
        if not siren and "siren" not in bad:
            clean["siren"] = vat_siren
        elif siren and "siren" not in bad and vat_siren != siren:
            collector.add(
                "vat_number",
                _("This French VAT number is not the one of SIREN %(siren)s.") % {"siren": siren},
            )

    days, base = state("payment_terms_days"), state("payment_terms_base")
    if days is not None and base:
        message = payment_terms_message(days, base)
        if message:
            collector.add("payment_terms_days", message)

    if not (state("is_customer") or state("is_prospect") or state("is_supplier")):
        collector.add("is_customer", _("Tick at least one of customer, prospect or supplier."))

    if state("kind") == PartyKind.PERSON:
        last_name, first_name = state("last_name"), state("first_name")
        if not last_name:
            collector.add("last_name", _("A person needs a last name."))
        else:
            clean["name"] = f"{last_name.upper()} {first_name}".strip()
    elif "name" in clean and not clean["name"]:
        collector.add("name", _("Give the organisation's name."))

    if errors is None:
        collector.raise_if_any()
    return clean


def _tag_objects(names: Iterable[str | Tag], errors: _Collector) -> list[Tag]:
    wanted: dict[str, str | Tag] = {}
    for item in names:
        label = item.name if isinstance(item, Tag) else " ".join(str(item).split())
        if not label:
            continue
        if len(label) > Tag._meta.get_field("name").max_length:  # type: ignore[operator]
            errors.add("tags", _("A tag has at most 50 characters: %(tag)s") % {"tag": label})
            continue
        wanted.setdefault(label.casefold(), item if isinstance(item, Tag) else label)
    tags = []
    for key, item in wanted.items():
        if isinstance(item, Tag):
            tags.append(item)
            continue
        tag = Tag.objects.filter(name__iexact=key).first()
        tags.append(tag if tag is not None else Tag.objects.create(name=item))
    return tags


def _apply_tags(party: Party, names: Iterable[str | Tag], errors: _Collector) -> list[str] | None:
    """Set the party's tags; return [old, new] names when they changed."""
    before = sorted(t.name for t in party.tags.all())
    tags = _tag_objects(names, errors)
    errors.raise_if_any()
    party.tags.set(tags)
    after = sorted(t.name for t in tags)
    return [before, after] if before != after else None  # type: ignore[list-item]


def _full_clean(instance: models.Model, errors: _Collector, prefix: str = "") -> None:
    exclude = [name.removeprefix(prefix) for name in errors.errors]
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        errors.merge(exc, prefix)


def _save_party(party: Party, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            party.save(**kwargs)
    except IntegrityError as exc:
        # Two users saving the same SIRET at the same instant: the constraint is the referee.
        if party.siret and Party.objects.filter(siret=party.siret).exclude(pk=party.pk).exists():
            raise ValidationError({"siret": [_("Another party already has this SIRET.")]}) from exc
        raise


def _check_address_values(
    values: Mapping[str, Any], *, address: Address | None, errors: _Collector, prefix: str = ""
) -> dict[str, Any]:
    _reject_unknown(values, ADDRESS_FIELDS, "address")
    clean = _strip(values)
    local = _Collector()
    _check_country(clean, local)
    if "kind" in clean and clean["kind"] not in AddressKind.values:
        local.add("kind", _("Choose billing, delivery or other."))
    country = clean.get("country") or (address.country if address else "FR")
    postcode = clean.get("postcode", address.postcode if address else "")
    _check_postcode(postcode, country, local)
    for field, messages in local.errors.items():
        errors.add(prefix + field, messages)
    return clean


@transaction.atomic
def create_party(
    *,
    by: Any,
    tags: Iterable[str | Tag] | None = None,
    billing_address: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Party:
    """Create a customer, prospect and/or supplier, with its tags and first billing address.

    A sales rep who creates a party gets it in their own portfolio; otherwise a party with no
    sales rep takes its territory's.
    """
    errors = _Collector()
    if is_sales_rep(by):
        # Their own portfolio; naming someone else is refused, as on a change (it was
        # silently replaced).
        asked = fields.get("sales_rep")
        if asked not in (None, "") and getattr(asked, "pk", asked) != by.pk:
            errors.add("sales_rep", _("A sales rep cannot hand a party over to someone else."))
        fields["sales_rep"] = by
    values = check_party_values(fields, errors=errors)
    address_values: dict[str, Any] | None = None
    if billing_address:
        address_values = _check_address_values(
            {"kind": AddressKind.BILLING, "is_default": True, **billing_address},
            address=None,
            errors=errors,
            prefix="billing_address.",
        )
        for field in LOCATION_FIELDS:
            values.pop(field, None)
    party = Party(**values)
    if party.sales_rep_id is None and party.territory is not None:
        party.sales_rep_id = party.territory.sales_rep_id
    if not party.name and party.kind == PartyKind.ORGANISATION and "name" not in errors.errors:
        errors.add("name", _("Give the organisation's name."))
    party.name_key = name_key(party.name)
    party.created_by = party.updated_by = _actor(by)
    party.created_at = party.updated_at = timezone.now()
    _full_clean(party, errors)
    if address_values is not None:
        _validate_new_address(address_values, errors)
    errors.raise_if_any()
    _save_party(party, force_insert=True)
    tag_change = _apply_tags(party, tags, errors) if tags is not None else None
    recorded = {k: v for k, v in values.items() if v not in ("", None, False)}
    if party.sales_rep_id:
        recorded["sales_rep"] = party.sales_rep_id
    if tag_change:
        recorded["tags"] = tag_change[1]
    record_audit(by, "create_party", party, **recorded)
    if address_values is not None:
        add_address(party, by=by, **address_values)
        party.refresh_from_db(fields=list(LOCATION_FIELDS))
    return party


def _validate_new_address(values: Mapping[str, Any], errors: _Collector) -> None:
    """Validate a billing address typed with a new party, before the party exists."""
    probe = Address(**values)
    try:
        probe.full_clean(
            exclude=["party", *(k.split(".", 1)[1] for k in errors.errors if "." in k)]
        )
    except ValidationError as exc:
        errors.merge(exc, "billing_address.")


@transaction.atomic
def update_party(
    party: Party, *, by: Any, tags: Iterable[str | Tag] | None = None, **fields: Any
) -> Party:
    """Change a party's fields (and tags); record what changed."""
    errors = _Collector()
    values = check_party_values(fields, party=party, errors=errors)
    if (
        is_sales_rep(by)
        and "sales_rep" in values
        and getattr(values["sales_rep"], "pk", values["sales_rep"]) != by.pk
    ):
        errors.add("sales_rep", _("A sales rep cannot hand a party over to someone else."))
    billing = _default_address(party, AddressKind.BILLING)
    if billing is not None:
        for field in LOCATION_FIELDS:
            if field in values and values[field] != getattr(billing, field):
                errors.add(
                    field,
                    _("This comes from the default billing address: change that address instead."),
                )
    errors.raise_if_any()
    diff = changed_fields(party, values)
    before = {field: getattr(party, field) for field in values}
    before_key = party.name_key
    try:
        for field, value in values.items():
            setattr(party, field, value)
        party.name_key = name_key(party.name)
        _full_clean(party, errors)
        errors.raise_if_any()
        tag_change = _apply_tags(party, tags, errors) if tags is not None else None
        if not diff and not tag_change:
            return party
        party.updated_by = _actor(by)
        party.updated_at = timezone.now()
        _save_party(party)
    except Exception:
        # Leave the caller's object as it was in the database: nothing half-saved, even in memory.
        for field, value in before.items():
            setattr(party, field, value)
        party.name_key = before_key
        raise
    if tag_change:
        diff["tags"] = tag_change  # type: ignore[assignment]
    record_audit(by, "update_party", party, **diff)
    return party


@transaction.atomic
def set_party_tags(party: Party, *, by: Any, tags: Iterable[str | Tag]) -> Party:
    """Replace the party's tags, creating the tags that do not exist yet."""
    errors = _Collector()
    change = _apply_tags(party, tags, errors)
    if change:
        Party.objects.filter(pk=party.pk).update(updated_at=timezone.now(), updated_by=_actor(by))
        record_audit(by, "set_party_tags", party, tags=change)
    return party


@transaction.atomic
def archive_party(party: Party, *, by: Any) -> Party:
    """Hide a party from day-to-day lists; its documents and history stay."""
    if not party.is_active:
        return party
    party.is_active = False
    party.updated_at = timezone.now()
    party.updated_by = _actor(by)
    party.save(update_fields=["is_active", "updated_at", "updated_by"])
    record_audit(by, "archive_party", party, is_active=[True, False])
    return party


@transaction.atomic
def restore_party(party: Party, *, by: Any) -> Party:
    """Bring an archived party back."""
    if party.is_active:
        return party
    party.is_active = True
    party.updated_at = timezone.now()
    party.updated_by = _actor(by)
    party.save(update_fields=["is_active", "updated_at", "updated_by"])
    record_audit(by, "restore_party", party, is_active=[False, True])
    return party


# -- contacts -----------------------------------------------------------------------------


def check_contact_values(
    values: Mapping[str, Any], *, region: str = "FR", errors: _Collector | None = None
) -> dict[str, Any]:
    """Return the contact values normalised, or raise a ValidationError keyed by field."""
    _reject_unknown(values, CONTACT_FIELDS, "contact")
    collector = errors or _Collector()
    clean = _strip(values)
    _normalise_into(
        clean,
        collector,
        {
            "email": identifiers.normalise_email,
            "phone": lambda v: identifiers.normalise_phone(v, region),
            "mobile": lambda v: identifiers.normalise_phone(v, region),
        },
    )
    if "functions" in clean:
        functions = clean["functions"] or []
        if isinstance(functions, str):
            functions = [functions]
        unknown = [f for f in functions if f not in ContactFunction.values]
        if unknown:
            collector.add(
                "functions",
                _("Unknown function(s): %(codes)s.") % {"codes": ", ".join(map(str, unknown))},
            )
        clean["functions"] = [f for f in ContactFunction.values if f in functions]
    if "last_name" in clean and not clean["last_name"]:
        collector.add("last_name", _("A contact needs a last name."))
    if errors is None:
        collector.raise_if_any()
    return clean


def _touch(party: Party, by: Any) -> None:
    Party.objects.filter(pk=party.pk).update(updated_at=timezone.now(), updated_by=_actor(by))


@transaction.atomic
def add_contact(party: Party, *, by: Any, **fields: Any) -> Contact:
    """Add a person to call, bill or convince at this party; the first one becomes primary."""
    fields.setdefault("last_name", "")
    values = check_contact_values(fields, region=party.country or "FR")
    contact = Contact(party=party, **values)
    if not party.contacts.filter(is_primary=True).exists():
        contact.is_primary = True
    contact.created_at = contact.updated_at = timezone.now()
    errors = _Collector()
    _full_clean(contact, errors)
    errors.raise_if_any()
    if contact.is_primary:
        party.contacts.filter(is_primary=True).update(is_primary=False)
    contact.save(force_insert=True)
    _touch(party, by)
    record_audit(
        by,
        "add_contact",
        party,
        contact=contact.pk,
        **{k: v for k, v in values.items() if v not in ("", None, False, [])},
    )
    return contact


@transaction.atomic
def update_contact(contact: Contact, *, by: Any, **fields: Any) -> Contact:
    """Change a contact; making it primary makes the previous primary an ordinary contact."""
    values = check_contact_values(fields, region=contact.party.country or "FR")
    diff = changed_fields(contact, values)
    if not diff:
        return contact
    before = {field: getattr(contact, field) for field in values}
    try:
        for field, value in values.items():
            setattr(contact, field, value)
        errors = _Collector()
        _full_clean(contact, errors)
        errors.raise_if_any()
    except ValidationError:
        for field, value in before.items():
            setattr(contact, field, value)
        raise
    if contact.is_primary:
        Contact.objects.filter(party_id=contact.party_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)
    contact.updated_at = timezone.now()
    contact.save()
    _touch(contact.party, by)
    record_audit(by, "update_contact", contact.party, contact=contact.pk, **diff)
    return contact


@transaction.atomic
def remove_contact(contact: Contact, *, by: Any) -> Contact:
    """Delete a contact; one that documents still point to is deactivated instead."""
    party = contact.party
    label = str(contact)
    pk = contact.pk
    try:
        with transaction.atomic():
            contact.delete()
        action = "remove_contact"
    except (ProtectedError, RestrictedError):
        contact.is_active = False
        contact.is_primary = False
        contact.updated_at = timezone.now()
        contact.save(update_fields=["is_active", "is_primary", "updated_at"])
        action = "deactivate_contact"
    _touch(party, by)
    record_audit(by, action, party, contact=pk, name=label)
    return contact


# -- addresses ----------------------------------------------------------------------------


def _default_address(party: Party, kind: str) -> Address | None:
    if party.pk is None:
        return None
    return Address.objects.filter(party=party, kind=kind, is_default=True).first()


def _keep_one_default(party: Party, kind: str, *, prefer: Address | None = None) -> None:
    """Leave exactly one default address of this kind when any exists.

    `prefer` is the address the user just made default, or just stopped making default
    (then any other address of the kind takes over).
    """
    addresses = list(Address.objects.filter(party=party, kind=kind).order_by("pk"))
    if not addresses:
        return
    wants_default = prefer is not None and prefer.kind == kind and prefer.is_default
    defaults = [a for a in addresses if a.is_default]
    if wants_default:
        keep = next(a for a in addresses if a.pk == prefer.pk)  # type: ignore[union-attr]
    elif defaults and not (prefer is not None and defaults[0].pk == prefer.pk):
        keep = defaults[0]
    else:
        others = [a for a in addresses if prefer is None or a.pk != prefer.pk]
        keep = others[0] if others else addresses[0]
    # Unset before set: the partial unique constraint allows one default at any moment.
    Address.objects.filter(party=party, kind=kind, is_default=True).exclude(pk=keep.pk).update(
        is_default=False
    )
    if not keep.is_default:
        Address.objects.filter(pk=keep.pk).update(is_default=True)
    if prefer is not None and prefer.kind == kind:
        prefer.is_default = prefer.pk == keep.pk


def _sync_party_location(party: Party) -> None:
    """Copy the default billing address's postcode, city and country onto the party."""
    billing = _default_address(party, AddressKind.BILLING)
    if billing is None:
        return
    location = {field: getattr(billing, field) for field in LOCATION_FIELDS}
    if any(getattr(party, field) != value for field, value in location.items()):
        Party.objects.filter(pk=party.pk).update(**location)
        for field, value in location.items():
            setattr(party, field, value)


@transaction.atomic
def add_address(party: Party, *, by: Any, **fields: Any) -> Address:
    """Add an address; the first of its kind, or one marked default, becomes the default."""
    errors = _Collector()
    values = _check_address_values(fields, address=None, errors=errors)
    address = Address(party=party, **values)
    wanted_default = address.is_default or _default_address(party, address.kind) is None
    # Saved as non-default first, then promoted: one default per kind at every moment.
    address.is_default = False
    _full_clean(address, errors)
    errors.raise_if_any()
    address.save(force_insert=True)
    if wanted_default:
        address.is_default = True
        _keep_one_default(party, address.kind, prefer=address)
    _sync_party_location(party)
    _touch(party, by)
    record_audit(
        by,
        "add_address",
        party,
        address=address.pk,
        **{k: v for k, v in values.items() if v not in ("", None, False)},
    )
    return address


@transaction.atomic
def update_address(address: Address, *, by: Any, **fields: Any) -> Address:
    """Change an address, keeping one default per kind and the party's city in step."""
    errors = _Collector()
    values = _check_address_values(fields, address=address, errors=errors)
    diff = changed_fields(address, values)
    if not diff:
        return address
    old_kind, was_default = address.kind, address.is_default
    before = {field: getattr(address, field) for field in values}
    try:
        for field, value in values.items():
            setattr(address, field, value)
        # A move to another kind does not take that kind's default unless asked for.
        wants_default = address.is_default and (old_kind == address.kind or "is_default" in values)
        address.is_default = was_default and old_kind == address.kind
        _full_clean(address, errors)
        errors.raise_if_any()
    except ValidationError:
        for field, value in before.items():
            setattr(address, field, value)
        address.is_default = was_default
        raise
    address.save()
    address.is_default = wants_default
    party = address.party
    if old_kind != address.kind:
        _keep_one_default(party, old_kind)
    _keep_one_default(party, address.kind, prefer=address)
    _sync_party_location(party)
    _touch(party, by)
    record_audit(by, "update_address", party, address=address.pk, **diff)
    return address


@transaction.atomic
def remove_address(address: Address, *, by: Any) -> None:
    """Delete an address; another of its kind becomes the default if it was."""
    party = address.party
    pk, kind, label = address.pk, address.kind, str(address)
    try:
        with transaction.atomic():
            address.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("Documents use this address: it cannot be removed.")]}
        ) from exc
    _keep_one_default(party, kind)
    _sync_party_location(party)
    _touch(party, by)
    record_audit(by, "remove_address", party, address=pk, kind=kind, address_text=label)
