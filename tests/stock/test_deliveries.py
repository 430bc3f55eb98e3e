"""Deliveries and stock: reservation, partial delivery + backorder, moves, levels, alerts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from comptoir.documents.models import ArchivedDocument
from comptoir.sales.states import OrderStatus
from comptoir.stock import actions, selectors
from comptoir.stock.models import StockMove
from comptoir.stock.states import DeliveryStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(paper: Any, chair: Any, assistant: Any) -> None:
    actions.record_stock_move(paper, quantity=Decimal("50"), kind="receipt", by=assistant)
    actions.record_stock_move(chair, quantity=Decimal("5"), kind="receipt", by=assistant)


def test_an_open_order_reserves_its_quantities(
    stocked: Any, order: Any, paper: Any, chair: Any
) -> None:
    level = selectors.level_of(paper)
    assert (level.on_hand, level.reserved, level.available) == (
        Decimal("50"),
        Decimal("10"),
        Decimal("40"),
    )
    assert selectors.level_of(chair).available == Decimal("3")


def test_partial_delivery_ships_moves_stock_and_leaves_a_backorder(
    stocked: Any, order: Any, paper: Any, chair: Any, assistant: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    chair_line = order.lines.get(product=chair)
    delivery = actions.create_delivery(
        order, by=assistant, quantities={paper_line.pk: Decimal("6"), chair_line.pk: Decimal("2")}
    )
    actions.ship_delivery(delivery, by=assistant)
    delivery.refresh_from_db()
    order.refresh_from_db()
    assert delivery.status == DeliveryStatus.SHIPPED
    assert order.status == OrderStatus.PARTIALLY_DELIVERED
    assert StockMove.objects.filter(delivery_line__delivery=delivery).count() == 2
    level = selectors.level_of(paper)
    assert (level.on_hand, level.reserved, level.available) == (
        Decimal("44"),
        Decimal("4"),
        Decimal("40"),
    )
    backorder = delivery.backorders.get()
    assert backorder.status == DeliveryStatus.DRAFT
    assert [(line.order_line_id, line.quantity) for line in backorder.lines.all()] == [
        (paper_line.pk, Decimal("4"))
    ]
    document = ArchivedDocument.objects.get(reference=delivery.number)
    assert document.kind == "delivery_note_pdf"
    # Shipping the backorder delivers the order.
    actions.ship_delivery(backorder, by=assistant, produce_documents=False)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert selectors.level_of(paper).reserved == Decimal("0")
    assert not order.deliveries.filter(status=DeliveryStatus.DRAFT).exists()


def test_cannot_ship_more_than_on_hand(order: Any, paper: Any, assistant: Any) -> None:
    actions.record_stock_move(paper, quantity=Decimal("3"), kind="receipt", by=assistant)
    delivery = actions.create_delivery(order, by=assistant)
    with pytest.raises(ValidationError) as error:
        actions.ship_delivery(delivery, by=assistant)
    assert "on hand" in " ".join(error.value.messages)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DRAFT
    assert not StockMove.objects.filter(kind="delivery").exists()


def test_cannot_plan_more_than_left_to_deliver(
    stocked: Any, order: Any, paper: Any, assistant: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    actions.create_delivery(order, by=assistant, quantities={paper_line.pk: Decimal("7")})
    with pytest.raises(ValidationError):
        actions.create_delivery(order, by=assistant, quantities={paper_line.pk: Decimal("4")})


def test_reorder_alerts_list_products_at_or_below_their_level(
    stocked: Any, order: Any, paper: Any, chair: Any, assistant: Any
) -> None:
    actions.set_reorder_level(
        chair, reorder_level=Decimal("3"), reorder_quantity=Decimal("10"), by=assistant
    )
    actions.set_reorder_level(
        paper, reorder_level=Decimal("5"), reorder_quantity=Decimal("100"), by=assistant
    )
    assert list(selectors.reorder_alerts().values_list("pk", flat=True)) == [chair.pk]
    actions.record_stock_move(chair, quantity=Decimal("1"), kind="receipt", by=assistant)
    assert not selectors.reorder_alerts().exists()


def test_delivery_screens(
    client_for: Any, assistant: Any, stocked: Any, order: Any, rep: Any, other_rep: Any
) -> None:
    client = client_for(assistant)
    page = client.get(f"/stock/orders/{order.pk}/deliver/")
    assert page.status_code == 200
    response = client.post(
        f"/stock/orders/{order.pk}/deliver/", {f"line_{line.pk}": "1" for line in order.lines.all()}
    )
    delivery = order.deliveries.get()
    assert response.status_code == 302
    response = client.post(f"/stock/deliveries/{delivery.pk}/ship/")
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SHIPPED
    assert client.get(f"/stock/deliveries/{delivery.pk}/pdf/")["Content-Type"] == "application/pdf"
    send = client.get(f"/stock/deliveries/{delivery.pk}/send/")
    assert send.status_code == 302 and send.url.startswith("/sales/documents/")
    assert delivery.number in client.get(send.url).content.decode()
    assert client.get("/stock/levels/").status_code == 200
    assert client.get("/stock/alerts/").status_code == 200
    paper = order.lines.order_by("position").first().product
    assert "On hand 49" in client.get(f"/stock/products/{paper.pk}/").content.decode()
    client.post(
        f"/stock/products/{paper.pk}/",
        {"reorder_level": "60", "reorder_quantity": "100", "adjustment": "5", "kind": "receipt"},
    )
    assert selectors.level_of(paper).on_hand == Decimal("54")
    assert paper.pk in set(selectors.reorder_alerts().values_list("pk", flat=True))
    assert client_for(rep).get(f"/stock/deliveries/{delivery.pk}/").status_code == 200
    assert client_for(other_rep).get(f"/stock/deliveries/{delivery.pk}/").status_code == 404
    assert client_for(rep).post(f"/stock/deliveries/{delivery.pk}/ship/").status_code == 403


def test_a_note_still_to_ship_prints_what_remains_after_it(
    stocked: Any, order: Any, paper: Any, assistant: Any
) -> None:
    from comptoir.stock.printing import delivery_print_data

    paper_line = order.lines.get(product=paper)
    delivery = actions.create_delivery(
        order, by=assistant, quantities={paper_line.pk: Decimal("6")}
    )
    [line] = delivery_print_data(delivery)["lines"]
    assert (line["ordered"], line["delivered"], line["remaining"]) == ("10", "6", "4")
    actions.ship_delivery(delivery, by=assistant, produce_documents=False)
    delivery.refresh_from_db()
    [line] = delivery_print_data(delivery)["lines"]
    assert line["remaining"] == "4"


def test_stock_screens_print_quantities_the_french_way(
    client_for: Any, assistant: Any, order: Any, paper: Any
) -> None:
    actions.record_stock_move(paper, quantity=Decimal("1349"), kind="receipt", by=assistant)
    client = client_for(assistant)
    form = client.get(f"/stock/orders/{order.pk}/deliver/").content.decode()
    assert "At most 10." in form and "At most 10.000" not in form
    page = client.get(f"/stock/products/{paper.pk}/").content.decode().replace("\xa0", " ")
    assert "On hand 1 349, reserved 10, available 1 339." in page


def test_a_note_goes_to_the_customer_s_delivery_address(
    client_for: Any, assistant: Any, customer: Any, paper: Any
) -> None:
    from comptoir.parties.models import Address, AddressKind
    from comptoir.sales import actions as sales_actions
    from comptoir.stock.printing import delivery_print_data

    depot = Address.objects.create(
        party=customer,
        kind=AddressKind.DELIVERY,
        line1="8 rue du Port",
        postcode="13002",
        city="Marseille",
        is_default=True,
    )
    order = sales_actions.create_order(
        party=customer, by=assistant, lines=[{"product": paper, "quantity": Decimal("3")}]
    )
    assert order.delivery_address == depot
    delivery = actions.create_delivery(order, by=assistant)
    assert delivery.delivery_address == depot
    assert delivery_print_data(delivery)["delivery"] == ["8 rue du Port", "13002 Marseille"]
    page = client_for(assistant).get(f"/stock/deliveries/{delivery.pk}/").content.decode()
    assert "8 rue du Port, 13002 Marseille" in page


def test_a_note_prepared_on_a_past_day_is_numbered_in_that_year(
    order: Any, paper: Any, assistant: Any, stocked: Any
) -> None:
    """Loading history: a note prepared in 2025 is BL-2025-…, and so is its backorder."""
    line = order.lines.get(product=paper)
    last_year = timezone.localdate().year - 1
    shipped = date(last_year, 6, 3)
    note = actions.create_delivery(
        order, by=assistant, quantities={line.pk: Decimal("4")}, prepared_on=shipped
    )
    assert note.number == f"BL-{last_year}-000001"
    actions.ship_delivery(note, by=assistant, shipped_date=shipped, produce_documents=False)
    backorder = note.backorders.get()
    assert backorder.number == f"BL-{last_year}-000002"
