"""Deliveries (with backorders), stock moves, and each product's reorder level."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.stock.states import DeliveryStatus

ZERO = Decimal("0")


class ProductStock(models.Model):
    """Stock settings of a product: below ``reorder_level`` available, it shows in the alerts."""

    product = models.OneToOneField(
        "catalogue.Product", on_delete=models.CASCADE, related_name="stock_settings"
    )
    reorder_level = models.DecimalField(
        _("reorder level"), max_digits=14, decimal_places=3, default=ZERO
    )
    reorder_quantity = models.DecimalField(
        _("quantity to reorder"), max_digits=14, decimal_places=3, default=ZERO
    )

    class Meta:
        verbose_name = _("product stock settings")
        verbose_name_plural = _("product stock settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(reorder_level__gte=0) & Q(reorder_quantity__gte=0),
                name="productstock_levels_not_negative",
            )
        ]

    def __str__(self) -> str:
        return str(self.product)


class Delivery(models.Model):
    """A delivery note: what leaves for one order; shipping less creates a backorder."""

    number = models.CharField(_("number"), max_length=35, unique=True)
    order = models.ForeignKey(
        "sales.Order", verbose_name=_("order"), on_delete=models.PROTECT, related_name="deliveries"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.DRAFT,
        db_index=True,
    )
    planned_date = models.DateField(_("planned date"), null=True, blank=True)
    shipped_date = models.DateField(_("shipped on"), null=True, blank=True, db_index=True)
    backorder_of = models.ForeignKey(
        "self",
        verbose_name=_("backorder of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="backorders",
    )
    delivery_address = models.ForeignKey(
        "parties.Address",
        verbose_name=_("delivery address"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return self.number

    @property
    def reference(self) -> str:
        return self.number

    @property
    def party(self) -> models.Model:
        return self.order.party


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        "sales.OrderLine", on_delete=models.PROTECT, related_name="delivery_lines"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)

    class Meta:
        verbose_name = _("delivery line")
        verbose_name_plural = _("delivery lines")
        ordering = ["delivery", "order_line__position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="deliveryline_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["delivery", "order_line"], name="deliveryline_one_per_order_line"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_line} × {self.quantity}"

    @property
    def remaining_after(self) -> Decimal:
        """What the order line still has to deliver once this note has left.

        A shipped note is already counted in the order line's delivered quantity; a note
        still to ship is not, so it is taken off here.
        """
        remaining = self.order_line.remaining_quantity
        if self.delivery.status == DeliveryStatus.DRAFT:
            remaining -= self.quantity
        return max(remaining, ZERO)


class StockMoveKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ADJUSTMENT = "adjustment", _("Inventory adjustment")
    DELIVERY = "delivery", _("Delivery")


class StockMove(models.Model):
    """A quantity in (positive) or out (negative) of the warehouse; on hand is their sum."""

    product = models.ForeignKey(
        "catalogue.Product", on_delete=models.PROTECT, related_name="stock_moves"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    kind = models.CharField(_("kind"), max_length=16, choices=StockMoveKind.choices)
    delivery_line = models.OneToOneField(
        DeliveryLine, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_move"
    )
    moved_at = models.DateTimeField(_("moved at"), default=timezone.now, db_index=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")
        ordering = ["-moved_at", "-pk"]
        indexes = [models.Index(fields=["product", "moved_at"], name="stockmove_product_idx")]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="stockmove_not_zero")]

    def __str__(self) -> str:
        return f"{self.product} {self.quantity:+}"
