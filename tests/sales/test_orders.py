"""Orders: from an accepted quote or directly, references, dates, cancellation rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from comptoir.core.audit import history_for
from comptoir.invoicing import from_orders
from comptoir.sales import actions
from comptoir.sales.states import OrderStatus
from comptoir.sales.templatetags.sales_format import history_rows
from comptoir.stock import actions as stock_actions
from tests.factories import PartyFactory

pytestmark = pytest.mark.django_db


def test_order_from_accepted_quote_copies_lines_and_totals(
    accepted_quote: Any, assistant: Any
) -> None:
    order = actions.create_order_from_quote(
        accepted_quote,
        by=assistant,
        customer_reference="PO-2026-15",
        requested_date=date(2026, 12, 1),
        promised_date=date(2026, 12, 3),
    )
    assert order.status == OrderStatus.CONFIRMED
    assert order.customer_reference == "PO-2026-15"
    assert (order.requested_date, order.promised_date) == (date(2026, 12, 1), date(2026, 12, 3))
    assert order.number.startswith("CO-")
    assert order.lines.count() == 2
    assert order.total_amount == accepted_quote.total_amount
    # The quote's own history says what became of it.
    rows = history_rows(history_for(accepted_quote))
    assert {"label": "Turned into an order", "detail": order.number}.items() <= rows[0].items()
    with pytest.raises(ValidationError):
        actions.create_order_from_quote(accepted_quote, by=assistant)


def test_only_an_accepted_quote_becomes_an_order(
    make_quote: Any, customer: Any, paper: Any, assistant: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    with pytest.raises(ValidationError):
        actions.create_order_from_quote(quote, by=assistant)


def test_a_prospect_who_orders_becomes_a_customer(
    make_quote: Any, paper: Any, assistant: Any, company: Any
) -> None:
    prospect = PartyFactory(name="Cabinet Prospect", is_customer=False, is_prospect=True)
    quote = make_quote(prospect, [{"product": paper, "quantity": Decimal("1")}])
    actions.send_quote(quote, by=assistant, email=False)
    actions.accept_quote(quote, name="Mme Prospect", ip=None)
    actions.create_order_from_quote(quote, by=assistant)
    prospect.refresh_from_db()
    assert prospect.is_customer


def test_direct_order_prices_from_the_catalogue(customer: Any, paper: Any, assistant: Any) -> None:
    order = actions.create_order(
        party=customer, by=assistant, lines=[{"product": paper, "quantity": Decimal("4")}]
    )
    line = order.lines.get()
    assert line.unit_price == Decimal("4.9000")
    assert order.tax_basis_amount == Decimal("19.60")
    assert order.total_amount == Decimal("23.52")


def test_cancel_whole_order_when_nothing_delivered(order: Any, assistant: Any) -> None:
    actions.cancel_order(order, by=assistant)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert all(line.cancelled_quantity == line.quantity for line in order.lines.all())


def test_cancel_after_partial_delivery_cancels_only_the_rest(
    order: Any, assistant: Any, paper: Any, chair: Any
) -> None:
    stock_actions.record_stock_move(paper, quantity=Decimal("100"), kind="receipt", by=assistant)
    stock_actions.record_stock_move(chair, quantity=Decimal("10"), kind="receipt", by=assistant)
    paper_line = order.lines.get(product=paper)
    delivery = stock_actions.create_delivery(
        order, by=assistant, quantities={paper_line.pk: Decimal("4")}
    )
    stock_actions.ship_delivery(delivery, by=assistant, produce_documents=False)
    actions.cancel_order(order, by=assistant)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    paper_line.refresh_from_db()
    assert (paper_line.delivered_quantity, paper_line.cancelled_quantity) == (
        Decimal("4"),
        Decimal("6"),
    )
    with pytest.raises(ValidationError):
        actions.cancel_order(order, by=assistant)


def test_invoiced_order_cannot_be_cancelled(order: Any, assistant: Any, company: Any) -> None:
    from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("30"))
    with pytest.raises(ValidationError):
        actions.cancel_order(order, by=assistant)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_order_page_shows_its_notes_its_address_and_its_totals_less_the_cancelled_rest(
    order: Any, assistant: Any, paper: Any, client_for: Any
) -> None:
    actions.update_order(order, by=assistant, notes="Livraison au 2e étage")
    client = client_for(assistant)
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert "Livraison au 2e étage" in page
    # No delivery address of its own: the billing address it goes to, not a label.
    billing = order.party.addresses.get()
    assert billing.line1 in page and "(the billing address)" in page
    assert 'id="order-after-cancellation"' not in page
    # Quantities and prices without pointless zeros: 10 reams at 4,90, not 10,000 at 4,9000.
    assert ">10<" in page and ">4,90<" in page
    assert "10,000" not in page and "4,9000" not in page

    stock_actions.record_stock_move(paper, quantity=Decimal("100"), kind="receipt", by=assistant)
    paper_line = order.lines.get(product=paper)
    delivery = stock_actions.create_delivery(
        order, by=assistant, quantities={paper_line.pk: Decimal("4")}
    )
    stock_actions.ship_delivery(delivery, by=assistant, produce_documents=False)
    actions.cancel_order(order, by=assistant, reason="Rupture fournisseur")
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    # 4 reams at 4.90 are all that is left of 10 reams and 2 chairs: 19.60 + 3.92 VAT.
    assert "Less the cancelled quantities: 19,60 excl. VAT, 3,92 VAT, 23,52 incl. VAT." in page
    assert "Undelivered rest cancelled" in page and "Order cancelled" not in page
