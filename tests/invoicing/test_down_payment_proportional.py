"""A down payment is deducted in parts when a small partial invoice leaves less than it to bill.

Before, the down payment was deducted whole, by the final invoice or by a partial invoice worth
at least as much; a partial invoice smaller than the down payment that left less than it to bill
made the final invoice negative, and it could not be issued. Now each invoice deducts at most
what it bills (excl. VAT, per VAT rate of the down payment), the parts add up to the down
payment, and what is left of it to deduct stays known.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import from_orders
from comptoir.invoicing.calculations import normalise_rate
from comptoir.invoicing.models import Invoice, InvoiceKind, InvoiceLine
from comptoir.sales import actions as sales_actions
from comptoir.stock import actions as stock_actions
from tests.factories import PartyFactory
from tests.invoicing.test_from_orders import _assert_valid
from tests.invoicing.test_from_orders_rounding import _order, _ship

pytestmark = pytest.mark.django_db
ZERO = Decimal(0)


def _ten_at_100(name: str, assistant: Any) -> Any:
    """An order of 10 × 100 € excl. VAT at 20 % for a new customer."""
    party = PartyFactory(name=name, siren="404833048")
    return _order(party, assistant, [(Decimal("10"), Decimal("100"), Decimal("0"), "tva-20")])


def _issued_down_payment(order: Any, assistant: Any, rate: str) -> Invoice:
    return from_orders.create_down_payment_invoice(
        order, by=assistant, rate=Decimal(rate), issue=True
    )


def _groups(invoice: Invoice) -> dict[tuple[str, Decimal], Decimal]:
    return {
        (group["category"], normalise_rate(Decimal(group["rate"]))): Decimal(
            group["taxable_amount"]
        )
        for group in invoice.vat_breakdown
    }


def _deducted(down: Invoice) -> dict[tuple[str, Decimal], Decimal]:
    """What the invoices deduct of a down payment, per VAT group (positive amounts)."""
    deducted: dict[tuple[str, Decimal], Decimal] = {}
    for line in InvoiceLine.objects.filter(deducted_invoice=down, invoice__kind="invoice"):
        key = (line.vat_category, normalise_rate(line.vat_rate))
        deducted[key] = deducted.get(key, ZERO) - line.net_amount
    return deducted


def _bill_in_deliveries(
    order: Any, by: Any, rate: Decimal, shares: list[Decimal], *, produce: bool
) -> tuple[Invoice, list[Invoice]]:
    """A down payment of ``rate`` %, then one delivery invoiced per share of what is left."""
    down = invoice_actions.issue_invoice(
        from_orders.create_down_payment_invoice(order, by=by, rate=rate),
        by=by,
        produce_documents=produce,
    )
    invoices = []
    for share in shares:
        rest = from_orders.left_to_invoice(order)
        quantities = {
            pk: (quantity * share).quantize(Decimal("0.001")) for pk, quantity in rest.items()
        }
        quantities = {pk: qty for pk, qty in quantities.items() if qty > 0}
        if not quantities or quantities == rest:
            continue
        # Ship exactly these quantities: the backorder of an earlier delivery is dropped first.
        for draft in order.deliveries.filter(status="draft"):
            stock_actions.cancel_delivery(draft, by=by)
        delivery = _ship(order, by, quantities)
        invoices.append(
            invoice_actions.issue_invoice(
                from_orders.invoice_delivery(delivery, by=by), by=by, produce_documents=produce
            )
        )
    for draft in order.deliveries.filter(status="draft"):
        stock_actions.cancel_delivery(draft, by=by)
    invoices.append(
        invoice_actions.issue_invoice(
            from_orders.invoice_order(order, by=by), by=by, produce_documents=produce
        )
    )
    for invoice in [down, *invoices]:
        invoice.refresh_from_db()
    return down, invoices


def test_a_small_partial_invoice_deducts_what_it_bills_and_the_final_one_the_rest(
    company: Any, assistant: Any
) -> None:
    # 90 % down payment (900,00) on 1 000,00; 2 shipped (200,00): 800,00 left to bill cannot
    # absorb 900,00, and the 200,00 invoice cannot deduct 900,00. Before, it deducted nothing
    # and the final invoice came out at 800,00 − 900,00 < 0: it could not be issued.
    order = _ten_at_100("Client Acompte Partiel", assistant)
    down, (partial, final) = _bill_in_deliveries(
        order, assistant, Decimal("90"), [Decimal("0.2")], produce=True
    )
    assert down.tax_basis_amount == Decimal("900.00")
    assert partial.tax_basis_amount == Decimal("0.00")
    assert partial.total_amount == Decimal("0.00")
    assert final.tax_basis_amount == Decimal("100.00")
    assert final.total_amount == Decimal("120.00")
    key = ("S", Decimal("20.00"))
    assert partial.lines.get(deducted_invoice=down).net_amount == Decimal("-200.00")
    assert final.lines.get(deducted_invoice=down).net_amount == Decimal("-700.00")
    assert _deducted(down) == {key: Decimal("900.00")}
    assert invoice_actions.left_to_deduct(down) == {}
    assert down.tax_basis_amount + partial.tax_basis_amount + final.tax_basis_amount == (
        order.tax_basis_amount
    )
    for invoice in (down, partial, final):
        _assert_valid(invoice)


def test_what_is_left_of_a_down_payment_after_a_part_is_deducted(
    company: Any, assistant: Any
) -> None:
    order = _ten_at_100("Client Reste", assistant)
    party = order.party
    down = _issued_down_payment(order, assistant, "90")
    delivery = _ship(order, assistant, {order.lines.get().pk: Decimal("2")})
    partial = from_orders.invoice_delivery(delivery, by=assistant)  # a draft
    key = ("S", Decimal("20.00"))
    # The draft's part counts already: no second draft deducts it again.
    assert invoice_actions.left_to_deduct(down) == {key: Decimal("700.00")}
    assert from_orders._pending_down_payments([order.pk]) == [(down, {key: Decimal("700.00")})]
    other = invoice_actions.create_invoice(
        party=party,
        by=assistant,
        lines=[
            {
                "label": "Pose",
                "quantity": Decimal(1),
                "unit_price": Decimal("1000"),
                "vat_rate": Decimal("20"),
                "vat_category": "S",
                "vat_rate_code": "normal",
            }
        ],
    )
    with pytest.raises(ValidationError, match="already deducted"):
        invoice_actions.deduct_down_payment(
            other, down_payment=down, by=assistant, amounts={key: Decimal("700.01")}
        )
    invoice_actions.deduct_down_payment(
        other, down_payment=down, by=assistant, amounts={key: Decimal("700.00")}
    )
    assert invoice_actions.left_to_deduct(down) == {}
    assert from_orders._pending_down_payments([order.pk]) == []
    with pytest.raises(ValidationError, match="already deducted"):
        invoice_actions.deduct_down_payment(other, down_payment=down, by=assistant)
    # Deleting the draft gives its part back.
    invoice_actions.delete_draft_invoice(other, by=assistant)
    assert invoice_actions.left_to_deduct(down) == {key: Decimal("700.00")}
    assert partial.lines.get(deducted_invoice=down).net_amount == Decimal("-200.00")


def test_two_vat_rates_are_deducted_each_within_what_the_invoice_bills_of_it(
    company: Any, assistant: Any
) -> None:
    party = PartyFactory(name="Client Deux Taux", siren="404833048")
    order = _order(
        party,
        assistant,
        [
            (Decimal("10"), Decimal("100"), Decimal("0"), "tva-20"),
            (Decimal("10"), Decimal("10"), Decimal("0"), "tva-5-5"),
        ],
        discount_rate=Decimal("10"),
    )
    down, invoices = _bill_in_deliveries(
        order, assistant, Decimal("80"), [Decimal("0.3"), Decimal("0.5")], produce=True
    )
    assert _deducted(down) == _groups(down)
    assert invoice_actions.left_to_deduct(down) == {}
    for invoice in invoices:
        assert invoice.total_amount >= 0
        for key, taxable in _groups(invoice).items():
            assert taxable >= 0, (invoice.number, key)
        _assert_valid(invoice)
    # The first invoice (30 %) leaves 70 % to bill, less than the 80 % down payment: it deducts
    # all it bills, and comes out at zero.
    assert invoices[0].lines.filter(deducted_invoice=down).exists()
    assert invoices[0].tax_basis_amount == Decimal("0.00")
    total = sum((i.tax_basis_amount for i in [down, *invoices]), ZERO)
    order.refresh_from_db()
    assert total == order.tax_basis_amount


def test_an_order_cut_below_its_down_payment_leaves_the_rest_to_refund(
    company: Any, assistant: Any
) -> None:
    # 90 % down payment, 5 of 10 delivered, the rest cancelled: the final invoice deducts what
    # it bills (it cannot go negative) and the down payment still shows what is left of it.
    order = _ten_at_100("Client Annulation", assistant)
    down = _issued_down_payment(order, assistant, "90")
    _ship(order, assistant, {order.lines.get().pk: Decimal("5")})
    for draft in order.deliveries.filter(status="draft"):
        stock_actions.cancel_delivery(draft, by=assistant)
    sales_actions.cancel_order(order, by=assistant)
    final = from_orders.invoice_delivery(order.deliveries.get(status="shipped"), by=assistant)
    final = invoice_actions.issue_invoice(final, by=assistant, produce_documents=False)
    assert final.tax_basis_amount == Decimal("0.00")
    # No "rounding" line worth the cancelled goods.
    assert not final.lines.filter(label__startswith=from_orders.ROUNDING_LABEL).exists()
    assert invoice_actions.left_to_deduct(down) == {("S", Decimal("20.00")): Decimal("400.00")}


quantities = st.decimals(min_value=Decimal("1"), max_value=Decimal("30"), places=0)
# From 1,00 €, even 1 % of the smallest order is a cent: a down payment always has an amount.
prices = st.decimals(min_value=Decimal("1.0000"), max_value=Decimal("200"), places=4)
codes = st.sampled_from(["tva-20", "tva-5-5", "tva-10"])
order_lines = st.lists(
    st.tuples(quantities, prices, st.sampled_from([Decimal(0), Decimal("5")]), codes),
    min_size=1,
    max_size=3,
)
shares = st.lists(
    st.sampled_from([Decimal("0.05"), Decimal("0.1"), Decimal("0.25"), Decimal("0.5")]),
    max_size=3,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=order_lines,
    discount=st.sampled_from([Decimal(0), Decimal("3"), Decimal("12.5")]),
    rate=st.decimals(min_value=Decimal("1"), max_value=Decimal("100"), places=2),
    splits=shares,
)
def test_down_payments_are_deducted_once_and_no_invoice_is_negative(
    company: Any,
    assistant: Any,
    lines: list[Any],
    discount: Decimal,
    rate: Decimal,
    splits: list[Decimal],
) -> None:
    party = PartyFactory(name="Client Propriété", siren="404833048")
    order = _order(party, assistant, lines, discount_rate=discount)
    down, invoices = _bill_in_deliveries(order, assistant, rate, splits, produce=False)
    order.refresh_from_db()
    for invoice in invoices:
        assert invoice.kind == InvoiceKind.INVOICE and invoice.is_issued
        assert invoice.total_amount >= 0
        goods: dict[tuple[str, Decimal], Decimal] = {}
        for line in invoice.lines.filter(deducted_invoice__isnull=True):
            key = (line.vat_category, normalise_rate(line.vat_rate))
            goods[key] = goods.get(key, ZERO) + line.net_amount
        for key, taxable in _groups(invoice).items():
            # Each VAT group deducts at most what the invoice bills in it.
            assert taxable >= 0, (key, taxable)
            assert key in goods
    # Deducted once in all, per VAT rate of the down payment.
    assert _deducted(down) == _groups(down)
    assert invoice_actions.left_to_deduct(down) == {}
    # The order's invoices add up to it excl. VAT, per VAT rate, to the cent.
    for group in order.vat_breakdown:
        key = (group["category"], normalise_rate(Decimal(group["rate"])))
        billed = sum((_groups(i).get(key, ZERO) for i in [down, *invoices]), ZERO)
        assert billed == Decimal(group["taxable_amount"])
    assert sum((i.tax_basis_amount for i in [down, *invoices]), ZERO) == order.tax_basis_amount
