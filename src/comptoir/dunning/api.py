"""Dunning API: runs and reminders (read), and each customer's dunning settings."""

# No `from __future__ import annotations`: django-ninja reads the endpoint annotations at
# import time.

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from comptoir.dunning import actions, selectors
from comptoir.dunning.models import DunningMessage, DunningPolicy, DunningRun, PartyDunning
from comptoir.parties.selectors import parties_visible_to

router = Router(tags=["dunning"])


def _require(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.auth.has_perm(permission, obj):
        raise PermissionDenied


class RunOut(Schema):
    id: int
    run_date: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any]


class ReminderOut(Schema):
    id: int
    run_date: date
    party_id: int
    level_id: int
    channel: str
    status: str
    recipient: str
    subject: str
    total_due: Decimal
    interest_amount: Decimal
    indemnity_amount: Decimal
    items: list[dict[str, Any]]
    sent_at: datetime | None


class PartyDunningOut(Schema):
    party_id: int
    policy_id: int | None
    excluded: bool
    disputed: bool
    dispute_note: str
    promise_until: date | None
    promise_amount: Decimal | None


class PartyDunningPatch(Schema):
    policy_id: int | None = None
    excluded: bool | None = None
    disputed: bool | None = None
    dispute_note: str | None = None
    promise_until: date | None = None
    promise_amount: Decimal | None = None


@router.get("/dunning/runs", response=list[RunOut])
@paginate(PageNumberPagination)
def list_runs(request: HttpRequest) -> QuerySet[DunningRun]:
    _require(request, "dunning.view_dunning")
    return DunningRun.objects.order_by("-run_date")


@router.get("/dunning/runs/{run_date}", response=RunOut)
def get_run(request: HttpRequest, run_date: date) -> DunningRun:
    _require(request, "dunning.view_dunning")
    return get_object_or_404(DunningRun, run_date=run_date)


@router.get("/dunning/reminders", response=list[ReminderOut])
@paginate(PageNumberPagination)
def list_reminders(
    request: HttpRequest, run_date: date | None = None, party_id: int | None = None
) -> QuerySet[DunningMessage]:
    _require(request, "dunning.view_dunning")
    queryset = selectors.messages_visible_to(request.auth)
    if run_date:
        queryset = queryset.filter(run_date=run_date)
    if party_id:
        queryset = queryset.filter(party_id=party_id)
    return queryset.order_by("-run_date", "pk")


def _settings(party_id: int, request: HttpRequest) -> dict[str, Any]:
    party = get_object_or_404(parties_visible_to(request.auth), pk=party_id)
    _require(request, "dunning.view_dunning", party)
    setting = PartyDunning.objects.filter(party=party).first() or PartyDunning(party=party)
    return PartyDunningOut.from_orm(setting).model_dump(mode="json")


@router.get("/dunning/customers/{party_id}", response=PartyDunningOut)
def get_party_dunning(request: HttpRequest, party_id: int) -> dict[str, Any]:
    return _settings(party_id, request)


@router.patch("/dunning/customers/{party_id}", response=PartyDunningOut)
def patch_party_dunning(
    request: HttpRequest, party_id: int, payload: PartyDunningPatch
) -> dict[str, Any]:
    party = get_object_or_404(parties_visible_to(request.auth), pk=party_id)
    _require(request, "dunning.change_party_dunning", party)
    values = payload.model_dump(exclude_unset=True)
    if "policy_id" in values:
        policy_id = values.pop("policy_id")
        values["policy"] = get_object_or_404(DunningPolicy, pk=policy_id) if policy_id else None
    actions.update_party_dunning(party, by=request.auth, **values)
    return _settings(party_id, request)
