"""Payment screens: who sees what, recording a payment, the account and aged balance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments.models import InvoiceSettlement, Payment

pytestmark = pytest.mark.django_db


def test_every_page_renders_for_the_accountant(
    customer: Party,
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    invoice = issue(customer, "100.00", date(2026, 1, 5))
    client = client_for(accountant)
    for url in [
        reverse("home"),
        reverse("payments:list"),
        reverse("payments:create"),
        reverse("payments:aged_balance"),
        reverse("payments:account", args=[customer.pk]),
        reverse("payments:schedule", args=[invoice.pk]),
        reverse("payments:statements"),
        reverse("payments:unmatched"),
        reverse("payments:sepa"),
        reverse("dunning:runs"),
        reverse("dunning:calls"),
        reverse("dunning:policies"),
        reverse("dunning:party", args=[customer.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url


def test_home_tiles_show_overdue_amount_and_dso(
    customer: Party, issue: Callable[..., Invoice], manager: Any, client_for: Callable[..., Client]
) -> None:
    issue(customer, "100.00", date(2025, 1, 5))
    page = client_for(manager).get(reverse("home")).content.decode()
    assert "Overdue amount" in page
    assert "120,00" in page
    assert "DSO (last 90 days)" in page
    assert "Worst late payers" in page
    assert "Boulangerie Martin SARL" in page


def test_dso_tile_writes_days_the_french_way(
    customer: Party, issue: Callable[..., Invoice], manager: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone, translation

    from comptoir.payments.selectors import dso_tile

    issue(customer, "100.00", timezone.localdate() - timedelta(days=10))
    with translation.override("fr"):
        tile = dso_tile(manager)
    assert tile is not None
    assert tile["value"].endswith(" jours")
    assert "," in tile["value"] and "." not in tile["value"]


def test_recording_a_payment_from_the_form_settles_the_chosen_invoice(
    customer: Party,
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    first = issue(customer, "100.00", date(2026, 1, 5))
    second = issue(customer, "50.00", date(2026, 1, 6))
    response = client_for(accountant).post(
        reverse("payments:create"),
        {
            "party": customer.pk,
            "date": "2026-02-01",
            "method": "cheque",
            "amount": "70.00",
            "reference": "CHQ 1234567",
            "invoices": [second.pk],
        },
    )
    assert response.status_code == 302
    assert InvoiceSettlement.objects.get(invoice=second).state == "paid"
    assert InvoiceSettlement.objects.get(invoice=first).state == "issued"
    assert Payment.objects.get().unallocated_amount == Decimal("10.00")


def test_a_sales_rep_sees_only_their_customers_accounts_and_cannot_record(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    rep: Any,
    client_for: Callable[..., Client],
) -> None:
    own = make_customer("Mine SARL", sales_rep=rep)
    other = make_customer("Not Mine SARL")
    issue(own, "10.00", date(2026, 1, 5))
    issue(other, "20.00", date(2026, 1, 5))
    client = client_for(rep)
    assert client.get(reverse("payments:account", args=[own.pk])).status_code == 200
    assert client.get(reverse("payments:account", args=[other.pk])).status_code == 404
    assert client.get(reverse("payments:create")).status_code == 403
    assert client.get(reverse("payments:statements")).status_code == 403
    aged = client.get(reverse("payments:aged_balance")).content.decode()
    assert "Mine SARL" in aged and "Not Mine SARL" not in aged


def test_statement_of_account_pdf_is_archived_and_downloaded(
    customer: Party,
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    from comptoir.documents.models import ArchivedDocument
    from comptoir.payments.actions import record_payment

    issue(customer, "100.00", date(2026, 1, 5))
    record_payment(
        party=customer, amount=Decimal("30"), method="card", date=date(2026, 1, 20), by=accountant
    )
    response = client_for(accountant).get(
        reverse("payments:statement_pdf", args=[customer.pk]) + "?start=2026-01-01&end=2026-03-31"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    document = ArchivedDocument.objects.get(kind="statement_of_account_pdf")
    assert document.object_id == str(customer.pk)


def test_lists_do_not_query_per_row(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    from comptoir.payments.actions import record_payment

    for n in range(8):
        party = make_customer()
        issue(party, "10.00", date(2026, 1, 5 + n))
        record_payment(
            party=party, amount=Decimal("5"), method="cash", date=date(2026, 2, 1), by=accountant
        )
    client = client_for(accountant)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("payments:list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("payments:aged_balance")).status_code == 200


def test_a_fully_credited_invoice_reads_cancelled_and_offers_no_more_credit_note(
    customer: Party, issue: Callable[..., Invoice], assistant: Any, client_for: Any
) -> None:
    from comptoir.invoicing import actions as invoicing

    invoice = issue(customer, "100.00", date(2026, 1, 5))
    line = invoice.lines.get()
    client = client_for(assistant)
    for quantity in (Decimal("0.5"), Decimal("0.5")):
        page = client.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
        assert 'id="credit"' in page  # something is left to credit
        invoicing.issue_invoice(
            invoicing.create_credit_note(invoice, by=assistant, lines=[(line, quantity)]),
            by=assistant,
            produce_documents=False,
        )
    page = client.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert 'id="credit"' not in page
    assert "Cancelled by credit note" in page and "Unpaid" not in page
    assert 'id="invoice-outstanding">0,00 EUR' in page
