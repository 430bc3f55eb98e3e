"""Two years of sales history for the demo company: quotes, orders, deliveries, invoices.

Everything goes through the real actions (pricing, totals, numbering, Factur-X, archive), in
date order so the legal numbers follow the issue dates. Seasonality: busy September to
November and in January, quiet in August. A few customers pay late (their invoices stay
open past due); a few disputes end in credit notes. The last three months keep their quote and
delivery-note PDFs, and every customer its latest of each (the Documents list shows more than
invoices); older ones have none, to keep `make demo` fast. Every invoice and credit note has its
Factur-X.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from comptoir.catalogue.models import Product, ProductKind
from comptoir.core.models import AuditEntry, User
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import from_orders
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.sales import actions as sales_actions
from comptoir.sales.models import FollowUpTask, Quote
from comptoir.stock import actions as stock_actions
from comptoir.stock.models import Delivery, StockMove
from comptoir.stock.states import DeliveryStatus

if TYPE_CHECKING:
    from comptoir.demo.builder import DemoReport, Generator

MONTHS = 24
# Orders a month, by calendar month: the back-to-school and year-end peaks, the August lull.
SEASON = {1: 12, 2: 9, 3: 10, 4: 9, 5: 8, 6: 9, 7: 6, 8: 3, 9: 14, 10: 15, 11: 13, 12: 8}
ACTIVE_CUSTOMERS = 90
DOCUMENT_MONTHS = 3  # the last months keep their quote and delivery-note PDFs


def _month_starts(today: date) -> list[date]:
    first = today.replace(day=1)
    starts = []
    year, month = first.year, first.month
    for _ in range(MONTHS):
        starts.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return sorted(starts)


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


class AuditClock:
    """Date the audit entries and archived PDFs written since the last stamp with their day.

    The build runs in business-date order: a document's history and a customer's Documents
    list then read the day things happened, not the day the demo was built.
    """

    def __init__(self) -> None:
        self.marks = {model: self._last(model) for model in (AuditEntry, ArchivedDocument)}

    @staticmethod
    def _last(model: type[AuditEntry] | type[ArchivedDocument]) -> int:
        return model.objects.aggregate(last=Max("pk"))["last"] or 0

    def stamp(self, day: date, hour: int) -> None:
        at = min(_aware(day, hour), timezone.now())  # today's work: never in the future
        for model, field in ((AuditEntry, "at"), (ArchivedDocument, "created_at")):
            last = self._last(model)
            if last > self.marks[model]:
                rows = model.objects.filter(pk__gt=self.marks[model], pk__lte=last)
                rows.update(**{field: at})
            self.marks[model] = last


def _day_in(month: date, rng_day: int, today: date) -> date:
    last = calendar.monthrange(month.year, month.month)[1]
    day = month.replace(day=min(rng_day, last))
    return min(day, today)


def build_sales_history(gen: Generator, users: dict[str, User], report: DemoReport) -> None:
    """Create the demo's two years of quotes, orders, deliveries, invoices and credit notes."""
    rng = gen.rng
    today = timezone.localdate()
    assistant = users["sophie"]
    customers = list(
        Party.objects.filter(is_customer=True, is_active=True).order_by("pk")[:ACTIVE_CUSTOMERS]
    )
    late_payers = set(rng.sample([c.pk for c in customers], 6))
    goods = list(Product.objects.filter(active=True, kind=ProductKind.GOODS).order_by("pk"))
    services = list(Product.objects.filter(active=True, kind=ProductKind.SERVICE).order_by("pk"))
    months = _month_starts(today)
    start = months[0]
    clock = AuditClock()
    with transaction.atomic():
        for product in goods:
            stock_actions.record_stock_move(
                product, quantity=Decimal(rng.randint(800, 2000)), kind="receipt", by=assistant
            )
            if rng.random() < 0.25:
                stock_actions.set_reorder_level(
                    product,
                    reorder_level=Decimal(rng.randint(150, 900)),
                    reorder_quantity=Decimal(500),
                    by=assistant,
                )
        StockMove.objects.update(moved_at=_aware(start - timedelta(days=1)))
        clock.stamp(start - timedelta(days=1), 8)
    counts: dict[str, int] = defaultdict(int)
    for month in months:
        recent = (today - month).days < 31 * DOCUMENT_MONTHS
        shipped: list[Delivery] = []
        for _ in range(SEASON[month.month] + rng.randint(-2, 2)):
            party = rng.choice(customers)
            day = _day_in(month, rng.randint(1, 24), today)
            lines = [
                {"product": product, "quantity": Decimal(rng.choice([1, 2, 3, 5, 10, 20, 50]))}
                for product in rng.sample(goods, rng.randint(1, 4))
            ]
            if rng.random() < 0.3:
                lines.append(
                    {"product": rng.choice(services), "quantity": Decimal(rng.randint(1, 8))}
                )
            with transaction.atomic():
                quote = sales_actions.create_quote(
                    party=party,
                    by=assistant,
                    lines=lines,
                    issue_date=day,
                    discount_rate=Decimal(rng.choice([0, 0, 0, 5, 10])),
                    operation_category="mixed"
                    if len(lines) > 1 and lines[-1]["product"] in services
                    else "goods",
                )
                sales_actions.send_quote(quote, by=assistant, email=False, produce_documents=recent)
                Quote.objects.filter(pk=quote.pk).update(sent_at=_aware(day))
                clock.stamp(day, 10)
                counts["quotes"] += 1
                fate = rng.random()
                answered = min(day + timedelta(days=rng.randint(1, 12)), today)
                if fate < 0.12:
                    sales_actions.refuse_quote(
                        quote, reason="Budget reporté", ip=None, at=_aware(answered, 15)
                    )
                    clock.stamp(answered, 15)
                    continue
                if fate < 0.2 or day > today - timedelta(days=6):
                    continue  # left unanswered: expires, or waits for a follow-up
                contact = party.contacts.order_by("pk").first()
                sales_actions.accept_quote(
                    quote,
                    name=str(contact) if contact else party.name,
                    ip="192.0.2.10",
                    at=_aware(answered, 15),
                )
                clock.stamp(answered, 15)
                order = sales_actions.create_order_from_quote(
                    quote,
                    by=assistant,
                    order_date=answered,
                    customer_reference=f"BC-{answered:%y%m}-{rng.randint(100, 999)}",
                    promised_date=answered + timedelta(days=rng.randint(2, 10)),
                )
                counts["orders"] += 1
                partial = rng.random() < 0.2 and order.lines.count() > 1
                if not partial and rng.random() < 0.15 and order.total_amount > 800:
                    # The final invoice (the delivery's) deducts it.
                    from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal(30))
                clock.stamp(answered, 16)
                ship_day = min(answered + timedelta(days=rng.randint(1, 8)), today)
                if ship_day >= today - timedelta(days=2):
                    continue  # still to ship
                quantities = None
                if partial:
                    first = order.lines.order_by("position").first()
                    assert first is not None
                    quantities = {first.pk: first.quantity}
                delivery = stock_actions.create_delivery(
                    order, by=assistant, quantities=quantities, prepared_on=ship_day
                )
                shipped.append(
                    stock_actions.ship_delivery(
                        delivery, by=assistant, shipped_date=ship_day, produce_documents=recent
                    )
                )
                counts["deliveries"] += 1
                clock.stamp(ship_day, 11)
                if partial and rng.random() < 0.7:
                    backorder = delivery.backorders.first()
                    # Shipped within the year it was numbered in, like the notes shipped at once.
                    later = min(
                        ship_day + timedelta(days=rng.randint(3, 12)),
                        date(ship_day.year, 12, 31),
                        today,
                    )
                    if backorder is not None and later < today - timedelta(days=2):
                        shipped.append(
                            stock_actions.ship_delivery(
                                backorder,
                                by=assistant,
                                shipped_date=later,
                                produce_documents=recent,
                            )
                        )
                        counts["deliveries"] += 1
                        clock.stamp(later, 11)
        _invoice_month(month, today, assistant, counts)
        month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        clock.stamp(min(month_end, today), 18)
        if month.month % 3 == 0:
            _refresh_planner_statistics()
    _disputes(assistant, counts, late_payers, clock)
    _archive_latest_documents(assistant, clock)
    sales_actions.expire_quotes(today=today, by=assistant)
    sales_actions.create_follow_up_tasks(today=today, by=assistant)
    counts["follow-up tasks"] = FollowUpTask.objects.count()
    report.counts.update(counts)


def _archive_latest_documents(by: User, clock: AuditClock) -> None:
    """Archive each customer's latest quote and delivery note, when older than the recent months."""
    latest_quotes: dict[int, Quote] = {}
    for quote in Quote.objects.select_related("party").order_by("party", "-issue_date", "-pk"):
        latest_quotes.setdefault(quote.party_id, quote)
    latest_deliveries: dict[int, Delivery] = {}
    for delivery in (
        Delivery.objects.filter(status=DeliveryStatus.SHIPPED)
        .select_related("order__party")
        .order_by("order__party", "-shipped_date", "-pk")
    ):
        latest_deliveries.setdefault(delivery.order.party_id, delivery)
    with transaction.atomic():
        for quote in latest_quotes.values():
            sales_actions.archive_quote(quote, by=by)  # once: an archived one is kept
            clock.stamp(quote.issue_date, 10)  # as if sent then
        for delivery in latest_deliveries.values():
            stock_actions.archive_delivery_note(delivery, by=by)
            assert delivery.shipped_date is not None
            clock.stamp(delivery.shipped_date, 11)


def _refresh_planner_statistics() -> None:
    """Let PostgreSQL plan on the rows written so far (autovacuum cannot see an open transaction).

    Planned on empty-table statistics, the delivered-quantity query nests three scans and took
    14 s a call after a year of history; ANALYZE counts the transaction's own new rows.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _invoice_month(month: date, today: date, by: User, counts: dict[str, int]) -> None:
    """Issue the down payments, then bill the month's deliveries at month end (batch run)."""
    from comptoir.invoicing.batch import run_batch_invoicing
    from comptoir.invoicing.models import InvoiceKind, InvoiceStatus

    month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    issue_date = min(month_end, today)
    for draft in Invoice.objects.filter(
        kind=InvoiceKind.DOWN_PAYMENT, status=InvoiceStatus.DRAFT
    ).order_by("pk"):
        invoice_actions.issue_invoice(draft, by=by, issue_date=issue_date)
        counts["invoices"] += 1
    if month_end >= today:
        return  # the current month is billed at its end
    result = run_batch_invoicing(until=month_end, by=by, issue_date=issue_date)
    counts["invoices"] += len(result.invoices)


def _disputes(by: User, counts: dict[str, int], late_payers: set[int], clock: AuditClock) -> None:
    """A few disputes settled by credit notes, in issue order; flag the late payers."""
    from comptoir.invoicing.models import InvoiceKind, InvoiceStatus

    invoices = list(
        Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED).order_by(
            "issue_date", "pk"
        )
    )
    disputed = invoices[5::23]
    last = date.min
    for invoice in disputed:
        line = invoice.lines.filter(quantity__gt=1, deducted_invoice__isnull=True).first()
        if line is None:
            continue
        credit = invoice_actions.create_credit_note(
            invoice,
            by=by,
            lines=[(line, Decimal(1))],
            notes="Litige : article livré endommagé, repris.",
        )
        assert invoice.issue_date is not None
        issue_date = max(invoice.issue_date + timedelta(days=12), last)
        issue_date = min(issue_date, timezone.localdate())
        invoice_actions.issue_invoice(credit, by=by, issue_date=issue_date)
        clock.stamp(issue_date, 14)
        last = issue_date
        counts["credit notes"] += 1
    Party.objects.filter(pk__in=late_payers).update(
        notes="Payeur en retard : relancer avant toute nouvelle commande."
    )
    counts["late payers"] = len(late_payers)
