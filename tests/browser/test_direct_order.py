"""A direct order typed on screen: a catalogue line, a free line, more rows; its lines changed;
then cancelled."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from comptoir.core.models import User
from comptoir.sales.models import Order
from comptoir.sales.states import OrderStatus
from tests.browser.conftest import log_in
from tests.factories import AddressFactory, PartyFactory, ProductFactory, vat_rate

pytestmark = pytest.mark.django_db(transaction=True)
ORDER_PAGE = re.compile(r"/sales/orders/\d+/$")


def test_direct_order_with_free_line_and_more_rows_then_changed_and_cancelled(
    page: Any, assistant: User
) -> None:
    customer = PartyFactory(name="Boulangerie Martin SARL", email="achats@martin.example")
    AddressFactory(party=customer, is_default=True)
    paper = ProductFactory(label="Ramette A4", sale_price=Decimal("4.9000"))
    chair = ProductFactory(label="Fauteuil", sale_price=Decimal("189.0000"))

    log_in(page, assistant.username)
    page.goto("/sales/orders/new/")
    page.select_option("#id_party", str(customer.pk))
    page.fill("#id_discount_rate", "10")
    page.select_option("#id_line-0-product", str(paper.pk))
    page.fill("#id_line-0-quantity", "10")
    page.fill("#id_line-1-label", "Installation")
    page.fill("#id_line-1-quantity", "2")
    page.fill("#id_line-1-unit_price", "45")
    page.select_option("#id_line-1-vat", str(vat_rate("tva-20").pk))
    page.click("#more-lines")
    page.locator("#id_line-5-product").wait_for()
    assert page.locator("#id_line-1-label").input_value() == "Installation"
    page.select_option("#id_line-4-product", str(chair.pk))
    # Enter in a field saves the order (it used to add rows: "More lines" came first).
    page.fill("#id_customer_reference", "BC-2026-118")
    page.press("#id_customer_reference", "Enter")
    page.wait_for_url(ORDER_PAGE)
    order = Order.objects.get()
    assert order.customer_reference == "BC-2026-118"
    assert [line.label for line in order.lines.order_by("position")] == [
        "Ramette A4",
        "Installation",
        "Fauteuil",
    ]
    totals = page.locator("#totals").inner_text()
    assert "328,00" in totals  # 49 + 90 + 189
    assert "32,80" in totals  # the 10 % document discount
    assert "295,20" in totals and "59,04" in totals and "354,24" in totals
    assert "20.00" not in totals

    # Its lines change: twelve reams instead of ten, and no installation after all.
    page.click("#edit-order-lines")
    # Stored figures come back without trailing zeros: "10", not "10.000".
    assert page.locator("#id_line-0-quantity").input_value() == "10"
    assert page.locator("#id_line-0-unit_price").input_value() == "4.9"
    page.fill("#id_line-0-quantity", "12")
    page.check("#id_line-1-remove")
    page.click("#save")
    page.wait_for_url(ORDER_PAGE)
    assert [(line.label, line.quantity) for line in order.lines.order_by("position")] == [
        ("Ramette A4", Decimal("12.000")),
        ("Fauteuil", Decimal("1.000")),
    ]
    totals = page.locator("#totals").inner_text()
    assert "247,80" in totals  # 58,80 + 189
    assert "24,78" in totals  # the 10 % document discount

    page.click("#cancel-order")
    page.fill("#id_reason", "Commande en double")
    page.click("#save")
    page.wait_for_url(ORDER_PAGE)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert page.locator("#cancellation-reason").inner_text() == "Commande en double"
