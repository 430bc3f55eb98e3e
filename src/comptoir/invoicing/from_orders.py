"""Invoice orders: the whole order, per delivery, a down payment, and the final invoice.

Every function locks the orders it invoices (in primary-key order) before it counts what is
already invoiced, so two concurrent invoicings of the same order queue up and the second sees
the first one's links. The link rows go in the same transaction as the invoice: if issuing
fails, neither exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from comptoir.core.audit import record_audit
from comptoir.core.money import round_amount
from comptoir.invoicing import actions
from comptoir.invoicing.calculations import (
    LineInput,
    Totals,
    document_allowance,
    invoice_totals,
    line_amounts,
    normalise_rate,
    vat_amount,
)
from comptoir.invoicing.models import (
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    OperationCategory,
)
from comptoir.invoicing.order_links import OrderInvoiceLink
from comptoir.invoicing.printing import money
from comptoir.parties.models import Address, AddressKind
from comptoir.parties.selectors import default_address
from comptoir.sales.models import Order, OrderLine
from comptoir.sales.states import OrderStatus
from comptoir.stock.models import DeliveryLine
from comptoir.stock.states import DeliveryStatus

ZERO = Decimal("0")
HUNDRED = Decimal("100")
QUANTITY_PLACES = Decimal("0.001")
Key = tuple[str, Decimal]  # a VAT group: category and rate


@dataclass(frozen=True)
class Item:
    """One invoice line to write: a quantity of an order line, maybe of one delivery line."""

    order_line: OrderLine
    quantity: Decimal
    delivery_line: DeliveryLine | None = None


def invoiced_quantities(order_line_ids: Sequence[int]) -> dict[int, Decimal]:
    """Return the quantity of each order line on invoices (drafts included)."""
    rows = (
        OrderInvoiceLink.objects.filter(order_line_id__in=order_line_ids)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    # SQLite sums decimals as floats (0.05 comes back 0.0500000000000000): back to 3 places,
    # or "1 − 0.05" has too many digits for the next invoice line's quantity.
    return {row["order_line_id"]: row["total"].quantize(QUANTITY_PLACES) for row in rows}


def _lock_orders(order_ids: set[int]) -> dict[int, Order]:
    orders = Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk")
    return {order.pk: order for order in orders.select_related("party")}


def _operation_category(orders: Sequence[Order]) -> str:
    categories = {order.operation_category for order in orders}
    return categories.pop() if len(categories) == 1 else OperationCategory.MIXED


def _line_description(item: Item) -> str:
    order = item.order_line.order
    parts = [f"Commande {order.number}"]
    if order.customer_reference:
        parts.append(f"votre réf. {order.customer_reference}")
    if item.delivery_line is not None:
        delivery = item.delivery_line.delivery
        # The note's number says what it is (BL-…): "BL BL-2026-000199" said it twice.
        parts.append(f"{delivery.number} du {delivery.shipped_date:%d/%m/%Y}")
    return " – ".join(parts)


def _invoice_values(item: Item) -> dict[str, Any]:
    line = item.order_line
    values: dict[str, Any] = {
        "label": line.label,
        "description": _line_description(item),
        "product_reference": line.product_reference,
        "quantity": item.quantity,
        "unit_code": line.unit_code,
        "unit_price": line.unit_price,
        "discount_rate": line.discount_rate,
        "vat_rate_code": line.vat_rate_code,
        "vat_rate": line.vat_rate,
        "vat_category": line.vat_category,
        "vat_exemption_reason": line.vat_exemption_reason,
        "vat_exemption_code": line.vat_exemption_code,
    }
    if line.product_id is not None:
        values["product"] = line.product
    return values


def _delivery_address(items: Sequence[Item], party: Any) -> Address | None:
    """The one address the items went to, when it is not the billing address (BG-13).

    Each item went to its delivery note's address, else its order's, else the customer's
    default delivery address. Goods sent to several places print none: the invoice has
    room for one delivery address only.
    """
    default = default_address(party, AddressKind.DELIVERY)
    address_ids = set()
    for item in items:
        delivery = item.delivery_line.delivery if item.delivery_line is not None else None
        address_ids.add(
            (delivery.delivery_address_id if delivery is not None else None)
            or item.order_line.order.delivery_address_id
            or (default.pk if default is not None else None)
        )
    if len(address_ids) != 1 or None in address_ids:
        return None
    address = Address.objects.get(pk=address_ids.pop())
    billing = party.addresses.filter(kind=AddressKind.BILLING).order_by("-is_default", "pk").first()
    if billing is not None and actions._address_dict(billing) == actions._address_dict(address):
        return None
    return address


def _pending_down_payments(
    order_ids: Sequence[int],
) -> list[tuple[Invoice, dict[Key, Decimal]]]:
    """Issued down-payment invoices of these orders with something left to deduct, each with
    what is left of it per VAT group (``actions.left_to_deduct``)."""
    down_payments = (
        Invoice.objects.filter(
            kind=InvoiceKind.DOWN_PAYMENT,
            status=InvoiceStatus.ISSUED,
            lines__order_links__order_id__in=order_ids,
        )
        .distinct()
        .order_by("issue_date", "pk")
    )
    pending = [
        (down_payment, actions.left_to_deduct(down_payment)) for down_payment in down_payments
    ]
    return [(down_payment, left) for down_payment, left in pending if left]


def totals_after_cancellation(
    order: Order, lines: Sequence[OrderLine] | None = None
) -> Totals | None:
    """The order's totals less its cancelled quantities; None when nothing was cancelled.

    The order keeps its totals as ordered; a cancelled undelivered rest is never invoiced.
    """
    lines = list(order.lines.all()) if lines is None else lines
    if not any(line.cancelled_quantity for line in lines):
        return None
    return invoice_totals(
        [LineInput.of(line, quantity=line.quantity - line.cancelled_quantity) for line in lines],
        discount_rate=order.discount_rate,
    )


def _billable_taxable(order: Order) -> dict[Key, Decimal]:
    """The order's taxable amount per VAT group, less what was cancelled: what its invoices bill."""
    totals = totals_after_cancellation(order)
    if totals is None:
        return {
            (group["category"], normalise_rate(Decimal(group["rate"]))): Decimal(
                group["taxable_amount"]
            )
            for group in order.vat_breakdown
        }
    return {(group.category, group.rate): group.taxable_amount for group in totals.vat_groups}


def _goods_invoices(order: Order) -> list[Invoice]:
    """The order's invoices of goods (drafts included), not its down payments or credit notes."""
    return list(
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, lines__order_links__order_id=order.pk)
        .distinct()
        .order_by("pk")
    )


def _down_payment_deductions(
    invoice: Invoice, order: Order, *, final: bool
) -> list[tuple[Invoice, dict[Key, Decimal]]]:
    """What this invoice deducts of the order's down payments, per down payment and VAT group.

    The down payments are deducted once in all, in one or several parts, and no invoice of
    the order comes out negative. An invoice that leaves enough to bill for what is left of
    them deducts nothing: a later one will. Once what is left to bill after it no longer
    covers them, it deducts them whole if it bills as much, else as much as it bills (it then
    comes out at zero in that VAT group: the down payment pays for it). The invoice that
    completes the order deducts whatever is left. All per VAT category and rate, excl. VAT,
    after the document discount. What the order's later invoices will bill is known to the
    cent, since the completing invoice absorbs the rounding (``_absorb_rounding``).
    """
    pending = _pending_down_payments([order.pk])
    if not pending:
        return []
    left: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for _down_payment, amounts in pending:
        for key, amount in amounts.items():
            left[key] += amount
    billed: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for other in _goods_invoices(order):
        if other.pk != invoice.pk:
            for key, amount in _goods_taxable(other, order).items():
                billed[key] += amount
    this = _goods_taxable(invoice, order)
    billable = _billable_taxable(order)
    wanted: dict[Key, Decimal] = {}
    for key, amount in left.items():
        before = billable.get(key, ZERO) - billed[key]  # what this invoice and the later bill
        if final:
            # Below the down payment only when the order was cut (its rest cancelled) under
            # it: what is left of it is then refunded by a credit note, never a negative invoice.
            wanted[key] = min(amount, before)
        elif before - this.get(key, ZERO) < amount:
            wanted[key] = min(amount, this.get(key, ZERO))
    parts = []
    for down_payment, amounts in pending:
        part = {}
        for key, amount in amounts.items():
            share = min(amount, wanted.get(key, ZERO))
            if share > 0:
                part[key] = share
                wanted[key] -= share
        if part:
            parts.append((down_payment, part))
    return parts


def _fully_invoiced(order: Order) -> bool:
    lines = list(order.lines.all())
    invoiced = invoiced_quantities([line.pk for line in lines])
    return all(
        invoiced.get(line.pk, ZERO) >= line.quantity - line.cancelled_quantity for line in lines
    )


def left_to_invoice(order: Order) -> dict[int, Decimal]:
    """Return, per order line, the quantity still to invoice (ordered − cancelled − invoiced)."""
    lines = list(order.lines.all())
    invoiced = invoiced_quantities([line.pk for line in lines])
    rest = {
        line.pk: line.quantity - line.cancelled_quantity - invoiced.get(line.pk, ZERO)
        for line in lines
    }
    return {pk: quantity for pk, quantity in rest.items() if quantity > 0}


def goods_invoiced(order: Order) -> bool:
    """Whether any goods line of the order is on an invoice (drafts included)."""
    return OrderInvoiceLink.objects.filter(order=order, order_line__isnull=False).exists()


def down_payment_refusal(order: Order) -> str | None:
    """Why the order takes no down payment now, or None when it does.

    A down payment is an advance on an order that has not been billed yet: the final invoice
    (the one that completes the order) deducts it. So it is refused when nothing is left to
    invoice (no final invoice could ever deduct it), and also once part of the goods has been
    invoiced: a share "of the order" would then bill again what is already billed, and a
    share of the remainder only would be a second, different base for the same order. Bill
    the rest with a delivery or the whole-order invoice instead.
    """
    if order.status == OrderStatus.CANCELLED:
        return _("A cancelled order takes no down payment.")
    if not left_to_invoice(order):
        return _("This order is fully invoiced: there is nothing left to take a down payment on.")
    if goods_invoiced(order):
        return _(
            "Part of this order is already invoiced: a down payment is only taken before "
            "any of the order is invoiced. Invoice the rest with its delivery or the whole order."
        )
    return None


def delivery_left_to_invoice(delivery: Any) -> bool:
    """Whether a shipped delivery still has something to invoice (what its button does)."""
    if delivery.status != DeliveryStatus.SHIPPED:
        return False
    lines = list(
        delivery.lines.select_related("delivery", "order_line", "order_line__order").order_by(
            "order_line__position", "pk"
        )
    )
    return bool(delivery_items(lines))


def write_invoice(
    items: Sequence[Item],
    *,
    by: Any,
    issue: bool = False,
    issue_date: date | None = None,
    produce_documents: bool = True,
) -> Invoice:
    """Create (and optionally issue) one invoice for these items, with their link rows.

    The orders must already be locked by the caller's transaction. When the invoice leaves
    nothing more to invoice on an order, it is that order's final invoice: it deducts what
    is left of the order's down payments and absorbs the order's rounding. A partial invoice
    deducts part of them when what it leaves to bill could no longer absorb them
    (``_down_payment_deductions``).
    """
    if not items:
        raise ValidationError(_("Nothing is left to invoice."))
    orders = {item.order_line.order_id: item.order_line.order for item in items}
    parties = {order.party_id for order in orders.values()}
    discounts = {order.discount_rate for order in orders.values()}
    currencies = {order.currency for order in orders.values()}
    if len(parties) != 1 or len(discounts) != 1 or len(currencies) != 1:
        raise ValidationError(
            _("One invoice covers one customer, one document discount and one currency.")
        )
    first = next(iter(orders.values()))
    shipped = [
        item.delivery_line.delivery.shipped_date for item in items if item.delivery_line is not None
    ]
    header: dict[str, Any] = {
        "operation_category": _operation_category(list(orders.values())),
        "currency": first.currency,
        "discount_rate": first.discount_rate,
        "supply_date": max((d for d in shipped if d is not None), default=None),
    }
    if len(orders) == 1 and first.customer_reference:
        header["purchase_order_reference"] = first.customer_reference
    header["delivery_address"] = _delivery_address(items, first.party)
    invoice = actions.create_invoice(
        party=first.party,
        by=by,
        lines=[_invoice_values(item) for item in items],
        **{k: v for k, v in header.items() if v is not None},
    )
    invoice_lines = list(invoice.lines.order_by("position", "pk"))
    OrderInvoiceLink.objects.bulk_create(
        [
            OrderInvoiceLink(
                order_id=item.order_line.order_id,
                order_line=item.order_line,
                delivery_line=item.delivery_line,
                invoice_line=line,
                quantity=item.quantity,
            )
            for item, line in zip(items, invoice_lines, strict=True)
        ]
    )
    final_orders = [pk for pk, order in orders.items() if _fully_invoiced(order)]
    # All the parts first: each order's share of the invoice is read before any deduction.
    deductions = [
        part
        for pk, order in sorted(orders.items())
        for part in _down_payment_deductions(invoice, order, final=pk in final_orders)
    ]
    for down_payment, amounts in deductions:
        actions.deduct_down_payment(invoice, down_payment=down_payment, by=by, amounts=amounts)
    for pk in sorted(final_orders):
        _absorb_rounding(invoice, orders[pk], by=by)
    record_audit(by, "invoice_orders", invoice, orders=sorted(o.number for o in orders.values()))
    if issue:
        invoice = actions.issue_invoice(
            invoice, by=by, issue_date=issue_date, produce_documents=produce_documents
        )
    return invoice


def _taxable_by_group(invoice: Invoice) -> dict[Key, Decimal]:
    """Each VAT group's taxable amount (BT-116): stored once issued, computed for a draft."""
    if not invoice.is_issued:
        actions.apply_totals(invoice, list(invoice.lines.all()))  # in memory, nothing saved
    return {
        (group["category"], normalise_rate(Decimal(group["rate"]))): Decimal(
            group["taxable_amount"]
        )
        for group in invoice.vat_breakdown
    }


ROUNDING_LABEL = "Ajustement d'arrondi"


def _line_orders(invoice: Invoice) -> dict[InvoiceLine, int | None]:
    """The order each line of the invoice bills, None for a line that bills no order.

    A goods, down-payment or rounding line says it by its link; a deduction by the down
    payment it deducts, which was taken on one order. A rounding line written before they
    were linked, or the deduction of a down payment typed by hand, counts for the invoice's
    order when it bills one only.
    """
    lines = list(invoice.lines.all())
    linked = dict(
        OrderInvoiceLink.objects.filter(invoice_line__invoice=invoice).values_list(
            "invoice_line_id", "order_id"
        )
    )
    down_payments = dict(
        OrderInvoiceLink.objects.filter(
            invoice_line__invoice_id__in=[
                line.deducted_invoice_id for line in lines if line.deducted_invoice_id is not None
            ]
        ).values_list("invoice_line__invoice_id", "order_id")
    )
    known = set(linked.values()) | set(down_payments.values())
    owners: dict[InvoiceLine, int | None] = {}
    for line in lines:
        if line.pk in linked:
            owners[line] = linked[line.pk]
        elif line.deducted_invoice_id in down_payments:
            owners[line] = down_payments[line.deducted_invoice_id]
        elif (line.deducted_invoice_id or line.label.startswith(ROUNDING_LABEL)) and len(
            known
        ) == 1:
            owners[line] = next(iter(known))
        else:
            owners[line] = None
    return owners


def _order_taxable(invoice: Invoice, order: Order) -> dict[Key, Decimal] | None:
    """What the invoice bills of this order per VAT group (BT-116); None when it cannot say.

    An invoice of this order alone: its own taxable amounts. An invoice mixing orders (a
    batch) without a document discount: each line's net belongs to its order, so the order's
    part is the sum of its lines. With a document discount, the discount of each VAT group is
    rounded once over the lines of every order, and no part of it is any order's: None; so
    too when a line bills no order (typed by hand on the draft).
    """
    owners = _line_orders(invoice)
    orders = set(owners.values())
    if None in orders:
        return None
    if orders == {order.pk}:
        return _taxable_by_group(invoice)
    if invoice.discount_rate:
        return None
    taxable: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for line, owner in owners.items():
        if owner == order.pk:
            key = (line.vat_category, normalise_rate(line.vat_rate))
            taxable[key] += line_amounts(
                line.quantity, line.unit_price, line.discount_rate
            ).net_amount
    return dict(taxable)


def _attributable(invoice: Invoice, order: Order) -> bool:
    """Whether what the invoice bills of this order is known to the cent (``_order_taxable``)."""
    return _order_taxable(invoice, order) is not None


def _goods_taxable(invoice: Invoice, order: Order) -> dict[Key, Decimal]:
    """What the invoice bills of the order's goods per VAT group, before any down payment.

    Its lines of the order but the deductions (which the document discount leaves out), less
    their document discount: exact when the invoice bills this order alone or has no
    discount; on a discounted invoice mixing orders, the order's share of the discount is
    only known to a cent.
    """
    nets: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for line, owner in _line_orders(invoice).items():
        if owner == order.pk and line.deducted_invoice_id is None:
            key = (line.vat_category, normalise_rate(line.vat_rate))
            nets[key] += line_amounts(line.quantity, line.unit_price, line.discount_rate).net_amount
    return {key: net - document_allowance(net, invoice.discount_rate) for key, net in nets.items()}


def rounding_adjustment(
    *, lines_net: Decimal, basis: Decimal, discount_rate: Decimal, wanted: Decimal
) -> Decimal | None:
    """The amount of one more discounted line that brings a VAT group's taxable amount to
    ``wanted``; None when no amount of a few cents does (a 100 % discount).

    The group's taxable amount is ``lines_net + a − round((basis + a) × discount)``: as ``a``
    grows by a cent it grows by 0 or 1 cent, so every amount in reach is hit exactly.
    """
    cent = Decimal("0.01")
    missing = wanted - (lines_net - document_allowance(basis, discount_rate))
    if not missing:
        return ZERO
    share = Decimal(1) - discount_rate / HUNDRED
    if share <= 0:
        return None
    start = round_amount(missing / share)
    for step in sorted(range(-5, 6), key=abs):
        amount = start + step * cent
        taxable = lines_net + amount - document_allowance(basis + amount, discount_rate)
        if taxable == wanted:
            return amount
    return None


def _absorb_rounding(invoice: Invoice, order: Order, *, by: Any) -> None:
    """Make the invoice that completes an order bring the order's invoices to its totals.

    Billing an order in parts rounds each part on its own (DESIGN.md, "Money and tax"):
    each invoice line's net is rounded (4 kg × 1,2345 € then 6 kg × 1,2345 €), each
    invoice's document discount is rounded, a down payment is rounded, so the parts can
    add up to a few cents more or less than the order. The invoice that completes the order
    gets, per VAT rate where it matters, one line "Ajustement d'arrondi" of those cents, so
    the taxable amounts (excl. VAT) of all the order's invoices, down payments included and
    deducted, add up exactly to the order's (less any cancelled rest). The line is an
    ordinary line (quantity ±1, its price the cents), discounted like the goods, so every
    invoice keeps the EN 16931 arithmetic exactly and validates as before. It is linked to
    its order, so a batch invoice completing several orders has one per order and rate.

    VAT cannot always follow: every invoice taxes its own taxable amount, rounded to the
    cent (BR-CO-17), so three invoices of 0,03 € at 20 % tax 0,01 € each while the order's
    0,09 € taxes 0,02 €, and no taxable amount on the last invoice makes both its excl. VAT
    and its VAT right. The VAT (and so the total incl. VAT) of an order billed in parts may
    thus differ from the order's by up to a cent per invoice and VAT rate; the order page
    shows what was invoiced against what was ordered.

    Only when every invoice of the order says what it bills of it (``_order_taxable``): a
    batch invoice mixing orders under a document discount does not (the batch gives such
    orders an invoice each), and never for a credit note.
    """
    others = list(
        Invoice.objects.filter(
            kind__in=(InvoiceKind.INVOICE, InvoiceKind.DOWN_PAYMENT),
            lines__order_links__order_id=order.pk,
        )
        .exclude(pk=invoice.pk)
        .distinct()
    )
    billed: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for other in others:
        taxable = _order_taxable(other, order)
        if taxable is None:
            return
        for key, part in taxable.items():
            billed[key] += part
    owners = _line_orders(invoice)
    alone = set(owners.values()) == {order.pk}
    if not alone and (invoice.discount_rate or None in owners.values()):
        return
    samples = {
        (line.vat_category, normalise_rate(line.vat_rate)): line for line in order.lines.all()
    }
    lines_net: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    basis: dict[Key, Decimal] = defaultdict(lambda: ZERO)
    for line, owner in owners.items():
        if owner != order.pk:
            continue
        key = (line.vat_category, normalise_rate(line.vat_rate))
        net = line_amounts(line.quantity, line.unit_price, line.discount_rate).net_amount
        lines_net[key] += net
        if line.deducted_invoice_id is None:
            basis[key] += net
    # A down payment above what the order came to once cut (its rest cancelled) is not
    # deducted whole: what is left of it is refunded by a credit note, not "rounded" here.
    for _down_payment, amounts in _pending_down_payments([order.pk]):
        for key, left in amounts.items():
            billed[key] -= left
    for key, billable in _billable_taxable(order).items():
        amount = rounding_adjustment(
            lines_net=lines_net[key],
            basis=basis[key],
            discount_rate=invoice.discount_rate,
            wanted=billable - billed[key],
        )
        if not amount or key not in samples:
            continue
        sample = samples[key]
        line = actions.add_invoice_line(
            invoice,
            by=by,
            label=f"{ROUNDING_LABEL} sur la commande {order.number}",
            quantity=Decimal(1) if amount > 0 else Decimal(-1),
            unit_code="C62",
            unit_price=abs(amount),
            vat_rate=key[1],
            vat_category=key[0],
            vat_rate_code=sample.vat_rate_code,
            vat_exemption_reason=sample.vat_exemption_reason,
            vat_exemption_code=sample.vat_exemption_code,
        )
        OrderInvoiceLink.objects.create(order=order, invoice_line=line, quantity=Decimal(1))


def billed_totals(order: Order) -> dict[str, Decimal] | None:
    """What the order's invoices bill in all, once nothing is left to invoice; else None.

    Excl. VAT it is the order's, less any cancelled rest (the completing invoice absorbs the
    rounding); VAT may differ by the cents each invoice rounds (see ``_absorb_rounding``):
    the order page shows it. A batch invoice that also bills other orders counts for this
    order's lines (its VAT on them rounded on its own); None when it cannot say what it bills
    of this order (``_order_taxable``).
    """
    if left_to_invoice(order):
        return None
    invoices = list(
        Invoice.objects.filter(
            kind__in=(InvoiceKind.INVOICE, InvoiceKind.DOWN_PAYMENT),
            lines__order_links__order_id=order.pk,
        ).distinct()
    )
    if not invoices:
        return None
    tax_basis = vat = ZERO
    for invoice in invoices:
        taxable = _order_taxable(invoice, order)
        if taxable is None:
            return None
        for (_category, rate), amount in taxable.items():
            tax_basis += amount
            vat += vat_amount(amount, rate)
    expected_vat = sum(
        (
            vat_amount(amount, rate)
            for (_category, rate), amount in _billable_taxable(order).items()
        ),
        ZERO,
    )
    return {
        "tax_basis": tax_basis,
        "vat": vat,
        "total": tax_basis + vat,
        "vat_difference": vat - expected_vat,
    }


def _check_items(items: Sequence[Item]) -> None:
    """Refuse quantities beyond what is ordered (less cancelled) and not yet invoiced."""
    invoiced = invoiced_quantities([item.order_line.pk for item in items])
    wanted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item in items:
        wanted[item.order_line.pk] += item.quantity
    for item in items:
        line = item.order_line
        room = line.quantity - line.cancelled_quantity - invoiced.get(line.pk, ZERO)
        if wanted[line.pk] > room:
            raise ValidationError(
                _("%(label)s: only %(qty)s left to invoice on order %(order)s.")
                % {"label": line.label, "qty": room, "order": line.order.number},
                code="already_invoiced",
            )


def delivery_items(delivery_lines: Sequence[DeliveryLine]) -> list[Item]:
    """Return what shipped delivery lines still have to invoice (none twice)."""
    lines = [
        line
        for line in delivery_lines
        if line.delivery.status == DeliveryStatus.SHIPPED
        and not OrderInvoiceLink.objects.filter(delivery_line=line).exists()
    ]
    invoiced = invoiced_quantities([line.order_line_id for line in lines])
    items = []
    used: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        order_line = line.order_line
        room = (
            order_line.quantity
            - order_line.cancelled_quantity
            - invoiced.get(order_line.pk, ZERO)
            - used[order_line.pk]
        )
        quantity = min(line.quantity, room)
        if quantity > 0:
            used[order_line.pk] += quantity
            items.append(Item(order_line=order_line, quantity=quantity, delivery_line=line))
    return items


@transaction.atomic
def invoice_delivery_lines(
    delivery_line_ids: Sequence[int],
    *,
    by: Any,
    issue: bool = False,
    issue_date: date | None = None,
    produce_documents: bool = True,
) -> Invoice | None:
    """Invoice what these delivery lines have not invoiced yet; None when nothing is left."""
    order_ids = set(
        DeliveryLine.objects.filter(pk__in=delivery_line_ids).values_list(
            "delivery__order_id", flat=True
        )
    )
    _lock_orders(order_ids)
    lines = list(
        DeliveryLine.objects.filter(pk__in=delivery_line_ids)
        .select_related("delivery", "order_line", "order_line__order", "order_line__product")
        .order_by("delivery__shipped_date", "delivery_id", "order_line__position", "pk")
    )
    items = delivery_items(lines)
    if not items:
        return None
    _check_items(items)
    return write_invoice(
        items, by=by, issue=issue, issue_date=issue_date, produce_documents=produce_documents
    )


@transaction.atomic
def invoice_delivery(delivery: Any, *, by: Any, issue: bool = False) -> Invoice:
    """Invoice one shipped delivery (a draft to check and issue, unless ``issue``)."""
    delivery = type(delivery).objects.get(pk=delivery.pk)
    if delivery.status != DeliveryStatus.SHIPPED:
        raise ValidationError(_("Only a shipped delivery is invoiced."))
    invoice = invoice_delivery_lines(
        list(delivery.lines.values_list("pk", flat=True)), by=by, issue=issue
    )
    if invoice is None:
        raise ValidationError(_("This delivery is already invoiced."), code="already_invoiced")
    return invoice


@transaction.atomic
def invoice_order(order: Order, *, by: Any, issue: bool = False) -> Invoice:
    """Invoice everything an order has not invoiced yet, delivered or not (its final invoice)."""
    order = _lock_orders({order.pk})[order.pk]
    if order.status == OrderStatus.CANCELLED:
        raise ValidationError(_("A cancelled order is not invoiced."))
    lines = list(order.lines.select_related("order", "product").order_by("position", "pk"))
    invoiced = invoiced_quantities([line.pk for line in lines])
    items = [
        Item(order_line=line, quantity=rest)
        for line in lines
        if (rest := line.quantity - line.cancelled_quantity - invoiced.get(line.pk, ZERO)) > 0
    ]
    if not items:
        raise ValidationError(_("This order is already invoiced."), code="already_invoiced")
    _check_items(items)
    return write_invoice(items, by=by, issue=issue)


def down_payments_taken(order: Order) -> Decimal:
    """What the order's down payments take excl. VAT: drafts and issued ones, less what credit
    notes gave back of them."""
    down_payments = Invoice.objects.filter(
        kind=InvoiceKind.DOWN_PAYMENT, lines__order_links__order_id=order.pk
    ).values("pk")
    taken = _lines_net(InvoiceLine.objects.filter(invoice__in=down_payments))
    given_back = _lines_net(
        InvoiceLine.objects.filter(
            invoice__kind=InvoiceKind.CREDIT_NOTE, invoice__corrects__in=down_payments
        )
    )
    return taken - given_back


def _lines_net(lines: Any) -> Decimal:
    return sum(
        (
            line_amounts(quantity, price, discount).net_amount
            for quantity, price, discount in lines.values_list(
                "quantity", "unit_price", "discount_rate"
            )
        ),
        ZERO,
    )


def down_payment_room(order: Order) -> tuple[Decimal, Decimal]:
    """Return (what the order bills excl. VAT, less any cancelled rest; what is left of it for
    down payments): the order's down payments never take more than the order, or its final
    invoice could not deduct them all. Negative when the order came down below them."""
    billable = sum(_billable_taxable(order).values(), ZERO)
    return billable, billable - down_payments_taken(order)


def _check_down_payments_within_order(order: Order, new: Decimal) -> None:
    """Refuse a down payment that would take the order's down payments over the order."""
    billable, left = down_payment_room(order)
    if new > left:
        raise ValidationError(
            _(
                "With this one, the order's down payments would come to more than the order "
                "(%(billable)s € excl. VAT): at most %(left)s € excl. VAT is left to take."
            )
            % {"billable": money(billable), "left": money(max(left, ZERO))},
            code="down_payments_over_order",
        )


@transaction.atomic
def create_down_payment_invoice(
    order: Order, *, by: Any, rate: Decimal, issue: bool = False
) -> Invoice:
    """Invoice a down payment of ``rate`` % of the order, one line per VAT rate.

    The rate applies to the order's taxable amount per VAT rate, after its document
    discount: the final invoice discounts its goods lines and deducts this down payment
    outside the discount's base (see ``calculations.invoice_totals``).
    """
    order = _lock_orders({order.pk})[order.pk]
    refusal = down_payment_refusal(order)
    if refusal is not None:
        raise ValidationError(refusal, code="no_down_payment")
    if not ZERO < rate <= HUNDRED:
        raise ValidationError({"rate": _("Enter a percentage above 0 and at most 100.")})
    samples = {(line.vat_category, line.vat_rate): line for line in order.lines.all()}
    lines = []
    for group in order.vat_breakdown:
        key = (group["category"], Decimal(group["rate"]))
        sample = samples[key]
        amount = round_amount(Decimal(group["taxable_amount"]) * rate / HUNDRED)
        if amount <= 0:
            continue
        lines.append(
            {
                "label": f"Acompte de {rate.normalize():f} % sur la commande {order.number}",
                "quantity": Decimal(1),
                "unit_price": amount,
                "vat_rate": key[1],
                "vat_category": key[0],
                "vat_rate_code": sample.vat_rate_code,
                "vat_exemption_reason": sample.vat_exemption_reason,
                "vat_exemption_code": sample.vat_exemption_code,
            }
        )
    if not lines:
        raise ValidationError(_("The order has no amount to take a down payment on."))
    _check_down_payments_within_order(order, sum((line["unit_price"] for line in lines), ZERO))
    invoice = actions.create_invoice(
        party=order.party,
        by=by,
        kind=InvoiceKind.DOWN_PAYMENT,
        lines=lines,
        operation_category=order.operation_category,
        currency=order.currency,
        purchase_order_reference=order.customer_reference,
    )
    OrderInvoiceLink.objects.bulk_create(
        [
            OrderInvoiceLink(order=order, invoice_line=line, quantity=Decimal(1))
            for line in invoice.lines.all()
        ]
    )
    record_audit(by, "create_down_payment_invoice", invoice, order=order.number, rate=rate)
    if issue:
        invoice = actions.issue_invoice(invoice, by=by)
    return invoice
