"""Scenario: invoices go unpaid, weekly dunning runs escalate for three months, a payment,
a promise, a dispute and an exclusion change the course, and a bank statement stops it all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, connections

from comptoir.core.audit import history_for
from comptoir.documents.models import ArchivedDocument
from comptoir.dunning import actions
from comptoir.dunning.models import DunningMessage, DunningRun, MessageStatus
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments import actions as payments
from comptoir.payments import selectors as payment_selectors
from comptoir.payments.models import InvoiceSettlement, StatementLine

pytestmark = pytest.mark.django_db


def camt(entries: list[tuple[str, str, str]], day: date) -> bytes:
    """A one-day CAMT.053 statement of credits (amount, debtor name, remittance text)."""
    total = sum(Decimal(amount) for amount, _n, _t in entries)
    ntries = "".join(
        f"""<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>{day}-{n}</AcctSvcrRef>
        <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{name}</Nm></Dbtr></RltdPties>
        <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
        for n, (amount, name, text) in enumerate(entries)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M{day}</MsgId><CreDtTm>{day}T06:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S{day}</Id><Acct><Id><IBAN>FR7630004008230001234567843</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{Decimal("1000.00") + total}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
{ntries}</Stmt></BkToCstmrStmt></Document>""".encode()


def sent_on(day: date) -> set[tuple[str, int, str]]:
    return set(
        DunningMessage.objects.filter(run_date=day).values_list(
            "party__name", "level__rank", "channel"
        )
    )


def test_three_months_of_dunning(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
    accountant: Any,
) -> None:
    martin = make_customer("Boulangerie Martin")
    dupont = make_customer("Garage Dupont")
    leroy = make_customer("Pharmacie Leroy")
    excluded = make_customer("Mairie de Lyon")
    disputed = make_customer("Hôtel du Parc")
    martin_1 = issue(martin, "1000.00", date(2026, 1, 5))  # due 04/02
    issue(excluded, "50.00", date(2026, 1, 5))
    issue(disputed, "75.00", date(2026, 1, 5))
    dupont_1 = issue(dupont, "400.00", date(2026, 1, 10))  # due 09/02
    issue(leroy, "800.00", date(2026, 1, 12))  # due 11/02
    martin_2 = issue(martin, "250.00", date(2026, 1, 20))  # due 19/02
    actions.update_party_dunning(excluded, excluded=True, by=assistant)
    actions.update_party_dunning(
        disputed, disputed=True, dispute_note="Livraison incomplète", by=assistant
    )

    expected: dict[date, set[tuple[str, int, str]]] = {
        date(2026, 2, 5): set(),
        date(2026, 2, 12): {("Boulangerie Martin", 1, "email")},
        date(2026, 2, 19): {
            ("Boulangerie Martin", 2, "email"),
            ("Garage Dupont", 1, "email"),
            ("Pharmacie Leroy", 1, "email"),
        },
        date(2026, 2, 26): {("Pharmacie Leroy", 2, "email")},
        date(2026, 3, 5): {("Boulangerie Martin", 3, "phone")},
        date(2026, 3, 12): {("Boulangerie Martin", 4, "letter"), ("Pharmacie Leroy", 3, "phone")},
        date(2026, 3, 19): set(),
        date(2026, 3, 26): {("Boulangerie Martin", 5, "formal_notice")},
        date(2026, 4, 2): {("Pharmacie Leroy", 5, "formal_notice")},
        date(2026, 4, 9): set(),
        date(2026, 4, 30): set(),
    }
    for day, wanted in expected.items():
        report = actions.run_dunning(day, by=assistant)
        assert sent_on(day) == wanted, day
        # Running the same day again does nothing twice.
        emails_before = len(mail.outbox)
        again = actions.run_dunning(day, by=assistant)
        assert again.created == 0 and len(mail.outbox) == emails_before
        assert report.decisions.get("excluded", 0) == 1
        assert report.decisions.get("disputed", 0) == 1
        if day == date(2026, 2, 19):
            # Garage Dupont pays the day after its first reminder.
            payments.record_payment(
                party=dupont,
                amount=Decimal("480.00"),
                method="transfer",
                date=date(2026, 2, 20),
                by=accountant,
            )
        if day == date(2026, 3, 12):
            # The call to Pharmacie Leroy ends with a promise to pay by 31/03 (not kept).
            task = DunningMessage.objects.get(party=leroy, channel="phone")
            actions.record_call_outcome(
                leroy,
                message=task,
                outcome="promise",
                promise_date=date(2026, 3, 31),
                promise_amount=Decimal("960.00"),
                by=assistant,
            )
        if day == date(2026, 3, 26):
            # The bank statement of 30/03 shows Martin's transfer; matching confirms it.
            payments.import_bank_file(
                camt(
                    [
                        (
                            "1500.00",
                            "BOULANGERIE MARTIN",
                            f"FACTURES {martin_1.number} {martin_2.number}",
                        )
                    ],
                    date(2026, 3, 30),
                ),
                filename="camt-0330.xml",
                by=accountant,
            )
            line = StatementLine.objects.get()
            proposal = payment_selectors.proposals_for([line])[line.pk][0]
            assert {i.pk for i in proposal["invoices"]} == {martin_1.pk, martin_2.pk}
            payments.confirm_match(line, invoices=proposal["invoices"], by=accountant)

    # Emails went to the billing contact, grouping the customer's overdue invoices.
    subjects = [(m.to[0], m.subject) for m in mail.outbox]
    assert len(mail.outbox) == 5
    martin_second = next(
        m for m in mail.outbox if "Deuxième relance" in m.subject and "luc.durand1@" in m.to[0]
    )
    assert martin_1.number in martin_second.body and martin_2.number not in martin_second.body
    assert "40 €" in martin_second.body  # level 2 claims the recovery indemnity
    assert all(to.startswith("luc.durand") for to, _s in subjects)
    # The letter and the formal notices are archived PDFs linked to the customer.
    letters = ArchivedDocument.objects.filter(kind__in=["reminder_pdf", "formal_notice_pdf"])
    assert letters.count() == 3
    notice = DunningMessage.objects.get(party=martin, channel="formal_notice")
    assert notice.document.object_id == str(martin.pk)
    assert len(notice.items) == 2  # both Martin invoices in one notice
    assert notice.interest_amount > 0 and notice.indemnity_amount == Decimal("80.00")
    # Calls wait on the call list with their script.
    assert DunningMessage.objects.get(party=martin, channel="phone").status == MessageStatus.TO_CALL
    # The history of each customer tells the story.
    actions_on_martin = [entry.action for entry in history_for(martin)]
    assert actions_on_martin.count("dunning_reminder") == 5  # levels 1 to 5, once each
    assert "dunning_letter_produced" in actions_on_martin
    assert "match_statement_line" not in actions_on_martin  # audited on the bank line
    assert InvoiceSettlement.objects.get(invoice=martin_1).state == "paid"
    assert InvoiceSettlement.objects.get(invoice=dupont_1).state == "paid"
    assert DunningRun.objects.count() == len(expected)


def test_a_dry_run_writes_nothing(
    customer: Party, issue: Callable[..., Invoice], assistant: Any
) -> None:
    issue(customer, "100.00", date(2026, 1, 5))
    report = actions.run_dunning(date(2026, 3, 1), by=assistant, dry_run=True)
    assert report.planned and report.planned[0]["party"] == customer.name
    assert not DunningMessage.objects.exists() and not DunningRun.objects.exists()
    assert mail.outbox == []


def test_an_instalment_is_chased_on_its_own_due_date(
    customer: Party, issue: Callable[..., Invoice], assistant: Any, accountant: Any
) -> None:
    invoice = issue(customer, "300.00", date(2026, 1, 5))  # 360 incl. VAT
    payments.set_payment_schedule(
        invoice, due_dates=[date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)], by=accountant
    )
    actions.run_dunning(date(2026, 2, 10), by=assistant)
    message = DunningMessage.objects.get()
    assert [item["number"] for item in message.items] == [f"{invoice.number} (1)"]
    assert message.total_due == Decimal("120.00")
    payments.record_payment(
        party=customer,
        amount=Decimal("120.00"),
        method="card",
        date=date(2026, 2, 11),
        by=accountant,
    )
    report = actions.run_dunning(date(2026, 3, 12), by=assistant)
    # Instalment 1 is paid; instalment 2 (due 28/02) is 12 days late: a new first reminder.
    latest = DunningMessage.objects.get(run_date=date(2026, 3, 12))
    assert [item["number"] for item in latest.items] == [f"{invoice.number} (2)"]
    assert report.created == 1 and latest.level.rank == 1


def test_credit_notes_and_unused_payments_are_not_chased(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
    accountant: Any,
) -> None:
    from comptoir.invoicing import actions as invoicing

    credited = make_customer("Avoir SARL")
    invoice = issue(credited, "100.00", date(2026, 1, 5))
    invoicing.issue_invoice(
        invoicing.create_credit_note(invoice, by=assistant),
        by=assistant,
        issue_date=date(2026, 1, 8),
        produce_documents=False,
    )
    prepaid = make_customer("Acompte SARL")
    payments.record_payment(
        party=prepaid,
        amount=Decimal("50.00"),
        method="cheque",
        date=date(2026, 1, 2),
        by=accountant,
    )  # no invoice yet: credit
    later = issue(prepaid, "100.00", date(2026, 1, 9))  # 120 incl. VAT, 50 covered by credit
    actions.run_dunning(date(2026, 2, 20), by=assistant)
    messages = {m.party_id: m for m in DunningMessage.objects.all()}
    assert credited.pk not in messages
    assert messages[prepaid.pk].total_due == Decimal("70.00")
    assert messages[prepaid.pk].items[0]["number"] == later.number


def _emails_waiting(
    count: int,
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
) -> None:
    """Leave `count` reminder emails (one customer each) in the outbox of 20/02/2026."""
    for n in range(count):
        issue(make_customer(), "10.00", date(2026, 1, 5 + n))
    actions.run_dunning(date(2026, 2, 20), by=assistant, deliver=False)


def test_a_killed_batch_keeps_back_only_what_may_have_left(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(actions, "EMAIL_MARK_EVERY", 2)
    _emails_waiting(5, make_customer, issue, assistant)
    ids = list(DunningMessage.objects.order_by("pk").values_list("pk", flat=True))
    # As a process killed while sending the fourth email of its batch leaves them: the first
    # two marked sent together, the third taken by the server but not marked yet.
    DunningMessage.objects.filter(pk__in=ids[:2]).update(status=MessageStatus.SENT, claim="a")
    DunningMessage.objects.filter(pk__in=ids[2:]).update(status=MessageStatus.SENDING, claim="a")
    with _held_elsewhere(date(2026, 2, 20)), pytest.raises(ValidationError, match="in progress"):
        actions.deliver_outbox(date(2026, 2, 20), by=assistant)
    delivered = actions.deliver_outbox(date(2026, 2, 20), by=assistant)
    assert delivered == {"sent": 1, "letters": 0, "failed": 0, "uncertain": 2, "outdated": 0}
    statuses = dict(DunningMessage.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["sent", "sent", "sending", "sending", "sent"]
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [
        DunningMessage.objects.get(pk=ids[4]).message_id
    ]
    again = actions.deliver_outbox(date(2026, 2, 20), by=assistant)
    assert again == {"sent": 0, "letters": 0, "failed": 0, "uncertain": 2, "outdated": 0}
    assert len(mail.outbox) == 1


class _Stopped(BaseException):
    """A stop the process sees while an email is leaving (as Ctrl-C would be)."""


class _StoppingConnection:
    """A mail connection that takes emails and stops the process as the n-th one leaves."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at = stop_at
        self.taken: list[str] = []

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        for message in messages:
            self.taken.append(message.extra_headers["Message-ID"])
            if len(self.taken) == self.stop_at:
                raise _Stopped
        return len(messages)


def test_a_stopped_batch_records_what_left_and_keeps_back_only_the_email_in_flight(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(actions, "EMAIL_MARK_EVERY", 3)
    _emails_waiting(7, make_customer, issue, assistant)
    ids = list(DunningMessage.objects.order_by("pk").values_list("pk", flat=True))
    stopping = _StoppingConnection(stop_at=5)  # the 4th and 5th share a mark not made yet
    with pytest.raises(_Stopped):
        actions.deliver_outbox(date(2026, 2, 20), by=assistant, mail_connection=stopping)
    statuses = dict(DunningMessage.objects.values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["sent"] * 4 + ["sending"] + ["pending"] * 2
    delivered = actions.deliver_outbox(date(2026, 2, 20), by=assistant)
    assert delivered == {"sent": 2, "letters": 0, "failed": 0, "uncertain": 1, "outdated": 0}
    message_ids = stopping.taken + [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert len(message_ids) == 7 and len(set(message_ids)) == 7  # each email left once


def test_emails_are_marked_sent_in_groups(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(actions, "EMAIL_MARK_EVERY", 3)
    _emails_waiting(7, make_customer, issue, assistant)
    with CaptureQueriesContext(connection) as queries:
        delivered = actions.deliver_outbox(date(2026, 2, 20), by=assistant)
    assert delivered["sent"] == 7 and len(mail.outbox) == 7
    marks = [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "'sent'" in q["sql"]]
    assert len(marks) == 3  # 3 + 3 + 1 emails, one statement each
    assert set(DunningMessage.objects.values_list("status", flat=True)) == {"sent"}


@contextmanager
def _held_elsewhere(on: date) -> Iterator[None]:
    """Hold a run date's delivery lock as another process would."""
    from comptoir.dunning.actions import _delivery_lock, delivery_lock_key

    if connection.vendor != "postgresql":
        with _delivery_lock(on):  # a second open file: flock refuses it like another process
            yield
        return
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [delivery_lock_key(on)])
        yield
        with other.cursor() as cursor:
            # Unlock before closing: the server frees a closed session's locks a moment later.
            cursor.execute("SELECT pg_advisory_unlock(%s)", [delivery_lock_key(on)])
    finally:
        other.close()


def test_a_resumed_run_cancels_reminders_whose_invoices_were_paid_since(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
    accountant: Any,
) -> None:
    martin = make_customer("Boulangerie Martin")
    dupont = make_customer("Garage Dupont")
    leroy = make_customer("Pharmacie Leroy")
    issue(martin, "1000.00", date(2026, 1, 5))
    issue(dupont, "400.00", date(2026, 1, 5))
    issue(leroy, "800.00", date(2026, 1, 5))
    day = date(2026, 2, 12)
    # The first attempt writes the outbox and stops before delivering (killed, mail down…).
    first = actions.run_dunning(day, by=assistant, deliver=False)
    assert first.created == 3 and mail.outbox == []
    # Meanwhile Dupont pays everything and Leroy part of it.
    payments.record_payment(
        party=dupont, amount=Decimal("480.00"), method="transfer", date=day, by=accountant
    )
    payments.record_payment(
        party=leroy, amount=Decimal("100.00"), method="cheque", date=day, by=accountant
    )
    resumed = actions.run_dunning(day, by=assistant)
    assert (resumed.created, resumed.emails_sent, resumed.outdated) == (0, 1, 2)
    assert len(mail.outbox) == 1 and "FA-2026-000001" in mail.outbox[0].body
    statuses = dict(
        DunningMessage.objects.filter(run_date=day).values_list("party__name", "status")
    )
    assert statuses == {
        "Boulangerie Martin": MessageStatus.SENT,
        "Garage Dupont": MessageStatus.CANCELLED,
        "Pharmacie Leroy": MessageStatus.CANCELLED,
    }
    cancelled = DunningMessage.objects.get(party=leroy, run_date=day)
    assert cancelled.error_text == "amounts changed since the reminder was written"
    # Leroy still owes 860.00: a later run (once the pause after a payment is over) reminds
    # with that amount.
    actions.run_dunning(date(2026, 3, 2), by=assistant)
    reminder = DunningMessage.objects.get(party=leroy, run_date=date(2026, 3, 2))
    assert reminder.total_due == Decimal("860.00")
    run = DunningRun.objects.get(run_date=day)
    assert run.summary["outdated"] == 2
