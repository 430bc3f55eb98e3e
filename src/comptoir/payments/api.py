"""Payments API: payments and allocations, settlements, bank statement import and matching."""

# No `from __future__ import annotations`: django-ninja reads the endpoint annotations at
# import time.

import base64
import binascii
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from comptoir.invoicing.models import Invoice
from comptoir.invoicing.selectors import invoices_visible_to
from comptoir.parties.selectors import parties_visible_to
from comptoir.payments import actions, selectors
from comptoir.payments.bankfiles import BankFileError
from comptoir.payments.models import Allocation, InvoiceSettlement, Payment, StatementLine

router = Router(tags=["payments"])

from comptoir.api.api import idempotent  # noqa: E402 - see parties.api


def _require(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.auth.has_perm(permission, obj):
        raise PermissionDenied


class AllocationIn(Schema):
    invoice_id: int
    amount: Decimal


class PaymentIn(Schema):
    party_id: int
    amount: Decimal
    method: Literal["transfer", "cheque", "card", "cash", "direct_debit"]
    date: date
    reference: str = ""
    allocations: list[AllocationIn] | None = None


class AllocationOut(Schema):
    id: int
    invoice_id: int
    payment_id: int | None
    credit_note_id: int | None
    amount: Decimal
    date: date


class PaymentOut(Schema):
    id: int
    party_id: int
    direction: str
    method: str
    date: date
    amount: Decimal
    allocated_amount: Decimal
    reference: str
    statement_line_id: int | None


class SettlementOut(Schema):
    invoice_id: int
    party_id: int
    kind: str
    number: str
    issue_date: date
    due_date: date
    total_amount: Decimal
    paid_amount: Decimal
    open_amount: Decimal
    state: str
    last_payment_date: date | None


class StatementIn(Schema):
    filename: str
    content_base64: str


class StatementLineOut(Schema):
    id: int
    statement_id: int
    file_line: int
    booking_date: date
    amount: Decimal
    label: str
    reference: str
    counterparty_name: str
    counterparty_iban: str
    status: str


class StatementOut(Schema):
    id: int
    format: str
    account: str
    start_date: date
    end_date: date
    lines: int


class ProposalOut(Schema):
    invoice_ids: list[int]
    score: int
    reasons: list[str]


class MatchIn(Schema):
    invoice_ids: list[int]


@router.get("/payments", response=list[PaymentOut])
@paginate(PageNumberPagination)
def list_payments(request: HttpRequest, party_id: int | None = None) -> QuerySet[Payment]:
    _require(request, "payments.view_payment")
    queryset = selectors.payments_visible_to(request.auth)
    if party_id:
        queryset = queryset.filter(party_id=party_id)
    return queryset.order_by("-date", "-pk")


@router.get("/payments/{payment_id}", response=PaymentOut)
def get_payment(request: HttpRequest, payment_id: int) -> Payment:
    payment = get_object_or_404(selectors.payments_visible_to(request.auth), pk=payment_id)
    _require(request, "payments.view_payment", payment)
    return payment


@router.post("/payments", response={201: PaymentOut})
@idempotent
def create_payment(request: HttpRequest, payload: PaymentIn) -> tuple[int, Any]:
    _require(request, "payments.record_payment")
    party = get_object_or_404(parties_visible_to(request.auth), pk=payload.party_id)
    allocations = None
    if payload.allocations is not None:
        allocations = [
            (get_object_or_404(Invoice, pk=a.invoice_id), a.amount) for a in payload.allocations
        ]
    payment = actions.record_payment(
        party=party,
        amount=payload.amount,
        method=payload.method,
        date=payload.date,
        reference=payload.reference,
        allocations=allocations,
        by=request.auth,
    )
    return 201, PaymentOut.from_orm(payment)


@router.get("/allocations", response=list[AllocationOut])
@paginate(PageNumberPagination)
def list_allocations(request: HttpRequest, invoice_id: int | None = None) -> QuerySet[Allocation]:
    _require(request, "payments.view_payment")
    visible = invoices_visible_to(request.auth).values("pk")
    queryset = Allocation.objects.filter(invoice__in=visible)
    if invoice_id:
        queryset = queryset.filter(invoice_id=invoice_id)
    return queryset.order_by("pk")


@router.get("/settlements", response=list[SettlementOut])
@paginate(PageNumberPagination)
def list_settlements(
    request: HttpRequest, state: str | None = None, party_id: int | None = None
) -> QuerySet[InvoiceSettlement]:
    _require(request, "payments.view_payment")
    actions.sync_settlements()
    queryset = selectors.settlements_visible_to(request.auth)
    if state:
        queryset = queryset.filter(state=state)
    if party_id:
        queryset = queryset.filter(party_id=party_id)
    return queryset.order_by("due_date", "number")


@router.post("/bank-statements", response={201: list[StatementOut]})
@idempotent
def import_statement(request: HttpRequest, payload: StatementIn) -> tuple[int, Any]:
    """Import a bank file (CFONB 120, CAMT.053, OFX) sent as base64."""
    _require(request, "payments.import_statement")
    try:
        content = base64.b64decode(payload.content_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError({"content_base64": "not valid base64"}) from exc
    try:
        created = actions.import_bank_file(content, filename=payload.filename, by=request.auth)
    except BankFileError as exc:
        raise ValidationError({"content_base64": str(exc)}) from exc
    return 201, [
        {
            "id": s.pk,
            "format": s.format,
            "account": s.account,
            "start_date": s.start_date.isoformat(),
            "end_date": s.end_date.isoformat(),
            "lines": s.lines.count(),
        }
        for s in created
    ]


@router.get("/bank-lines", response=list[StatementLineOut])
@paginate(PageNumberPagination)
def list_bank_lines(request: HttpRequest, status: str | None = None) -> QuerySet[StatementLine]:
    _require(request, "payments.import_statement")
    queryset = StatementLine.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("booking_date", "pk")


@router.get("/bank-lines/{line_id}/proposals", response=list[ProposalOut])
def line_proposals(request: HttpRequest, line_id: int) -> list[dict[str, Any]]:
    _require(request, "payments.import_statement")
    line = get_object_or_404(StatementLine, pk=line_id)
    proposals = selectors.proposals_for([line]).get(line.pk, [])
    return [
        {
            "invoice_ids": [int(k) for k in p["keys"].split(",")],
            "score": p["score"],
            "reasons": list(p["reasons"]),
        }
        for p in proposals
    ]


@router.post("/bank-lines/{line_id}/match", response={201: PaymentOut})
@idempotent
def match_line(request: HttpRequest, line_id: int, payload: MatchIn) -> tuple[int, Any]:
    _require(request, "payments.import_statement")
    line = get_object_or_404(StatementLine, pk=line_id)
    invoices = list(Invoice.objects.filter(pk__in=payload.invoice_ids).select_related("party"))
    if len(invoices) != len(set(payload.invoice_ids)):
        raise ValidationError({"invoice_ids": "unknown invoice"})
    payment = actions.confirm_match(line, invoices=invoices, by=request.auth)
    return 201, PaymentOut.from_orm(payment)
