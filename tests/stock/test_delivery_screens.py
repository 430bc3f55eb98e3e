"""What the delivery screens and the delivery note show: limits, addresses, references, quantities."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from pypdf import PdfReader

from comptoir.core.roles import Role
from comptoir.parties.models import Address, AddressKind
from comptoir.sales import actions as sales_actions
from comptoir.stock import actions
from comptoir.stock.states import DeliveryStatus

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"


@pytest.fixture
def stocked(paper: Any, chair: Any, assistant: Any) -> None:
    actions.record_stock_move(paper, quantity=Decimal("743"), kind="receipt", by=assistant)
    actions.record_stock_move(chair, quantity=Decimal("5"), kind="receipt", by=assistant)


def _field_errors(page: str, name: str) -> str:
    found = re.search(rf'id="errors-{name}">(.*?)</ul>', page, re.S)
    assert found, f"no error shown for {name}"
    return found.group(1)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_delivery_form_states_its_limit_as_the_help_text_does(
    client_for: Any, make_user: Any, assistant: Any, order: Any, paper: Any, language: str
) -> None:
    # "Ensure this value is less than or equal to 2.500": a French reader saw two thousand five
    # hundred in "20.000".
    line = order.lines.get(product=paper)
    actions.create_delivery(order, by=assistant, quantities={line.pk: Decimal("7.5")})
    client = client_for(make_user(Role.SALES_ASSISTANT, language=language))
    page = client.post(f"/stock/orders/{order.pk}/deliver/", {f"line_{line.pk}": "3"})
    errors = _field_errors(page.content.decode(), f"line_{line.pk}")
    assert "2,5" in errors
    assert "2.5" not in errors and "2,500" not in errors
    assert not order.deliveries.filter(lines__quantity=Decimal("3")).exists()


def test_the_delivery_page_shows_every_line_of_the_delivery_address(
    client_for: Any, assistant: Any, customer: Any, paper: Any
) -> None:
    Address.objects.create(
        party=customer,
        kind=AddressKind.DELIVERY,
        line1="38 rue Nationale",
        line2="Quai de livraison",
        postcode="33700",
        city="Mérignac",
        is_default=True,
    )
    order = sales_actions.create_order(
        party=customer, by=assistant, lines=[{"product": paper, "quantity": Decimal("3")}]
    )
    delivery = actions.create_delivery(order, by=assistant)
    page = client_for(assistant).get(f"/stock/deliveries/{delivery.pk}/").content.decode()
    address = re.search(r'id="delivery-address">(.*?)</span>', page, re.S)
    assert address is not None
    assert "38 rue Nationale" in address.group(1)
    assert "Quai de livraison" in address.group(1)
    assert "33700 Mérignac" in address.group(1)


def test_the_delivery_note_keeps_the_customer_s_po_reference_on_one_line(
    stocked: Any, accepted_quote: Any, assistant: Any
) -> None:
    # Printed "BC-" at the end of a line and "PM-2026-118" on the next.
    order = sales_actions.create_order_from_quote(
        accepted_quote, by=assistant, customer_reference="BC-PM-2026-118"
    )
    delivery = actions.create_delivery(order, by=assistant)
    text = PdfReader(io.BytesIO(actions.delivery_pdf(delivery))).pages[0].extract_text()
    assert "BC-PM-2026-118" in text
    assert f"Commande : {order.number}" in text


def test_new_delivery_is_not_offered_when_everything_is_on_a_note_to_ship(
    client_for: Any, assistant: Any, stocked: Any, order: Any
) -> None:
    # The form showed only a date field, and "Nothing is left" came after submitting it.
    client = client_for(assistant)
    assert 'id="deliver"' in client.get(f"/sales/orders/{order.pk}/").content.decode()
    note = actions.create_delivery(order, by=assistant)
    # The order page no longer offers it...
    assert 'id="deliver"' not in client.get(f"/sales/orders/{order.pk}/").content.decode()
    # ...and the address typed by hand says why.
    response = client.get(f"/stock/orders/{order.pk}/deliver/")
    assert response.status_code == 302
    assert response.url == f"/sales/orders/{order.pk}/"
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert note.number in message
    assert client.post(f"/stock/orders/{order.pk}/deliver/").status_code == 302
    assert order.deliveries.count() == 1


def test_new_delivery_still_opens_while_something_is_left(
    client_for: Any, assistant: Any, stocked: Any, order: Any, paper: Any
) -> None:
    line = order.lines.get(product=paper)
    actions.create_delivery(order, by=assistant, quantities={line.pk: Decimal("10")})
    page = client_for(assistant).get(f"/stock/orders/{order.pk}/deliver/")
    assert page.status_code == 200
    assert f"line_{line.pk}" not in page.content.decode()
    chair_line = order.lines.exclude(pk=line.pk).get()
    assert f'name="line_{chair_line.pk}"' in page.content.decode()


def test_a_note_cancelled_with_its_order_says_what_it_held(
    client_for: Any, assistant: Any, stocked: Any, order: Any, paper: Any, chair: Any
) -> None:
    paper_line = order.lines.get(product=paper)
    chair_line = order.lines.get(product=chair)
    shipped = actions.create_delivery(
        order, by=assistant, quantities={paper_line.pk: Decimal("6"), chair_line.pk: Decimal("1")}
    )
    actions.ship_delivery(shipped, by=assistant, produce_documents=False)
    backorder = shipped.backorders.get()
    sales_actions.cancel_order(order, by=assistant, reason="Plus besoin")
    backorder.refresh_from_db()
    assert backorder.status == DeliveryStatus.CANCELLED and not backorder.lines.exists()
    page = client_for(assistant).get(f"/stock/deliveries/{backorder.pk}/").content.decode()
    assert 'id="delivery-lines"' not in page
    held = page[page.index('id="delivery-trimmed"') : page.index('id="history"')]
    assert "when its order was reduced" in held
    rows = re.findall(r"<tr><td>(.*?)</td><td[^>]*>(.*?)</td></tr>", held, re.S)
    assert [(label.strip(), qty.strip()) for label, qty in rows] == [
        ("Ramette A4", "4"),
        ("Fauteuil ergonomique", "1"),
    ]


def test_a_cancelled_note_that_kept_its_lines_shows_them(
    client_for: Any, assistant: Any, stocked: Any, order: Any
) -> None:
    note = actions.create_delivery(order, by=assistant)
    actions.cancel_delivery(note, by=assistant)
    page = client_for(assistant).get(f"/stock/deliveries/{note.pk}/").content.decode()
    assert 'id="delivery-lines"' in page and 'id="delivery-trimmed"' not in page


def test_stock_pages_write_quantities_alike(
    client_for: Any, assistant: Any, stocked: Any, order: Any, paper: Any
) -> None:
    # The delivery page said "743,000" and the stock levels "743,00".
    line = order.lines.get(product=paper)
    actions.record_stock_move(paper, quantity=Decimal("1000.5"), kind="receipt", by=assistant)
    delivery = actions.create_delivery(order, by=assistant, quantities={line.pk: Decimal("2.5")})
    client = client_for(assistant)
    detail = client.get(f"/stock/deliveries/{delivery.pk}/").content.decode()
    cells = re.findall(r'<td class="text-end">(.*?)</td>', detail)
    assert cells == ["10", "2,5", "7,5", f"1{NNBSP}743,5"]
    levels = client.get("/stock/levels/?q=Ramette").content.decode()
    assert f">1{NNBSP}743,5<" in levels
    assert ">10<" in levels and f">1{NNBSP}733,5<" in levels
    assert "743,50" not in levels and ",00<" not in levels
    # The export keeps numbers (their scale is the database's business): the same values.
    export = client.get("/stock/levels/?q=Ramette&export=csv")
    row = b"".join(export.streaming_content).decode("utf-8-sig").splitlines()[1].split(";")
    figures = [Decimal(cell.replace(",", ".")) for cell in row[2:5]]
    assert figures == [Decimal("1743.5"), Decimal("10"), Decimal("1733.5")]
