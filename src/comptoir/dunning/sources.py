"""The customers' overdue invoices and instalments, as an overdue source for the engine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Max

from comptoir.dunning.engine import OverdueItem
from comptoir.parties.models import Contact, Party
from comptoir.payments.actions import sync_settlements
from comptoir.payments.models import Payment, PaymentDirection
from comptoir.payments.selectors import open_items


class CustomerReceivables:
    """Issued invoices (or their instalments) past due and not fully paid."""

    name = "customer"

    def overdue_items(self, on: date) -> Iterable[OverdueItem]:
        sync_settlements()
        for item in open_items(due_before=on):
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
