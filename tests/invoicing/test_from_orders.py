"""Invoicing from orders: per delivery, whole order, down payment + final, batch runs."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import batch, from_orders
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.order_links import InvoicingRun, InvoicingRunStatus, OrderInvoiceLink
from comptoir.sales import actions as sales_actions
from comptoir.stock import actions as stock_actions
from comptoir.stock.models import DeliveryLine
from tests.factories import PartyFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_and_immediate_tasks(settings: Any) -> Any:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with translation.override("en"):
        yield


@pytest.fixture
def products(assistant: Any) -> list[Any]:
    made = [
        ProductFactory(label="Classeur", sale_price=Decimal("3.2000")),
        ProductFactory(label="Bureau", sale_price=Decimal("420.0000")),
    ]
    for product in made:
        stock_actions.record_stock_move(
            product, quantity=Decimal("100"), kind="receipt", by=assistant
        )
    return made


def make_order(party: Any, products: list[Any], by: Any, **values: Any) -> Any:
    return sales_actions.create_order(
        party=party,
        by=by,
        lines=[
            {"product": products[0], "quantity": Decimal("10")},
            {"product": products[1], "quantity": Decimal("2")},
        ],
        **values,
    )


def ship(order: Any, by: Any, quantities: dict[int, Decimal] | None = None) -> Any:
    delivery = stock_actions.create_delivery(order, by=by, quantities=quantities)
    return stock_actions.ship_delivery(delivery, by=by, produce_documents=False)


def test_invoice_per_delivery_never_twice(
    customer: Any, products: list[Any], assistant: Any
) -> None:
    order = make_order(customer, products, assistant, customer_reference="PO-9")
    first_line = order.lines.get(product=products[0])
    delivery = ship(order, assistant, {first_line.pk: Decimal("4")})
    invoice = from_orders.invoice_delivery(delivery, by=assistant, issue=True)
    assert invoice.is_issued
    assert invoice.purchase_order_reference == "PO-9"
    line = invoice.lines.get()
    assert (line.quantity, line.unit_price) == (Decimal("4.000"), Decimal("3.2000"))
    assert delivery.number in line.description
    with pytest.raises(ValidationError):
        from_orders.invoice_delivery(delivery, by=assistant)
    assert Invoice.objects.count() == 1
    # The database refuses a second link for the same delivery line, whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderInvoiceLink.objects.create(
            order=order,
            order_line=first_line,
            delivery_line=delivery.lines.get(),
            invoice_line=line,
            quantity=Decimal("1"),
        )


def test_whole_order_then_delivery_invoices_nothing_more(
    customer: Any, products: list[Any], assistant: Any
) -> None:
    order = make_order(customer, products, assistant)
    invoice = from_orders.invoice_order(order, by=assistant, issue=True)
    assert invoice.tax_basis_amount == order.tax_basis_amount
    delivery = ship(order, assistant)
    with pytest.raises(ValidationError):
        from_orders.invoice_delivery(delivery, by=assistant)
    assert batch.batches(delivery.shipped_date) == []


def test_deleting_a_draft_frees_its_quantities(
    customer: Any, products: list[Any], assistant: Any
) -> None:
    order = make_order(customer, products, assistant)
    delivery = ship(order, assistant)
    draft = from_orders.invoice_delivery(delivery, by=assistant)
    invoice_actions.delete_draft_invoice(draft, by=assistant)
    assert not OrderInvoiceLink.objects.exists()
    again = from_orders.invoice_delivery(delivery, by=assistant, issue=True)
    assert again.lines.count() == 2


def test_down_payment_then_final_invoice_deducts_it(
    customer: Any, products: list[Any], assistant: Any
) -> None:
    order = make_order(customer, products, assistant)
    down = from_orders.create_down_payment_invoice(
        order, by=assistant, rate=Decimal("30"), issue=True
    )
    assert down.kind == InvoiceKind.DOWN_PAYMENT
    assert down.tax_basis_amount == Decimal("261.60")  # 30 % of 872.00
    first_line = order.lines.get(product=products[0])
    partial = ship(order, assistant, {first_line.pk: Decimal("5")})
    interim = from_orders.invoice_delivery(partial, by=assistant, issue=True)
    assert not interim.lines.filter(deducted_invoice__isnull=False).exists()
    rest = order.deliveries.get(status="draft")
    stock_actions.ship_delivery(rest, by=assistant, produce_documents=False)
    final = from_orders.invoice_delivery(rest, by=assistant, issue=True)
    deduction = final.lines.get(deducted_invoice=down)
    assert deduction.quantity == Decimal("-1")
    order.refresh_from_db()
    total = down.total_amount + interim.total_amount + final.total_amount
    assert total == order.total_amount
    assert (
        final.tax_basis_amount
        == order.tax_basis_amount - interim.tax_basis_amount - down.tax_basis_amount
    )


def test_no_down_payment_on_a_discounted_order(
    customer: Any, products: list[Any], assistant: Any
) -> None:
    order = make_order(customer, products, assistant, discount_rate=Decimal("5"))
    with pytest.raises(ValidationError):
        from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("30"))
    assert not Invoice.objects.exists()


@pytest.fixture
def three_customers_delivered(company: Any, products: list[Any], assistant: Any) -> list[Any]:
    parties = [
        PartyFactory(name=f"Client {letter}", siren=siren)
        for letter, siren in (("A", "404833048"), ("B", "542051180"), ("C", "775670417"))
    ]
    for party in parties:
        for _ in range(2):
            ship(make_order(party, products, assistant), assistant)
    return parties


def test_batch_run_killed_half_way_then_rerun_never_invoices_twice(
    three_customers_delivered: Any, assistant: Any, monkeypatch: Any
) -> None:
    real = from_orders.invoice_delivery_lines
    calls = {"n": 0}

    def dies_after_one(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(from_orders, "invoice_delivery_lines", dies_after_one)
    with pytest.raises(KeyboardInterrupt):
        call_command("invoices", "run", stdout=StringIO())
    assert Invoice.objects.issued().count() == 1
    monkeypatch.setattr(from_orders, "invoice_delivery_lines", real)
    out = StringIO()
    call_command("invoices", "run", stdout=out)
    assert "2 invoice(s) issued" in out.getvalue()
    call_command("invoices", "run", stdout=out)
    assert Invoice.objects.issued().count() == 3
    assert set(Invoice.objects.values_list("buyer_name", flat=True)) == {
        "Client A",
        "Client B",
        "Client C",
    }
    # Each delivered line is invoiced exactly once, for its quantity.
    for line in DeliveryLine.objects.all():
        links = list(line.invoice_links.all())
        assert len(links) == 1 and links[0].quantity == line.quantity
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3]


def test_batch_dry_run_issues_nothing(three_customers_delivered: Any) -> None:
    out = StringIO()
    call_command("invoices", "run", "--dry-run", stdout=out)
    assert "3 invoice(s) would be issued" in out.getvalue()
    assert not Invoice.objects.exists()


def test_batch_from_the_screen_runs_as_a_task_with_progress(
    three_customers_delivered: Any,
    assistant: Any,
    client_for: Any,
    rep: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(assistant)
    assert "3" in client.get("/invoices/from-orders/run/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/invoices/from-orders/run/", {"until": "2099-01-01"})
    run = InvoicingRun.objects.get()
    assert response.url == f"/invoices/from-orders/run/{run.pk}/"
    assert (run.status, run.total, run.done, run.invoice_count) == (
        InvoicingRunStatus.DONE,
        3,
        3,
        3,
    )
    page = client.get(response.url, headers={"HX-Request": "true"})
    assert 'value="3"' in page.content.decode()
    assert "hx-trigger" not in page.content.decode()  # finished: polling stops
    assert client_for(rep).get("/invoices/from-orders/run/").status_code == 403
