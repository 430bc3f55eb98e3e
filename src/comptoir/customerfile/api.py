"""Customer-file API: consent per contact, access-request export, erasure, import status."""

# No `from __future__ import annotations`: django-ninja reads the endpoint annotations.

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from comptoir.core.roles import is_back_office
from comptoir.customerfile import actions, gdpr
from comptoir.customerfile.models import ImportBatch
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
