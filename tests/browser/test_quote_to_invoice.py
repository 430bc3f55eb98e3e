"""Quote → the customer accepts through the link → order → partial delivery → invoice → PDF."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from pypdf import PdfReader

from comptoir.core.models import User
from comptoir.core.selectors import current_company
from comptoir.invoicing import validation
from comptoir.invoicing.models import Invoice
from comptoir.sales.models import Order, Quote
from comptoir.sales.states import OrderStatus, QuoteStatus
from comptoir.stock import actions as stock_actions
from comptoir.stock.models import Delivery
from tests.browser.conftest import log_in
from tests.factories import AddressFactory, PartyFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)
# Not /sales/quotes/new/: a pattern that matched it would not wait for the redirect.
QUOTE_PAGE = re.compile(r"/sales/quotes/\d+/$")


@pytest.fixture(autouse=True)
def _archive_in_tmp(settings: Any, tmp_path: Path) -> Any:
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    settings.DATA_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield
    validation.shutdown()


def seller() -> None:
    company = current_company()
    for name, value in {
        "legal_name": "Comptoir Démo SAS",
        "legal_form": "SAS",
        "share_capital_amount": Decimal("10000.00"),
        "siren": "732829320",
        "siret": "73282932000074",
        "rcs_city": "Lyon",
        "vat_number": "FR44732829320",
        "address_line1": "12 rue de la République",
        "postcode": "69002",
        "city": "Lyon",
    }.items():
        setattr(company, name, value)
    company.save()


def test_quote_accepted_online_becomes_an_invoice_whose_pdf_downloads(
    page: Any, browser: Any, live_server: Any, assistant: User, tmp_path: Path
) -> None:
    seller()
    customer = PartyFactory(name="Boulangerie Martin SARL", email="achats@martin.example")
    AddressFactory(party=customer, is_default=True)
    product = ProductFactory(label="Ramette A4", sale_price=Decimal("4.9000"))
    stock_actions.record_stock_move(product, quantity=Decimal("100"), kind="receipt", by=assistant)
    # Confirmation dialogs are accepted unless a step says otherwise; their texts are kept.
    dialogs: list[str] = []
    agree = {"value": True}

    def answer(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept() if agree["value"] else dialog.dismiss()

    page.on("dialog", answer)

    # The assistant writes and sends the quote.
    log_in(page, assistant.username)
    page.goto("/sales/quotes/new/")
    page.select_option("#id_party", str(customer.pk))
    page.click("#save")
    page.wait_for_url(QUOTE_PAGE)
    page.click("#add-line")
    page.select_option("#id_product", str(product.pk))
    page.fill("#id_quantity", "10")
    page.click("#save")
    page.wait_for_url(QUOTE_PAGE)
    assert "49,00" in page.locator("#lines").inner_text()
    page.click("#send")
    page.click("#save")
    page.wait_for_url(QUOTE_PAGE)
    link = page.locator("#acceptance-link").input_value()
    quote = Quote.objects.get()
    assert quote.status == QuoteStatus.SENT

    # The customer, not logged in, reads it and accepts ("bon pour accord").
    customer_context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    customer_page = customer_context.new_page()
    customer_page.goto(urlparse(link).path)
    customer_page.fill("#id_name", "Jean Martin")
    customer_page.click("#accept")
    customer_page.locator("#answer-recorded").wait_for()
    customer_context.close()
    quote.refresh_from_db()
    assert (quote.status, quote.accepted_by_name) == (QuoteStatus.ACCEPTED, "Jean Martin")
    assert quote.answer_ip == "127.0.0.1"

    # Back office: order, then a partial delivery of 6 out of 10.
    page.reload()
    page.fill("#id_customer_reference", "PO-4242")
    page.click("#make-order")
    page.wait_for_url(re.compile(r"/sales/orders/\d+/$"))
    order = Order.objects.get()
    assert order.customer_reference == "PO-4242"
    page.click("#deliver")
    line = order.lines.get()
    page.fill(f"#id_line_{line.pk}", "6")
    page.click("#save")
    page.wait_for_url(re.compile(r"/stock/deliveries/\d+/$"))
    page.click("#ship")
    page.locator("#delivery-status").wait_for()
    page.wait_for_function("document.querySelector('.backorder') !== null")
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_DELIVERED
    assert Delivery.objects.filter(status="draft").get().lines.get().quantity == Decimal("4")

    # Invoice that delivery, issue it, download the Factur-X PDF.
    page.click("#invoice-delivery")
    page.wait_for_url(re.compile(r"/invoices/\d+/$"))
    # Issuing asks first: declined, the invoice stays a draft.
    agree["value"] = False
    page.click("#issue")
    assert dialogs and "can no longer change" in dialogs[-1]
    assert not Invoice.objects.get().is_issued
    agree["value"] = True
    page.click("#issue")
    page.locator("#download-pdf").wait_for()
    invoice = Invoice.objects.get()
    assert invoice.is_issued and invoice.lines.get().quantity == Decimal("6")
    with page.expect_download() as download_info:
        page.click("#download-pdf")
    download = download_info.value
    assert download.suggested_filename == f"{invoice.number}.pdf"
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert "factur-x.xml" in PdfReader(BytesIO(content)).attachments
