"""What links invoices to orders and deliveries, and the batch invoicing runs.

``OrderInvoiceLink`` says which quantity of an order line (and of which delivery line) an
invoice line invoices. The database refuses a delivery line invoiced twice, and a whole-order
line invoiced twice; the actions in ``from_orders`` also check, under the order's row lock,
that no more than was ordered is ever invoiced. Deleting a draft invoice deletes its links,
which frees the quantities again.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderInvoiceLink(models.Model):
    order = models.ForeignKey("sales.Order", on_delete=models.PROTECT, related_name="invoice_links")
    # Empty for a down-payment line, which invoices part of the whole order.
    order_line = models.ForeignKey(
        "sales.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_links",
    )
    # Empty when the order line is invoiced as ordered, before or without delivery.
    delivery_line = models.ForeignKey(
        "stock.DeliveryLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_links",
    )
    invoice_line = models.ForeignKey(
        "invoicing.InvoiceLine", on_delete=models.CASCADE, related_name="order_links"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)

    class Meta:
        verbose_name = _("order invoicing link")
        verbose_name_plural = _("order invoicing links")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderlink_quantity_positive"),
            models.UniqueConstraint(
                fields=["delivery_line"],
                condition=Q(delivery_line__isnull=False),
                name="orderlink_delivery_line_once",
            ),
            models.UniqueConstraint(
                fields=["order_line"],
                condition=Q(delivery_line__isnull=True, order_line__isnull=False),
                name="orderlink_whole_order_line_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.order_line_id} × {self.quantity}"


class InvoicingRunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class InvoicingRun(models.Model):
    """One batch invoicing run started from the screen: its progress, as the worker writes it."""

    until = models.DateField(_("deliveries up to"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvoicingRunStatus.choices,
        default=InvoicingRunStatus.QUEUED,
    )
    total = models.PositiveIntegerField(_("customers to invoice"), default=0)
    done = models.PositiveIntegerField(_("customers invoiced"), default=0)
    invoice_count = models.PositiveIntegerField(_("invoices issued"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("invoicing run")
        verbose_name_plural = _("invoicing runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.until} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == InvoicingRunStatus.DONE else 0
        return int(Decimal(self.done) * 100 / Decimal(self.total))
