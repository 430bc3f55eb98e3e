"""Issue 3 audit: no button shown only to be refused, counts that count, sending comes back.

- a down payment only on an order nothing of which is invoiced yet (refused otherwise,
  the button hidden);
- "invoice the whole order" / "invoice this delivery" hidden once nothing is left;
- a final invoice's discount names its base when the down-payment deduction is left out;
- the batch screen counts customers and invoices apart;
- sending an invoice from its page returns to it (a safe ``next`` only).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from comptoir.core.money import format_amount
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import from_orders
from comptoir.invoicing.models import Invoice, InvoiceKind
from tests.factories import PartyFactory
from tests.invoicing.test_from_orders import _pdf_and_xml, make_order, products, ship  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def test_no_down_payment_on_a_fully_invoiced_order(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
) -> None:
    order = make_order(customer, products, assistant)
    client = client_for(assistant)
    page = client.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert 'id="down-payment"' in page and 'id="invoice-order"' in page
    ship(order, assistant)
    from_orders.invoice_order(order, by=assistant, issue=True)
    with pytest.raises(ValidationError, match="fully invoiced"):
        from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("50"))
    assert not Invoice.objects.filter(kind=InvoiceKind.DOWN_PAYMENT).exists()
    page = client.get(reverse("sales:order_detail", args=[order.pk])).content.decode()
    assert 'id="down-payment"' not in page
    assert 'id="invoice-order"' not in page
    assert 'id="order-invoiced"' in page
    # The form itself says why, and creates nothing.
    url = reverse("invoicing_orders:down_payment", args=[order.pk])
    response = client.get(url)
    assert response.status_code == 302
    response = client.post(url, {"rate": "50"})
    assert "fully invoiced" in response.content.decode()
    assert not Invoice.objects.filter(kind=InvoiceKind.DOWN_PAYMENT).exists()
    # The server still refuses the whole-order invoice too.
    with pytest.raises(ValidationError):
        from_orders.invoice_order(order, by=assistant)


def test_no_down_payment_once_part_of_the_order_is_invoiced(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
) -> None:
    order = make_order(customer, products, assistant)
    first_line = order.lines.get(product=products[0])
    delivery = ship(order, assistant, {first_line.pk: Decimal("4")})
    from_orders.invoice_delivery(delivery, by=assistant)  # a draft counts as invoiced
    assert from_orders.down_payment_refusal(order) is not None
    with pytest.raises(ValidationError, match="already invoiced"):
        from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("30"))
    page = client_for(assistant).get(reverse("sales:order_detail", args=[order.pk]))
    assert 'id="down-payment"' not in page.content.decode()
    assert 'id="invoice-order"' in page.content.decode()  # the rest is still to invoice


def test_a_second_down_payment_before_any_goods_invoice_is_allowed(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
) -> None:
    order = make_order(customer, products, assistant)
    from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("20"), issue=True)
    assert from_orders.down_payment_refusal(order) is None


def test_invoice_this_delivery_hidden_when_the_order_was_invoiced_before_delivery(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
) -> None:
    order = make_order(customer, products, assistant)
    from_orders.invoice_order(order, by=assistant, issue=True)
    delivery = ship(order, assistant)
    page = client_for(assistant).get(reverse("stock:delivery_detail", args=[delivery.pk]))
    html = page.content.decode()
    assert 'id="invoice-delivery"' not in html and 'id="delivery-invoiced"' in html
    with pytest.raises(ValidationError):
        from_orders.invoice_delivery(delivery, by=assistant)


def test_invoice_this_delivery_shown_while_it_is_left_to_invoice(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
) -> None:
    order = make_order(customer, products, assistant)
    delivery = ship(order, assistant)
    client = client_for(assistant)
    url = reverse("stock:delivery_detail", args=[delivery.pk])
    assert 'id="invoice-delivery"' in client.get(url).content.decode()
    from_orders.invoice_delivery(delivery, by=assistant)
    assert 'id="invoice-delivery"' not in client.get(url).content.decode()


def test_a_final_invoice_names_the_base_of_its_discount(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
) -> None:
    order = make_order(customer, products, assistant, discount_rate=Decimal("5"))
    from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("30"), issue=True)
    ship(order, assistant)
    final = from_orders.invoice_order(order, by=assistant, issue=True)
    final.refresh_from_db()
    assert final.allowance_basis_amount == Decimal("872.00")
    assert final.lines_net_amount == Decimal("872.00") - Decimal("248.52")
    assert final.discount_base_differs
    page = client_for(assistant).get(reverse("invoicing:detail", args=[final.pk])).content.decode()
    assert 'id="invoice-allowance-base"' in page and "of 872" in page
    text, _xml = _pdf_and_xml(final)
    assert "Remise globale (5 % de 872,00)" in " ".join(text.split())
    # An invoice without a deduction prints no base: it is the total of lines.
    other = from_orders.invoice_order(
        make_order(customer, products, assistant, discount_rate=Decimal("5")),
        by=assistant,
        issue=True,
    )
    assert other.allowance_amount and not other.discount_base_differs


def test_batch_screen_counts_customers_and_invoices_apart(
    company: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
) -> None:
    twice = PartyFactory(name="Client A", siren="404833048")
    once = PartyFactory(name="Client B", siren="542051180")
    ship(make_order(twice, products, assistant), assistant)
    # Another discount: a second invoice for the same customer.
    ship(make_order(twice, products, assistant, discount_rate=Decimal("5")), assistant)
    ship(make_order(once, products, assistant), assistant)
    page = client_for(assistant).get("/invoices/from-orders/run/").content.decode()
    pending = page.split('id="run-pending">')[1].split("</p>")[0]
    assert "2 customers" in pending and "3 invoices" in pending
    # Each batch says what its number counts.
    lines = len(products)
    assert f"Client B — {lines} delivered lines" in page


def test_sending_an_invoice_returns_to_it_and_ignores_a_foreign_next(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = make_order(customer, products, assistant)
    invoice = from_orders.invoice_order(order, by=assistant, issue=True)
    archive = ArchivedDocument.objects.get(reference=invoice.number)
    client = client_for(assistant)
    detail = reverse("invoicing:detail", args=[invoice.pk])
    send = reverse("sales:document_send", args=[archive.pk])
    assert f'href="{send}?next={detail}"' in client.get(detail).content.decode()
    form = client.get(f"{send}?next={detail}").content.decode()
    # It says what goes with the email, and Cancel goes back to the invoice.
    assert f"Attached: {invoice.number}.pdf (" in form
    assert f'<a class="btn btn-link" href="{detail}">' in form
    data = {"to": "compta@example.com", "subject": "Facture", "body": "Ci-joint."}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{send}?next={detail}", data)
    assert response.status_code == 302 and response.url == detail
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{send}?next=https://evil.example/", data)
    assert response.url == reverse("parties:detail", args=[customer.pk]) + "#documents"


def test_the_down_payment_form_names_its_order_and_the_draft_takes_no_other_line(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    client_for: Any,
) -> None:
    order = make_order(customer, products, assistant)
    client = client_for(assistant)
    url = reverse("invoicing_orders:down_payment", args=[order.pk])
    page = client.get(url).content.decode()
    assert order.number in page and customer.name in page
    assert format_amount(order.total_amount) in page
    assert reverse("sales:order_detail", args=[order.pk]) in page  # the Cancel link
    response = client.post(url, {"rate": "30"})
    down = Invoice.objects.get(kind=InvoiceKind.DOWN_PAYMENT)
    assert 'id="add-line"' not in client.get(response.url).content.decode()
    with pytest.raises(ValidationError, match="share of its order"):
        invoice_actions.add_invoice_line(
            down, by=assistant, label="Frais", quantity=Decimal(1), unit_price=Decimal(10)
        )
