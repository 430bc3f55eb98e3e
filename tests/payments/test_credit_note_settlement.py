"""Credit notes set against invoices read apart from the money received (issue 3, 2nd audit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comptoir.invoicing import actions as invoicing
from comptoir.invoicing.models import Invoice
from comptoir.invoicing.printing import invoice_print_data
from comptoir.parties.models import Party
from comptoir.payments import selectors
from comptoir.payments.actions import record_payment

pytestmark = pytest.mark.django_db


def _credit(invoice: Invoice, by: Any, share: str | None = None) -> Invoice:
    """Issue a credit note on `invoice`: whole, or `share` of its single line."""
    lines = None if share is None else [(invoice.lines.get(), Decimal(share))]
    note = invoicing.create_credit_note(invoice, by=by, lines=lines)
    return invoicing.issue_invoice(
        note, by=by, issue_date=invoice.issue_date, produce_documents=False
    )


def _page(client: Client, invoice: Invoice) -> str:
    return client.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()


def test_a_partial_credit_note_is_no_payment_on_the_invoice_page(
    customer: Party,
    issue: Callable[..., Invoice],
    assistant: Any,
    client_for: Callable[..., Client],
) -> None:
    invoice = issue(customer, "100.00", timezone.localdate())
    note = _credit(invoice, assistant, "0.25")
    page = _page(client_for(assistant), invoice)
    assert 'id="invoice-payment-state">Partially credited<' in page
    assert 'id="invoice-paid">0,00 EUR<' in page  # nothing was paid
    assert 'id="invoice-credited">30,00 EUR<' in page
    assert f'href="{reverse("invoicing:detail", args=[note.pk])}">{note.number}</a>' in page
    assert 'id="invoice-outstanding">90,00 EUR<' in page
    # The history says a credit note was issued, with its link.
    assert f"Credit note {note.number} issued" in page
    # Once money comes in, it is partially paid.
    record_payment(
        party=customer,
        amount=Decimal("40"),
        method="card",
        date=timezone.localdate(),
        by=assistant,
        invoices=[invoice],
    )
    page = _page(client_for(assistant), invoice)
    assert 'id="invoice-payment-state">Partially paid<' in page
    assert 'id="invoice-paid">40,00 EUR<' in page
    assert 'id="invoice-outstanding">50,00 EUR<' in page


def test_a_credit_note_page_says_where_it_was_set_and_what_is_left_to_refund(
    customer: Party,
    issue: Callable[..., Invoice],
    assistant: Any,
    client_for: Callable[..., Client],
) -> None:
    invoice = issue(customer, "100.00", timezone.localdate())
    note = _credit(invoice, assistant, "0.25")
    page = _page(client_for(assistant), note)
    assert f"Set against {invoice.number}" in page
    assert "30,00 EUR" in page
    assert 'id="invoice-outstanding">0,00 EUR<' in page
    assert 'id="invoice-due-label">Credit note amount<' in page
    assert "Amount to refund" not in page


def test_a_fully_credited_invoice_reads_cancelled_and_its_credit_form_redirects(
    customer: Party,
    issue: Callable[..., Invoice],
    assistant: Any,
    client_for: Callable[..., Client],
) -> None:
    invoice = issue(customer, "100.00", timezone.localdate())
    _credit(invoice, assistant)
    client = client_for(assistant)
    page = _page(client, invoice)
    assert 'id="invoice-payment-state">Cancelled by credit note<' in page
    response = client.get(reverse("invoicing:credit", args=[invoice.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("invoicing:detail", args=[invoice.pk])
    assert "Nothing left to credit" in response.content.decode()
    response = client.post(reverse("invoicing:credit", args=[invoice.pk]))
    assert response.status_code == 302
    assert Invoice.objects.filter(corrects=invoice).count() == 1


def test_the_invoice_list_filters_by_payment_state(
    customer: Party,
    issue: Callable[..., Invoice],
    assistant: Any,
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    today = timezone.localdate()
    late = issue(customer, "101.00", today - timedelta(days=90))
    unpaid = issue(customer, "100.00", today)
    credited = issue(customer, "102.00", today)
    _credit(credited, assistant, "0.5")
    paid = issue(customer, "103.00", today)
    record_payment(
        party=customer,
        amount=paid.total_amount,
        method="card",
        date=today,
        by=accountant,
        invoices=[paid],
    )
    client = client_for(accountant)

    def listed(value: str) -> set[str]:
        page = client.get(reverse("invoicing:list"), {"payment": value}).content.decode()
        return {i.number for i in (unpaid, late, credited, paid) if i.number in page}

    assert listed("due") == {unpaid.number, late.number, credited.number}
    assert listed("overdue") == {late.number}
    assert listed("paid") == {paid.number}
    assert listed("partially_paid") == set()
    assert listed("credited") == {credited.number}


def test_same_day_statement_lists_the_invoice_before_its_credit_note(
    customer: Party, issue: Callable[..., Invoice], assistant: Any
) -> None:
    today = timezone.localdate()
    invoice = issue(customer, "100.00", today)
    _credit(invoice, assistant, "0.5")
    record_payment(party=customer, amount=Decimal("60"), method="card", date=today, by=assistant)
    statement = selectors.statement_of_account(
        customer, start=today - timedelta(days=30), end=today
    )
    labels = [m["label"] for m in statement["movements"]]
    assert labels[0].startswith("Invoice") and labels[1].startswith("Credit note")
    assert labels[2].startswith("Payment")
    assert all(m["balance"] >= 0 for m in statement["movements"])


def test_a_credit_note_prints_no_payment_mentions(
    customer: Party, issue: Callable[..., Invoice], assistant: Any
) -> None:
    invoice = issue(customer, "100.00", timezone.localdate())
    note = _credit(invoice, assistant, "0.5")
    printed = invoice_print_data(note, list(note.lines.all()))
    assert printed["mentions"] == {"discount": "", "late_penalty": "", "recovery": ""}
    printed = invoice_print_data(invoice, list(invoice.lines.all()))
    assert printed["mentions"]["discount"].startswith("Pas d'escompte")
    assert printed["mentions"]["recovery"]


def test_the_account_tells_credit_notes_from_payments_on_open_invoices(
    customer: Party,
    issue: Callable[..., Invoice],
    assistant: Any,
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    invoice = issue(customer, "100.00", timezone.localdate())
    _credit(invoice, assistant, "0.25")
    url = reverse("payments:account", args=[customer.pk])
    page = client_for(accountant).get(url).content.decode()
    row = page.split(f">{invoice.number}</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Partially credited</td>" in row and "Partially paid" not in row
    assert '<td class="text-end">0,00</td><td class="text-end">30,00</td>' in row
