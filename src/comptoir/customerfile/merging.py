"""Find the duplicates of the parties base, merge two parties into one, and undo a merge.

These are the actions of the duplicate review: each is atomic and audited.

A merge keeps one party (the *survivor*), copies onto it the field values chosen from the other,
unites the contacts, addresses and tags, moves every row of every app that points at the merged
party (found through ``Party._meta``, hidden relations included, so a new app needs no change
here), and archives the merged party. What it changed is stored in :class:`PartyMerge` so that
:func:`unmerge_parties` puts back exactly the rows it moved, not the ones created since.

Issued invoices and credit notes stay on the merged party: ``party_id`` is part of the chained
hash of every issued document (``invoicing/ledger.py``), so moving one would break
``verify-ledger``; their settlements follow them. The survivor's page lists them through
:func:`documents_left_on_merged`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.core.audit import record_audit
from comptoir.core.identifiers import validate_siren, validate_siret, validate_vat_number
from comptoir.customerfile.dedupe import (
    CUSTOMER_FIELDS,
    CUSTOMER_SCHEMA,
    DedupeResult,
    deduplicate_customers,
)
from comptoir.customerfile.models import CandidateStatus, DuplicateCandidate, PartyMerge
from comptoir.parties.models import Address, Contact, Party, PartyKind, name_key

MERGE_WEIGHT = CUSTOMER_SCHEMA.auto_weight
REVIEW_WEIGHT = CUSTOMER_SCHEMA.review_weight

# The party fields the merge screen lets the user choose, in screen order.
MERGE_FIELDS: tuple[str, ...] = (
    "kind",
    "name",
    "first_name",
    "last_name",
    "legal_form",
    "siren",
    "siret",
    "vat_number",
    "naf_code",
    "email",
    "phone",
    "mobile",
    "website",
    "postcode",
    "city",
    "country",
    "category",
    "sales_rep",
    "territory",
    "payment_terms_days",
    "payment_terms_base",
)
# Taken as the union of both records, not chosen.
ROLE_FIELDS: tuple[str, ...] = ("is_customer", "is_prospect", "is_supplier")
_IDENTIFIER_VALIDATORS = {
    "siren": validate_siren,
    "siret": validate_siret,
    "vat_number": validate_vat_number,
}
# Rows that must stay on the merged party (model label → which rows): the ledger hashes the
# party of an issued document, and a settlement mirrors its issued document.
STAYS_ON_MERGED: dict[str, Q] = {
    "invoicing.invoice": Q(status="issued"),
    "payments.invoicesettlement": Q(pk__isnull=False),  # every row (an empty Q excludes none)
}
# The review's own records: they describe the two parties as they were, never moved.
_NEVER_MOVED = frozenset({"customerfile.duplicatecandidate", "customerfile.partymerge"})
# Flags that may be set on one row per party at most; a moved row loses its flag when the
# survivor already has a row flagged alike (its default billing address, its primary contact).
_SINGLE_FLAGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "parties.address": ("is_default", ("kind",)),
    "parties.contact": ("is_primary", ()),
}


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    found = model._meta.get_field(name)
    if not isinstance(found, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return found


def _attname(name: str) -> str:
    return _concrete_field(Party, name).attname


def _value(party: Party, name: str) -> Any:
    return getattr(party, _attname(name))


def _is_valid(name: str, value: Any) -> bool:
    validator = _IDENTIFIER_VALIDATORS.get(name)
    if validator is None or not value:
        return True
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def default_choices(survivor: Party, merged: Party) -> dict[str, str]:
    """Return which record each field should come from: "survivor" or "merged".

    The non-empty value wins; between two values, a valid identifier beats an invalid one,
    then the record updated last wins.
    """
    newer_is_merged = merged.updated_at > survivor.updated_at
    choices: dict[str, str] = {}
    for name in MERGE_FIELDS:
        mine, theirs = _value(survivor, name), _value(merged, name)
        if mine in ("", None) and theirs not in ("", None):
            choices[name] = "merged"
        elif theirs in ("", None) or mine == theirs:
            choices[name] = "survivor"
        elif _is_valid(name, mine) != _is_valid(name, theirs):
            choices[name] = "survivor" if _is_valid(name, mine) else "merged"
        else:
            choices[name] = "merged" if newer_is_merged else "survivor"
    return choices


def _reverse_relations() -> list[models.ForeignObjectRel]:
    return [
        rel
        for rel in Party._meta.get_fields(include_hidden=True)
        if rel.auto_created
        and not rel.concrete
        and isinstance(rel, models.ForeignObjectRel)
        and rel.related_model._meta.label_lower not in _NEVER_MOVED
    ]


def documents_left_on_merged(party: Party) -> dict[str, list[Any]]:
    """Return the rows that stayed on the parties merged into ``party`` (by model label)."""
    merged_ids = list(
        PartyMerge.objects.filter(survivor=party, undone_at=None).values_list(
            "merged_id", flat=True
        )
    )
    found: dict[str, list[Any]] = {}
    if not merged_ids:
        return found
    for rel in _reverse_relations():
        label = rel.related_model._meta.label_lower
        if label not in STAYS_ON_MERGED:
            continue
        rows = list(
            rel.related_model._base_manager.filter(
                STAYS_ON_MERGED[label], **{f"{rel.field.name}__in": merged_ids}
            )
        )
        if rows:
            found[label] = rows
    return found


def merged_into(party: Party) -> Party | None:
    """Return the party ``party`` was merged into, if it was and the merge stands."""
    merge = (
        PartyMerge.objects.filter(merged=party, undone_at=None).select_related("survivor").first()
    )
    return merge.survivor if merge else None


# -- scanning ---------------------------------------------------------------------------------


@dataclass
class ScanResult:
    parties: int = 0
    pairs: int = 0
    new: int = 0
    updated: int = 0
    skipped_decided: int = 0
    auto_merged: int = 0
    merges: list[PartyMerge] = field(default_factory=list)


def _scan_rows(parties: list[Party]) -> dict[str, list[str]]:
    primaries: dict[int, Contact] = {}
    contacts = (
        Contact.objects.filter(party__in=[p.pk for p in parties], is_active=True)
        .order_by("party_id", "-is_primary", "pk")
        .only("party_id", "first_name", "last_name", "email", "phone", "mobile")
    )
    for row in contacts:
        primaries.setdefault(row.party_id, row)
    raw: dict[str, list[str]] = {name: [] for name in CUSTOMER_FIELDS}
    raw["street"] = _default_streets([p.pk for p in parties])
    for party in parties:
        contact = primaries.get(party.pk)
        is_person = party.kind == PartyKind.PERSON
        raw["organisation"].append("" if is_person else party.name)
        raw["siren"].append(party.siren)
        raw["siret"].append(party.siret)
        raw["vat_number"].append(party.vat_number)
        # An organisation is one party whoever its contact is: names only tell persons apart.
        raw["first_name"].append(party.first_name if is_person else "")
        raw["last_name"].append(party.last_name if is_person else "")
        raw["email"].append(party.email or (contact.email if contact else ""))
        raw["phone"].append(party.phone or (contact.phone if contact else ""))
        raw["mobile"].append(party.mobile or (contact.mobile if contact else ""))
        raw["postcode"].append(party.postcode)
        raw["town"].append(party.city)
    return raw


def start_duplicate_scan(*, by: Any) -> None:
    """Hand a duplicate search to a background worker (it starts once this transaction
    commits); the pairs it finds join the review queue."""
    from comptoir.customerfile.tasks import scan_duplicates_in_background

    user_id = by.pk if getattr(by, "pk", None) else None
    transaction.on_commit(lambda: scan_duplicates_in_background.enqueue(user_id))


def scan_duplicates(*, by: Any, dry_run: bool = False, auto_merge: bool = False) -> ScanResult:
    """Score every pair of active parties that may be one, and queue the likely ones.

    Pairs from the review threshold up are stored once (a re-run refreshes the score of open
    pairs and never reopens a dismissed or merged one). With ``auto_merge``, pairs from the
    merge threshold up are merged at once, the older party surviving.
    """
    parties = list(
        Party.objects.active()
        .order_by("pk")
        .only(
            "pk",
            "kind",
            "name",
            "first_name",
            "last_name",
            "siren",
            "siret",
            "vat_number",
            "email",
            "phone",
            "mobile",
            "postcode",
            "city",
        )
    )
    result = ScanResult(parties=len(parties))
    if len(parties) < 2:
        return result
    raw = _scan_rows(parties)
    dedupe = deduplicate_customers(dict(raw), len(parties))
    found: dict[tuple[int, int], tuple[float, list[str]]] = {}
    for k in range(len(dedupe.pair_a)):
        if int(dedupe.decision[k]) == DedupeResult.DISTINCT:
            continue
        weight = float(dedupe.weight[k])
        if weight < REVIEW_WEIGHT:
            continue
        a, b = parties[int(dedupe.pair_a[k])].pk, parties[int(dedupe.pair_b[k])].pk
        key = (min(a, b), max(a, b))
        found[key] = (round(weight, 2), [str(reason) for reason in dedupe.reasons(k)])
    result.pairs = len(found)
    if dry_run:
        return result
    with transaction.atomic():
        existing = {
            (c.party_a_id, c.party_b_id): c
            # All of them: a list of pks in the query would pass SQLite's variable limit.
            for c in DuplicateCandidate.objects.only(
                "pk", "party_a_id", "party_b_id", "score", "reasons", "status"
            ).iterator(chunk_size=5000)
        }
        new = []
        for (a, b), (score, reasons) in found.items():
            candidate = existing.get((a, b))
            if candidate is None:
                new.append(
                    DuplicateCandidate(party_a_id=a, party_b_id=b, score=score, reasons=reasons)
                )
            elif candidate.status == CandidateStatus.OPEN:
                if candidate.score != score or candidate.reasons != reasons:
                    candidate.score, candidate.reasons = score, reasons
                    candidate.save(update_fields=["score", "reasons"])
                    result.updated += 1
            else:
                result.skipped_decided += 1
        DuplicateCandidate.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        result.new = len(new)
        # Every search is recorded, found something or not: the queue tells when it last ran.
        record_audit(
            by,
            "scan_duplicates",
            None,
            parties=result.parties,
            pairs=result.pairs,
            new=result.new,
            updated=result.updated,
        )
    if auto_merge:
        for (a, b), (score, _reasons) in sorted(found.items(), key=lambda kv: -kv[1][0]):
            if score < MERGE_WEIGHT:
                break
            pair = Party.objects.filter(pk__in=(a, b), is_active=True).order_by("pk")
            candidate = DuplicateCandidate.objects.get(party_a_id=a, party_b_id=b)
            if len(pair) != 2 or candidate.status != CandidateStatus.OPEN:
                continue
            survivor, merged = pair[0], pair[1]
            merge = merge_parties(
                survivor, merged, field_choices=default_choices(survivor, merged), by=by
            )
            result.merges.append(merge)
            result.auto_merged += 1
    return result


def _default_streets(pks: list[int]) -> list[str]:
    lines: dict[int, str] = {}
    rows = (
        Address.objects.filter(party__in=pks)
        .order_by("party_id", "-is_default", "kind", "pk")
        .values_list("party_id", "line1")
    )
    for party_id, line1 in rows:
        lines.setdefault(party_id, line1)
    return [lines.get(pk, "") for pk in pks]


# -- review decisions ---------------------------------------------------------------------------


@transaction.atomic
def dismiss_candidate(candidate: DuplicateCandidate, *, by: Any) -> DuplicateCandidate:
    """Mark a pair as two different parties: later scans never propose it again."""
    if candidate.status != CandidateStatus.OPEN:
        raise ValidationError(_("This pair was already decided."))
    candidate.status = CandidateStatus.DISMISSED
    candidate.decided_at = timezone.now()
    candidate.decided_by = by if getattr(by, "pk", None) else None
    candidate.save(update_fields=["status", "decided_at", "decided_by"])
    for party, other in (
        (candidate.party_a, candidate.party_b),
        (candidate.party_b, candidate.party_a),
    ):
        record_audit(by, "dismiss_duplicate", party, other=other.pk)
    return candidate


# -- merge and undo ---------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _clashing_flag(
    label: str, model: type[models.Model], fk: str, row: Any, survivor: Party
) -> str:
    """Return the flag to clear on ``row`` before it joins the survivor, or ""."""
    spec = _SINGLE_FLAGS.get(label)
    if spec is None:
        return ""
    flag, same = spec
    if not getattr(row, flag):
        return ""
    others = model._base_manager.filter(**{fk: survivor, flag: True})
    for name in same:
        others = others.filter(**{name: getattr(row, name)})
    return flag if others.exists() else ""


def _unique_sets(model: type[models.Model], fk: models.Field[Any, Any]) -> list[tuple[str, ...]]:
    """Return the unconditional unique field sets of ``model`` that include ``fk``."""
    sets: list[tuple[str, ...]] = [tuple(s) for s in model._meta.unique_together]
    sets += [
        tuple(c.fields)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None
    ]
    return [fields for fields in sets if fk.name in fields]


def _unique_clash(
    model: type[models.Model],
    fk: models.Field[Any, Any],
    sets: list[tuple[str, ...]],
    row: Any,
    survivor: Party,
) -> bool:
    """Tell whether moving ``row`` to the survivor would break a unique constraint."""
    if fk.unique:
        return model._base_manager.filter(**{fk.name: survivor}).exists()
    for fields in sets:
        lookup = {name: getattr(row, _concrete_field(model, name).attname) for name in fields}
        lookup[fk.name] = survivor.pk
        if model._base_manager.filter(**lookup).exists():
            return True
    return False


@transaction.atomic
def merge_parties(
    survivor: Party, merged: Party, *, field_choices: Mapping[str, str], by: Any
) -> PartyMerge:
    """Merge ``merged`` into ``survivor``: chosen fields, every related row, then archive it."""
    if survivor.pk == merged.pk:
        raise ValidationError(_("A party cannot be merged into itself."))
    locked = {
        p.pk: p for p in Party.objects.select_for_update().filter(pk__in=(survivor.pk, merged.pk))
    }
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if not survivor.is_active or not merged.is_active:
        raise ValidationError(_("Only two active parties can be merged."))
    unknown = set(field_choices) - set(MERGE_FIELDS)
    if unknown or set(field_choices.values()) - {"survivor", "merged"}:
        raise ValidationError(_("Unknown field choice: %(f)s.") % {"f": ", ".join(sorted(unknown))})

    kept_fields = (*MERGE_FIELDS, *ROLE_FIELDS, "notes", "name_key")
    survivor_before = {_attname(n): _jsonable(_value(survivor, n)) for n in kept_fields}
    merged_before = {"is_active": merged.is_active, "siret": merged.siret}
    changed: list[str] = []
    for name in MERGE_FIELDS:
        if field_choices.get(name, "survivor") == "merged":
            value = _value(merged, name)
            if value != _value(survivor, name):
                setattr(survivor, _attname(name), value)
                changed.append(_attname(name))
    for name in ROLE_FIELDS:
        if getattr(merged, name) and not getattr(survivor, name):
            setattr(survivor, name, True)
            changed.append(name)
    notes = [text.strip() for text in (survivor.notes, merged.notes) if text.strip()]
    joined = "\n\n".join(dict.fromkeys(notes))
    if joined != survivor.notes:
        survivor.notes = joined
        changed.append("notes")
    if "name" in changed or "first_name" in changed or "last_name" in changed:
        survivor.name_key = name_key(survivor.name)
        changed.append("name_key")

    # The merged party is archived, never deleted: it gives up a SIRET the survivor takes.
    merged.is_active = False
    merged_changed = ["is_active"]
    if "siret" in changed and merged.siret == survivor.siret:
        merged.siret = ""
        merged_changed.append("siret")
    merged.updated_at = timezone.now()
    merged.updated_by = by if getattr(by, "pk", None) else None
    merged.save(update_fields=[*merged_changed, "updated_at", "updated_by"])
    survivor.updated_at = timezone.now()
    survivor.updated_by = merged.updated_by
    survivor.save(update_fields=[*changed, "updated_at", "updated_by"])

    moved: dict[str, dict[str, list[Any]]] = {}
    flags: dict[str, dict[str, list[Any]]] = {}
    kept: dict[str, list[Any]] = {}
    added: dict[str, dict[str, Any]] = {}
    for rel in _reverse_relations():
        model = rel.related_model
        fk = rel.field
        label = model._meta.label_lower
        if model._meta.auto_created:  # the through table of a many-to-many: unite, keep both
            other = next(f for f in model._meta.fields if f.is_relation and f is not fk)
            mine = set(
                model._base_manager.filter(**{fk.name: survivor}).values_list(
                    other.attname, flat=True
                )
            )
            theirs = model._base_manager.filter(**{fk.name: merged}).values_list(
                other.attname, flat=True
            )
            new_ids = sorted(set(theirs) - mine)
            model._base_manager.bulk_create(
                [model(**{fk.attname: survivor.pk, other.attname: pk}) for pk in new_ids]
            )
            if new_ids:
                added[label] = {"field": fk.name, "other": other.attname, "ids": new_ids}
            continue
        rows = model._base_manager.filter(**{fk.name: merged})
        stays = STAYS_ON_MERGED.get(label)
        if stays is not None:
            staying = list(rows.filter(stays).values_list("pk", flat=True))
            if staying:
                kept.setdefault(label, []).extend(staying)
            rows = rows.exclude(stays)
        sets = _unique_sets(model, fk)
        if not fk.unique and not sets and label not in _SINGLE_FLAGS:
            # Nothing can clash: move them all without loading them (a customer's invoices).
            to_move: list[Any] = list(rows.order_by("pk").values_list("pk", flat=True))
            rows = rows.none()
        else:
            to_move = []
        for row in rows.order_by("pk"):
            if _unique_clash(model, fk, sets, row, survivor):
                kept.setdefault(label, []).append(row.pk)
                continue
            flag = _clashing_flag(label, model, fk.name, row, survivor)
            if flag:
                model._base_manager.filter(pk=row.pk).update(**{flag: False})
                flags.setdefault(label, {}).setdefault(flag, []).append(row.pk)
            to_move.append(row.pk)
        if to_move:
            count = model._default_manager.filter(pk__in=to_move).update(**{fk.name: survivor})
            if count != len(to_move):
                raise ValidationError(
                    _("%(model)s rows could not all be moved.")
                    % {"model": model._meta.verbose_name}
                )
            moved.setdefault(label, {})[fk.name] = to_move

    merge = PartyMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=survivor.updated_by,
        snapshot={
            "survivor": survivor_before,
            "survivor_changed": changed,
            "merged": merged_before,
            "merged_changed": merged_changed,
            "moved": moved,
            "flags": flags,
            "added": added,
            "kept": kept,
        },
    )
    a, b = sorted((survivor.pk, merged.pk))
    DuplicateCandidate.objects.filter(party_a_id=a, party_b_id=b).update(
        status=CandidateStatus.MERGED, decided_at=timezone.now(), decided_by=survivor.updated_by
    )
    moved_count = sum(len(pks) for per_field in moved.values() for pks in per_field.values())
    record_audit(
        by,
        "merge_party",
        survivor,
        merge=merge.pk,
        merged=merged.pk,
        merged_name=merged.name,
        fields={n: [survivor_before[n], _jsonable(getattr(survivor, n))] for n in changed},
        moved_rows=moved_count,
    )
    record_audit(
        by, "merged_into", merged, merge=merge.pk, survivor=survivor.pk, is_active=[True, False]
    )
    return merge


@dataclass
class UndoResult:
    merge: PartyMerge
    returned: int = 0
    # Rows that cannot go back, e.g. a draft invoice issued on the survivor since the merge.
    stayed: dict[str, list[Any]] = field(default_factory=dict)


@transaction.atomic
def unmerge_parties(merge: PartyMerge, *, by: Any) -> UndoResult:
    """Undo a merge: the merged party, its fields and exactly the rows the merge moved come back."""
    merge = PartyMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError(_("This merge was already undone."))
    later = PartyMerge.objects.filter(merged=merge.survivor_id, undone_at=None).first()
    if later is not None:
        # Its rows may have moved on with it: undo the later merge first, then this one.
        raise ValidationError(
            _("%(name)s was merged again since; undo that merge first.")
            % {"name": later.merged.name}
        )
    locked = {
        p.pk: p
        for p in Party.objects.select_for_update().filter(
            pk__in=(merge.survivor_id, merge.merged_id)
        )
    }
    survivor, merged = locked[merge.survivor_id], locked[merge.merged_id]
    snapshot = merge.snapshot
    result = UndoResult(merge=merge)
    actor = by if getattr(by, "pk", None) else None
    now = timezone.now()

    restored = {name: snapshot["survivor"][name] for name in snapshot["survivor_changed"]}
    for name, value in restored.items():
        setattr(survivor, name, value)
    survivor.updated_at, survivor.updated_by = now, actor
    survivor.save(update_fields=[*restored, "updated_at", "updated_by"])
    for name in snapshot["merged_changed"]:
        setattr(merged, name, snapshot["merged"][name])
    merged.updated_at, merged.updated_by = now, actor
    merged.save(update_fields=[*snapshot["merged_changed"], "updated_at", "updated_by"])

    models_by_label = {
        rel.related_model._meta.label_lower: rel.related_model for rel in _reverse_relations()
    }
    for label, per_field in snapshot["moved"].items():
        model = models_by_label[label]
        for fk_name, pks in per_field.items():
            rows = model._base_manager.filter(pk__in=pks, **{fk_name: survivor.pk})
            stays = STAYS_ON_MERGED.get(label)
            if stays is not None:
                frozen = list(rows.filter(stays).values_list("pk", flat=True))
                if frozen:
                    result.stayed.setdefault(label, []).extend(frozen)
                rows = rows.exclude(stays)
            back = list(rows.values_list("pk", flat=True))
            result.returned += model._default_manager.filter(pk__in=back).update(
                **{fk_name: merged.pk}
            )
    for label, per_flag in snapshot["flags"].items():
        model = models_by_label[label]
        for flag, pks in per_flag.items():
            model._base_manager.filter(pk__in=pks, party=merged.pk).update(**{flag: True})
    for label, spec in snapshot["added"].items():
        model = models_by_label[label]
        model._base_manager.filter(
            **{spec["field"]: survivor.pk, f"{spec['other']}__in": spec["ids"]}
        ).delete()

    merge.undone_at, merge.undone_by = now, actor
    merge.save(update_fields=["undone_at", "undone_by"])
    a, b = sorted((survivor.pk, merged.pk))
    DuplicateCandidate.objects.filter(party_a_id=a, party_b_id=b).update(
        status=CandidateStatus.OPEN, decided_at=None, decided_by=None
    )
    record_audit(by, "unmerge_party", survivor, merge=merge.pk, merged=merged.pk, fields=restored)
    record_audit(by, "restore_merged_party", merged, merge=merge.pk, is_active=[False, True])
    return result


def field_rows(survivor: Party, merged: Party) -> Iterable[tuple[str, Any, Any, Any]]:
    """Yield (name, label, survivor's value, merged's value) for the merge screen."""
    for name in MERGE_FIELDS:
        model_field = _concrete_field(Party, name)
        yield name, model_field.verbose_name, _display(survivor, name), _display(merged, name)


def _display(party: Party, name: str) -> Any:
    model_field = _concrete_field(Party, name)
    if model_field.choices:
        return getattr(party, f"get_{name}_display")()
    if model_field.is_relation:
        return getattr(party, name) or ""
    value = getattr(party, name)
    return "" if value is None else value
