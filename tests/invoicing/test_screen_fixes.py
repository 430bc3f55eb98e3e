"""Invoice pages and PDFs as a user reads them (issue 3 audit): sending, provisional totals,
French figures, gendered statuses, VAT on debits, the footer, refusals and export errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from comptoir.core.roles import Role
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing import actions
from comptoir.invoicing.einvoice import build_cii
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.order_views import DownPaymentForm
from comptoir.invoicing.printing import footer_text, invoice_print_data
from comptoir.parties.models import Party
from tests.invoicing.conftest import EXEMPT, REDUCED_10, line

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"  # the screens' thousands separator


def test_an_issued_invoice_is_sent_from_its_own_page_by_those_who_may_send(
    customer: Party,
    issued_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    assistant: Any,
    accountant: Any,
) -> None:
    invoice = issued_for(customer, [line("Pain", "1", "2")])
    archive = ArchivedDocument.objects.get(reference=invoice.number)
    send = reverse("sales:document_send", args=[archive.pk])
    url = reverse("invoicing:detail", args=[invoice.pk])
    page = client_for(assistant).get(url).content.decode()
    assert f'href="{send}?next={url}" id="send"' in page
    assert client_for(assistant).get(send).status_code == 200
    # The accountant reads invoices but does not send documents.
    assert 'id="send"' not in client_for(accountant).get(url).content.decode()


def test_a_draft_shows_provisional_totals_equal_to_the_issued_ones(
    customer: Party,
    draft_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    assistant: Any,
) -> None:
    draft = draft_for(
        customer,
        [line("Farine", "3", "1234.5678"), line("Repas", "2", "14.155", REDUCED_10)],
        discount_rate=Decimal("7.5"),
    )
    client = client_for(assistant)
    page = client.get(reverse("invoicing:detail", args=[draft.pk])).content.decode()
    assert 'id="invoice-totals-provisional"' in page
    title = page.split('id="invoice-title">')[1].split("<")[0]
    assert title == str(draft) and title.count("Invoice") == 1
    issued = actions.issue_invoice(draft, by=assistant, produce_documents=False)
    total = f"{issued.total_amount:,.2f}".replace(",", NNBSP).replace(".", ",")
    assert f'id="invoice-total">{total} EUR<' in page
    page = client.get(reverse("invoicing:detail", args=[issued.pk])).content.decode()
    assert f'id="invoice-total">{total} EUR<' in page
    assert 'id="invoice-totals-provisional"' not in page
    assert page.split('id="invoice-title">')[1].startswith(f"Invoice {issued.number}<")


def test_discount_amount_and_vat_read_french_without_category_codes(
    customer: Party,
    issued_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    make_user: Callable[..., Any],
) -> None:
    invoice = issued_for(
        customer,
        [line("Bureau", "10", "576.07"), line("Formation", "1", "650", EXEMPT)],
        discount_rate=Decimal("7.5"),
    )
    # 5 760,70 − 432,05 = 5 328,65; VAT 20 % 1 065,73
    assert invoice.allowance_amount == Decimal("480.80")  # 432.05 + 48.75
    french = client_for(make_user(Role.SALES_ASSISTANT, language="fr"))
    page = french.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert 'id="invoice-allowance">−480,80<' in page
    assert "7,50\u00a0% (480,80 EUR)" in page
    assert f'TVA 20\u00a0%</td><td class="text-end">1{NNBSP}065,73<' in page
    assert "0\u00a0% – Exonération de TVA, article 261 du CGI" in page
    assert "S 20" not in page and "E 0" not in page
    data = invoice_print_data(invoice, list(invoice.lines.order_by("position")))
    assert [g["label"] for g in data["vat_groups"]] == [
        "20\u00a0%",
        "0\u00a0% – Exonération de TVA, article 261 du CGI",
    ]


def test_vat_on_debits_is_mentioned_on_services_only_in_pdf_and_cii(
    customer: Party, issued_for: Callable[..., Invoice], company: Any
) -> None:
    company.vat_on_debits = True
    company.save()
    for category, expected in (("goods", False), ("services", True), ("mixed", True)):
        invoice = issued_for(
            customer,
            [line("Chose", "1", "10")],
            operation_category=category,
            produce_documents=False,
        )
        lines = list(invoice.lines.all())
        xml = build_cii(invoice, lines).decode()
        assert invoice.vat_on_debits is expected
        assert invoice_print_data(invoice, lines)["vat_on_debits"] is expected
        assert ("d'après les débits" in xml) is expected
        assert ("<ram:DueDateTypeCode>5<" in xml) is expected


def test_the_footer_does_not_repeat_the_legal_line() -> None:
    seller = {
        "name": "Bureau & Cie",
        "siren": "552100554",
        "siret": "55210055400024",
        "vat_number": "FR40552100554",
        "footer": "Bureau & Cie — SAS au capital de 150 000 € — RCS Lyon 552 100 554",
    }
    assert footer_text(seller) == ""
    seller["footer"] = "Bureau & Cie — Membre d'une association agréée — RCS Lyon 552 100 554"
    assert footer_text(seller) == "Membre d'une association agréée"
    assert footer_text({"footer": ""}) == ""


def test_the_down_payment_deduction_reads_a_french_date(
    customer: Party,
    issued_for: Callable[..., Invoice],
    draft_for: Callable[..., Invoice],
    assistant: Any,
) -> None:
    down_payment = issued_for(
        customer,
        [line("Acompte", "1", "300")],
        kind=InvoiceKind.DOWN_PAYMENT,
        issue_date=date(2026, 11, 26),
        produce_documents=False,
    )
    final = draft_for(customer, [line("Bureau", "1", "1000")])
    with translation.override("fr"):
        (deduction,) = actions.deduct_down_payment(final, down_payment=down_payment, by=assistant)
    assert deduction.label == f"Facture d'acompte {down_payment.number} du 26/11/2026"


def test_a_credit_note_is_issued_masculine_with_an_amount_to_refund_and_full_prices(
    customer: Party,
    issued_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    make_user: Callable[..., Any],
    assistant: Any,
) -> None:
    invoice = issued_for(customer, [line("Repas", "2", "14.155")], produce_documents=False)
    french = client_for(make_user(Role.SALES_ASSISTANT, language="fr"))
    form = french.get(reverse("invoicing:credit", args=[invoice.pk])).content.decode()
    assert ">14,155<" in form
    credit_note = actions.create_credit_note(invoice, by=assistant)
    credit_note = actions.issue_invoice(credit_note, by=assistant, produce_documents=False)
    page = french.get(reverse("invoicing:detail", args=[credit_note.pk])).content.decode()
    assert 'id="invoice-status">Émis<' in page
    # Issued, it was set against its invoice: the page says so, and what is left to refund.
    assert 'id="invoice-due-label">Montant de l&#x27;avoir<' in page and "Net à payer" not in page
    assert 'id="invoice-outstanding">0,00 EUR<' in page
    page = french.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert 'id="invoice-status">Émise<' in page
    assert f"{credit_note.number}</a> (Émis)" in page


def test_an_issued_invoice_refuses_the_line_form(
    customer: Party,
    issued_for: Callable[..., Invoice],
    client_for: Callable[..., Client],
    assistant: Any,
) -> None:
    invoice = issued_for(customer, [line("Pain", "1", "2")], produce_documents=False)
    client = client_for(assistant)
    url = reverse("invoicing:line_add", args=[invoice.pk])
    detail = reverse("invoicing:detail", args=[invoice.pk])
    for response in (
        client.get(url),
        client.post(url, {"label": "X", "quantity": "1", "unit_price": "1", "discount_rate": "0"}),
    ):
        assert response.status_code == 302 and response["Location"] == detail
        assert any("can no longer change" in str(m) for m in get_messages(response.wsgi_request))
    assert invoice.lines.count() == 1


def test_export_says_in_one_line_what_is_wrong(
    customer: Party, issued_for: Callable[..., Invoice], tmp_path: Path
) -> None:
    invoice = issued_for(customer, [line("Pain", "1", "2")], produce_documents=False)
    a_file = tmp_path / "file"
    a_file.write_text("")
    with pytest.raises(CommandError, match="Cannot write into .*file/x"):
        call_command(
            "invoices", "export", "--format", "cii", "--out", str(a_file / "x"),
            "--number", invoice.number,
        )  # fmt: skip
    with pytest.raises(CommandError, match="expected YYYY-MM-DD"):
        call_command(
            "invoices", "export", "--format", "cii", "--out", str(tmp_path), "--since", "26/11/2026"
        )
    with pytest.raises(CommandError, match="expected YYYY-MM-DD"):
        call_command("invoices", "run", "--until", "demain")


def test_the_down_payment_form_label_follows_the_language() -> None:
    with translation.override("en"):
        assert str(DownPaymentForm().fields["rate"].label) == "Down payment (% of the order)"
    with translation.override("fr"):
        assert str(DownPaymentForm().fields["rate"].label) == "Acompte (% de la commande)"


def test_printed_documents_show_the_sellers_phone_the_french_way(
    customer: Party, issued_for: Callable[..., Invoice], company: Any
) -> None:
    from comptoir.sales.printing import seller_data

    company.phone = "+33478123456"
    company.email = "contact@bureau-cie.fr"
    company.save()
    invoice = issued_for(customer, [line("Chose", "1", "10")], produce_documents=False)
    data = invoice_print_data(invoice, list(invoice.lines.all()))
    assert data["seller"]["contact"] == "04 78 12 34 56 – contact@bureau-cie.fr"
    assert seller_data()["contact"] == "04 78 12 34 56 – contact@bureau-cie.fr"
