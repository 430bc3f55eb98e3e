"""Invoice reads with business meaning: what a user may see, what to export."""

from __future__ import annotations

from datetime import date
from typing import Any

from comptoir.core.roles import is_sales_rep, reads_everything
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing.models import Invoice, InvoiceQuerySet


def invoices_visible_to(user: Any) -> InvoiceQuerySet:
    """Return the invoices a user may read: all for back office and accountant, own
    customers' for a sales rep, none otherwise."""
    queryset = Invoice.objects.select_related("party")
    if reads_everything(user):
        return queryset
    if is_sales_rep(user):
        try:
            from comptoir.parties.selectors import parties_visible_to
        except ImportError:
            return queryset.filter(party__sales_rep=user)
        return queryset.filter(party__in=parties_visible_to(user))
    return queryset.none()


def issued_documents(*, number: str | None = None, since: date | None = None) -> InvoiceQuerySet:
    """Return issued invoices and credit notes in chain order, optionally narrowed."""
    queryset = Invoice.objects.issued().select_related("corrects").order_by("chain_index")
    if number:
        queryset = queryset.filter(number=number)
    if since:
        queryset = queryset.filter(issue_date__gte=since)
    return queryset


def archived_pdf(invoice: Invoice) -> ArchivedDocument | None:
    """Return the archived Factur-X PDF of an issued document."""
    if not invoice.number:
        return None
    return ArchivedDocument.objects.filter(reference=invoice.number).first()
