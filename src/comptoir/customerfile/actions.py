"""Customer-file writes: import commit, mappings, consent, GDPR erasure and retention, assignment.

Every function is atomic and audited. The import commit writes in bulk, a thousand rows at a
time, with the values the check already ran through the parties actions' own validators; it
runs in one transaction, so a failure anywhere leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.core.audit import record_audit
from comptoir.core.models import AuditEntry
from comptoir.customerfile import importing
from comptoir.customerfile.models import (
    Consent,
    ConsentEvent,
    ConsentStatus,
    ContactPrivacy,
    ImportMapping,
    PartyPrivacy,
)
from comptoir.customerfile.postcodes import department_matches, department_of
from comptoir.parties.models import Address, AddressKind, Contact, Party, Tag, Territory, name_key

CHUNK = 1000


def _actor(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


# -- mappings ---------------------------------------------------------------------------------


@transaction.atomic
def save_import_mapping(*, name: str, columns: Mapping[str, str], by: Any) -> ImportMapping:
    """Save (or replace) a named column mapping for the next files of the same shape."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": [_("Give the mapping a name.")]})
    unknown = sorted({t for t in columns.values() if t not in importing.FIELDS})
    if unknown:
        raise ValidationError(
            {"columns": [_("Unknown field(s): %(f)s.") % {"f": ", ".join(unknown)}]}
        )
    mapping, created = ImportMapping.objects.get_or_create(
        name=name, defaults={"columns": dict(columns), "created_by": _actor(by)}
    )
    if not created:
        mapping.columns = dict(columns)
        mapping.updated_at = timezone.now()
        mapping.save(update_fields=["columns", "updated_at"])
    record_audit(by, "save_import_mapping", mapping, columns=dict(columns))
    return mapping


# -- import -----------------------------------------------------------------------------------


@dataclass
class ImportCounts:
    parties: int = 0
    contacts: int = 0
    addresses: int = 0
    known_rows: int = 0
    duplicate_rows: int = 0


class ImportFailed(Exception):
    """The commit failed and was rolled back; the message says why in one line."""


def _merge(first: dict[str, Any], other: dict[str, Any]) -> None:
    """Fill the blanks of a row with the values of a duplicate row of the same person."""
    for section in ("party", "contact", "address"):
        target, source = first.setdefault(section, {}), other.get(section) or {}
        if section == "address" and target:
            continue  # an address is taken whole, never stitched from two rows
        for key, value in source.items():
            if value not in ("", None, [], {}) and target.get(key) in ("", None, [], {}):
                target[key] = value
    for channel, choice in (other.get("consents") or {}).items():
        # An opt-out anywhere wins over a consent elsewhere.
        if choice is False or channel not in first.setdefault("consents", {}):
            first["consents"][channel] = choice
    first["tags"] = sorted({*first.get("tags", []), *other.get("tags", [])})


def territory_for(postcode: str, territories: Iterable[Territory]) -> Territory | None:
    """Return the first territory whose departments hold the postcode's department."""
    department = department_of(postcode)
    if not department:
        return None
    for territory in territories:
        if department_matches(department, territory.department_codes()):
            return territory
    return None


def commit_import(
    workdir: Path,
    *,
    by: Any,
    source: str,
    tags: Iterable[str] = (),
    progress: Callable[[int], None] | None = None,
) -> ImportCounts:
    """Create the parties, contacts and addresses of a checked file, all or nothing.

    ``source`` is recorded on every contact as where its data came from (the consent source).
    """
    try:
        with transaction.atomic():
            return _commit(workdir, by=by, source=source, tags=tags, progress=progress)
    except IntegrityError as exc:
        raise ImportFailed(
            _("The base changed since the check (%(reason)s): nothing was imported; check again.")
            % {"reason": str(exc).splitlines()[0][:200]}
        ) from exc


def _commit(
    workdir: Path,
    *,
    by: Any,
    source: str,
    tags: Iterable[str],
    progress: Callable[[int], None] | None,
) -> ImportCounts:
    plan = importing.Plan.load(workdir / "plan.json")
    spool = workdir / "rows.jsonl"
    counts = ImportCounts()
    # Rows of one person: the first is kept, its blanks filled from the others.
    merged: dict[int, dict[str, Any]] = {}
    firsts = set(plan.entity.values())
    for row in importing.read_spool(spool):
        number = row["row"]
        first = plan.entity.get(number, number)
        if first != number and first in firsts:
            merged.setdefault(first, {})
            merged[first].setdefault("others", []).append(row)
    territories = list(Territory.objects.all())
    actor = _actor(by)
    now = timezone.now()
    common_tags = [t for t in (" ".join(t.split()) for t in tags) if t]
    tag_cache: dict[str, Tag] = {}
    party_of_group: dict[int, Party] = {}
    has_address: set[int] = set()
    has_primary: set[int] = set()
    party_type = ContentType.objects.get_for_model(Party)

    def tag(label: str) -> Tag:
        key = label.casefold()
        if key not in tag_cache:
            found = Tag.objects.filter(name__iexact=label).first()
            tag_cache[key] = found or Tag.objects.create(name=label[:50])
        return tag_cache[key]

    def flush(batch: list[dict[str, Any]]) -> None:
        new_parties: list[Party] = []
        contacts: list[tuple[Contact, dict[str, Any]]] = []
        addresses: list[Address] = []
        party_rows: dict[int, list[int]] = {}
        tagged: list[tuple[Party, list[str]]] = []
        for row in batch:
            number = row["row"]
            group = plan.group.get(number, number)
            party = party_of_group.get(group)
            if party is None:
                values = {k: v for k, v in row["party"].items() if k in _PARTY_COLUMNS}
                address = row.get("address") or {}
                party = Party(**values)
                party.name_key = name_key(party.name)
                party.created_at = party.updated_at = now
                party.created_by = party.updated_by = actor
                if address:
                    party.postcode, party.city = address["postcode"], address["city"]
                    party.country = address.get("country") or party.country
                    territory = territory_for(address["postcode"], territories)
                    if territory is not None:
                        party.territory = territory
                        party.sales_rep_id = territory.sales_rep_id
                party_of_group[group] = party
                new_parties.append(party)
                tagged.append((party, [*common_tags, *row.get("tags", [])]))
            else:
                extra = [t for t in row.get("tags", []) if t]
                if extra:
                    tagged.append((party, extra))
            party_rows.setdefault(id(party), []).append(number)
            if row.get("address") and group not in has_address:
                has_address.add(group)
                addresses.append(
                    Address(
                        party=party, kind=AddressKind.BILLING, is_default=True, **row["address"]
                    )
                )
            if row.get("contact"):
                contact = Contact(party=party, **row["contact"])
                contact.created_at = contact.updated_at = now
                if group not in has_primary:
                    contact.is_primary = True
                    has_primary.add(group)
                contacts.append((contact, row.get("consents") or {}))
        Party.objects.bulk_create(new_parties)
        # One audit entry per party, naming the file and rows, not repeating personal data.
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor=actor,
                action="import_party",
                content_type=party_type,
                object_id=str(party.pk),
                object_repr=str(party)[:200],
                changes={"source": source, "rows": party_rows.get(id(party), [])},
                at=now,
            )
            for party in new_parties
        )
        PartyPrivacy.objects.bulk_create(
            PartyPrivacy(party=party, last_inbound_at=None) for party in new_parties
        )
        for address in addresses:
            address.party_id = address.party.pk
        Address.objects.bulk_create(addresses)
        Contact.objects.bulk_create([c for c, _consents in contacts])
        ContactPrivacy.objects.bulk_create(
            ContactPrivacy(contact=c, source=source, collected_at=now) for c, _consents in contacts
        )
        consents, events = [], []
        for contact, choices in contacts:
            for channel, choice in choices.items():
                status = ConsentStatus.GRANTED if choice else ConsentStatus.REFUSED
                consents.append(
                    Consent(
                        contact=contact,
                        channel=channel,
                        status=status,
                        source=source,
                        recorded_at=now,
                    )
                )
                events.append(
                    ConsentEvent(
                        contact=contact,
                        channel=channel,
                        status=status,
                        source=source,
                        at=now,
                        by=actor,
                    )
                )
        Consent.objects.bulk_create(consents)
        ConsentEvent.objects.bulk_create(events)
        through = Party.tags.through
        links = {(party.pk, tag(label).pk) for party, labels in tagged for label in labels if label}
        existing = (
            set(
                through.objects.filter(party_id__in={p for p, _t in links}).values_list(
                    "party_id", "tag_id"
                )
            )
            if links
            else set()
        )
        through.objects.bulk_create(
            [through(party_id=p, tag_id=t) for p, t in sorted(links - existing)]
        )
        counts.parties += len(new_parties)
        counts.contacts += len(contacts)
        counts.addresses += len(addresses)

    batch: list[dict[str, Any]] = []
    processed = 0
    for row in importing.read_spool(spool):
        number = row["row"]
        processed += 1
        if number in plan.known:
            counts.known_rows += 1
            continue
        first = plan.entity.get(number, number)
        if first != number:
            counts.duplicate_rows += 1
            continue
        for other in merged.get(number, {}).get("others", []):
            _merge(row, other)
        batch.append(row)
        if len(batch) >= CHUNK:
            flush(batch)
            batch = []
            if progress:
                progress(processed)
    if batch:
        flush(batch)
    if progress:
        progress(processed)
    record_audit(
        by,
        "import_customers",
        None,
        source=source,
        parties=counts.parties,
        contacts=counts.contacts,
        known_rows=counts.known_rows,
        duplicate_rows=counts.duplicate_rows,
    )
    return counts


_PARTY_COLUMNS = frozenset(
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
        "email",
        "phone",
        "mobile",
        "website",
        "country",
        "notes",
    }
)
