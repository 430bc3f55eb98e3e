"""Two people invoice the same delivery at the same moment: one invoice, never two."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from comptoir.invoicing import from_orders
from comptoir.invoicing.models import Invoice
from comptoir.invoicing.order_links import OrderInvoiceLink
from comptoir.sales import actions as sales_actions
from comptoir.stock import actions as stock_actions
from tests.factories import PartyFactory, ProductFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_invoicing_of_one_delivery_makes_one_invoice() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_URL is not PostgreSQL")
    party = PartyFactory(name="Client concurrent")
    product = ProductFactory(sale_price=Decimal("12.0000"))
    stock_actions.record_stock_move(product, quantity=Decimal("10"), kind="receipt", by=None)
    order = sales_actions.create_order(
        party=party, by=None, lines=[{"product": product, "quantity": Decimal("5")}]
    )
    delivery = stock_actions.create_delivery(order, by=None)
    stock_actions.ship_delivery(delivery, by=None, produce_documents=False)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def invoice() -> None:
        try:
            barrier.wait()
            from_orders.invoice_delivery(delivery, by=None)
            outcomes.append("invoiced")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=invoice) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["invoiced", "refused", "refused", "refused"]
    assert Invoice.objects.count() == 1
    assert OrderInvoiceLink.objects.get().quantity == Decimal("5")
