"""Batch invoicing: every delivered, uninvoiced order line, one invoice per customer.

Orders with a document discount get an invoice each (see ``batches``).

Each customer's invoice is created, issued and linked to its delivery lines in its own
transaction. A run killed half-way leaves whole invoices behind and nothing else; the next
run only finds what is still uninvoiced, so running again never invoices twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from comptoir.core.audit import record_audit
from comptoir.core.models import AuditEntry
from comptoir.documents.rendering import RenderingError
from comptoir.invoicing import from_orders
from comptoir.invoicing.models import Invoice
from comptoir.invoicing.order_links import InvoicingRun, InvoicingRunStatus, OrderInvoiceLink
from comptoir.invoicing.validation import EInvoiceInvalid, SchematronUnavailable
from comptoir.sales.states import OrderStatus
from comptoir.stock.models import DeliveryLine
from comptoir.stock.states import DeliveryStatus


def uninvoiced_delivery_lines(until: date) -> QuerySet[DeliveryLine]:
    """Lines of deliveries shipped up to ``until`` that no invoice covers yet."""
    return (
        DeliveryLine.objects.filter(
            delivery__status=DeliveryStatus.SHIPPED, delivery__shipped_date__lte=until
        )
        .exclude(delivery__order__status=OrderStatus.CANCELLED)
        .exclude(Exists(OrderInvoiceLink.objects.filter(delivery_line=OuterRef("pk"))))
        .exclude(
            # Invoiced as ordered (whole order) before it was delivered.
            Exists(
                OrderInvoiceLink.objects.filter(
                    order_line=OuterRef("order_line"), delivery_line__isnull=True
                )
            )
        )
    )


@dataclass(frozen=True)
class Batch:
    """The delivery lines of one future invoice: one customer, discount and currency.

    A customer whose orders carry different discounts or currencies has several batches, so
    progress counts batches (invoices), not customers.
    """

    party_id: int
    party_name: str
    delivery_line_ids: tuple[int, ...]


def batches(until: date) -> list[Batch]:
    """Group the uninvoiced delivery lines by customer (and discount, currency), by name.

    Orders without a document discount share their customer's invoice: each line's net is
    its order's, so what the invoice bills of each order is known to the cent and the invoice
    that completes an order absorbs its rounding. An order with a document discount gets an
    invoice of its own: a discount rounded once over several orders' lines belongs to none of
    them, and the order's invoices could then not be brought to the order to the cent.
    """
    groups: dict[tuple[int, str, Decimal, str, int], list[int]] = defaultdict(list)
    rows = uninvoiced_delivery_lines(until).values_list(
        "pk",
        "delivery__order__party_id",
        "delivery__order__party__name",
        "delivery__order__discount_rate",
        "delivery__order__currency",
        "delivery__order_id",
    )
    for pk, party_id, name, discount, currency, order_id in rows.order_by("pk"):
        groups[(party_id, name, discount, currency, order_id if discount else 0)].append(pk)
    return [
        Batch(party_id=key[0], party_name=key[1], delivery_line_ids=tuple(ids))
        for key, ids in sorted(
            groups.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2], kv[0][4])
        )
    ]


@dataclass
class RunResult:
    batches: int = 0
    invoices: list[str] = field(default_factory=list)
    skipped: int = 0


def run_batch_invoicing(
    *,
    until: date,
    by: Any,
    dry_run: bool = False,
    issue_date: date | None = None,
    on_batch: Callable[[Batch, str | None], None] | None = None,
    produce_documents: bool = True,
) -> RunResult:
    """Invoice and issue every batch; call ``on_batch(batch, number)`` after each one."""
    result = RunResult()
    for batch in batches(until):
        result.batches += 1
        number = None
        if not dry_run:
            invoice = from_orders.invoice_delivery_lines(
                batch.delivery_line_ids,
                by=by,
                issue=True,
                issue_date=issue_date,
                produce_documents=produce_documents,
            )
            if invoice is None:
                result.skipped += 1
            else:
                number = invoice.number
                result.invoices.append(invoice.number or "")
        if on_batch is not None:
            on_batch(batch, number)
    return result


@task()
def run_invoicing(run_id: int) -> int:
    """The background task behind the screen: run, and write progress on the run row."""
    from comptoir.core.models import User

    run = InvoicingRun.objects.get(pk=run_id)
    by = User.objects.filter(pk=run.created_by_id).first()
    InvoicingRun.objects.filter(pk=run_id).update(
        status=InvoicingRunStatus.RUNNING, total=len(batches(run.until))
    )
    counts = {"done": 0, "invoices": 0}
    issued: list[str] = []

    def progress(batch: Batch, number: str | None) -> None:
        counts["done"] += 1
        counts["invoices"] += 1 if number else 0
        if number:
            issued.append(number)
        InvoicingRun.objects.filter(pk=run_id).update(
            done=counts["done"], invoice_count=counts["invoices"]
        )

    try:
        run_batch_invoicing(until=run.until, by=by, on_batch=progress)
    except Exception as exc:
        InvoicingRun.objects.filter(pk=run_id).update(
            status=InvoicingRunStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    finally:
        # The numbers are what the run page lists once it is over (done or failed half-way).
        record_audit(by, "finish_invoicing_run", run, invoices=issued)
    InvoicingRun.objects.filter(pk=run_id).update(
        status=InvoicingRunStatus.DONE, finished_at=timezone.now()
    )
    return counts["invoices"]


def invoices_of_run(run: InvoicingRun) -> QuerySet[Invoice]:
    """The invoices a finished run issued (the numbers its closing audit entry lists)."""
    entry = (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(InvoicingRun),
            object_id=str(run.pk),
            action="finish_invoicing_run",
        )
        .order_by("-pk")
        .first()
    )
    numbers = entry.changes.get("invoices", []) if entry is not None else []
    return Invoice.objects.filter(number__in=numbers).select_related("party").order_by("number")


def start_invoicing_run(*, until: date, by: Any) -> InvoicingRun:
    """Record a run and queue it for the worker once the transaction commits."""
    from django.db import transaction

    with transaction.atomic():
        run = InvoicingRun.objects.create(
            until=until, created_by=by if getattr(by, "pk", None) else None
        )
        record_audit(by, "start_invoicing_run", run, until=until)
        transaction.on_commit(lambda: run_invoicing.enqueue(run.pk))
    return run


def add_run_arguments(sub: Any) -> None:
    """Declare `comptoir invoices run [--until DATE] [--dry-run]`."""
    run = sub.add_parser("run", help=_("Invoice every delivered, uninvoiced order line."))
    run.add_argument(
        "--until",
        type=date.fromisoformat,
        help=_("Deliveries shipped up to YYYY-MM-DD (today)."),
    )
    run.add_argument("--dry-run", action="store_true", help=_("List the invoices, issue none."))


def handle_run(command: Any, options: dict[str, Any]) -> None:
    """Run the batch with a progress bar; safe to kill and run again."""
    from tqdm import tqdm

    until = options.get("until") or timezone.localdate()
    dry_run = options.get("dry_run", False)
    todo = batches(until)
    with tqdm(
        total=len(todo), unit="invoice", disable=not command.stdout.isatty(), desc=_("Invoicing")
    ) as bar:

        def step(batch: Batch, number: str | None) -> None:
            bar.update(1)
            if dry_run:
                command.stdout.write(
                    _("would invoice %(customer)s: %(count)s line(s)")
                    % {"customer": batch.party_name, "count": len(batch.delivery_line_ids)}
                )

        try:
            result = run_batch_invoicing(until=until, by=None, dry_run=dry_run, on_batch=step)
        except (ValidationError, RenderingError, EInvoiceInvalid, SchematronUnavailable) as exc:
            # Each invoice is issued whole or not at all: the failed one left nothing behind.
            reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(
                _(
                    "Invoicing stopped after %(count)s invoice(s): %(reason)s. The invoice "
                    "being made was not issued; fix the cause and run the command again."
                )
                % {"count": bar.n, "reason": reason}
            ) from None
    if dry_run:
        command.stdout.write(_("%(count)s invoice(s) would be issued") % {"count": result.batches})
    else:
        command.stdout.write(_("%(count)s invoice(s) issued") % {"count": len(result.invoices)})
