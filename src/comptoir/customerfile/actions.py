"""Customer-file writes: import commit, mappings, consent, GDPR erasure and retention, assignment.

Every function is atomic and audited. The import commit writes in bulk, a thousand rows at a
time, with the values the check already ran through the parties actions' own validators; it
runs in one transaction, so a failure anywhere leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from comptoir.core.audit import record_audit
from comptoir.core.models import AuditEntry
from comptoir.customerfile import importing
from comptoir.customerfile.models import (
    Channel,
    Consent,
    ConsentEvent,
    ConsentStatus,
    ContactPrivacy,
    ImportBatch,
    ImportMapping,
    ImportStatus,
    PartyPrivacy,
    ProcessingActivity,
)
from comptoir.customerfile.postcodes import department_matches, department_of
from comptoir.customerfile.quality import active_parties
from comptoir.customerfile.scoring import SEGMENT_LABELS
from comptoir.parties.models import (
    Address,
    AddressKind,
    Contact,
    Party,
    PartyKind,
    Tag,
    Territory,
    name_key,
)

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
                if party.postcode:
                    territory = territory_for(party.postcode, territories)
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
                address = row["address"]
                addresses.append(
                    Address(party=party, kind=AddressKind.BILLING, is_default=True, **address)
                )
                if not party.postcode:
                    # The first row of the organisation had no address: this one is its billing
                    # address, and the party's postcode and town follow it.
                    location = {
                        "postcode": address["postcode"],
                        "city": address["city"],
                        "country": address.get("country") or party.country,
                    }
                    for key, value in location.items():
                        setattr(party, key, value)
                    if party.pk is not None:
                        Party.objects.filter(pk=party.pk).update(**location)
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
        # Only when the row has no full address (no street): the address sets them otherwise.
        "postcode",
        "city",
    }
)


# -- consent ----------------------------------------------------------------------------------


@transaction.atomic
def set_consent(
    contact: Contact,
    *,
    channel: str,
    status: str,
    source: str,
    by: Any,
    at: datetime | None = None,
) -> Consent:
    """Record a contact's choice for a channel; the previous choice stays in the history."""
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Choose email, phone or post.")]})
    if status not in ConsentStatus.values:
        raise ValidationError({"status": [_("Choose consent given or opted out.")]})
    source = " ".join((source or "").split())[:200]
    if not source:
        raise ValidationError({"source": [_("Say where this choice comes from.")]})
    moment = at or timezone.now()
    consent, created = Consent.objects.select_for_update().get_or_create(
        contact=contact,
        channel=channel,
        defaults={"status": status, "source": source, "recorded_at": moment},
    )
    before = None if created else consent.status
    if not created:
        consent.status, consent.source, consent.recorded_at = status, source, moment
        consent.save(update_fields=["status", "source", "recorded_at"])
    ConsentEvent.objects.create(
        contact=contact, channel=channel, status=status, source=source, at=moment, by=_actor(by)
    )
    record_audit(
        by,
        "set_consent",
        contact.party,
        contact=contact.pk,
        channel=channel,
        status=[before, status],
        source=source,
    )
    return consent


def record_opt_out(contact: Contact, *, channel: str, source: str, by: Any) -> Consent:
    """Honour an opt-out (unsubscribe link, phone call, letter): it wins over any consent."""
    return set_consent(contact, channel=channel, status=ConsentStatus.REFUSED, source=source, by=by)


@transaction.atomic
def mark_email_bounced(contact: Contact, *, by: Any, at: datetime | None = None) -> ContactPrivacy:
    """Note that mail to the contact's address bounces: it is no longer emailed."""
    privacy, _created = ContactPrivacy.objects.get_or_create(contact=contact)
    privacy.email_bounced_at = at or timezone.now()
    privacy.save(update_fields=["email_bounced_at"])
    record_audit(by, "mark_email_bounced", contact.party, contact=contact.pk)
    return privacy


@transaction.atomic
def record_inbound_contact(
    party: Party, *, by: Any, at: datetime | None = None, kind: str = ""
) -> PartyPrivacy:
    """Note that the party reached out (reply, call, form, click): the retention clock restarts."""
    moment = at or timezone.now()
    privacy, _created = PartyPrivacy.objects.select_for_update().get_or_create(party=party)
    if privacy.last_inbound_at is None or moment > privacy.last_inbound_at:
        privacy.last_inbound_at = moment
    privacy.retention_flagged_at = None
    privacy.save(update_fields=["last_inbound_at", "retention_flagged_at"])
    record_audit(by, "record_inbound_contact", party, kind=kind, at=moment)
    return privacy


# -- erasure ----------------------------------------------------------------------------------

ERASED = "[erased]"
ANONYMOUS_NAME = "Anonymised"
# Keys of audit changes that hold personal data; their values are erased with the person.
PERSONAL_KEYS = frozenset(
    {
        "civility",
        "first_name",
        "last_name",
        "name",
        "job_title",
        "email",
        "phone",
        "mobile",
        "notes",
        "line1",
        "line2",
        "line3",
        "address_text",
        "website",
    }
)


def _scrub_audit(party: Party, *, contact_pk: int | None) -> int:
    """Erase the personal values of past audit entries about the person; keep who did what."""
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Party), object_id=str(party.pk)
    )
    scrubbed = 0
    for entry in entries:
        if contact_pk is not None and entry.changes.get("contact") != contact_pk:
            continue
        changes = {
            key: (ERASED if key in PERSONAL_KEYS and value not in ("", None) else value)
            for key, value in entry.changes.items()
        }
        update: dict[str, Any] = {}
        if changes != entry.changes:
            update["changes"] = changes
        if contact_pk is None and entry.object_repr != str(party):
            update["object_repr"] = str(party)[:200]
        if update:
            AuditEntry.objects.filter(pk=entry.pk).update(**update)
            scrubbed += 1
    return scrubbed


def _erase_contact(contact: Contact, now: datetime) -> None:
    Contact.objects.filter(pk=contact.pk).update(
        civility="",
        first_name="",
        last_name=ANONYMOUS_NAME,
        job_title="",
        email="",
        phone="",
        mobile="",
        notes="",
        is_active=False,
        is_primary=False,
        updated_at=now,
    )
    ContactPrivacy.objects.update_or_create(contact=contact, defaults={"anonymised_at": now})


@transaction.atomic
def anonymise_contact(contact: Contact, *, by: Any, reason: str) -> Contact:
    """Erase a person's data by anonymisation; documents and the audit trail keep their shape.

    Issued invoices keep their own snapshot of the buyer, so nothing legal changes.
    """
    now = timezone.now()
    party = contact.party
    _erase_contact(contact, now)
    _scrub_audit(party, contact_pk=contact.pk)
    record_audit(by, "anonymise_contact", party, contact=contact.pk, reason=reason)
    contact.refresh_from_db()
    return contact


@transaction.atomic
def anonymise_party(party: Party, *, by: Any, reason: str) -> Party:
    """Erase a party's personal data: its contacts, and for a private person its own details.

    An organisation keeps its name and identifiers (not personal data); a person becomes
    "Anonymised", with only postcode and town kept for statistics. Invoices are untouched:
    they carry their own snapshot, kept for the legal period.
    """
    now = timezone.now()
    for contact in party.contacts.all():
        _erase_contact(contact, now)
    fields: dict[str, Any] = {
        "email": "",
        "phone": "",
        "mobile": "",
        "notes": "",
        "is_active": False,
        "updated_at": now,
        "updated_by": _actor(by),
    }
    if party.kind == PartyKind.PERSON:
        fields.update(name=f"{ANONYMOUS_NAME} {party.pk}", first_name="", last_name="", website="")
        fields["name_key"] = name_key(fields["name"])
        party.addresses.update(line1=ERASED, line2="", line3="", label="")
    Party.objects.filter(pk=party.pk).update(**fields)
    PartyPrivacy.objects.update_or_create(party=party, defaults={"anonymised_at": now})
    party.refresh_from_db()
    if party.kind == PartyKind.PERSON:
        _scrub_audit(party, contact_pk=None)
    else:
        for contact_pk in party.contacts.values_list("pk", flat=True):
            _scrub_audit(party, contact_pk=contact_pk)
    record_audit(by, "anonymise_party", party, reason=reason)
    return party


# -- retention --------------------------------------------------------------------------------


@transaction.atomic
def run_retention(*, by: Any, now: datetime | None = None) -> tuple[int, int]:
    """Flag the prospects silent for 3 years; anonymise those flagged past the grace period."""
    from comptoir.customerfile import gdpr

    moment = now or timezone.now()
    plan = gdpr.retention_plan(now=moment)
    for party in plan.flagged:
        PartyPrivacy.objects.update_or_create(
            party=party, defaults={"retention_flagged_at": moment}
        )
        record_audit(by, "flag_for_retention", party)
    for party in plan.anonymised:
        anonymise_party(party, by=by, reason="retention: no contact from their side for 3 years")
    return len(plan.flagged), len(plan.anonymised)


# -- import batches (the web wizard) -----------------------------------------------------------


@transaction.atomic
def create_import_batch(
    *,
    by: Any,
    file_name: str,
    chunks: Iterable[bytes],
    role: str = "prospect",
    tags: Iterable[str] = (),
) -> ImportBatch:
    """Store an uploaded file outside the web root and open its import."""
    from comptoir.customerfile.readers import ReadError, open_sheet

    workdir = importing.workdir_for(file_name)
    suffix = Path(file_name).suffix.lower()[:5]
    stored = workdir / f"source{suffix if suffix.isascii() else ''}"
    with stored.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    batch = ImportBatch(
        file_name=file_name[:255],
        stored_name=workdir.name[:64],
        created_by=_actor(by),
        options={"role": role, "tags": [t for t in tags if t]},
    )
    try:
        sheet = open_sheet(stored, name=file_name)
    except ReadError as exc:
        batch.status = ImportStatus.FAILED
        batch.message = str(exc)
    else:
        batch.kind, batch.encoding, batch.delimiter = sheet.kind, sheet.encoding, sheet.delimiter
        batch.header = sheet.header
        batch.mapping = importing.suggest_mapping(sheet.header)
    batch.save()
    (workdir / "batch").write_text(str(batch.pk), encoding="utf-8")
    record_audit(by, "upload_import", batch, file_name=file_name, status=batch.status)
    return batch


def batch_workdir(batch: ImportBatch) -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "imports" / batch.stored_name


def batch_source(batch: ImportBatch) -> Path:
    return next(batch_workdir(batch).glob("source*"))


def write_progress(batch: ImportBatch, **values: Any) -> None:
    """Write progress where another request can read it, outside any transaction."""
    path = batch_workdir(batch) / "progress.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values), encoding="utf-8")
    tmp.replace(path)


def read_progress(batch: ImportBatch) -> dict[str, Any]:
    path = batch_workdir(batch) / "progress.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def check_import_batch(batch: ImportBatch, *, by: Any, mapping: list[str]) -> ImportBatch:
    """Run the check of a batch with this mapping and store its outcome (no party written)."""
    from comptoir.customerfile.readers import ReadError, open_sheet

    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.CHECKING, mapping=mapping, processed_rows=0
    )
    batch.refresh_from_db()
    write_progress(batch, phase="checking", rows=0, fraction=0.0)
    try:
        sheet = open_sheet(batch_source(batch), name=batch.file_name)
        result = importing.check_file(
            sheet,
            mapping,
            batch_workdir(batch),
            role=batch.options.get("role", "prospect"),
            progress=lambda rows, fraction: write_progress(
                batch, phase="checking", rows=rows, fraction=fraction
            ),
        )
    except ReadError as exc:
        batch.status, batch.message = ImportStatus.FAILED, str(exc)
        batch.save(update_fields=["status", "message"])
        return batch
    batch.total_rows = result.total_rows
    batch.processed_rows = result.total_rows
    batch.error_rows, batch.error_count = result.error_rows, result.error_count
    batch.duplicate_rows = result.duplicate_rows + result.known_rows
    batch.preview = result.preview
    batch.warnings = result.file_errors
    batch.message = " ".join(result.file_errors)
    batch.options = {
        **batch.options,
        "parties": result.parties,
        "contacts": result.contacts,
        "known_rows": result.known_rows,
        "in_file_duplicates": result.duplicate_rows,
        "warning_count": result.warning_count,
        "seconds": round(result.seconds, 2),
    }
    batch.status = ImportStatus.CHECKED
    batch.save()
    write_progress(batch, phase="checked", rows=result.total_rows, fraction=1.0)
    record_audit(by, "check_import", batch, rows=result.total_rows, error_rows=result.error_rows)
    return batch


def commit_import_batch(batch: ImportBatch, *, by: Any) -> ImportBatch:
    """Import a checked batch whole, or nothing and say why."""
    if batch.status != ImportStatus.CHECKED or batch.error_rows or batch.warnings:
        raise ValidationError(_("Only a checked file without errors can be imported."))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.IMPORTING)
    source = _("Import %(file)s, %(date)s") % {
        "file": batch.file_name,
        "date": date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
    }
    write_progress(batch, phase="importing", rows=0, fraction=0.0)
    try:
        counts = commit_import(
            batch_workdir(batch),
            by=by,
            source=source,
            tags=batch.options.get("tags", []),
            progress=lambda done: write_progress(
                batch,
                phase="importing",
                rows=done,
                fraction=done / batch.total_rows if batch.total_rows else 1.0,
            ),
        )
    except ImportFailed as exc:
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED, message=str(exc), finished_at=timezone.now()
        )
        batch.refresh_from_db()
        write_progress(batch, phase="failed", rows=0, fraction=0.0)
        return batch
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.IMPORTED,
        consent_source=source,
        created_parties=counts.parties,
        created_contacts=counts.contacts,
        finished_at=timezone.now(),
    )
    batch.refresh_from_db()
    write_progress(batch, phase="imported", rows=batch.total_rows, fraction=1.0)
    return batch


# -- qualification ----------------------------------------------------------------------------


@transaction.atomic
def assign_by_territory(party: Party, *, by: Any) -> Party:
    """Give a party the territory of its postcode's department and that territory's rep."""
    from comptoir.parties.actions import update_party

    territory = territory_for(party.postcode, Territory.objects.all()) if party.postcode else None
    if territory is None:
        raise ValidationError(
            _("No territory covers the department of postcode %(code)s.")
            % {"code": party.postcode or "-"}
        )
    values: dict[str, Any] = {"territory": territory}
    if territory.sales_rep_id is not None:
        values["sales_rep"] = territory.sales_rep
    return update_party(party, by=by, **values)


@transaction.atomic
def assign_unassigned(*, by: Any) -> int:
    """Assign every active customer or prospect without a sales rep by territory rules; return
    how many (suppliers have no sales rep: the file-quality page counts these same parties)."""

    territories = [t for t in Territory.objects.all() if t.sales_rep_id is not None]
    if not territories:
        return 0
    now = timezone.now()
    by_territory: dict[int, list[int]] = {}
    pending = active_parties().filter(sales_rep__isnull=True).exclude(postcode="")
    for pk, postcode in pending.values_list("pk", "postcode").iterator(chunk_size=5000):
        territory = territory_for(postcode, territories)
        if territory is not None:
            by_territory.setdefault(territory.pk, []).append(pk)
    party_type = ContentType.objects.get_for_model(Party)
    actor = _actor(by)
    count = 0
    for territory in territories:
        ids = by_territory.get(territory.pk, [])
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            Party.objects.filter(pk__in=chunk).update(
                territory=territory,
                sales_rep_id=territory.sales_rep_id,
                updated_at=now,
                updated_by=actor,
            )
            AuditEntry.objects.bulk_create(
                AuditEntry(
                    actor=actor,
                    action="assign_by_territory",
                    content_type=party_type,
                    object_id=str(pk),
                    changes={"territory": territory.pk, "sales_rep": territory.sales_rep_id},
                    at=now,
                )
                for pk in chunk
            )
            count += len(chunk)
    return count


SEGMENT_PREFIX = "RFM: "


@transaction.atomic
def apply_segment_tags(*, by: Any, scores: Mapping[int, Any]) -> int:
    """Tag each scored customer with its RFM segment ("RFM: champions"), replacing the old one."""
    through = Party.tags.through
    old = Tag.objects.filter(name__startswith=SEGMENT_PREFIX)
    through.objects.filter(tag__in=old, party_id__in=list(scores)).delete()
    tags: dict[str, Tag] = {}
    links = []
    for party_id, score in scores.items():
        # In words, in the language of who tags (French by default): "RFM: À risque".
        label = SEGMENT_PREFIX + str(SEGMENT_LABELS.get(score.segment, score.segment))
        if label not in tags:
            tags[label] = Tag.objects.get_or_create(name=label)[0]
        links.append(through(party_id=party_id, tag_id=tags[label].pk))
    through.objects.bulk_create(links, batch_size=CHUNK)
    record_audit(by, "apply_segment_tags", None, customers=len(links))
    return len(links)


# -- processing register ------------------------------------------------------------------------


@transaction.atomic
def save_processing_activity(
    activity: ProcessingActivity | None, *, by: Any, **values: Any
) -> ProcessingActivity:
    """Create or change one entry of the Article 30 register."""
    created = activity is None
    target = activity or ProcessingActivity()
    before = {k: getattr(target, k) for k in values} if not created else {}
    for key, value in values.items():
        setattr(target, key, value)
    target.updated_at = timezone.now()
    target.full_clean()
    target.save()
    changes = {k: [before.get(k), v] for k, v in values.items() if created or before.get(k) != v}
    record_audit(by, "create_processing" if created else "update_processing", target, **changes)
    return target
