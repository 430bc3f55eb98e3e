"""Payment reads: what is open, aged balances, DSO, customer accounts, matching proposals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from comptoir.core.money import format_amount
from comptoir.core.roles import is_sales_rep, reads_everything
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.states import InvoiceStatus
from comptoir.parties.models import Party
from comptoir.payments import calculations
from comptoir.payments.models import (
    ZERO,
    Allocation,
    Instalment,
    InvoiceSettlement,
    Payment,
    PaymentDirection,
    SepaMandate,
    StatementLine,
    StatementLineStatus,
)

RECEIVABLE_KINDS = (InvoiceKind.INVOICE, InvoiceKind.DOWN_PAYMENT)
DSO_DAYS = 90
# Order of same-day movements on a statement of account.
MOVEMENT_RANK = {"invoice": 0, "credit_note": 1, "payment": 2, "refund": 3}


def open_settlement_on_issue(sender: Any, instance: Invoice, **kwargs: Any) -> None:
    """Give every issued invoice or credit note its settlement row (post_save of Invoice).

    A credit note that corrects an invoice also settles that invoice as it is issued.
    """
    if instance.status != InvoiceStatus.ISSUED or kwargs.get("raw"):
        return
    from comptoir.payments.actions import settlement_values

    InvoiceSettlement.objects.bulk_create(
        [InvoiceSettlement(invoice_id=instance.pk, **settlement_values(instance))],
        ignore_conflicts=True,
    )
    # Issuing saves the whole row; later saves of an issued document name their fields.
    if instance.corrects_id and kwargs.get("update_fields") is None:
        from comptoir.payments.actions import offset_corrected_invoice

        offset_corrected_invoice(instance, by=instance.issued_by)


def visible_parties_filter(user: Any, field: str = "party") -> Q | None:
    """Return the filter that narrows rows to the user's parties; None for everything."""
    if reads_everything(user):
        return None
    if is_sales_rep(user):
        return Q(**{f"{field}__sales_rep": user})
    return Q(pk__in=[])


def _scoped(queryset: QuerySet[Any], user: Any, field: str = "party") -> QuerySet[Any]:
    condition = visible_parties_filter(user, field)
    return queryset if condition is None else queryset.filter(condition)


def settlements_visible_to(user: Any) -> QuerySet[InvoiceSettlement]:
    return _scoped(InvoiceSettlement.objects.select_related("party"), user)


def payments_visible_to(user: Any) -> QuerySet[Payment]:
    return _scoped(Payment.objects.select_related("party"), user)


def open_settlements(party: Party | None = None) -> QuerySet[InvoiceSettlement]:
    """Return the invoices with something left to pay, oldest due first."""
    queryset = InvoiceSettlement.objects.filter(kind__in=RECEIVABLE_KINDS, open_amount__gt=0)
    if party is not None:
        queryset = queryset.filter(party=party)
    return queryset.order_by("due_date", "number")


@dataclass
class OpenItem:
    """Something a customer owes: an invoice, or one instalment of a scheduled invoice."""

    party_id: int
    invoice_id: int
    number: str
    issue_date: date
    due_date: date
    total_amount: Decimal
    open_amount: Decimal
    instalment: int | None = None

    @property
    def reference(self) -> str:
        if self.instalment is None:
            return self.number
        return f"{self.number} ({self.instalment})"


def open_items(*, party_ids: Any = None, due_before: date | None = None) -> list[OpenItem]:
    """Return every open invoice or instalment, optionally only those due before a date.

    One query over the settlement index, plus one over the instalments of the few invoices
    that have a schedule: instalments share the invoice's paid amount, earliest first.
    """
    queryset = InvoiceSettlement.objects.filter(kind__in=RECEIVABLE_KINDS, open_amount__gt=0)
    if party_ids is not None:
        queryset = queryset.filter(party_id__in=party_ids)
    rows = queryset.values_list(
        "invoice_id",
        "party_id",
        "number",
        "issue_date",
        "due_date",
        "total_amount",
        "paid_amount",
        "open_amount",
        "has_schedule",
    )
    if due_before is not None:
        # A scheduled invoice may have an instalment due before its last due date.
        rows = rows.filter(Q(due_date__lt=due_before) | Q(has_schedule=True))
    items: list[OpenItem] = []
    scheduled: dict[int, tuple[Any, ...]] = {}
    for row in rows.iterator(chunk_size=5000):
        invoice_id, party_id, number, issued, due, total, paid, open_, has_schedule = row
        if has_schedule:
            scheduled[invoice_id] = row
            continue
        items.append(OpenItem(party_id, invoice_id, number, issued, due, total, open_))
    if scheduled:
        by_invoice: dict[int, list[Instalment]] = defaultdict(list)
        for instalment in Instalment.objects.filter(invoice_id__in=list(scheduled)).order_by(
            "invoice_id", "position"
        ):
            by_invoice[instalment.invoice_id].append(instalment)
        for invoice_id, row in scheduled.items():
            _i, party_id, number, issued, _due, _total, paid, _open, _s = row
            instalments = by_invoice.get(invoice_id, [])
            shares = calculations.paid_per_instalment(paid, [i.amount for i in instalments])
            for instalment, share in zip(instalments, shares, strict=True):
                left = instalment.amount - share
                if left <= 0 or (due_before is not None and instalment.due_date >= due_before):
                    continue
                items.append(
                    OpenItem(
                        party_id,
                        invoice_id,
                        number,
                        issued,
                        instalment.due_date,
                        instalment.amount,
                        left,
                        instalment=instalment.position,
                    )
                )
    return items


def instalments_of(invoice: Invoice) -> list[dict[str, Any]]:
    """Return an invoice's schedule with what is paid and left on each instalment."""
    instalments = list(Instalment.objects.filter(invoice=invoice).order_by("position"))
    settlement = InvoiceSettlement.objects.filter(invoice=invoice).first()
    paid = settlement.paid_amount if settlement else ZERO
    shares = calculations.paid_per_instalment(paid, [i.amount for i in instalments])
    return [
        {"instalment": i, "paid": share, "open": i.amount - share}
        for i, share in zip(instalments, shares, strict=True)
    ]


# -- one document's settlement ----------------------------------------------------------------


# What ``receivable_state`` says, in words.
RECEIVABLE_STATE_LABELS = {
    "unpaid": gettext_lazy("Unpaid"),
    "partially_paid": gettext_lazy("Partially paid"),
    "paid": gettext_lazy("Paid"),
    "partially_credited": gettext_lazy("Partially credited"),
    "credited": gettext_lazy("Cancelled by credit note"),
}


def receivable_state(open_amount: Decimal, paid: Decimal, credited: Decimal) -> str:
    """Return an invoice's payment state, money received told apart from credit notes."""
    if open_amount <= 0:
        return "paid" if paid > 0 else "credited"
    if paid > 0:
        return "partially_paid"
    return "partially_credited" if credited > 0 else "unpaid"


def credited_amounts(settlements: list[InvoiceSettlement]) -> None:
    """Set on each open invoice its credit notes' part, its money part and state: one query.

    ``credited`` is what credit notes settled, ``received`` the money, ``state_key`` what
    ``receivable_state`` says of them.
    """
    credited: dict[int, Decimal] = dict(
        Allocation.objects.filter(
            invoice_id__in=[s.invoice_id for s in settlements], credit_note__isnull=False
        )
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    )
    for settlement in settlements:
        credit = credited.get(settlement.invoice_id, ZERO)
        received = settlement.paid_amount - credit
        settlement.credited = credit  # type: ignore[attr-defined]
        settlement.received = received  # type: ignore[attr-defined]
        settlement.state_key = receivable_state(  # type: ignore[attr-defined]
            settlement.open_amount, received, credit
        )


def settlement_of(invoice: Invoice) -> dict[str, Any] | None:
    """Return how an issued invoice or credit note was settled, money apart from credit notes.

    Two queries: the settlement row and the allocations a credit note makes (on an invoice:
    the credit notes set against it; on a credit note: the invoices it was set against). An
    invoice's ``paid`` is the money received; a credit note's is the money refunded.
    """
    settlement = InvoiceSettlement.objects.filter(invoice=invoice).first()
    if settlement is None:
        return None
    rows: list[tuple[Invoice | None, Decimal]]
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        offsets = Allocation.objects.filter(credit_note=invoice).select_related("invoice")
        rows = [(a.invoice, a.amount) for a in offsets.order_by("date", "pk")]
    else:
        offsets = Allocation.objects.filter(invoice=invoice, credit_note__isnull=False)
        rows = [(a.credit_note, a.amount) for a in offsets.select_related("credit_note")]
    offset = sum((amount for _d, amount in rows), ZERO)
    paid = settlement.paid_amount - offset
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        state = "refunded" if settlement.open_amount <= 0 else "open"
    else:
        state = receivable_state(settlement.open_amount, paid, offset)
    return {
        "settlement": settlement,
        "state": state,
        "offsets": [{"document": document, "amount": amount} for document, amount in rows],
        "offset_amount": offset,
        "paid_amount": paid,
        "open_amount": settlement.open_amount,
    }


# -- customer account --------------------------------------------------------------------------


def customer_credit(party: Party) -> Decimal:
    """Return what the customer paid and was not allocated yet."""
    totals = Payment.objects.filter(party=party, direction=PaymentDirection.RECEIPT).aggregate(
        amount=Sum("amount"), allocated=Sum("allocated_amount")
    )
    return (totals["amount"] or ZERO) - (totals["allocated"] or ZERO)


def customer_balance(party: Party) -> Decimal:
    """Return what the customer owes: open invoices − open credit notes − unused payments."""
    sums = dict(
        InvoiceSettlement.objects.filter(party=party)
        .values_list("kind")
        .annotate(total=Sum("open_amount"))
        .values_list("kind", "total")
    )
    receivable = sum((sums.get(kind) or ZERO for kind in RECEIVABLE_KINDS), ZERO)
    return receivable - (sums.get(InvoiceKind.CREDIT_NOTE) or ZERO) - customer_credit(party)


def statement_of_account(party: Party, *, start: date, end: date) -> dict[str, Any]:
    """Return the movements of a customer's account over a period, with running balance.

    Debits: invoices and refunds; credits: credit notes and payments received.
    """
    documents = InvoiceSettlement.objects.filter(party=party)
    payments = Payment.objects.filter(party=party)

    def signed_documents(queryset: QuerySet[InvoiceSettlement]) -> Decimal:
        total = ZERO
        for kind, amount in queryset.values_list("kind", "total_amount"):
            total += -amount if kind == InvoiceKind.CREDIT_NOTE else amount
        return total

    def signed_payments(queryset: QuerySet[Payment]) -> Decimal:
        total = ZERO
        for direction, amount in queryset.values_list("direction", "amount"):
            total += amount if direction == PaymentDirection.REFUND else -amount
        return total

    opening = signed_documents(documents.filter(issue_date__lt=start)) + signed_payments(
        payments.filter(date__lt=start)
    )
    movements: list[dict[str, Any]] = []
    for settlement in documents.filter(issue_date__gte=start, issue_date__lte=end):
        credit = settlement.kind == InvoiceKind.CREDIT_NOTE
        movements.append(
            {
                "date": settlement.issue_date,
                "rank": (MOVEMENT_RANK["credit_note"] if credit else MOVEMENT_RANK["invoice"]),
                "order": settlement.number,
                "label": (_("Credit note %(n)s") if credit else _("Invoice %(n)s"))
                % {"n": settlement.number},
                "due_date": None if credit else settlement.due_date,
                "debit": ZERO if credit else settlement.total_amount,
                "credit": settlement.total_amount if credit else ZERO,
            }
        )
    for payment in payments.filter(date__gte=start, date__lte=end):
        refund = payment.direction == PaymentDirection.REFUND
        movements.append(
            {
                "date": payment.date,
                "rank": MOVEMENT_RANK["refund" if refund else "payment"],
                "order": f"{payment.pk:012d}",
                "label": (
                    _("Refund (%(method)s) %(ref)s")
                    if refund
                    else _("Payment (%(method)s) %(ref)s")
                )
                % {"method": payment.get_method_display(), "ref": payment.reference},
                "due_date": None,
                "debit": payment.amount if refund else ZERO,
                "credit": ZERO if refund else payment.amount,
            }
        )
    # On one day: the invoice before the credit notes that correct it, then the money (by
    # number, by recording order), so the running balance never dips below what is owed.
    movements.sort(key=lambda m: (m["date"], m["rank"], m["order"]))
    balance = opening
    for movement in movements:
        balance += movement["debit"] - movement["credit"]
        movement["balance"] = balance
    open_documents = list(open_settlements(party))
    return {
        "party": party,
        "start": start,
        "end": end,
        "opening": opening,
        "movements": movements,
        "closing": balance,
        "open_items": open_documents,
        "aged": calculations.aged_balance(
            [(s.due_date, s.open_amount) for s in open_documents], end
        ),
    }


# -- aged balance and DSO ----------------------------------------------------------------------


def aged_balance_by_customer(
    user: Any, on: date
) -> tuple[list[dict[str, Any]], dict[str, Decimal]]:
    """Return per customer the open amounts by age bucket, and the overall line."""
    per_party: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    names: dict[int, str] = {}
    queryset = _scoped(
        InvoiceSettlement.objects.filter(kind__in=RECEIVABLE_KINDS, open_amount__gt=0), user
    )
    for party_id, due, amount in queryset.values_list("party_id", "due_date", "open_amount"):
        per_party[party_id].append((due, amount))
    names = dict(Party.objects.filter(pk__in=list(per_party)).values_list("pk", "name"))
    rows = []
    everything: list[tuple[date, Decimal]] = []
    for party_id, items in per_party.items():
        everything.extend(items)
        rows.append(
            {
                "party_id": party_id,
                "name": names.get(party_id, ""),
                **calculations.aged_balance(items, on),
            }
        )
    rows.sort(key=lambda r: (-r["total"], r["name"]))
    return rows, calculations.aged_balance(everything, on)


def dso(user: Any, on: date, days: int = DSO_DAYS) -> Decimal | None:
    """Return days sales outstanding over the last `days` days (count-back on sales incl. VAT)."""
    receivables = (
        _scoped(
            InvoiceSettlement.objects.filter(kind__in=RECEIVABLE_KINDS, open_amount__gt=0), user
        ).aggregate(total=Sum("open_amount"))["total"]
        or ZERO
    )
    sales = (
        _scoped(
            InvoiceSettlement.objects.filter(
                kind__in=RECEIVABLE_KINDS,
                issue_date__gt=on - timedelta(days=days),
                issue_date__lte=on,
            ),
            user,
        ).aggregate(total=Sum("total_amount"))["total"]
        or ZERO
    )
    return calculations.dso(receivables, sales, days)


def overdue_amount(user: Any, on: date) -> Decimal:
    return (
        _scoped(
            InvoiceSettlement.objects.filter(
                kind__in=RECEIVABLE_KINDS, open_amount__gt=0, due_date__lt=on
            ),
            user,
        ).aggregate(total=Sum("open_amount"))["total"]
        or ZERO
    )


def overdue_tile(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("payments.view_payment"):
        return None
    amount = overdue_amount(user, timezone.localdate())
    return {
        "title": _("Overdue amount"),
        "value": f"{format_amount(amount)} €",
        "url": reverse("payments:aged_balance"),
    }


def dso_tile(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("payments.view_payment"):
        return None
    value = dso(user, timezone.localdate())
    return {
        "title": _("DSO (last 90 days)"),
        "value": _("%(days)s days") % {"days": number_format(value, decimal_pos=1)}
        if value is not None
        else "—",
        "url": reverse("payments:aged_balance"),
    }


# -- matching ----------------------------------------------------------------------------------


def matching_candidates(party_ids: Any = None) -> list[calculations.Candidate]:
    """Return every open invoice (and open credit note, for debits) as matching candidates."""
    queryset = InvoiceSettlement.objects.filter(open_amount__gt=0)
    if party_ids is not None:
        queryset = queryset.filter(party_id__in=party_ids)
    rows = list(
        queryset.values_list(
            "invoice_id",
            "number",
            "party_id",
            "party__name",
            "open_amount",
            "kind",
            "invoice__buyer_reference",
            "invoice__purchase_order_reference",
        )
    )
    ibans: dict[int, set[str]] = defaultdict(set)
    for party_id, iban in SepaMandate.objects.values_list("party_id", "iban"):
        ibans[party_id].add(calculations.compact(iban))
    for party_id, iban in Payment.objects.exclude(payer_iban="").values_list(
        "party_id", "payer_iban"
    ):
        ibans[party_id].add(calculations.compact(iban))
    return [
        calculations.Candidate(
            key=invoice_id,
            number=number,
            party_key=party_id,
            party_name=name,
            open_amount=-open_ if kind == InvoiceKind.CREDIT_NOTE else open_,
            references=tuple(r for r in (buyer_ref, po_ref) if r and len(r) >= 4),
            ibans=tuple(ibans.get(party_id, ())),
        )
        for invoice_id, number, party_id, name, open_, kind, buyer_ref, po_ref in rows
    ]


# Why a bank line probably pays these invoices (calculations.propose_matches), in words.
MATCH_REASONS = {
    "name": gettext_lazy("the customer's name is in the label"),
    "iban": gettext_lazy("the customer's IBAN"),
    "number": gettext_lazy("the invoice number is in the label"),
    "reference": gettext_lazy("the customer's reference is in the label"),
    "amount": gettext_lazy("the same amount"),
}


def proposals_for(
    lines: list[StatementLine], candidates: list[calculations.Candidate] | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Return, per bank line, its matching proposals with their invoices."""
    if candidates is None:
        candidates = matching_candidates()
    credits = [c for c in candidates if c.open_amount > 0]
    debits = [c for c in candidates if c.open_amount < 0]
    result: dict[int, list[dict[str, Any]]] = {}
    wanted: set[int] = set()
    raw: dict[int, list[calculations.Proposal]] = {}
    for line in lines:
        if line.status != StatementLineStatus.UNMATCHED:
            continue
        pool = credits if line.amount > 0 else debits
        text = " ".join([line.label, line.reference, line.counterparty_name])
        raw[line.pk] = calculations.propose_matches(
            amount=abs(line.amount) if line.amount > 0 else line.amount,
            text=text,
            iban=line.counterparty_iban,
            candidates=pool,
        )
        for proposal in raw[line.pk]:
            wanted.update(proposal.keys)
    invoices = Invoice.objects.in_bulk(list(wanted))
    for line_pk, proposals in raw.items():
        result[line_pk] = [
            {
                "invoices": [invoices[k] for k in p.keys if k in invoices],
                "keys": ",".join(str(k) for k in p.keys),
                "score": p.score,
                "reasons": p.reasons,
                "reason_labels": [str(MATCH_REASONS.get(r, r)) for r in p.reasons],
            }
            for p in proposals
        ]
    return result


def unmatched_lines(user: Any) -> QuerySet[StatementLine]:
    if not reads_everything(user):
        return StatementLine.objects.none()
    return StatementLine.objects.filter(status=StatementLineStatus.UNMATCHED).select_related(
        "statement"
    )
