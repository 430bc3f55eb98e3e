"""Quote and order statuses and the moves allowed between them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REFUSED = "refused", _("Refused")
    EXPIRED = "expired", _("Expired")
    # A later revision replaced it: kept read-only, as it was sent.
    SUPERSEDED = "superseded", _("Superseded")


QUOTE_TRANSITIONS: dict[str, frozenset[str]] = {
    QuoteStatus.DRAFT: frozenset({QuoteStatus.SENT, QuoteStatus.SUPERSEDED}),
    QuoteStatus.SENT: frozenset(
        {
            QuoteStatus.ACCEPTED,
            QuoteStatus.REFUSED,
            QuoteStatus.EXPIRED,
            QuoteStatus.SUPERSEDED,
        }
    ),
    QuoteStatus.ACCEPTED: frozenset(),
    QuoteStatus.REFUSED: frozenset({QuoteStatus.SUPERSEDED}),
    QuoteStatus.EXPIRED: frozenset({QuoteStatus.SUPERSEDED}),
    QuoteStatus.SUPERSEDED: frozenset(),
}
# The statuses from which a customer may still answer.
OPEN_QUOTE_STATUSES = frozenset({QuoteStatus.SENT})


class OrderStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    PARTIALLY_DELIVERED = "partially_delivered", _("Partially delivered")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.CONFIRMED: frozenset(
        {OrderStatus.PARTIALLY_DELIVERED, OrderStatus.DELIVERED, OrderStatus.CANCELLED}
    ),
    # Cancelling the undelivered rest of a partly delivered order closes it as delivered.
    OrderStatus.PARTIALLY_DELIVERED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
OPEN_ORDER_STATUSES = frozenset({OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_DELIVERED})
