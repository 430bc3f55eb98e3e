"""The demo's payments builder: on-time and late payers, offsets, SEPA, a statement to match."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from comptoir.demo.builder import DemoReport, Generator
from comptoir.demo.payments_builder import build_payments
from comptoir.dunning.models import PartyDunning
from comptoir.invoicing import actions as invoicing
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments.models import (
    InvoiceSettlement,
    Payment,
    SepaMandate,
    StatementLine,
)

pytestmark = pytest.mark.django_db


def test_nothing_happens_without_invoices(accountant: Any, assistant: Any, company: Any) -> None:
    report = DemoReport()
    build_payments(Generator(1), {"nathalie": accountant, "sophie": assistant}, report)
    assert report.counts == {} and not Payment.objects.exists()


def test_the_demo_gets_payments_late_payers_and_a_statement(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    accountant: Any,
    assistant: Any,
) -> None:
    today = timezone.localdate()
    good = make_customer("Bon Payeur SARL")
    late = [
        make_customer("Retard Un", notes="Payeur en retard : relancer"),
        make_customer("Retard Deux", notes="Payeur en retard : relancer"),
    ]
    start = today - timedelta(days=200)
    invoices = []
    for n in range(6):
        day = start + timedelta(days=n * 30)
        invoices.append(issue(good, "100.00", day))
        invoices.append(issue(late[n % 2], "200.00", day))
    disputed = invoices[0]
    note = invoicing.create_credit_note(disputed, by=assistant)
    invoicing.issue_invoice(
        note, by=assistant, issue_date=invoices[-1].issue_date, produce_documents=False
    )
    report = DemoReport()
    build_payments(Generator(3), {"nathalie": accountant, "sophie": assistant}, report)
    states = dict(InvoiceSettlement.objects.values_list("invoice_id", "state"))
    assert states[disputed.pk] == "paid" and states[note.pk] == "paid"  # offset
    late_open = InvoiceSettlement.objects.filter(
        party__in=late, open_amount__gt=0, due_date__lt=today - timedelta(days=15)
    )
    assert late_open.exists()  # late payers leave overdue invoices for dunning
    assert report.counts["payments"] == Payment.objects.count() > 0
    assert SepaMandate.objects.count() == 3
    assert PartyDunning.objects.filter(disputed=True).count() == 1
    assert PartyDunning.objects.exclude(promise_until=None).count() == 1
    lines = StatementLine.objects.count()
    assert lines == report.counts["bank lines to match"]
    assert Payment.objects.filter(amount__lte=Decimal(0)).count() == 0
