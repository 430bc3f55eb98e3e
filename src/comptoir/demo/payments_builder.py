"""Payments for the demo's invoices: most customers pay on time, late payers pay late or not
at all, disputes are offset by their credit notes, a few customers pay by SEPA direct debit,
and the last days' transfers wait in a bank statement to be matched.

Everything goes through the payments and dunning actions. If the demo has no invoices (no
invoicing builder ran), this builder does nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from comptoir.core.models import User
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.states import InvoiceStatus
from comptoir.parties.models import Party

if TYPE_CHECKING:
    from comptoir.demo.builder import DemoReport, Generator

METHODS = ["transfer"] * 6 + ["cheque"] * 2 + ["card", "direct_debit"]
# Transfers of the last days are left on a bank statement to match, not recorded.
UNMATCHED_DAYS = 6
DEMO_ICS = "FR72ZZZ123456"


def build_payments(gen: Generator, users: dict[str, User], report: DemoReport) -> None:
    from comptoir.demo.sales_builder import AuditClock
    from comptoir.dunning import actions as dunning
    from comptoir.payments import actions
    from comptoir.payments.models import InvoiceSettlement

    if not Invoice.objects.filter(status=InvoiceStatus.ISSUED).exists():
        return
    rng = gen.rng
    accountant = users.get("nathalie") or users["sophie"]
    assistant = users["sophie"]
    today = timezone.localdate()
    actions.sync_settlements()
    clock = AuditClock()
    late_payers = set(
        Party.objects.filter(notes__startswith="Payeur en retard").values_list("pk", flat=True)
    )
    # Credit notes settle their invoice first (the dispute was about that invoice).
    for note in Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED):
        assert note.corrects is not None
        open_note = actions.open_settlement(note).open_amount
        open_invoice = actions.open_settlement(note.corrects).open_amount
        amount = min(open_note, open_invoice)
        if amount > 0:
            actions.offset_credit_note(
                note, invoice=note.corrects, amount=amount, by=accountant, on=note.issue_date
            )
            assert note.issue_date is not None
            clock.stamp(note.issue_date, 12)
    statement_lines: list[tuple[date, Decimal, str, str]] = []
    counts = {"payments": 0, "open invoices": 0}
    settlements = InvoiceSettlement.objects.filter(
        kind__in=["invoice", "down_payment"], open_amount__gt=0
    ).select_related("invoice__party")
    for settlement in settlements.order_by("due_date", "number"):
        invoice = settlement.invoice
        late = invoice.party_id in late_payers
        delay = rng.randint(15, 80) if late else rng.randint(-10, 6)
        paid_on = settlement.due_date + timedelta(days=delay)
        if paid_on > today:
            counts["open invoices"] += 1
            continue
        amount = settlement.open_amount
        if late and rng.random() < 0.3:
            amount = (amount / 2).quantize(Decimal("0.01"))  # a partial payment
        if paid_on > today - timedelta(days=UNMATCHED_DAYS):
            statement_lines.append(
                (paid_on, amount, invoice.party.name.upper(), f"REGLEMENT {invoice.number}")
            )
            continue
        received = max(paid_on, settlement.issue_date)
        actions.record_payment(
            party=invoice.party,
            amount=amount,
            method=rng.choice(METHODS),
            date=received,
            allocations=[(invoice, amount)],
            by=accountant,
        )
        clock.stamp(received, 11)
        counts["payments"] += 1
    _bank_statement(statement_lines, today, accountant)
    _sepa(accountant)
    # One late payer promised to pay, another disputes an invoice.
    ordered = sorted(late_payers)
    if ordered:
        dunning.update_party_dunning(
            Party.objects.get(pk=ordered[0]),
            promise_until=today + timedelta(days=7),
            promise_amount=Decimal("500.00"),
            by=assistant,
        )
    if len(ordered) > 1:
        dunning.update_party_dunning(
            Party.objects.get(pk=ordered[1]),
            disputed=True,
            dispute_note="Conteste la facture : livraison incomplète.",
            by=assistant,
        )
    counts["bank lines to match"] = len(statement_lines)
    report.counts.update(counts)


def _bank_statement(lines: list[tuple[date, Decimal, str, str]], today: date, by: User) -> None:
    """Put the last days' transfers on a CAMT.053 statement, ready for matching."""
    from comptoir.payments.actions import import_bank_file

    if not lines:
        return
    opening = Decimal("25000.00")
    entries = "".join(
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{day}</Dt></BookgDt><AcctSvcrRef>DEMO-{n}</AcctSvcrRef><NtryDtls><TxDtls>"
        f"<RltdPties><Dbtr><Nm>{_xml(name)}</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{_xml(text)}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        for n, (day, amount, name, text) in enumerate(lines)
    )
    closing = opening + sum((amount for _d, amount, _n, _t in lines), Decimal("0.00"))
    start = min(day for day, _a, _n, _t in lines)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>DEMO-{today}</MsgId><CreDtTm>{today}T06:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>DEMO</Id><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>"
        f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{start}</Dt></Dt></Bal>"
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt>'
        f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{today}</Dt></Dt></Bal>"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    )
    import_bank_file(xml.encode(), filename=f"releve-demo-{today}.xml", by=by)


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sepa(by: User) -> None:
    """Set the creditor identifier and sign mandates with a handful of regular customers."""
    from comptoir.payments.actions import create_mandate, update_sepa_settings
    from comptoir.payments.models import SepaMandate

    update_sepa_settings(creditor_identifier=DEMO_ICS, by=by)
    customers = (
        Party.objects.filter(is_customer=True, invoices__status=InvoiceStatus.ISSUED)
        .distinct()
        .order_by("pk")[:8]
    )
    for n, party in enumerate(customers, start=1):
        if SepaMandate.objects.filter(party=party).exists():
            continue
        create_mandate(
            party=party,
            reference=f"RUM-DEMO-{n:04d}",
            signature_date=date(2025, 1, 2) + timedelta(days=n * 11),
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            by=by,
        )
