"""An order billed in parts adds up to the order (issue 3 audit, item 3).

Each part is rounded on its own (line nets of partial quantities, each invoice's document
discount, the down payment), so the invoice that completes the order carries an
"Ajustement d'arrondi" line per VAT rate: the taxable amounts of all the order's invoices
(down payments included, and deducted by the final invoice) equal the order's, exactly.
VAT is rounded per invoice (BR-CO-17), so it may differ by a cent per invoice and rate:
see ``from_orders._absorb_rounding`` for why no final invoice can make both exact.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import from_orders
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.sales import actions as sales_actions
from comptoir.stock import actions as stock_actions
from tests.factories import PartyFactory, ProductFactory, vat_rate
from tests.invoicing.test_from_orders import _assert_valid

pytestmark = pytest.mark.django_db
CENT = Decimal("0.01")


def _order(
    party: Any, by: Any, lines: list[tuple[Decimal, Decimal, Decimal, str]], **values: Any
) -> Any:
    made = []
    for quantity, price, discount, code in lines:
        product = ProductFactory(sale_price=price, vat_rate=vat_rate(code))
        stock_actions.record_stock_move(product, quantity=Decimal(1000), kind="receipt", by=by)
        made.append(
            {
                "product": product,
                "quantity": quantity,
                "unit_price": price,
                "discount_rate": discount,
            }
        )
    return sales_actions.create_order(party=party, by=by, lines=made, **values)


def _ship(order: Any, by: Any, quantities: dict[int, Decimal] | None) -> Any:
    delivery = stock_actions.create_delivery(order, by=by, quantities=quantities)
    return stock_actions.ship_delivery(delivery, by=by, produce_documents=False)


def _bill_in_parts(
    order: Any, by: Any, down_rate: Decimal | None, first_share: Decimal, *, produce: bool
) -> list[Invoice]:
    def issue(invoice: Invoice) -> Invoice:
        return invoice_actions.issue_invoice(invoice, by=by, produce_documents=produce)

    invoices = []
    if down_rate:
        invoices.append(
            issue(from_orders.create_down_payment_invoice(order, by=by, rate=down_rate))
        )
    lines = list(order.lines.order_by("position"))
    first = {line.pk: (line.quantity * first_share).quantize(Decimal("0.001")) for line in lines}
    first = {pk: qty for pk, qty in first.items() if qty > 0}
    if first:
        delivery = _ship(order, by, first)
        invoices.append(issue(from_orders.invoice_delivery(delivery, by=by)))
    rest = order.deliveries.filter(status="draft").first()
    if rest is not None:
        stock_actions.ship_delivery(rest, by=by, produce_documents=False)
    else:
        rest = _ship(order, by, None) if not first else None
    if rest is not None:
        invoices.append(issue(from_orders.invoice_delivery(rest, by=by)))
    else:
        invoices.append(issue(from_orders.invoice_order(order, by=by)))
    for invoice in invoices:
        invoice.refresh_from_db()
    return invoices


def _sums(invoices: list[Invoice]) -> tuple[Decimal, Decimal, Decimal]:
    return (
        sum((i.tax_basis_amount for i in invoices), Decimal(0)),
        sum((i.vat_amount for i in invoices), Decimal(0)),
        sum((i.total_amount for i in invoices), Decimal(0)),
    )


def test_the_audit_order_of_40_22_bills_40_22_excl_vat_exactly(
    company: Any, assistant: Any, client_for: Any
) -> None:
    # Two lines split 3 + 4 and 1 + 2 across two deliveries, 10 % off, 50 % down payment.
    party = PartyFactory(name="Client Arrondi", siren="404833048")
    order = _order(
        party,
        assistant,
        [
            (Decimal("7"), Decimal("1.4350"), Decimal("0"), "tva-20"),
            (Decimal("3"), Decimal("7.7770"), Decimal("5"), "tva-5-5"),
        ],
        discount_rate=Decimal("10"),
    )
    invoices = _bill_in_parts(order, assistant, Decimal("50"), Decimal("0.4"), produce=True)
    order.refresh_from_db()
    excl, vat, incl = _sums(invoices)
    assert excl == order.tax_basis_amount
    assert abs(vat - order.vat_amount) <= CENT * len(invoices) * len(order.vat_breakdown)
    assert incl - order.total_amount == vat - order.vat_amount
    final = invoices[-1]
    assert final.lines.filter(deducted_invoice__isnull=False).exists()
    for invoice in invoices:
        _assert_valid(invoice)
    # The order page says what was invoiced in all, and that the VAT differs by a cent.
    assert from_orders.billed_totals(order) == {
        "tax_basis": excl,
        "vat": vat,
        "total": incl,
        "vat_difference": vat - order.vat_amount,
    }
    with translation.override("en"):
        page = client_for(assistant).get(reverse("sales:order_detail", args=[order.pk]))
    html = page.content.decode()
    assert 'id="order-billed"' in html
    assert ('id="order-billed-difference"' in html) == (vat != order.vat_amount)


def test_a_partial_invoice_leaving_less_than_the_down_payment_deducts_it(
    company: Any, assistant: Any
) -> None:
    # 30 % down payment (300,00), then 8 of 10 shipped and invoiced: the 2 left (200,00) could
    # not absorb the down payment, so the partial invoice deducts it; the final one is positive.
    party = PartyFactory(name="Client Acompte", siren="404833048")
    order = _order(party, assistant, [(Decimal("10"), Decimal("100"), Decimal("0"), "tva-20")])
    invoices = _bill_in_parts(order, assistant, Decimal("30"), Decimal("0.8"), produce=True)
    down, partial, final = invoices
    assert [i.tax_basis_amount for i in invoices] == [
        Decimal("300.00"),
        Decimal("500.00"),
        Decimal("200.00"),
    ]
    assert partial.lines.filter(deducted_invoice=down).exists()
    assert not final.lines.filter(deducted_invoice__isnull=False).exists()
    order.refresh_from_db()
    assert sum((i.tax_basis_amount for i in invoices), Decimal(0)) == order.tax_basis_amount
    for invoice in invoices:
        _assert_valid(invoice)


quantities = st.decimals(min_value=Decimal("1"), max_value=Decimal("40"), places=0)
prices = st.decimals(min_value=Decimal("0.5000"), max_value=Decimal("250"), places=4)
line_discounts = st.sampled_from([Decimal(0), Decimal(0), Decimal("5"), Decimal("12.5")])
codes = st.sampled_from(["tva-20", "tva-5-5", "tva-10"])
order_lines = st.lists(st.tuples(quantities, prices, line_discounts, codes), min_size=1, max_size=4)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=order_lines,
    discount=st.sampled_from([Decimal(0), Decimal("3"), Decimal("10"), Decimal("33.33")]),
    down_rate=st.sampled_from([None, Decimal("30"), Decimal("50"), Decimal("12.34")]),
    # A first delivery worth more than what the down payment leaves deducts it itself.
    share=st.sampled_from([Decimal(0), Decimal("0.3"), Decimal("0.45"), Decimal("0.8")]),
)
def test_the_invoices_of_an_order_add_up_to_it(
    company: Any,
    assistant: Any,
    lines: list[Any],
    discount: Decimal,
    down_rate: Any,
    share: Decimal,
) -> None:
    party = PartyFactory(name="Client Hypothèse", siren="404833048")
    order = _order(party, assistant, lines, discount_rate=discount)
    invoices = _bill_in_parts(order, assistant, down_rate, share, produce=False)
    order.refresh_from_db()
    excl, vat, incl = _sums(invoices)
    # Excl. VAT: exact, per VAT rate too.
    assert excl == order.tax_basis_amount
    for group in order.vat_breakdown:
        key = (group["category"], Decimal(group["rate"]))
        billed = sum(
            (
                Decimal(g["taxable_amount"])
                for invoice in invoices
                for g in invoice.vat_breakdown
                if (g["category"], Decimal(g["rate"])) == key
            ),
            Decimal(0),
        )
        assert billed == Decimal(group["taxable_amount"])
    # VAT: rounded per invoice, at most a cent per invoice and rate apart (see the module).
    assert abs(vat - order.vat_amount) <= CENT * len(invoices) * len(order.vat_breakdown)
    assert incl - order.total_amount == vat - order.vat_amount
    assert Invoice.objects.filter(kind=InvoiceKind.INVOICE, party=party).count() == len(
        [i for i in invoices if i.kind == InvoiceKind.INVOICE]
    )
