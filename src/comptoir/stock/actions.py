"""Stock writes: deliveries (create, ship with backorder, cancel), stock moves, reorder levels."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.catalogue.models import Product, ProductKind
from comptoir.core.audit import record_audit
from comptoir.core.numbering import next_number
from comptoir.core.states import transition
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing.printing import quantity_text
from comptoir.parties.models import AddressKind
from comptoir.parties.selectors import default_address
from comptoir.sales.actions import refresh_order_status
from comptoir.sales.models import Order, OrderLine
from comptoir.stock import selectors
from comptoir.stock.models import (
    Delivery,
    DeliveryLine,
    ProductStock,
    StockMove,
    StockMoveKind,
)
from comptoir.stock.states import TRANSITIONS, DeliveryStatus

DELIVERY_SERIES = "BL"
ZERO = Decimal("0")


def _user(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


def _planned_elsewhere(order: Order, exclude: Delivery | None = None) -> dict[int, Decimal]:
    """Quantities already on other draft deliveries of the order, per order line."""
    rows = DeliveryLine.objects.filter(delivery__order=order, delivery__status=DeliveryStatus.DRAFT)
    if exclude is not None:
        rows = rows.exclude(delivery=exclude)
    totals = rows.values("order_line_id").annotate(total=Sum("quantity"))
    return {row["order_line_id"]: row["total"] for row in totals}


def deliverable_quantities(order: Order) -> dict[int, Decimal]:
    """What each order line may still put on a new delivery note."""
    planned = _planned_elsewhere(order)
    return {
        line.pk: max(line.remaining_quantity - planned.get(line.pk, ZERO), ZERO)
        for line in order.lines.all()
    }


@transaction.atomic
def create_delivery(
    order: Order,
    *,
    by: Any,
    quantities: Mapping[int, Decimal] | None = None,
    planned_date: date | None = None,
    backorder_of: Delivery | None = None,
    prepared_on: date | None = None,
) -> Delivery:
    """Prepare a delivery note: every deliverable quantity, or the ``quantities`` given per line.

    ``prepared_on`` (default today) is the day the note is prepared, whose year numbers it:
    loading history prepares notes of past years.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    if not order.is_open:
        raise ValidationError(_("This order is delivered or cancelled."))
    deliverable = deliverable_quantities(order)
    wanted = dict(deliverable) if quantities is None else {k: v for k, v in quantities.items() if v}
    lines_by_pk = {line.pk: line for line in order.lines.all()}
    errors = []
    for line_pk, quantity in wanted.items():
        if line_pk not in lines_by_pk:
            raise ValidationError(_("A delivery only holds lines of its order."))
        if quantity < 0 or quantity > deliverable[line_pk]:
            errors.append(
                _("%(label)s: at most %(qty)s left to deliver.")
                % {"label": lines_by_pk[line_pk].label, "qty": quantity_text(deliverable[line_pk])}
            )
    if errors:
        raise ValidationError(errors)
    wanted = {pk: qty for pk, qty in wanted.items() if qty > 0}
    if not wanted:
        raise ValidationError(_("Nothing is left to deliver on this order."))
    delivery = Delivery.objects.create(
        number=next_number(DELIVERY_SERIES, (prepared_on or timezone.localdate()).year),
        order=order,
        planned_date=planned_date or order.promised_date,
        delivery_address=order.delivery_address
        or default_address(order.party, AddressKind.DELIVERY),
        backorder_of=backorder_of,
        created_by=_user(by),
    )
    DeliveryLine.objects.bulk_create(
        [
            DeliveryLine(delivery=delivery, order_line_id=pk, quantity=qty)
            for pk, qty in sorted(wanted.items())
        ]
    )
    record_audit(by, "create_delivery", delivery, order=order.number)
    return delivery


@transaction.atomic
def ship_delivery(
    delivery: Delivery,
    *,
    by: Any,
    shipped_date: date | None = None,
    produce_documents: bool = True,
) -> Delivery:
    """Ship a delivery: stock moves out, delivered quantities, order status, backorder, PDF.

    What the order still has to deliver, and is on no other note, goes to a new draft
    delivery (the backorder).
    """
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    order = Order.objects.select_for_update().get(pk=delivery.order_id)
    if delivery.status != DeliveryStatus.DRAFT:
        raise ValidationError(_("This delivery is already shipped or cancelled."))
    shipped_date = shipped_date or timezone.localdate()
    lines = list(delivery.lines.select_related("order_line", "order_line__product"))
    order_lines = {
        line.pk: line for line in OrderLine.objects.select_for_update().filter(order=order)
    }
    stocked = [
        line
        for line in lines
        if line.order_line.product is not None and line.order_line.product.kind == ProductKind.GOODS
    ]
    available = selectors.on_hand([line.order_line.product_id for line in stocked])
    errors = []
    needed: dict[int, Decimal] = {}
    for line in stocked:
        needed[line.order_line.product_id] = (
            needed.get(line.order_line.product_id, ZERO) + line.quantity
        )
    for line in lines:
        order_line = order_lines[line.order_line_id]
        if line.quantity > order_line.remaining_quantity:
            errors.append(
                _("%(label)s: only %(qty)s left to deliver.")
                % {"label": order_line.label, "qty": quantity_text(order_line.remaining_quantity)}
            )
    for product_id, quantity in needed.items():
        if available[product_id] < quantity:
            product = Product.objects.get(pk=product_id)
            errors.append(
                _("%(product)s: %(qty)s on hand, %(needed)s to ship.")
                % {
                    "product": product.label,
                    "qty": quantity_text(available[product_id]),
                    "needed": quantity_text(quantity),
                }
            )
    if errors:
        raise ValidationError(errors)
    moved_at = timezone.now()
    StockMove.objects.bulk_create(
        [
            StockMove(
                product_id=line.order_line.product_id,
                quantity=-line.quantity,
                kind=StockMoveKind.DELIVERY,
                delivery_line=line,
                moved_at=moved_at,
                note=delivery.number,
                created_by=_user(by),
            )
            for line in stocked
        ]
    )
    for line in lines:
        order_line = order_lines[line.order_line_id]
        order_line.delivered_quantity += line.quantity
        order_line.save(update_fields=["delivered_quantity"])
    delivery.shipped_date = shipped_date
    transition(
        delivery,
        DeliveryStatus.SHIPPED,
        transitions=TRANSITIONS,
        by=by,
        extra_fields=("shipped_date",),
    )
    refresh_order_status(order, by=by)
    rest = {pk: qty for pk, qty in deliverable_quantities(order).items() if qty > 0}
    if rest:
        # Prepared as the delivery leaves: numbered in that day's year.
        create_delivery(
            order, by=by, quantities=rest, backorder_of=delivery, prepared_on=shipped_date
        )
    if produce_documents:
        archive_delivery_note(delivery, by=by)
    record_audit(by, "ship_delivery", delivery, lines=len(lines))
    return delivery


@transaction.atomic
def cancel_delivery(delivery: Delivery, *, by: Any) -> Delivery:
    """Cancel a delivery that has not left (its quantities go back to the order)."""
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    transition(delivery, DeliveryStatus.CANCELLED, transitions=TRANSITIONS, by=by)
    return delivery


@transaction.atomic
def trim_deliveries(order: Order, *, by: Any, remaining: Mapping[int, Decimal]) -> list[Delivery]:
    """Bring an order's delivery notes still to ship in line with what it still has to deliver.

    ``remaining`` gives, per order line, the quantity it still has to deliver (0 for a line
    about to be removed). What the notes hold beyond it comes off the backorder notes first,
    the newest first, then off the notes prepared by hand (the order screens let that happen
    only when the order is cancelled). A note left with no line is cancelled. Called when
    sales reduces an order (``sales.signals.order_to_deliver_reduced``); returns the notes
    changed.
    """
    rows = list(
        DeliveryLine.objects.select_for_update()
        .filter(
            delivery__order=order,
            delivery__status=DeliveryStatus.DRAFT,
            order_line_id__in=list(remaining),
        )
        .select_related("delivery", "order_line")
        .order_by(F("delivery__backorder_of").asc(nulls_last=True), "-delivery_id", "-pk")
    )
    excess: dict[int, Decimal] = {pk: -max(quantity, ZERO) for pk, quantity in remaining.items()}
    for row in rows:
        excess[row.order_line_id] += row.quantity
    changed: dict[int, tuple[Delivery, list[dict[str, Any]]]] = {}
    for row in rows:
        cut = min(excess[row.order_line_id], row.quantity)
        if cut <= 0:
            continue
        excess[row.order_line_id] -= cut
        _delivery, lines = changed.setdefault(row.delivery_id, (row.delivery, []))
        lines.append(
            {
                "order_line": row.order_line_id,
                "label": row.order_line.label,
                "quantity": [quantity_text(row.quantity), quantity_text(row.quantity - cut)],
            }
        )
        row.quantity -= cut
        if row.quantity:
            row.save(update_fields=["quantity"])
        else:
            row.delete()
    for delivery, lines in changed.values():
        record_audit(by, "trim_delivery", delivery, order=order.number, lines=lines)
        if not delivery.lines.exists():
            transition(delivery, DeliveryStatus.CANCELLED, transitions=TRANSITIONS, by=by)
    return [delivery for delivery, _lines in changed.values()]


def on_order_to_deliver_reduced(sender: Any, *, order: Order, by: Any, **kwargs: Any) -> None:
    trim_deliveries(order, by=by, remaining=kwargs["remaining"])


def delivery_pdf(delivery: Delivery) -> bytes:
    from comptoir.core.selectors import current_company
    from comptoir.documents.rendering import company_logo, render_pdf
    from comptoir.stock.printing import delivery_print_data

    return render_pdf(
        "delivery_note.typ", delivery_print_data(delivery), logo=company_logo(current_company())
    )


def archive_delivery_note(delivery: Delivery, *, by: Any) -> ArchivedDocument:
    """Archive the delivery note of a shipped delivery once."""
    from comptoir.documents.actions import archive_document

    existing = ArchivedDocument.objects.filter(reference=delivery.number).first()
    if existing is not None:
        return existing
    return archive_document(
        delivery_pdf(delivery),
        reference=delivery.number,
        kind="delivery_note_pdf",
        filename=f"{delivery.number}.pdf",
        mime_type="application/pdf",
        business_object=delivery,
        by=by,
    )


@transaction.atomic
def record_stock_move(
    product: Product, *, quantity: Decimal, kind: str, by: Any, note: str = ""
) -> StockMove:
    """Record goods received or an inventory adjustment (positive in, negative out)."""
    if product.kind != ProductKind.GOODS:
        raise ValidationError(_("A service is not stocked."))
    if kind == StockMoveKind.DELIVERY:
        raise ValidationError(_("Deliveries move stock when they are shipped."))
    if not quantity:
        raise ValidationError({"quantity": _("Enter a quantity other than 0.")})
    move = StockMove.objects.create(
        product=product, quantity=quantity, kind=kind, note=note[:200], created_by=_user(by)
    )
    record_audit(by, "record_stock_move", move, product=product.reference, quantity=quantity)
    return move


@transaction.atomic
def set_reorder_level(
    product: Product, *, reorder_level: Decimal, reorder_quantity: Decimal, by: Any
) -> ProductStock:
    """Set the level under which a product shows in the reorder alerts."""
    if reorder_level < 0 or reorder_quantity < 0:
        raise ValidationError(_("Levels cannot be negative."))
    settings_row, _created = ProductStock.objects.update_or_create(
        product=product,
        defaults={"reorder_level": reorder_level, "reorder_quantity": reorder_quantity},
    )
    record_audit(by, "set_reorder_level", product, reorder_level=reorder_level)
    return settings_row
