"""Delivery statuses and the moves allowed between them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    DRAFT = "draft", _("To ship")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")


TRANSITIONS: dict[str, frozenset[str]] = {
    DeliveryStatus.DRAFT: frozenset({DeliveryStatus.SHIPPED, DeliveryStatus.CANCELLED}),
    DeliveryStatus.SHIPPED: frozenset(),
    DeliveryStatus.CANCELLED: frozenset(),
}
