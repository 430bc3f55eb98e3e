"""The demo's two years of sales: consistent, chronological, valid, never invoiced twice."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Count, Min, Sum
from django.utils import timezone

from comptoir.core.models import AuditEntry
from comptoir.demo.builder import build_demo
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing.models import Invoice, InvoiceKind, InvoiceLine
from comptoir.invoicing.order_links import OrderInvoiceLink
from comptoir.parties.models import Party
from comptoir.sales.models import Order, Quote
from comptoir.sales.selectors import documents_of_party
from comptoir.stock.models import Delivery

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_two_years_of_sales_history() -> None:
    report = build_demo(seed=7)
    assert report.counts["quotes"] > 150
    assert report.counts["orders"] > 100
    assert 100 < report.counts["invoices"] < 400  # a few hundred: `make demo` stays fast
    assert report.counts["credit notes"] >= 3
    statuses = Counter(Quote.objects.values_list("status", flat=True))
    assert {"accepted", "refused", "expired"} <= set(statuses)
    issued = list(Invoice.objects.issued().order_by("chain_index"))
    assert len(issued) == report.counts["invoices"] + report.counts["credit notes"]
    # Numbers follow issue dates within each series and year.
    for kind_series in ("FA", "AV"):
        rows = [i for i in issued if i.number.startswith(kind_series)]
        by_number = sorted(rows, key=lambda i: i.number)
        assert [i.issue_date for i in by_number] == sorted(i.issue_date for i in by_number)
    # Every issued document has its archived Factur-X PDF (validated when issued).
    archived = set(ArchivedDocument.objects.values_list("reference", flat=True))
    assert {i.number for i in issued} <= archived
    # Seasonality: the autumn is busier than August.
    months = Counter(Order.objects.values_list("order_date__month", flat=True))
    assert months[10] > 2 * months[8]
    # Never a delivery line invoiced twice, never more than delivered.
    assert (
        not OrderInvoiceLink.objects.filter(delivery_line__isnull=False)
        .values("delivery_line")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    for row in (
        OrderInvoiceLink.objects.filter(delivery_line__isnull=False)
        .values("delivery_line", "delivery_line__quantity")
        .annotate(total=Sum("quantity"))
    ):
        assert row["total"] <= row["delivery_line__quantity"]
    # Down payments are deducted by final invoices; credit notes correct invoices.
    down_payments = Invoice.objects.issued().filter(kind=InvoiceKind.DOWN_PAYMENT)
    assert down_payments.exists()
    assert InvoiceLine.objects.filter(deducted_invoice__in=down_payments).exists()
    assert all(c.corrects_id for c in Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE))
    # A discounted order takes a down payment too; its final invoice discounts its goods only.
    assert InvoiceLine.objects.filter(
        deducted_invoice__in=down_payments, invoice__discount_rate__gt=0
    ).exists()
    # Goods sent to a customer's depot: the invoice names the delivery address (2026 mention).
    shipped_elsewhere = [i for i in issued if i.delivery_address_id]
    assert shipped_elsewhere
    assert all(i.buyer["delivery_address"] for i in shipped_elsewhere)
    assert all(i.buyer["delivery_address"] != i.buyer["address"] for i in shipped_elsewhere)
    assert Delivery.objects.filter(backorder_of__isnull=False).exists()
    assert Decimal(0) < sum(i.total_amount for i in issued if i.kind == InvoiceKind.INVOICE)
    # Every customer's Documents list holds more than invoices: its latest quote and
    # delivery note at least (once only the last two months had any).
    for party_id in set(Quote.objects.values_list("party", flat=True)):
        kinds = set(documents_of_party(Party(pk=party_id)).values_list("kind", flat=True))
        assert "quote_pdf" in kinds
    shipped = Delivery.objects.filter(status="shipped").values_list("order__party", flat=True)
    for party_id in set(shipped):
        kinds = set(documents_of_party(Party(pk=party_id)).values_list("kind", flat=True))
        assert "delivery_note_pdf" in kinds
    # Parties were created before their first document, not on the day the demo was built.
    today = timezone.localdate()
    first_quote = dict(
        Quote.objects.values("party")
        .annotate(first=Min("issue_date"))
        .values_list("party", "first")
    )
    created = {
        entry.object_id: entry.at for entry in AuditEntry.objects.filter(action="create_party")
    }
    for party in Party.objects.all():
        assert timezone.localdate(party.created_at) < today
        if party.pk in first_quote:
            assert timezone.localdate(party.created_at) < first_quote[party.pk]
        assert created[str(party.pk)] == party.created_at
    # Histories read the day things happened: the customer's answer, the payments.
    accepted = Quote.objects.filter(status="accepted").order_by("pk").first()
    assert accepted is not None
    answer = AuditEntry.objects.get(action="accept_quote", object_id=str(accepted.pk))
    assert answer.at == accepted.answered_at
    assert timezone.localdate(answer.at) < today
    oldest_payment = AuditEntry.objects.filter(action="record_payment").order_by("at").first()
    assert oldest_payment is not None
    assert timezone.localdate(oldest_payment.at).year < today.year
    # ...and the Documents list the day each PDF was produced.
    oldest_pdf = ArchivedDocument.objects.order_by("created_at").first()
    assert oldest_pdf is not None
    assert timezone.localdate(oldest_pdf.created_at).year < today.year
