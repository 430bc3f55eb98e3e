"""Stock reads: levels (on hand, reserved by open orders, available), alerts, deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from comptoir.catalogue.models import Product, ProductKind
from comptoir.core.audit import history_for
from comptoir.core.roles import is_sales_rep, reads_everything
from comptoir.sales.models import OrderLine
from comptoir.sales.states import OPEN_ORDER_STATUSES
from comptoir.stock.models import Delivery, StockMove

QTY = DecimalField(max_digits=14, decimal_places=3)
ZERO = Decimal("0")


def _sum_subquery(queryset: QuerySet[Any], expression: Any) -> Any:
    summed = (
        queryset.order_by()
        .values("product")
        .annotate(total=Sum(expression, output_field=QTY))
        .values("total")
    )
    return Coalesce(Subquery(summed, output_field=QTY), Value(ZERO, output_field=QTY))


def stock_levels() -> QuerySet[Product]:
    """Stocked products (goods) with ``on_hand``, ``reserved``, ``available`` and ``reorder_level``.

    Reserved is what open orders still have to deliver: confirming an order reserves its
    quantities, shipping or cancelling the rest releases them.
    """
    on_hand = _sum_subquery(StockMove.objects.filter(product=OuterRef("pk")), F("quantity"))
    reserved = _sum_subquery(
        OrderLine.objects.filter(product=OuterRef("pk"), order__status__in=OPEN_ORDER_STATUSES),
        F("quantity") - F("delivered_quantity") - F("cancelled_quantity"),
    )
    return (
        Product.objects.filter(kind=ProductKind.GOODS)
        .select_related("family", "stock_settings")
        .annotate(
            on_hand=on_hand,
            reserved=reserved,
            reorder_level=Coalesce(
                F("stock_settings__reorder_level"), Value(ZERO, output_field=QTY)
            ),
        )
        .annotate(available=F("on_hand") - F("reserved"))
    )


def reorder_alerts() -> QuerySet[Product]:
    """Active stocked products whose available quantity is at or below their reorder level."""
    return stock_levels().filter(
        active=True, stock_settings__isnull=False, available__lte=F("reorder_level")
    )


@dataclass(frozen=True)
class StockLevel:
    on_hand: Decimal
    reserved: Decimal
    available: Decimal


def level_of(product: Product) -> StockLevel:
    """Return one product's stock level."""
    row = stock_levels().filter(pk=product.pk).values("on_hand", "reserved", "available").first()
    if row is None:  # a service: never stocked
        return StockLevel(ZERO, ZERO, ZERO)
    return StockLevel(row["on_hand"], row["reserved"], row["available"])


def on_hand(product_ids: list[int]) -> dict[int, Decimal]:
    """Return the quantity on hand of each product."""
    rows = (
        StockMove.objects.filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(total=Sum("quantity"))
    )
    totals = {pk: ZERO for pk in product_ids}
    totals.update({row["product_id"]: row["total"] for row in rows})
    return totals


def deliveries_visible_to(user: Any) -> QuerySet[Delivery]:
    """Return the deliveries a user may read: all for the office, own customers' for a rep."""
    deliveries = Delivery.objects.select_related("order", "order__party")
    if reads_everything(user):
        return deliveries
    if is_sales_rep(user):
        return deliveries.filter(order__party__sales_rep=user)
    return deliveries.none()


def lines_taken_off(delivery: Delivery) -> list[dict[str, str]]:
    """Return what a note held on the lines its order's reductions took off it (label, quantity).

    ``actions.trim_deliveries`` deletes a line it brings to 0 and records each cut as
    ``label: before → after``: the first record of an order line holds what the note carried.
    """
    held: dict[int, dict[str, str]] = {}
    for entry in history_for(delivery).filter(action="trim_delivery").order_by("at", "id"):
        for line in entry.changes.get("lines", []):
            held.setdefault(
                line["order_line"], {"label": line["label"], "quantity": line["quantity"][0]}
            )
    # A line the order no longer has (removed when it was reduced) comes last.
    positions = dict(OrderLine.objects.filter(pk__in=held).values_list("pk", "position"))
    return [
        held[pk]
        for pk in sorted(held, key=lambda pk: (pk not in positions, positions.get(pk, 0), pk))
    ]
