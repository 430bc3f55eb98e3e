"""The customers' overdue invoices and instalments, as an overdue source for the engine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db.models import F, Max, Sum

from comptoir.dunning.engine import OverdueItem
from comptoir.invoicing.models import InvoiceKind
from comptoir.parties.models import Contact, Party
from comptoir.payments.actions import sync_settlements
from comptoir.payments.models import InvoiceSettlement, Payment, PaymentDirection
from comptoir.payments.selectors import open_items


class CustomerReceivables:
    """Issued invoices (or their instalments) past due and not fully paid."""

    name = "customer"

    def overdue_items(self, on: date) -> Iterable[OverdueItem]:
        """Open items due before `on`, less the customer's credit (open credit notes and
        unallocated payments), which covers the oldest items first: nobody is chased for
        what they have already paid or been credited."""
        sync_settlements()
        credit = _available_credit()
        items = sorted(open_items(due_before=on), key=lambda i: (i.party_id, i.due_date))
        for item in items:
            left = credit.get(item.party_id, Decimal("0.00"))
            if left > 0:
                used = min(left, item.open_amount)
                credit[item.party_id] = left - used
                item.open_amount -= used
                if item.open_amount <= 0:
                    continue
            key = f"invoice:{item.invoice_id}"
            if item.instalment is not None:
                key = f"{key}:{item.instalment}"
            yield OverdueItem(
                party_id=item.party_id,
                key=key,
                reference=item.reference,
                due_date=item.due_date,
                total_amount=item.total_amount,
                open_amount=item.open_amount,
                issue_date=item.issue_date,
            )

    def last_payments(self) -> dict[int, date]:
        return dict(
            Payment.objects.filter(direction=PaymentDirection.RECEIPT)
            .values("party_id")
            .annotate(last=Max("date"))
            .values_list("party_id", "last")
        )

    def recipients(self, party_ids: list[int]) -> dict[int, str]:
        """The billing contact's email, else the primary contact's, else the party's."""
        wanted = set(party_ids)
        emails = {
            pk: email
            for pk, email in Party.objects.exclude(email="").values_list("pk", "email")
            if pk in wanted
        }
        contacts = Contact.objects.filter(is_active=True).exclude(email="")
        ranked: dict[int, tuple[int, str]] = {}
        for party_id, email, functions, primary in contacts.values_list(
            "party_id", "email", "functions", "is_primary"
        ):
            if party_id not in wanted:
                continue
            rank = 0 if "billing" in (functions or []) else (1 if primary else 2)
            if party_id not in ranked or rank < ranked[party_id][0]:
                ranked[party_id] = (rank, email)
        for party_id, (_rank, email) in ranked.items():
            emails[party_id] = email
        return emails

    def names(self, party_ids: list[int]) -> dict[int, str]:
        wanted = set(party_ids)
        return {pk: name for pk, name in Party.objects.values_list("pk", "name") if pk in wanted}


def _available_credit() -> dict[int, Decimal]:
    """Return each party's open credit notes plus unallocated payments received."""
    credit: dict[int, Decimal] = {}
    notes = (
        InvoiceSettlement.objects.filter(kind=InvoiceKind.CREDIT_NOTE, open_amount__gt=0)
        .values("party_id")
        .annotate(total=Sum("open_amount"))
        .values_list("party_id", "total")
    )
    unallocated = (
        Payment.objects.filter(direction=PaymentDirection.RECEIPT, allocated_amount__lt=F("amount"))
        .values("party_id")
        .annotate(total=Sum(F("amount") - F("allocated_amount")))
        .values_list("party_id", "total")
    )
    for party_id, total in [*notes, *unallocated]:
        credit[party_id] = credit.get(party_id, Decimal("0.00")) + total
    return credit
