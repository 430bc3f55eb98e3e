"""Batch invoices that mix a customer's orders still bring each order to the cent.

An order billed in parts is rounded part by part; the invoice that completes it carries an
"Ajustement d'arrondi" line. A batch invoice mixing several orders without a document discount
gets one such line per completed order and VAT rate (a line's net is its order's). Orders with a
document discount get an invoice each, since a discount rounded over several orders is no one's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from comptoir.invoicing import batch, from_orders
from comptoir.invoicing.calculations import normalise_rate
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.order_links import OrderInvoiceLink
from comptoir.stock import actions as stock_actions
from tests.factories import PartyFactory
from tests.invoicing.test_from_orders import _assert_valid
from tests.invoicing.test_from_orders_rounding import _order, _ship

pytestmark = pytest.mark.django_db
ZERO = Decimal(0)


def _order_invoices(order: Any) -> list[Invoice]:
    return list(
        Invoice.objects.filter(
            kind__in=(InvoiceKind.INVOICE, InvoiceKind.DOWN_PAYMENT),
            lines__order_links__order_id=order.pk,
        )
        .distinct()
        .order_by("pk")
    )


def _billed_for(order: Any) -> dict[tuple[str, Decimal], Decimal]:
    """What the order's invoices bill of it per VAT group: its own lines' nets."""
    billed: dict[tuple[str, Decimal], Decimal] = {}
    for invoice in _order_invoices(order):
        part = from_orders._order_taxable(invoice, order)
        assert part is not None
        for key, amount in part.items():
            billed[key] = billed.get(key, ZERO) + amount
    return billed


def _ship_half(order: Any, by: Any) -> None:
    _ship(order, by, {line.pk: line.quantity / 2 for line in order.lines.all()})


def _ship_rest(order: Any, by: Any) -> None:
    stock_actions.ship_delivery(
        order.deliveries.get(status="draft"), by=by, produce_documents=False
    )


def _run(by: Any) -> list[str]:
    return batch.run_batch_invoicing(
        until=timezone.localdate(), by=by, issue_date=date.today(), produce_documents=True
    ).invoices


def test_a_batch_over_two_orders_in_parts_brings_each_to_the_cent(
    company: Any, assistant: Any
) -> None:
    party = PartyFactory(name="Client Lot", siren="404833048")
    # 10 × 1,2345 = 12,35 but 5 × 1,2345 = 6,17 twice: 12,34, a cent short.
    first = _order(party, assistant, [(Decimal("10"), Decimal("1.2345"), Decimal(0), "tva-20")])
    # 4 × 1,0025 = 4,01 but 2 × 1,0025 = 2,01 twice: 4,02, a cent over; and at 5,5 %.
    second = _order(
        party,
        assistant,
        [
            (Decimal("4"), Decimal("1.0025"), Decimal(0), "tva-5-5"),
            (Decimal("10"), Decimal("1.2345"), Decimal(0), "tva-20"),
        ],
    )
    for order in (first, second):
        _ship_half(order, assistant)
    assert len(batch.batches(timezone.localdate())) == 1
    assert len(_run(assistant)) == 1
    for order in (first, second):
        _ship_rest(order, assistant)
    (number,) = _run(assistant)
    last = Invoice.objects.get(number=number)
    rounding = {
        (line.label, line.vat_rate.normalize(), line.net_amount)
        for line in last.lines.filter(label__startswith=from_orders.ROUNDING_LABEL)
    }
    assert rounding == {
        (f"Ajustement d'arrondi sur la commande {first.number}", Decimal(20), Decimal("0.01")),
        (f"Ajustement d'arrondi sur la commande {second.number}", Decimal(20), Decimal("0.01")),
        (f"Ajustement d'arrondi sur la commande {second.number}", Decimal("5.5"), Decimal("-0.01")),
    }
    # Each rounding line is linked to its order (and to none of its lines).
    assert {
        link.order_id
        for link in OrderInvoiceLink.objects.filter(
            invoice_line__invoice=last, invoice_line__label__startswith=from_orders.ROUNDING_LABEL
        )
    } == {first.pk, second.pk}
    for order in (first, second):
        order.refresh_from_db()
        wanted = {
            (group["category"], normalise_rate(Decimal(group["rate"]))): Decimal(
                group["taxable_amount"]
            )
            for group in order.vat_breakdown
        }
        assert _billed_for(order) == wanted
        billed = from_orders.billed_totals(order)
        assert billed is not None
        assert billed["tax_basis"] == order.tax_basis_amount
    # The two mixed invoices together bill both orders exactly.
    invoices = Invoice.objects.filter(party=party, kind=InvoiceKind.INVOICE)
    assert sum((i.tax_basis_amount for i in invoices), ZERO) == (
        first.tax_basis_amount + second.tax_basis_amount
    )
    for invoice in invoices:
        _assert_valid(invoice)


def test_a_down_payment_in_a_mixed_batch_is_deducted_from_its_order_only(
    company: Any, assistant: Any
) -> None:
    party = PartyFactory(name="Client Lot Acompte", siren="404833048")
    first = _order(party, assistant, [(Decimal("10"), Decimal("100"), Decimal(0), "tva-20")])
    second = _order(party, assistant, [(Decimal("4"), Decimal("1.0025"), Decimal(0), "tva-20")])
    down = from_orders.create_down_payment_invoice(
        first, by=assistant, rate=Decimal("90"), issue=True
    )
    # 2 of 10 of the first order and half the second: the first's 800,00 left to bill cannot
    # absorb its 900,00 down payment, so the batch invoice deducts the 200,00 it bills of it.
    _ship(first, assistant, {first.lines.get().pk: Decimal("2")})
    _ship_half(second, assistant)
    (number,) = _run(assistant)
    partial = Invoice.objects.get(number=number)
    assert partial.lines.get(deducted_invoice=down).net_amount == Decimal("-200.00")
    assert partial.tax_basis_amount == Decimal("2.01")  # the second order's half only
    for order in (first, second):
        _ship_rest(order, assistant)
    (number,) = _run(assistant)
    final = Invoice.objects.get(number=number)
    assert final.lines.get(deducted_invoice=down).net_amount == Decimal("-700.00")
    assert final.total_amount >= 0
    for order in (first, second):
        order.refresh_from_db()
        billed = from_orders.billed_totals(order)
        assert billed is not None and billed["tax_basis"] == order.tax_basis_amount
    for invoice in (down, partial, final):
        _assert_valid(invoice)


def test_orders_with_a_document_discount_get_an_invoice_each(company: Any, assistant: Any) -> None:
    party = PartyFactory(name="Client Remise", siren="404833048")
    lines = [(Decimal("10"), Decimal("1.2345"), Decimal(0), "tva-20")]
    discounted = [_order(party, assistant, lines, discount_rate=Decimal("10")) for _ in range(2)]
    plain = [_order(party, assistant, lines) for _ in range(2)]
    for order in [*discounted, *plain]:
        _ship_half(order, assistant)
    todo = batch.batches(timezone.localdate())
    assert len(todo) == 3  # one per discounted order, one for both orders without discount
    assert len(_run(assistant)) == 3
    for order in [*discounted, *plain]:
        _ship_rest(order, assistant)
    assert len(_run(assistant)) == 3
    for order in discounted:
        invoices = _order_invoices(order)
        assert len(invoices) == 2
        for invoice in invoices:
            assert set(
                invoice.lines.values_list("order_links__order_id", flat=True).distinct()
            ) == {order.pk}
        order.refresh_from_db()
        assert sum((i.tax_basis_amount for i in invoices), ZERO) == order.tax_basis_amount
        assert invoices[-1].lines.filter(label__startswith=from_orders.ROUNDING_LABEL).exists()
    for order in plain:
        order.refresh_from_db()
        billed = from_orders.billed_totals(order)
        assert billed is not None and billed["tax_basis"] == order.tax_basis_amount
