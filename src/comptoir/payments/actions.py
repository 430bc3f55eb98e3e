"""Payment writes: payments and allocations, credit, refunds, schedules, bank imports, SEPA.

Every action is atomic and audited, and keeps ``InvoiceSettlement`` (what is paid on each
issued document) in step with the allocations it writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.core.audit import record_audit
from comptoir.core.money import format_amount
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.states import InvoiceStatus
from comptoir.parties.models import Party
from comptoir.payments import bankfiles, calculations
from comptoir.payments.models import (
    ZERO,
    Allocation,
    BankStatement,
    CreditTransferBatch,
    CreditTransferItem,
    DirectDebitBatch,
    DirectDebitItem,
    Instalment,
    InvoiceSettlement,
    Payment,
    PaymentDirection,
    PaymentMethod,
    SepaMandate,
    SepaSettings,
    SequenceType,
    StatementLine,
    StatementLineStatus,
)

RECEIVABLE_KINDS = (InvoiceKind.INVOICE, InvoiceKind.DOWN_PAYMENT)


def _user(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


# -- settlements -------------------------------------------------------------------------------


def settlement_values(invoice: Invoice) -> dict[str, Any]:
    """Return the columns of a new settlement row for an issued document."""
    return {
        "party_id": invoice.party_id,
        "kind": invoice.kind,
        "number": invoice.number or "",
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date or invoice.issue_date,
        "total_amount": invoice.due_amount,
        "paid_amount": ZERO,
        "open_amount": invoice.due_amount,
        "state": calculations.payment_state(invoice.due_amount, ZERO),
    }


def open_settlement(invoice: Invoice) -> InvoiceSettlement:
    """Create the settlement row of an issued document if it has none; return it."""
    if invoice.status != InvoiceStatus.ISSUED:
        raise ValidationError(_("Only an issued invoice or credit note can be paid."))
    settlement, _created = InvoiceSettlement.objects.get_or_create(
        invoice_id=invoice.pk, defaults=settlement_values(invoice)
    )
    return settlement


def sync_settlements() -> int:
    """Create the missing settlement rows of issued documents (idempotent); return how many."""
    missing = Invoice.objects.filter(status=InvoiceStatus.ISSUED, settlement__isnull=True).only(
        "pk", "party_id", "kind", "number", "issue_date", "due_date", "due_amount", "status"
    )
    rows = [InvoiceSettlement(invoice_id=inv.pk, **settlement_values(inv)) for inv in missing]
    InvoiceSettlement.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def _settle(settlement: InvoiceSettlement, amount: Decimal, on: date) -> None:
    settlement.paid_amount += amount
    settlement.open_amount = settlement.total_amount - settlement.paid_amount
    settlement.state = calculations.payment_state(settlement.total_amount, settlement.paid_amount)
    if settlement.last_payment_date is None or on > settlement.last_payment_date:
        settlement.last_payment_date = on
    settlement.save(update_fields=["paid_amount", "open_amount", "state", "last_payment_date"])


def _locked_settlement(invoice: Invoice) -> InvoiceSettlement:
    open_settlement(invoice)
    return InvoiceSettlement.objects.select_for_update().get(invoice_id=invoice.pk)


# -- payments ----------------------------------------------------------------------------------


def _check_allocations(
    party: Party, allocations: Sequence[tuple[Invoice, Decimal]], *, kinds: Iterable[str]
) -> list[tuple[InvoiceSettlement, Decimal]]:
    kinds = set(kinds)
    checked = []
    for invoice, amount in allocations:
        if invoice.party_id != party.pk:
            raise ValidationError(
                _("%(number)s is not an invoice of %(party)s.")
                % {"number": invoice, "party": party}
            )
        if invoice.kind not in kinds:
            raise ValidationError(_("%(number)s cannot be settled this way.") % {"number": invoice})
        settlement = _locked_settlement(invoice)
        if amount <= 0:
            raise ValidationError(_("An allocated amount must be positive."))
        if amount > settlement.open_amount:
            raise ValidationError(
                _("%(number)s has only %(open)s € left to pay.")
                % {"number": invoice, "open": format_amount(settlement.open_amount)}
            )
        checked.append((settlement, amount))
    return checked


def _oldest_open(party: Party, invoices: Sequence[Invoice] | None) -> list[InvoiceSettlement]:
    queryset = InvoiceSettlement.objects.select_for_update().filter(
        party=party, kind__in=RECEIVABLE_KINDS, open_amount__gt=0
    )
    if invoices is not None:
        queryset = queryset.filter(invoice__in=[i.pk for i in invoices])
    return list(queryset.order_by("due_date", "number"))


@transaction.atomic
def record_payment(
    *,
    party: Party,
    amount: Decimal,
    method: str,
    date: date,
    by: Any,
    allocations: Sequence[tuple[Invoice, Decimal]] | None = None,
    invoices: Sequence[Invoice] | None = None,
    reference: str = "",
    payer_iban: str = "",
    notes: str = "",
    statement_line: StatementLine | None = None,
) -> Payment:
    """Record money received from a customer and allocate it.

    ``allocations`` gives each invoice's share; without it the amount settles ``invoices``
    (or, without them, all the customer's open invoices) oldest due first. What is left is
    the customer's credit, to allocate later or refund.
    """
    if amount <= 0:
        raise ValidationError({"amount": _("Enter an amount greater than zero.")})
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("Choose a payment method.")})
    if allocations is not None:
        if sum((a for _i, a in allocations), ZERO) > amount:
            raise ValidationError(_("The allocations exceed the payment."))
        planned = _check_allocations(party, allocations, kinds=RECEIVABLE_KINDS)
    else:
        settlements = _oldest_open(party, invoices)
        shares = calculations.allocate_in_order(amount, [s.open_amount for s in settlements])
        planned = [(s, share) for s, share in zip(settlements, shares, strict=True) if share]
    payment = Payment.objects.create(
        party=party,
        direction=PaymentDirection.RECEIPT,
        method=method,
        date=date,
        amount=amount,
        reference=reference[:140],
        payer_iban=payer_iban,
        notes=notes,
        statement_line=statement_line,
        created_by=_user(by),
    )
    _allocate(payment, planned, by=by)
    record_audit(
        by,
        "record_payment",
        party,
        payment=payment.pk,
        amount=amount,
        method=method,
        invoices=[s.number for s, _a in planned],
        credit=payment.unallocated_amount,
    )
    return payment


def _allocate(
    payment: Payment, planned: Sequence[tuple[InvoiceSettlement, Decimal]], *, by: Any
) -> None:
    allocated = sum((amount for _s, amount in planned), ZERO)
    if payment.allocated_amount + allocated > payment.amount:
        raise ValidationError(_("The allocations exceed the payment."))
    Allocation.objects.bulk_create(
        [
            Allocation(
                payment=payment,
                invoice_id=settlement.invoice_id,
                amount=amount,
                date=payment.date,
                created_by=_user(by),
            )
            for settlement, amount in planned
        ]
    )
    for settlement, amount in planned:
        _settle(settlement, amount, payment.date)
    payment.allocated_amount += allocated
    payment.save(update_fields=["allocated_amount"])


@transaction.atomic
def allocate_credit(party: Party, *, invoice: Invoice, by: Any) -> Decimal:
    """Use the customer's unallocated payments (oldest first) to settle an invoice."""
    settlement = _locked_settlement(invoice)
    if invoice.party_id != party.pk or invoice.kind not in RECEIVABLE_KINDS:
        raise ValidationError(_("Choose an open invoice of this customer."))
    used = ZERO
    payments = Payment.objects.select_for_update().filter(
        party=party, direction=PaymentDirection.RECEIPT
    )
    for payment in payments.order_by("date", "pk"):
        left = settlement.open_amount
        free = payment.amount - payment.allocated_amount
        if left <= 0:
            break
        if free <= 0:
            continue
        share = min(left, free)
        _allocate(payment, [(settlement, share)], by=by)
        used += share
    if not used:
        raise ValidationError(_("This customer has no credit to use."))
    record_audit(by, "allocate_credit", party, invoice=invoice.number, amount=used)
    return used


@transaction.atomic
def refund_credit_note(
    credit_note: Invoice, *, amount: Decimal, method: str, date: date, by: Any, reference: str = ""
) -> Payment:
    """Pay a credit note back to the customer (a refund settles the credit note)."""
    if credit_note.kind != InvoiceKind.CREDIT_NOTE:
        raise ValidationError(_("Only a credit note is refunded."))
    party = credit_note.party
    planned = _check_allocations(party, [(credit_note, amount)], kinds=[InvoiceKind.CREDIT_NOTE])
    payment = Payment.objects.create(
        party=party,
        direction=PaymentDirection.REFUND,
        method=method,
        date=date,
        amount=amount,
        reference=reference or credit_note.number or "",
        created_by=_user(by),
    )
    _allocate(payment, planned, by=by)
    record_audit(by, "refund_credit_note", party, credit_note=credit_note.number, amount=amount)
    return payment


@transaction.atomic
def offset_credit_note(
    credit_note: Invoice, *, invoice: Invoice, amount: Decimal, by: Any, on: date | None = None
) -> Allocation:
    """Settle part of an invoice with a credit note of the same customer."""
    if credit_note.kind != InvoiceKind.CREDIT_NOTE:
        raise ValidationError(_("Only a credit note can be offset."))
    party = credit_note.party
    on = on or timezone.localdate()
    (note_settlement, _a), (invoice_settlement, _b) = (
        *_check_allocations(party, [(credit_note, amount)], kinds=[InvoiceKind.CREDIT_NOTE]),
        *_check_allocations(party, [(invoice, amount)], kinds=RECEIVABLE_KINDS),
    )
    allocation = Allocation.objects.create(
        credit_note=credit_note, invoice=invoice, amount=amount, date=on, created_by=_user(by)
    )
    _settle(note_settlement, amount, on)
    _settle(invoice_settlement, amount, on)
    record_audit(
        by,
        "offset_credit_note",
        party,
        credit_note=credit_note.number,
        invoice=invoice.number,
        amount=amount,
    )
    return allocation


@transaction.atomic
def offset_corrected_invoice(credit_note: Invoice, *, by: Any) -> Allocation | None:
    """Settle the invoice a credit note corrects with that credit note, as far as it is open.

    Run when the credit note is issued: a credited invoice is no longer due, so it must not
    stay open, age, nor be chased. What the invoice no longer owes (it was paid already)
    stays the customer's credit, to refund or offset elsewhere. Idempotent: a credit note
    offsets its invoice once.
    """
    invoice = credit_note.corrects
    if credit_note.kind != InvoiceKind.CREDIT_NOTE or invoice is None:
        return None
    if invoice.kind not in RECEIVABLE_KINDS or invoice.party_id != credit_note.party_id:
        return None
    if Allocation.objects.filter(credit_note=credit_note, invoice=invoice).exists():
        return None
    amount = min(
        _locked_settlement(credit_note).open_amount, _locked_settlement(invoice).open_amount
    )
    if amount <= 0:
        return None
    return offset_credit_note(
        credit_note, invoice=invoice, amount=amount, by=by, on=credit_note.issue_date
    )


# -- payment schedules -------------------------------------------------------------------------


@transaction.atomic
def set_payment_schedule(
    invoice: Invoice,
    *,
    due_dates: Sequence[date],
    by: Any,
    weights: Sequence[Decimal] | None = None,
) -> list[Instalment]:
    """Split an issued invoice into instalments (equal, or in proportion to ``weights``).

    The amounts add up exactly to what the invoice asks for; the last absorbs the rounding.
    A new schedule replaces the previous one.
    """
    if invoice.kind not in RECEIVABLE_KINDS:
        raise ValidationError(_("Only an invoice has a payment schedule."))
    settlement = _locked_settlement(invoice)
    if len(due_dates) < 2:
        raise ValidationError({"due_dates": _("A schedule needs at least two instalments.")})
    if list(due_dates) != sorted(due_dates) or len(set(due_dates)) != len(due_dates):
        raise ValidationError({"due_dates": _("Give the due dates in order, each once.")})
    if due_dates[0] < settlement.issue_date:
        raise ValidationError({"due_dates": _("An instalment cannot fall before the invoice.")})
    weights = list(weights) if weights else [Decimal(1)] * len(due_dates)
    if len(weights) != len(due_dates):
        raise ValidationError({"weights": _("Give one share per due date.")})
    amounts = calculations.split_instalments(settlement.total_amount, weights)
    if any(a <= 0 for a in amounts):
        raise ValidationError(_("Every instalment must be more than zero."))
    Instalment.objects.filter(invoice=invoice).delete()
    instalments = Instalment.objects.bulk_create(
        [
            Instalment(invoice=invoice, position=n, due_date=due, amount=amount)
            for n, (due, amount) in enumerate(zip(due_dates, amounts, strict=True), start=1)
        ]
    )
    settlement.has_schedule = True
    settlement.save(update_fields=["has_schedule"])
    record_audit(
        by,
        "set_payment_schedule",
        invoice.party,
        invoice=invoice.number,
        instalments=[f"{d.isoformat()} {a}" for d, a in zip(due_dates, amounts, strict=True)],
    )
    return instalments


# -- bank statements ---------------------------------------------------------------------------


@transaction.atomic
def import_bank_file(content: bytes, *, filename: str, by: Any) -> list[BankStatement]:
    """Import every statement of a bank file, or nothing (errors name the file's line)."""
    statements = bankfiles.parse_bank_file(content)
    created = []
    for parsed in statements:
        fingerprint = parsed.fingerprint()
        previous = BankStatement.objects.filter(fingerprint=fingerprint).first()
        if previous is not None:
            raise bankfiles.BankFileError(
                parsed.first_line,
                f"this statement was already imported on {previous.imported_at:%d/%m/%Y}",
            )
        line_prints = bankfiles.line_fingerprints(parsed)
        known = dict(
            StatementLine.objects.filter(fingerprint__in=line_prints).values_list(
                "fingerprint", "statement__filename"
            )
        )
        for parsed_line, print_ in zip(parsed.lines, line_prints, strict=True):
            if print_ in known:
                raise bankfiles.BankFileError(
                    parsed_line.file_line,
                    f"this movement was already imported (from {known[print_]})",
                )
        statement = BankStatement.objects.create(
            format=parsed.format,
            account=parsed.account[:40],
            currency=parsed.currency[:3],
            start_date=parsed.start_date,
            end_date=parsed.end_date,
            opening_balance=parsed.opening_balance,
            closing_balance=parsed.closing_balance,
            filename=filename[:200],
            fingerprint=fingerprint,
            imported_by=_user(by),
        )
        try:
            with transaction.atomic():
                StatementLine.objects.bulk_create(
                    [
                        StatementLine(
                            statement=statement,
                            file_line=line.file_line,
                            booking_date=line.booking_date,
                            value_date=line.value_date,
                            amount=line.amount,
                            label=line.label[:500],
                            reference=line.reference[:140],
                            counterparty_name=line.counterparty_name[:140],
                            counterparty_iban=line.counterparty_iban[:34],
                            fingerprint=print_,
                        )
                        for line, print_ in zip(parsed.lines, line_prints, strict=True)
                    ]
                )
        except IntegrityError as exc:
            # A concurrent import of the same file won the UNIQUE index.
            raise bankfiles.BankFileError(
                parsed.first_line, "this statement is being imported by someone else"
            ) from exc
        record_audit(
            by,
            "import_bank_statement",
            statement,
            filename=filename,
            lines=len(parsed.lines),
            format=parsed.format,
        )
        created.append(statement)
    return created


@transaction.atomic
def confirm_match(
    line: StatementLine, *, invoices: Sequence[Invoice], by: Any, method: str | None = None
) -> Payment:
    """Turn a bank credit into a payment of these invoices (oldest due first, rest as credit).

    A debit matched to credit notes records their refund.
    """
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status != StatementLineStatus.UNMATCHED:
        raise ValidationError(_("This bank line is already matched or ignored."))
    if not invoices:
        raise ValidationError(_("Choose at least one invoice."))
    parties = {invoice.party_id for invoice in invoices}
    if len(parties) != 1:
        raise ValidationError(_("One bank line pays the invoices of one customer."))
    party = invoices[0].party
    if line.amount < 0:
        left = -line.amount
        payment = None
        for note in invoices:
            settlement = _locked_settlement(note)
            share = min(left, settlement.open_amount)
            if share > 0:
                payment = refund_credit_note(
                    note, amount=share, method=PaymentMethod.TRANSFER, date=line.booking_date, by=by
                )
                left -= share
        if payment is None or left:
            raise ValidationError(_("A debit must refund credit notes for its exact amount."))
        payment.statement_line = line
        payment.save(update_fields=["statement_line"])
    else:
        detected = method or (
            PaymentMethod.DIRECT_DEBIT
            if "PRLV" in calculations.fold(line.label)
            else PaymentMethod.TRANSFER
        )
        payment = record_payment(
            party=party,
            amount=line.amount,
            method=detected,
            date=line.booking_date,
            by=by,
            invoices=invoices,
            reference=(line.reference or line.label)[:140],
            payer_iban=line.counterparty_iban,
            statement_line=line,
        )
    line.status = StatementLineStatus.MATCHED
    line.save(update_fields=["status"])
    record_audit(by, "match_statement_line", line, payment=payment.pk, party=party.pk)
    return payment


@transaction.atomic
def ignore_statement_line(line: StatementLine, *, by: Any) -> StatementLine:
    """Mark a bank line as not a customer payment (bank fees, salaries…)."""
    if line.status != StatementLineStatus.UNMATCHED:
        raise ValidationError(_("This bank line is already matched or ignored."))
    line.status = StatementLineStatus.IGNORED
    line.save(update_fields=["status"])
    record_audit(by, "ignore_statement_line", line)
    return line


# -- SEPA --------------------------------------------------------------------------------------


@transaction.atomic
def update_sepa_settings(*, creditor_identifier: str, by: Any) -> SepaSettings:
    """Set the company's SEPA creditor identifier (ICS)."""
    from comptoir.payments.sepa import normalise_creditor_identifier

    value = normalise_creditor_identifier(creditor_identifier) if creditor_identifier else ""
    settings_row, _created = SepaSettings.objects.get_or_create(pk=1)
    old = settings_row.creditor_identifier
    settings_row.creditor_identifier = value
    settings_row.save()
    record_audit(by, "update_sepa_settings", settings_row, creditor_identifier=[old, value])
    return settings_row


@transaction.atomic
def create_mandate(
    *,
    party: Party,
    reference: str,
    signature_date: date,
    iban: str,
    by: Any,
    bic: str = "",
    recurring: bool = True,
) -> SepaMandate:
    """Record a customer's signed SEPA direct-debit mandate."""
    from comptoir.core import identifiers

    mandate = SepaMandate(
        party=party,
        reference=reference.strip(),
        signature_date=signature_date,
        iban=identifiers.normalise_iban(iban) if iban else "",
        bic=identifiers.normalise_bic(bic) if bic else "",
        recurring=recurring,
    )
    mandate.full_clean()
    mandate.save()
    record_audit(by, "create_mandate", party, mandate=mandate.reference)
    return mandate


@transaction.atomic
def end_mandate(mandate: SepaMandate, *, by: Any) -> SepaMandate:
    """Make the mandate's next collection its last (FNAL), or close it if never used."""
    if mandate.last_collection_date is None or not mandate.recurring:
        mandate.is_active = False
    else:
        mandate.final_next = True
    mandate.save(update_fields=["is_active", "final_next"])
    record_audit(by, "end_mandate", mandate.party, mandate=mandate.reference)
    return mandate


def sequence_type_for(mandate: SepaMandate) -> str:
    """Return the sequence type of the mandate's next collection.

    OOFF for a one-off mandate; FRST the first time a recurring one is used, RCUR after,
    FNAL when it was marked as ending with its next collection.
    """
    if not mandate.recurring:
        return SequenceType.ONE_OFF
    if mandate.final_next and mandate.last_collection_date:
        return SequenceType.FINAL
    return SequenceType.RECURRING if mandate.last_collection_date else SequenceType.FIRST


@transaction.atomic
def create_direct_debit_batch(
    *, collection_date: date, by: Any, invoices: Sequence[Invoice] | None = None
) -> DirectDebitBatch:
    """Build, validate and archive a pain.008.001.08 file for the open invoices of customers
    with an active mandate (or for the given invoices)."""
    from comptoir.documents.actions import archive_document
    from comptoir.payments import sepa

    sync_settlements()
    mandates = {
        m.party_id: m for m in SepaMandate.objects.filter(is_active=True).select_related("party")
    }
    settlements = InvoiceSettlement.objects.filter(
        kind__in=RECEIVABLE_KINDS, open_amount__gt=0, party_id__in=list(mandates)
    ).select_related("invoice")
    if invoices is not None:
        settlements = settlements.filter(invoice__in=[i.pk for i in invoices])
    settlements = list(settlements.order_by("party_id", "due_date"))
    if not settlements:
        raise ValidationError(_("No open invoice of a customer with a mandate to collect."))
    stamp = timezone.now()
    reference = f"PRLV-{stamp:%Y%m%d-%H%M%S%f}"[:35]
    items = []
    for n, settlement in enumerate(settlements, start=1):
        mandate = mandates[settlement.party_id]
        items.append(
            sepa.DebitTransaction(
                end_to_end_id=f"{settlement.number}-{n}"[:35],
                amount=settlement.open_amount,
                mandate_reference=mandate.reference,
                signature_date=mandate.signature_date,
                sequence_type=sequence_type_for(mandate),
                debtor=sepa.party_of(mandate.party, iban=mandate.iban, bic=mandate.bic),
                remittance=f"Facture {settlement.number}",
            )
        )
    xml = sepa.build_pain008(
        message_id=reference,
        created_at=stamp,
        collection_date=collection_date,
        creditor=sepa.creditor_of_company(),
        creditor_identifier=sepa.creditor_identifier(),
        transactions=items,
    )
    document = archive_document(
        xml,
        reference=reference,
        kind="sepa_pain008",
        filename=f"{reference}.xml",
        mime_type="application/xml",
        business_object=None,
        by=by,
    )
    batch = DirectDebitBatch.objects.create(
        reference=reference,
        collection_date=collection_date,
        total_amount=sum((t.amount for t in items), ZERO),
        count=len(items),
        document=document,
        created_by=_user(by),
    )
    DirectDebitItem.objects.bulk_create(
        [
            DirectDebitItem(
                batch=batch,
                mandate=mandates[s.party_id],
                invoice_id=s.invoice_id,
                amount=t.amount,
                sequence_type=t.sequence_type,
                end_to_end_id=t.end_to_end_id,
            )
            for s, t in zip(settlements, items, strict=True)
        ]
    )
    used = SepaMandate.objects.filter(
        pk__in=[m.pk for m in mandates.values()], party_id__in={s.party_id for s in settlements}
    )
    # A one-off mandate, or one whose final collection this was, cannot be used again.
    ended = {t.mandate_reference for t in items if t.sequence_type in ("OOFF", "FNAL")}
    used.filter(reference__in=ended).update(last_collection_date=collection_date, is_active=False)
    used.exclude(reference__in=ended).update(last_collection_date=collection_date)
    record_audit(by, "create_direct_debit_batch", batch, count=len(items), total=batch.total_amount)
    return batch


@transaction.atomic
def record_direct_debit_collection(batch: DirectDebitBatch, *, by: Any) -> list[Payment]:
    """Record the payments of a collected batch (once)."""
    batch = DirectDebitBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.collected:
        raise ValidationError(_("This batch's payments are already recorded."))
    payments = []
    for item in batch.items.select_related("invoice__party"):
        settlement = _locked_settlement(item.invoice)
        amount = min(item.amount, settlement.open_amount)
        if amount <= 0:
            continue
        payments.append(
            record_payment(
                party=item.invoice.party,
                amount=amount,
                method=PaymentMethod.DIRECT_DEBIT,
                date=batch.collection_date,
                by=by,
                allocations=[(item.invoice, amount)],
                reference=item.end_to_end_id,
            )
        )
    batch.collected = True
    batch.save(update_fields=["collected"])
    record_audit(by, "record_direct_debit_collection", batch, payments=len(payments))
    return payments


@transaction.atomic
def create_credit_transfer_batch(
    *, execution_date: date, transfers: Sequence[dict[str, Any]], by: Any
) -> CreditTransferBatch:
    """Build, validate and archive a pain.001.001.09 file of transfers to suppliers.

    Each transfer is a dict: party, iban, bic (optional), amount, remittance.
    """
    from comptoir.core import identifiers
    from comptoir.documents.actions import archive_document
    from comptoir.payments import sepa

    if not transfers:
        raise ValidationError(_("Add at least one transfer."))
    stamp = timezone.now()
    reference = f"VIR-{stamp:%Y%m%d-%H%M%S%f}"[:35]
    items = []
    for n, transfer in enumerate(transfers, start=1):
        party = transfer["party"]
        if not party.is_supplier:
            raise ValidationError(_("%(party)s is not a supplier.") % {"party": party})
        amount = Decimal(transfer["amount"])
        if amount <= 0:
            raise ValidationError(_("A transfer amount must be positive."))
        iban = identifiers.normalise_iban(transfer["iban"])
        bic = identifiers.normalise_bic(transfer["bic"]) if transfer.get("bic") else ""
        items.append(
            sepa.CreditTransaction(
                end_to_end_id=f"{reference}-{n}"[:35],
                amount=amount,
                creditor=sepa.party_of(party, iban=iban, bic=bic),
                remittance=str(transfer.get("remittance") or "")[:140],
            )
        )
    xml = sepa.build_pain001(
        message_id=reference,
        created_at=stamp,
        execution_date=execution_date,
        debtor=sepa.debtor_of_company(),
        transactions=items,
    )
    document = archive_document(
        xml,
        reference=reference,
        kind="sepa_pain001",
        filename=f"{reference}.xml",
        mime_type="application/xml",
        business_object=None,
        by=by,
    )
    batch = CreditTransferBatch.objects.create(
        reference=reference,
        execution_date=execution_date,
        total_amount=sum((t.amount for t in items), ZERO),
        count=len(items),
        document=document,
        created_by=_user(by),
    )
    CreditTransferItem.objects.bulk_create(
        [
            CreditTransferItem(
                batch=batch,
                party=transfer["party"],
                iban=t.creditor.iban,
                bic=t.creditor.bic,
                amount=t.amount,
                remittance=t.remittance,
                end_to_end_id=t.end_to_end_id,
            )
            for transfer, t in zip(transfers, items, strict=True)
        ]
    )
    record_audit(
        by, "create_credit_transfer_batch", batch, count=len(items), total=batch.total_amount
    )
    return batch
