"""Invoices API: list, read, create drafts, issue, credit, download — through the actions."""

# No `from __future__ import annotations`: django-ninja reads the endpoint annotations at
# import time.

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from comptoir.invoicing import actions, selectors
from comptoir.invoicing.exports import export_document
from comptoir.invoicing.models import Invoice, InvoiceKind, InvoiceLine

router = Router(tags=["invoices"])

from comptoir.api.api import idempotent  # noqa: E402 - see parties.api


class LineIn(Schema):
    product_id: int | None = None
    label: str | None = None
    quantity: Decimal
    unit_price: Decimal | None = None
    discount_rate: Decimal = Decimal("0")
    unit_code: str | None = None
    vat_rate_id: int | None = None


class InvoiceIn(Schema):
    party_id: int
    kind: Literal["invoice", "down_payment"] = "invoice"
    operation_category: Literal["goods", "services", "mixed"] = "goods"
    discount_rate: Decimal = Decimal("0")
    buyer_reference: str = ""
    purchase_order_reference: str = ""
    notes: str = ""
    lines: list[LineIn] = []


class CreditNoteLineIn(Schema):
    line_id: int
    quantity: Decimal


class CreditNoteIn(Schema):
    lines: list[CreditNoteLineIn] | None = None
    notes: str = ""


class LineOut(Schema):
    id: int
    position: int
    product_reference: str
    label: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    discount_rate: Decimal
    vat_category: str
    vat_rate: Decimal
    net_amount: Decimal


class InvoiceOut(Schema):
    id: int
    kind: str
    status: str
    number: str | None
    issue_date: date | None
    due_date: date | None
    party_id: int
    buyer_name: str
    corrects_id: int | None
    currency: str
    discount_rate: Decimal
    lines_net_amount: Decimal
    allowance_amount: Decimal
    tax_basis_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    due_amount: Decimal
    issued_at: datetime | None
    hash: str


class InvoiceDetailOut(InvoiceOut):
    lines: list[LineOut]
    vat_breakdown: list[dict[str, str]]


def _detail(invoice: Invoice) -> dict[str, Any]:
    data = InvoiceOut.from_orm(invoice).model_dump(mode="json")
    lines: list[InvoiceLine] = list(invoice.lines.order_by("position", "pk"))
    data["lines"] = [LineOut.from_orm(line).model_dump(mode="json") for line in lines]
    data["vat_breakdown"] = invoice.vat_breakdown
    return data


def _require(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.auth.has_perm(permission, obj):
        raise PermissionDenied


def _invoice(request: HttpRequest, invoice_id: int) -> Invoice:
    invoice = get_object_or_404(selectors.invoices_visible_to(request.auth), pk=invoice_id)
    _require(request, "invoicing.view_invoice", invoice)
    return invoice


def _line_values(line: LineIn) -> dict[str, Any]:
    from comptoir.catalogue.models import Product, VatRate

    values: dict[str, Any] = {"quantity": line.quantity, "discount_rate": line.discount_rate}
    if line.product_id is not None:
        values["product"] = get_object_or_404(Product, pk=line.product_id)
    if line.vat_rate_id is not None:
        values["vat"] = get_object_or_404(VatRate, pk=line.vat_rate_id)
    for name in ("label", "unit_price", "unit_code"):
        if getattr(line, name) is not None:
            values[name] = getattr(line, name)
    if "product" not in values and ("vat" not in values or "label" not in values):
        raise ValidationError({"lines": "A free line needs a label, a unit price and a VAT rate."})
    return values


@router.get("/invoices", response=list[InvoiceOut])
@paginate(PageNumberPagination)
def list_invoices(
    request: HttpRequest,
    status: Literal["draft", "issued"] | None = None,
    kind: Literal["invoice", "credit_note", "down_payment"] | None = None,
    party_id: int | None = None,
    since: date | None = None,
) -> QuerySet[Invoice]:
    _require(request, "invoicing.view_invoice")
    queryset = selectors.invoices_visible_to(request.auth).order_by("-pk")
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    if party_id:
        queryset = queryset.filter(party_id=party_id)
    if since:
        queryset = queryset.filter(issue_date__gte=since)
    return queryset


@router.get("/invoices/{invoice_id}", response=InvoiceDetailOut)
def get_invoice(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    return _detail(_invoice(request, invoice_id))


@router.post("/invoices", response={201: InvoiceDetailOut})
@idempotent
def create_invoice(request: HttpRequest, payload: InvoiceIn) -> tuple[int, Any]:
    """Create a draft (send `Idempotency-Key` to retry safely)."""
    from comptoir.parties.models import Party

    _require(request, "invoicing.change_invoice")
    party = get_object_or_404(Party, pk=payload.party_id)
    invoice = actions.create_invoice(
        party=party,
        by=request.auth,
        kind=InvoiceKind(payload.kind),
        operation_category=payload.operation_category,
        discount_rate=payload.discount_rate,
        buyer_reference=payload.buyer_reference,
        purchase_order_reference=payload.purchase_order_reference,
        notes=payload.notes,
        lines=[_line_values(line) for line in payload.lines],
    )
    return 201, _detail(invoice)


@router.post("/invoices/{invoice_id}/issue", response=InvoiceDetailOut)
def issue_invoice(request: HttpRequest, invoice_id: int) -> dict[str, Any]:
    """Issue a draft: number, Factur-X PDF, archive, ledger. Issuing twice is refused."""
    invoice = _invoice(request, invoice_id)
    _require(request, "invoicing.change_invoice", invoice)
    return _detail(actions.issue_invoice(invoice, by=request.auth))


@router.post("/invoices/{invoice_id}/credit-note", response={201: InvoiceDetailOut})
@idempotent
def create_credit_note(
    request: HttpRequest, invoice_id: int, payload: CreditNoteIn
) -> tuple[int, Any]:
    """Create a draft credit note: the whole invoice, or the lines and quantities sent."""
    invoice = _invoice(request, invoice_id)
    _require(request, "invoicing.change_invoice", invoice)
    lines = None
    if payload.lines is not None:
        own = {line.pk: line for line in invoice.lines.all()}
        missing = [item.line_id for item in payload.lines if item.line_id not in own]
        if missing:
            raise ValidationError({"lines": f"not lines of this invoice: {missing}"})
        lines = [(own[item.line_id], item.quantity) for item in payload.lines]
    credit_note = actions.create_credit_note(
        invoice, by=request.auth, lines=lines, notes=payload.notes
    )
    return 201, _detail(credit_note)


@router.get("/invoices/{invoice_id}/download")
def download_invoice(
    request: HttpRequest, invoice_id: int, format: Literal["facturx", "cii", "ubl"] = "facturx"
) -> HttpResponse:
    """The Factur-X PDF (default), or its CII or UBL XML, as an attachment."""
    invoice = _invoice(request, invoice_id)
    if not invoice.is_issued:
        raise Http404
    try:
        filename, content = export_document(invoice, format)
    except LookupError as exc:
        raise Http404 from exc
    response = HttpResponse(
        content, content_type="application/pdf" if format == "facturx" else "application/xml"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
