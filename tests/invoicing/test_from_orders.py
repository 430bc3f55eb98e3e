"""Invoicing from orders: per delivery, whole order, down payment + final, batch runs."""

from __future__ import annotations

import io
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import translation
from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from comptoir.documents.actions import read_archived
from comptoir.documents.rendering import override_dir
from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import batch, from_orders, validation
from comptoir.invoicing.einvoice import RAM, build_cii
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.order_links import InvoicingRun, InvoicingRunStatus, OrderInvoiceLink
from comptoir.invoicing.selectors import archived_pdf
from comptoir.invoicing.ubl import build_ubl
from comptoir.parties.models import Address, AddressKind
from comptoir.sales import actions as sales_actions
from comptoir.stock import actions as stock_actions
from comptoir.stock.models import DeliveryLine
from comptoir.stock.printing import delivery_print_data
from tests.factories import PartyFactory, ProductFactory

pytestmark = pytest.mark.django_db
NS = {"ram": RAM}


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
    assert delivery.number in line.description and "BL BL-" not in line.description
    assert line.description.startswith(f"Commande {order.number} – votre réf. PO-9 – ")
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


def _pdf_and_xml(invoice: Any) -> tuple[str, bytes]:
    content = read_archived(archived_pdf(invoice))
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    _name, xml = get_xml_from_pdf(content, check_xsd=False)
    return text.replace("\u00a0", " "), xml


def _assert_valid(invoice: Any) -> None:
    lines = list(invoice.lines.order_by("position", "pk"))
    for syntax, xml in (("cii", build_cii(invoice, lines)), ("ubl", build_ubl(invoice, lines))):
        findings = validation.findings_for(xml, syntax=syntax)
        assert validation.fatal(findings) == [], (invoice.number, syntax, findings)


def test_down_payment_on_a_discounted_order_and_its_final_invoice(
    customer: Any, products: list[Any], assistant: Any
) -> None:
    order = make_order(customer, products, assistant, discount_rate=Decimal("5"))
    assert order.tax_basis_amount == Decimal("828.40")  # 872.00 − 5 %
    down = from_orders.create_down_payment_invoice(
        order, by=assistant, rate=Decimal("30"), issue=True
    )
    assert down.discount_rate == 0
    assert down.tax_basis_amount == Decimal("248.52")  # 30 % of the discounted 828.40
    first_line = order.lines.get(product=products[0])
    partial = ship(order, assistant, {first_line.pk: Decimal("5")})
    interim = from_orders.invoice_delivery(partial, by=assistant, issue=True)
    rest = order.deliveries.get(status="draft")
    stock_actions.ship_delivery(rest, by=assistant, produce_documents=False)
    final = from_orders.invoice_delivery(rest, by=assistant, issue=True)
    final.refresh_from_db()
    assert final.lines.filter(deducted_invoice=down).exists()
    # The discount applies to the goods (856.00), not to the deducted 248.52.
    assert final.allowance_amount == Decimal("42.80")
    assert final.tax_basis_amount == Decimal("856.00") - Decimal("42.80") - Decimal("248.52")
    group = final.vat_breakdown[0]
    assert (group["allowance_basis_amount"], group["allowance_amount"]) == ("856.00", "42.80")
    order.refresh_from_db()
    invoices = (down, interim, final)
    assert sum(i.tax_basis_amount for i in invoices) == order.tax_basis_amount
    assert sum(i.vat_amount for i in invoices) == order.vat_amount
    assert sum(i.total_amount for i in invoices) == order.total_amount
    for invoice in invoices:
        _assert_valid(invoice)
    text, xml = _pdf_and_xml(final)
    root = etree.fromstring(xml)
    allowance = root.find(
        ".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge", NS
    )
    assert allowance.findtext("ram:BasisAmount", namespaces=NS) == "856.00"
    assert allowance.findtext("ram:CalculationPercent", namespaces=NS) == "5.00"
    assert allowance.findtext("ram:ActualAmount", namespaces=NS) == "42.80"
    assert "42,80" in text


@pytest.fixture
def depot(customer: Any) -> Any:
    return Address.objects.create(
        party=customer,
        kind=AddressKind.DELIVERY,
        label="Entrepôt",
        line1="5 rue du Quai",
        line2="Quai de livraison",
        postcode="69007",
        city="Lyon",
        is_default=True,
    )


def test_the_delivery_address_goes_from_order_to_note_to_invoice(
    customer: Any, products: list[Any], assistant: Any, depot: Any, client_for: Any
) -> None:
    order = make_order(customer, products, assistant)
    assert order.delivery_address == depot
    delivery = stock_actions.create_delivery(order, by=assistant)
    assert delivery.delivery_address == depot
    assert "5 rue du Quai" in delivery_print_data(delivery)["delivery"]
    stock_actions.ship_delivery(delivery, by=assistant, produce_documents=False)
    draft = from_orders.invoice_delivery(delivery, by=assistant)
    # The draft's page shows the whole address (its second line was lost).
    page = client_for(assistant).get(f"/invoices/{draft.pk}/").content.decode()
    assert "5 rue du Quai, Quai de livraison, 69007 Lyon" in page
    invoice = invoice_actions.issue_invoice(draft, by=assistant)
    assert invoice.delivery_address == depot
    assert invoice.buyer["delivery_address"]["line1"] == "5 rue du Quai"
    _assert_valid(invoice)
    text, xml = _pdf_and_xml(invoice)
    assert "5 rue du Quai" in text and "69007 Lyon" in text
    ship_to = etree.fromstring(xml).find(".//ram:ShipToTradeParty", NS)
    assert ship_to.findtext("ram:PostalTradeAddress/ram:LineOne", namespaces=NS) == (
        "5 rue du Quai"
    )
    assert ship_to.findtext("ram:PostalTradeAddress/ram:CityName", namespaces=NS) == "Lyon"
    ubl = etree.fromstring(build_ubl(invoice, list(invoice.lines.all())))
    ubl_ns = {
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    }
    street = ubl.findtext(
        "cac:Delivery/cac:DeliveryLocation/cac:Address/cbc:StreetName", namespaces=ubl_ns
    )
    assert street == "5 rue du Quai"


def test_no_delivery_address_when_it_is_the_billing_address(
    customer: Any, products: list[Any], assistant: Any
) -> None:
    billing = customer.addresses.get(kind=AddressKind.BILLING)
    Address.objects.create(
        party=customer,
        kind=AddressKind.DELIVERY,
        line1=billing.line1,
        line2=billing.line2,
        line3=billing.line3,
        postcode=billing.postcode,
        city=billing.city,
        country=billing.country,
        is_default=True,
    )
    order = make_order(customer, products, assistant)
    invoice = from_orders.invoice_order(order, by=assistant, issue=True)
    assert invoice.delivery_address is None
    assert invoice.buyer["delivery_address"] is None
    assert b"ShipToTradeParty" not in _pdf_and_xml(invoice)[1]


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


def test_batch_run_stops_with_one_line_when_a_pdf_cannot_be_made(
    three_customers_delivered: Any,
) -> None:
    templates = override_dir()
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "invoice.typ").write_text("#let broken = (", encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command("invoices", "run", stdout=StringIO())
    message = str(raised.value)
    assert message.startswith("Invoicing stopped after 0 invoice(s): invoice.typ:")
    assert "\n" not in message and "Traceback" not in message
    # All or nothing: no invoice, not even a draft.
    assert not Invoice.objects.exists()
