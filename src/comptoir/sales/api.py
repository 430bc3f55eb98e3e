"""Quotes and orders API: list, read, create, send, turn into an order, change an order's lines.

Everything goes through the actions.
"""

# No `from __future__ import annotations`: django-ninja reads the annotations at import time.

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from comptoir.core.selectors import site_url
from comptoir.sales import actions, selectors
from comptoir.sales.models import Order, Quote

router = Router(tags=["sales"])

from comptoir.api.api import idempotent  # noqa: E402 - see parties.api


class LineIn(Schema):
    product_id: int | None = None
    label: str | None = None
    quantity: Decimal
    unit_price: Decimal | None = None
    discount_rate: Decimal = Decimal("0")
    vat_rate_id: int | None = None


class QuoteIn(Schema):
    party_id: int
    valid_until: date | None = None
    discount_rate: Decimal = Decimal("0")
    operation_category: Literal["goods", "services", "mixed"] = "goods"
    email: str = ""
    notes: str = ""
    lines: list[LineIn] = []


class LineOut(Schema):
    id: int
    position: int
    product_reference: str
    label: str
    quantity: Decimal
    unit_code: str
    unit_price: Decimal
    price_rule: str
    discount_rate: Decimal
    vat_category: str
    vat_rate: Decimal
    net_amount: Decimal


class QuoteOut(Schema):
    id: int
    number: str
    revision: int
    reference: str
    status: str
    party_id: int
    issue_date: date
    valid_until: date
    discount_rate: Decimal
    tax_basis_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    sent_at: datetime | None
    answered_at: datetime | None
    accepted_by_name: str


class QuoteDetailOut(QuoteOut):
    lines: list[LineOut]


class OrderIn(Schema):
    customer_reference: str = ""
    requested_date: date | None = None
    promised_date: date | None = None


class OrderLineOut(LineOut):
    delivered_quantity: Decimal
    cancelled_quantity: Decimal


class OrderOut(Schema):
    id: int
    number: str
    status: str
    party_id: int
    quote_id: int | None
    order_date: date
    customer_reference: str
    requested_date: date | None
    promised_date: date | None
    tax_basis_amount: Decimal
    vat_amount: Decimal
    total_amount: Decimal


class OrderDetailOut(OrderOut):
    lines: list[OrderLineOut]


class OrderLineChangeIn(Schema):
    """An order line as it should be: ``id`` of an existing line (the fields left out keep their
    value), or no ``id`` for a new line (as on a quote: ``product_id`` or a free line)."""

    id: int | None = None
    product_id: int | None = None
    label: str | None = None
    description: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    discount_rate: Decimal | None = None
    vat_rate_id: int | None = None


class OrderLinesIn(Schema):
    lines: list[OrderLineChangeIn]


class SendIn(Schema):
    to: str = ""


def _require(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.auth.has_perm(permission, obj):
        raise PermissionDenied


def _quote(request: HttpRequest, quote_id: int) -> Quote:
    quote = get_object_or_404(selectors.quotes_visible_to(request.auth), pk=quote_id)
    _require(request, "sales.view_quote", quote)
    return quote


def _order(request: HttpRequest, order_id: int) -> Order:
    order = get_object_or_404(selectors.orders_visible_to(request.auth), pk=order_id)
    _require(request, "sales.view_order", order)
    return order


def _quote_detail(quote: Quote) -> dict[str, Any]:
    data = QuoteOut.from_orm(quote).model_dump(mode="json")
    data["lines"] = [
        LineOut.from_orm(line).model_dump(mode="json")
        for line in quote.lines.order_by("position", "pk")
    ]
    return data


def _order_detail(order: Order) -> dict[str, Any]:
    data = OrderOut.from_orm(order).model_dump(mode="json")
    data["lines"] = [
        OrderLineOut.from_orm(line).model_dump(mode="json")
        for line in order.lines.order_by("position", "pk")
    ]
    return data


def _line_values(line: LineIn) -> dict[str, Any]:
    from comptoir.catalogue.models import Product, VatRate

    values: dict[str, Any] = {"quantity": line.quantity, "discount_rate": line.discount_rate}
    if line.product_id is not None:
        values["product"] = get_object_or_404(Product, pk=line.product_id)
    if line.vat_rate_id is not None:
        values["vat"] = get_object_or_404(VatRate, pk=line.vat_rate_id)
    for name in ("label", "unit_price"):
        if getattr(line, name) is not None:
            values[name] = getattr(line, name)
    if "product" not in values and not {"vat", "label", "unit_price"} <= set(values):
        raise ValidationError({"lines": "A free line needs a label, a unit price and a VAT rate."})
    return values


@router.get("/quotes", response=list[QuoteOut])
@paginate(PageNumberPagination)
def list_quotes(
    request: HttpRequest, status: str | None = None, party_id: int | None = None
) -> QuerySet[Quote]:
    _require(request, "sales.view_quote")
    queryset = selectors.quotes_visible_to(request.auth).order_by("-pk")
    if status:
        queryset = queryset.filter(status=status)
    if party_id:
        queryset = queryset.filter(party_id=party_id)
    return queryset


@router.get("/quotes/{quote_id}", response=QuoteDetailOut)
def get_quote(request: HttpRequest, quote_id: int) -> dict[str, Any]:
    return _quote_detail(_quote(request, quote_id))


@router.post("/quotes", response={201: QuoteDetailOut})
@idempotent
def create_quote(request: HttpRequest, payload: QuoteIn) -> tuple[int, Any]:
    """Create a draft quote; catalogue lines are priced for the customer (send `Idempotency-Key`)."""
    from comptoir.parties.selectors import parties_visible_to

    party = get_object_or_404(parties_visible_to(request.auth), pk=payload.party_id)
    _require(request, "sales.change_quote")
    if not request.auth.has_perm("parties.change_party", party):
        raise PermissionDenied
    values = {
        "discount_rate": payload.discount_rate,
        "operation_category": payload.operation_category,
        "email": payload.email,
        "notes": payload.notes,
    }
    if payload.valid_until:
        values["valid_until"] = payload.valid_until
    quote = actions.create_quote(
        party=party,
        by=request.auth,
        lines=[_line_values(line) for line in payload.lines],
        **values,
    )
    return 201, _quote_detail(quote)


@router.post("/quotes/{quote_id}/send", response=QuoteDetailOut)
def send_quote(request: HttpRequest, quote_id: int, payload: SendIn) -> dict[str, Any]:
    """Send a draft: archive its PDF, open its acceptance link, email it."""
    quote = _quote(request, quote_id)
    _require(request, "sales.change_quote", quote)
    actions.send_quote(quote, by=request.auth, to=payload.to, base_url=site_url(request))
    return _quote_detail(Quote.objects.get(pk=quote.pk))


@router.post("/quotes/{quote_id}/order", response={201: OrderDetailOut})
@idempotent
def order_quote(request: HttpRequest, quote_id: int, payload: OrderIn) -> tuple[int, Any]:
    """Turn an accepted quote into an order."""
    quote = _quote(request, quote_id)
    _require(request, "sales.change_order", quote)
    values = {k: v for k, v in payload.dict().items() if v not in (None, "")}
    return 201, _order_detail(actions.create_order_from_quote(quote, by=request.auth, **values))


@router.get("/orders", response=list[OrderOut])
@paginate(PageNumberPagination)
def list_orders(
    request: HttpRequest, status: str | None = None, party_id: int | None = None
) -> QuerySet[Order]:
    _require(request, "sales.view_order")
    queryset = selectors.orders_visible_to(request.auth).order_by("-pk")
    if status:
        queryset = queryset.filter(status=status)
    if party_id:
        queryset = queryset.filter(party_id=party_id)
    return queryset


@router.get("/orders/{order_id}", response=OrderDetailOut)
def get_order(request: HttpRequest, order_id: int) -> dict[str, Any]:
    return _order_detail(_order(request, order_id))


def _order_line_change(line: OrderLineChangeIn) -> dict[str, Any]:
    from comptoir.catalogue.models import VatRate

    if line.id is None:
        if line.quantity is None:
            raise ValidationError({"lines": "A new line needs a quantity."})
        values = _line_values(
            LineIn(
                product_id=line.product_id,
                label=line.label,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_rate=line.discount_rate or Decimal("0"),
                vat_rate_id=line.vat_rate_id,
            )
        )
        if line.description:
            values["description"] = line.description
        return values
    if line.product_id is not None:
        raise ValidationError({"lines": "An order line keeps its product: remove it and add one."})
    values = {"id": line.id}
    for name in ("label", "description", "quantity", "unit_price", "discount_rate"):
        if getattr(line, name) is not None:
            values[name] = getattr(line, name)
    if line.vat_rate_id is not None:
        values["vat"] = get_object_or_404(VatRate, pk=line.vat_rate_id)
    return values


@router.put("/orders/{order_id}/lines", response=OrderDetailOut)
def update_order_lines(
    request: HttpRequest, order_id: int, payload: OrderLinesIn
) -> dict[str, Any]:
    """Set an open order's lines: listed lines change or are added, lines left out are removed.

    Same rules as the screen: a quantity never below what is delivered or invoiced (plus what
    is cancelled); a delivered or invoiced line keeps its price, discount and VAT rate and
    cannot be removed; the total never falls below the down payments invoiced.
    """
    order = _order(request, order_id)
    _require(request, "sales.change_order", order)
    lines = [_order_line_change(line) for line in payload.lines]
    return _order_detail(actions.update_order_lines(order, by=request.auth, lines=lines))
