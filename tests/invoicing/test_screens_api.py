"""Invoice screens and API: who sees what, creating, issuing, crediting, downloading."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from comptoir.catalogue.models import Product, VatRate
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from tests.invoicing.conftest import line

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_customer(customer: Party, rep: Any) -> Party:
    customer.sales_rep = rep
    customer.save()
    return customer


def test_list_is_scoped_by_role(
    rep_customer: Party,
    eu_customer: Party,
    issued_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    rep: Any,
    other_rep: Any,
    accountant: Any,
    django_assert_max_num_queries: Any,
) -> None:
    own = issued_for(rep_customer, [line("Pain", "1", "2")], produce_documents=False)
    other = issued_for(
        eu_customer,
        [line("Brot", "1", "2", {"vat_rate": Decimal("20.00"), "vat_category": "S"})],
        produce_documents=False,
    )
    page = client_for(rep).get(reverse("invoicing:list")).content.decode()
    assert own.number in page and other.number not in page
    assert other.number not in client_for(other_rep).get(reverse("invoicing:list")).content.decode()
    client = client_for(accountant)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("invoicing:list")).content.decode()
    assert own.number in page and other.number in page
    assert client_for(rep).get(reverse("invoicing:detail", args=[other.pk])).status_code == 404
    assert (
        client_for(accountant).post(reverse("invoicing:credit", args=[own.pk])).status_code == 403
    )
    csv = client_for(accountant).get(reverse("invoicing:list") + "?export=csv")
    assert own.number in b"".join(csv.streaming_content).decode("utf-8-sig")


def test_detail_shows_what_is_left_to_pay_and_links_to_schedule_and_account(
    rep_customer: Party,
    issued_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    accountant: Any,
    rep: Any,
    make_user: Callable[..., Any],
) -> None:
    from datetime import date

    from comptoir.core.roles import Role
    from comptoir.payments.actions import record_payment

    invoice = issued_for(
        rep_customer,
        [line("Pain", "10", "100")],
        issue_date=date(2026, 1, 5),
        produce_documents=False,
    )  # 1 200,00 incl. VAT
    url = reverse("invoicing:detail", args=[invoice.pk])
    schedule = reverse("payments:schedule", args=[invoice.pk])
    account = reverse("payments:account", args=[rep_customer.pk])
    page = client_for(accountant).get(url).content.decode()
    assert 'id="invoice-payment-state">Unpaid<' in page
    assert 'id="invoice-outstanding">1\u202f200,00 EUR<' in page
    record_payment(
        party=rep_customer,
        amount=Decimal("450.00"),
        method="transfer",
        date=date(2026, 2, 1),
        by=accountant,
    )
    page = client_for(accountant).get(url).content.decode()
    assert 'id="invoice-payment-state">Partially paid<' in page
    assert 'id="invoice-paid">450,00 EUR<' in page
    assert 'id="invoice-outstanding">750,00 EUR<' in page
    assert f'href="{schedule}"' in page and f'href="{account}"' in page
    # The rep sees the customer's account but may not set a payment schedule.
    page = client_for(rep).get(url).content.decode()
    assert f'href="{account}"' in page and f'href="{schedule}"' not in page
    french = client_for(make_user(Role.ACCOUNTANT, language="fr")).get(url).content.decode()
    assert "Partiellement payée" in french and "Reste à payer" in french
    assert "Relevé de compte" in french


def test_back_office_creates_adds_lines_issues_downloads_and_credits(
    customer: Party, client_for: Callable[..., Client], assistant: Any
) -> None:
    client = client_for(assistant)
    response = client.post(
        reverse("invoicing:create"),
        {
            "party": customer.pk,
            "kind": "invoice",
            "operation_category": "services",
            "discount_rate": "0",
        },
    )
    invoice = Invoice.objects.get()
    assert response.status_code == 302 and invoice.status == "draft"
    vat = VatRate.objects.filter(category="S", rate=Decimal("20.00")).first()
    assert vat is not None
    client.post(
        reverse("invoicing:line_add", args=[invoice.pk]),
        {
            "label": "Audit",
            "quantity": "2",
            "unit_price": "450",
            "discount_rate": "0",
            "vat": vat.pk,
        },
    )
    product = Product.objects.create(
        reference="CAB-01", label="Câble", sale_price=Decimal("12.5000"), vat_rate=vat
    )
    client.post(
        reverse("invoicing:line_add", args=[invoice.pk]),
        {"product": product.pk, "quantity": "4", "discount_rate": "0"},
    )
    assert invoice.lines.count() == 2
    client.post(reverse("invoicing:issue", args=[invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.number == "FA-2026-000001"
    assert invoice.total_amount == Decimal("1140.00")  # (900 + 50) × 1.2
    pdf = client.get(reverse("invoicing:download", args=[invoice.pk, "facturx"]))
    assert pdf["Content-Disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert pdf.content.startswith(b"%PDF")
    xml = client.get(reverse("invoicing:download", args=[invoice.pk, "cii"]))
    assert b"<ram:GrandTotalAmount>1140.00</ram:GrandTotalAmount>" in xml.content
    page = client.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert "1\u202f140,00" in page
    client.post(reverse("invoicing:credit", args=[invoice.pk]))
    credit_note = Invoice.objects.get(corrects=invoice)
    client.post(reverse("invoicing:issue", args=[credit_note.pk]))
    credit_note.refresh_from_db()
    assert (
        credit_note.number == "AV-2026-000001" and credit_note.total_amount == invoice.total_amount
    )


def test_partial_credit_note_from_the_screen_credits_what_is_typed_and_no_more(
    customer: Party,
    issued_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    assistant: Any,
) -> None:
    invoice = issued_for(customer, [line("Farine", "10", "18.90"), line("Sucre", "4", "2.50")])
    flour, sugar = invoice.lines.order_by("position")
    client = client_for(assistant)
    page = client.get(reverse("invoicing:credit", args=[invoice.pk])).content.decode()
    assert f'name="quantity_{flour.pk}"' in page and 'value="10"' in page
    response = client.post(
        reverse("invoicing:credit", args=[invoice.pk]),
        {f"quantity_{flour.pk}": "2,5", f"quantity_{sugar.pk}": "0"},
    )
    credit_note = Invoice.objects.get(corrects=invoice)
    assert response.status_code == 302
    assert [(cl.credited_line_id, cl.quantity) for cl in credit_note.lines.all()] == [
        (flour.pk, Decimal("2.5"))
    ]
    client.post(reverse("invoicing:issue", args=[credit_note.pk]))
    # What is left is offered next time, and more than that is refused with the reason.
    page = client.get(reverse("invoicing:credit", args=[invoice.pk])).content.decode()
    assert 'value="7,5"' in page
    response = client.post(
        reverse("invoicing:credit", args=[invoice.pk]),
        {f"quantity_{flour.pk}": "8", f"quantity_{sugar.pk}": "0"},
    )
    assert response.status_code == 200
    assert "at most" in response.content.decode()
    assert Invoice.objects.filter(corrects=invoice).count() == 1
    response = client.post(
        reverse("invoicing:credit", args=[invoice.pk]),
        {f"quantity_{flour.pk}": "deux", f"quantity_{sugar.pk}": "0"},
    )
    assert "is not a quantity" in response.content.decode()
    # Every mistake at once: a word on one line and too much on the other.
    response = client.post(
        reverse("invoicing:credit", args=[invoice.pk]),
        {f"quantity_{flour.pk}": "deux", f"quantity_{sugar.pk}": "5"},
    )
    text = response.content.decode()
    assert "Farine: deux is not a quantity" in text and "Sucre: at most 4 left to credit" in text
    assert Invoice.objects.filter(corrects=invoice).count() == 1


def test_issue_error_is_shown_and_the_draft_stays(
    customer: Party,
    draft_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    assistant: Any,
) -> None:
    draft = draft_for(customer, [])
    response = client_for(assistant).post(reverse("invoicing:issue", args=[draft.pk]), follow=True)
    with translation.override(assistant.language):
        expected = translation.gettext("An invoice needs at least one line.")
    assert escape(expected) in response.content.decode()
    draft.refresh_from_db()
    assert draft.number is None


def test_api_create_issue_credit_download(
    customer: Party, api_client_for: Callable[..., Client], assistant: Any, rep: Any
) -> None:
    client = api_client_for(assistant)
    vat = VatRate.objects.filter(category="S", rate=Decimal("10.00")).first()
    assert vat is not None
    body = {
        "party_id": customer.pk,
        "lines": [
            {"label": "Repas", "quantity": "3", "unit_price": "15.50", "vat_rate_id": vat.pk}
        ],
    }
    created = client.post(
        "/api/v1/invoices",
        json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert created.status_code == 201, created.content
    again = client.post(
        "/api/v1/invoices",
        json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert again.json()["id"] == created.json()["id"] and Invoice.objects.count() == 1
    invoice_id = created.json()["id"]
    issued = client.post(f"/api/v1/invoices/{invoice_id}/issue")
    assert issued.status_code == 200, issued.content
    assert issued.json()["number"] == "FA-2026-000001"
    assert issued.json()["total_amount"] == "51.15"
    assert client.post(f"/api/v1/invoices/{invoice_id}/issue").status_code == 422
    line_id = issued.json()["lines"][0]["id"]
    credit = client.post(
        f"/api/v1/invoices/{invoice_id}/credit-note",
        json.dumps({"lines": [{"line_id": line_id, "quantity": "1"}]}),
        content_type="application/json",
    )
    assert credit.status_code == 201 and credit.json()["kind"] == "credit_note"
    pdf = client.get(f"/api/v1/invoices/{invoice_id}/download")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    ubl = client.get(f"/api/v1/invoices/{invoice_id}/download?format=ubl")
    assert b'<cbc:PayableAmount currencyID="EUR">51.15</cbc:PayableAmount>' in ubl.content
    listing = client.get("/api/v1/invoices?status=issued").json()
    assert listing["count"] == 1
    assert api_client_for(rep).get(f"/api/v1/invoices/{invoice_id}").status_code == 404
    assert (
        api_client_for(rep)
        .post("/api/v1/invoices", json.dumps(body), content_type="application/json")
        .status_code
        == 403
    )
