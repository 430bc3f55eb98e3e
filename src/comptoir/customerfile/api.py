"""Customer-file API: consent, access-request export, erasure, import status, duplicates."""

# No `from __future__ import annotations`: django-ninja reads the endpoint annotations.

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from comptoir.core.roles import is_back_office
from comptoir.customerfile import actions, gdpr, merging
from comptoir.customerfile.models import DuplicateCandidate, ImportBatch, PartyMerge
from comptoir.customerfile.selectors import consent_summary
from comptoir.parties.models import Contact
from comptoir.parties.selectors import contacts_visible_to

router = Router(tags=["customer file"])


class ConsentOut(Schema):
    channel: str
    status: str
    source: str
    recorded_at: datetime | None
    allowed: bool
    reason: str


class ConsentIn(Schema):
    channel: Literal["email", "phone", "post"]
    status: Literal["granted", "refused"]
    source: str


class ErasureIn(Schema):
    reason: str


class ErasureOut(Schema):
    contact_id: int
    anonymised: bool


class ImportOut(Schema):
    id: int
    file_name: str
    status: str
    total_rows: int
    error_rows: int
    duplicate_rows: int
    created_parties: int
    created_contacts: int
    message: str
    progress: dict[str, Any]


def _contact(request: HttpRequest, contact_id: int) -> Contact:
    return get_object_or_404(
        contacts_visible_to(request.user).select_related("party"), pk=contact_id
    )


def _back_office(request: HttpRequest) -> None:
    if not is_back_office(request.user):
        raise PermissionDenied


def _consents(contact: Contact) -> list[dict[str, Any]]:
    return [
        {
            key: line[key]
            for key in ("channel", "status", "source", "recorded_at", "allowed", "reason")
        }
        for line in consent_summary(contact)
    ]


@router.get("/contacts/{contact_id}/consents", response=list[ConsentOut])
def list_consents(request: HttpRequest, contact_id: int) -> list[dict[str, Any]]:
    """Each channel: the recorded choice and whether the rules let us prospect."""
    return _consents(_contact(request, contact_id))


@router.put("/contacts/{contact_id}/consents", response=list[ConsentOut])
def set_consent(request: HttpRequest, contact_id: int, payload: ConsentIn) -> list[dict[str, Any]]:
    """Record a choice (consent given or opt-out) for one channel, with where it came from."""
    contact = _contact(request, contact_id)
    if not request.user.has_perm("parties.change_contact", contact):
        raise PermissionDenied
    actions.set_consent(contact, by=request.user, **payload.dict())
    return _consents(contact)


@router.get("/contacts/{contact_id}/personal-data", response=dict[str, Any])
def personal_data(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    """Everything held about the person (access request, GDPR Article 15). Back office only."""
    _back_office(request)
    return gdpr.personal_data(_contact(request, contact_id))


@router.post("/contacts/{contact_id}/erase", response=ErasureOut)
def erase(request: HttpRequest, contact_id: int, payload: ErasureIn) -> dict[str, Any]:
    """Anonymise the person (GDPR Article 17); invoices keep their snapshot. Back office only."""
    _back_office(request)
    contact = _contact(request, contact_id)
    reason = " ".join(payload.reason.split())
    if not reason:
        raise ValidationError({"reason": ["Give the reason of the erasure."]})
    actions.anonymise_contact(contact, by=request.user, reason=reason)
    return {"contact_id": contact.pk, "anonymised": True}


@router.get("/imports/{import_id}", response=ImportOut)
def import_status(request: HttpRequest, import_id: int) -> dict[str, Any]:
    """Where an import stands: counts, errors and progress. Back office only."""
    _back_office(request)
    batch = get_object_or_404(ImportBatch, pk=import_id)
    return {
        "id": batch.pk,
        "file_name": batch.file_name,
        "status": batch.status,
        "total_rows": batch.total_rows,
        "error_rows": batch.error_rows,
        "duplicate_rows": batch.duplicate_rows,
        "created_parties": batch.created_parties,
        "created_contacts": batch.created_contacts,
        "message": batch.message,
        "progress": actions.read_progress(batch),
    }


class CandidateOut(Schema):
    id: int
    party_a_id: int
    party_b_id: int
    score: float
    reasons: list[str]
    status: str


class MergeIn(Schema):
    survivor_id: int
    # Field name → "survivor" or "merged"; fields left out take the screen's defaults.
    fields: dict[str, Literal["survivor", "merged"]] = {}


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    merged_at: datetime
    undone_at: datetime | None
    snapshot: dict[str, Any]


@router.get("/duplicates", response=list[CandidateOut])
def list_duplicates(
    request: HttpRequest, status: Literal["open", "merged", "dismissed"] = "open"
) -> Any:
    """The pairs the duplicate scan queued, most likely first. Back office only."""
    _back_office(request)
    return DuplicateCandidate.objects.filter(status=status)[:500]


@router.post("/duplicates/{candidate_id}/merge", response=MergeOut)
def merge_duplicate(request: HttpRequest, candidate_id: int, payload: MergeIn) -> Any:
    """Merge the pair into the survivor it names, with the chosen fields. Back office only."""
    _back_office(request)
    candidate = get_object_or_404(DuplicateCandidate, pk=candidate_id)
    pair = {candidate.party_a_id: candidate.party_a, candidate.party_b_id: candidate.party_b}
    if payload.survivor_id not in pair:
        raise ValidationError({"survivor_id": ["Name one of the two parties of the pair."]})
    survivor = pair.pop(payload.survivor_id)
    merged = next(iter(pair.values()))
    choices = {**merging.default_choices(survivor, merged), **payload.fields}
    return merging.merge_parties(survivor, merged, field_choices=choices, by=request.user)


@router.post("/duplicates/{candidate_id}/dismiss", response=CandidateOut)
def dismiss_duplicate(request: HttpRequest, candidate_id: int) -> Any:
    """Say the pair is two parties: it is never proposed again. Back office only."""
    _back_office(request)
    candidate = get_object_or_404(DuplicateCandidate, pk=candidate_id)
    return merging.dismiss_candidate(candidate, by=request.user)


@router.post("/merges/{merge_id}/undo", response=MergeOut)
def undo_merge(request: HttpRequest, merge_id: int) -> Any:
    """Undo a merge: the merged party and the rows the merge moved come back. Back office only."""
    _back_office(request)
    merge = get_object_or_404(PartyMerge, pk=merge_id)
    return merging.unmerge_parties(merge, by=request.user).merge
