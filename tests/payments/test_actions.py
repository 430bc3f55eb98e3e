"""Payment actions: partial payments, credit, refunds, offsets, schedules, settlement state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from comptoir.core.audit import history_for
from comptoir.invoicing import actions as invoicing
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments import actions, selectors
from comptoir.payments.models import Allocation, InvoiceSettlement, Payment

pytestmark = pytest.mark.django_db


def state(invoice: Invoice) -> tuple[str, Decimal]:
    settlement = InvoiceSettlement.objects.get(invoice=invoice)
    return settlement.state, settlement.open_amount


def test_partial_then_full_payment_moves_issued_partial_paid(
    customer: Party, issue: Callable[..., Invoice], accountant: Any
) -> None:
    invoice = issue(customer, "100.00", date(2026, 1, 5))
    assert state(invoice) == ("issued", Decimal("120.00"))
    actions.record_payment(
        party=customer,
        amount=Decimal("20.00"),
        method="cheque",
        date=date(2026, 2, 1),
        by=accountant,
    )
    assert state(invoice) == ("partially_paid", Decimal("100.00"))
    actions.record_payment(
        party=customer,
        amount=Decimal("100.00"),
        method="transfer",
        date=date(2026, 2, 9),
        by=accountant,
    )
    assert state(invoice) == ("paid", Decimal("0.00"))
    assert InvoiceSettlement.objects.get(invoice=invoice).last_payment_date == date(2026, 2, 9)
    assert "record_payment" in [e.action for e in history_for(customer)]
    invoice.refresh_from_db()
    assert invoice.status == "issued"  # the invoice itself never changed


def test_one_payment_over_several_invoices_keeps_the_overpayment_as_credit(
    customer: Party, issue: Callable[..., Invoice], accountant: Any
) -> None:
    old = issue(customer, "100.00", date(2026, 1, 5))
    new = issue(customer, "50.00", date(2026, 1, 20))
    payment = actions.record_payment(
        party=customer,
        amount=Decimal("200.00"),
        method="transfer",
        date=date(2026, 2, 1),
        by=accountant,
    )
    assert state(old)[0] == state(new)[0] == "paid"
    assert payment.unallocated_amount == Decimal("20.00")
    assert selectors.customer_credit(customer) == Decimal("20.00")
    assert selectors.customer_balance(customer) == Decimal("-20.00")
    later = issue(customer, "10.00", date(2026, 3, 1))
    used = actions.allocate_credit(customer, invoice=later, by=accountant)
    assert used == Decimal("12.00") and state(later)[0] == "paid"
    assert selectors.customer_credit(customer) == Decimal("8.00")


def test_explicit_allocations_are_checked(
    make_customer: Callable[..., Party], issue: Callable[..., Invoice], accountant: Any
) -> None:
    mine = make_customer()
    other = make_customer()
    invoice = issue(mine, "100.00", date(2026, 1, 5))
    foreign = issue(other, "100.00", date(2026, 1, 5))
    with pytest.raises(ValidationError, match="only 120.00"):
        actions.record_payment(
            party=mine,
            amount=Decimal("500"),
            method="cash",
            date=date(2026, 2, 1),
            allocations=[(invoice, Decimal("121.00"))],
            by=accountant,
        )
    with pytest.raises(ValidationError, match="not an invoice of"):
        actions.record_payment(
            party=mine,
            amount=Decimal("10"),
            method="cash",
            date=date(2026, 2, 1),
            allocations=[(foreign, Decimal("10"))],
            by=accountant,
        )
    with pytest.raises(ValidationError, match="exceed"):
        actions.record_payment(
            party=mine,
            amount=Decimal("10"),
            method="cash",
            date=date(2026, 2, 1),
            allocations=[(invoice, Decimal("11"))],
            by=accountant,
        )
    assert not Payment.objects.exists() and not Allocation.objects.exists()


def test_credit_note_is_refunded_or_offset(
    customer: Party, issue: Callable[..., Invoice], accountant: Any, assistant: Any
) -> None:
    invoice = issue(customer, "100.00", date(2026, 1, 5))
    second = issue(customer, "100.00", date(2026, 1, 6))
    actions.record_payment(
        party=customer,
        amount=Decimal("100.00"),
        method="cheque",
        date=date(2026, 1, 8),
        allocations=[(invoice, Decimal("100.00"))],
        by=accountant,
    )
    note = invoicing.issue_invoice(
        invoicing.create_credit_note(invoice, by=assistant),
        by=assistant,
        issue_date=date(2026, 1, 10),
        produce_documents=False,
    )
    # Issuing it settled what the corrected invoice still owed; the rest is credit.
    assert state(invoice) == ("paid", Decimal("0.00"))
    assert state(note) == ("partially_paid", Decimal("100.00"))
    actions.offset_credit_note(note, invoice=second, amount=Decimal("80.00"), by=accountant)
    assert state(second) == ("partially_paid", Decimal("40.00"))
    assert state(note) == ("partially_paid", Decimal("20.00"))
    refund = actions.refund_credit_note(
        note, amount=Decimal("20.00"), method="transfer", date=date(2026, 1, 15), by=accountant
    )
    assert refund.direction == "refund" and state(note) == ("paid", Decimal("0.00"))
    with pytest.raises(ValidationError):
        actions.refund_credit_note(
            second, amount=Decimal("1"), method="transfer", date=date(2026, 1, 15), by=accountant
        )
    account = selectors.statement_of_account(
        customer, start=date(2026, 1, 1), end=date(2026, 1, 31)
    )
    assert account["opening"] == Decimal("0")
    # 120 + 120 − 100 (cheque) − 120 (credit note) + 20 (refund paid out)
    assert account["closing"] == Decimal("40.00")
    assert selectors.customer_balance(customer) == Decimal("40.00")


def test_credit_notes_settle_the_invoice_they_correct_as_they_are_issued(
    customer: Party, issue: Callable[..., Invoice], assistant: Any
) -> None:
    from comptoir.dunning import actions as dunning
    from comptoir.dunning.models import DunningMessage

    invoice = issue(customer, "100.00", date(2026, 1, 5))  # 120,00 incl. VAT
    other = issue(customer, "50.00", date(2026, 1, 6))  # 60,00, still due
    line = invoice.lines.get()
    notes = []
    for quantity in (Decimal("0.4"), Decimal("0.6")):
        draft = invoicing.create_credit_note(invoice, by=assistant, lines=[(line, quantity)])
        notes.append(
            invoicing.issue_invoice(
                draft, by=assistant, issue_date=date(2026, 1, 9), produce_documents=False
            )
        )
    assert state(invoice) == ("paid", Decimal("0.00"))
    assert [state(note) for note in notes] == [("paid", Decimal("0.00"))] * 2
    offsets = Allocation.objects.filter(invoice=invoice).order_by("pk")
    assert [(a.credit_note_id, a.amount, a.date) for a in offsets] == [
        (notes[0].pk, Decimal("48.00"), date(2026, 1, 9)),
        (notes[1].pk, Decimal("72.00"), date(2026, 1, 9)),
    ]
    # Once only: running the hook again writes nothing.
    assert actions.offset_corrected_invoice(notes[1], by=assistant) is None
    assert Allocation.objects.filter(invoice=invoice).count() == 2
    assert invoicing.quantities_left_to_credit(invoice)[0][1] == 0
    assert [s.invoice_id for s in selectors.open_settlements(customer)] == [other.pk]
    dunning.run_dunning(date(2026, 3, 20), by=assistant, deliver=False)
    (message,) = DunningMessage.objects.filter(party=customer)
    assert [item["number"] for item in message.items] == [other.number]


def test_a_failed_offset_leaves_the_credit_note_unissued(
    customer: Party, issue: Callable[..., Invoice], assistant: Any, monkeypatch: Any
) -> None:
    invoice = issue(customer, "100.00", date(2026, 1, 5))
    draft = invoicing.create_credit_note(invoice, by=assistant)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ValidationError("offset failed")

    monkeypatch.setattr(actions, "offset_credit_note", broken)
    with pytest.raises(ValidationError):
        invoicing.issue_invoice(draft, by=assistant, produce_documents=False)
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.number
    assert state(invoice) == ("issued", Decimal("120.00"))


def test_payment_schedule_splits_exactly_and_payments_settle_the_first_instalments(
    customer: Party, issue: Callable[..., Invoice], accountant: Any
) -> None:
    invoice = issue(customer, "83.33", date(2026, 1, 5))  # 100.00 incl. VAT (83.33 × 1.2 = 99.996)
    total = InvoiceSettlement.objects.get(invoice=invoice).total_amount
    instalments = actions.set_payment_schedule(
        invoice, due_dates=[date(2026, 2, 5), date(2026, 3, 5), date(2026, 4, 5)], by=accountant
    )
    assert sum(i.amount for i in instalments) == total
    assert instalments[-1].amount - instalments[0].amount in {
        Decimal("0.00"),
        Decimal("0.01"),
        Decimal("-0.01"),
        Decimal("0.02"),
    }
    actions.record_payment(
        party=customer,
        amount=instalments[0].amount + Decimal("1.00"),
        method="card",
        date=date(2026, 2, 5),
        by=accountant,
    )
    items = selectors.open_items(due_before=date(2026, 3, 20))
    assert [(i.instalment, i.open_amount) for i in items] == [
        (2, instalments[1].amount - Decimal("1.00"))
    ]
    with pytest.raises(ValidationError):
        actions.set_payment_schedule(invoice, due_dates=[date(2026, 2, 5)], by=accountant)


def test_aged_balance_and_dso(
    make_customer: Callable[..., Party], issue: Callable[..., Invoice], accountant: Any
) -> None:
    a = make_customer("A SARL")
    b = make_customer("B SARL")
    issue(a, "100.00", date(2026, 1, 2))  # due 1/02: 59 days late on 1/4 → 31–60
    issue(a, "50.00", date(2026, 3, 20))  # due 19/04: not due
    issue(b, "25.00", date(2025, 10, 1))  # due 31/10/2025: > 90
    rows, overall = selectors.aged_balance_by_customer(accountant, date(2026, 4, 1))
    by_name = {row["name"]: row for row in rows}
    assert by_name["A SARL"]["31_60"] == Decimal("120.00")
    assert by_name["A SARL"]["not_due"] == Decimal("60.00")
    assert by_name["B SARL"]["over_90"] == Decimal("30.00")
    assert overall["total"] == Decimal("210.00")
    # Sales of the last 90 days: 120 + 60 (the 2025 invoice is older); receivables 210.
    assert selectors.dso(accountant, date(2026, 4, 1)) == Decimal("105.0")
