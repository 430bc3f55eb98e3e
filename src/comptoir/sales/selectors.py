"""Sales reads: who sees which quotes and orders, the acceptance link, follow-ups, history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone

from comptoir.core.roles import is_sales_rep, reads_everything
from comptoir.documents.models import ArchivedDocument
from comptoir.parties.models import Party
from comptoir.sales.models import FollowUpTask, Order, OrderLine, OutboxMessage, Quote
from comptoir.sales.states import QuoteStatus

LINK_SALT = "comptoir.sales.quote-link"


def _scoped(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    if reads_everything(user):
        return queryset
    if is_sales_rep(user):
        return queryset.filter(party__sales_rep=user)
    return queryset.none()


def quotes_visible_to(user: Any) -> QuerySet[Quote]:
    """Return the quotes a user may read: all for the office, own customers' for a rep."""
    return _scoped(Quote.objects.select_related("party"), user)


def orders_visible_to(user: Any) -> QuerySet[Order]:
    """Return the orders a user may read: all for the office, own customers' for a rep."""
    return _scoped(Order.objects.select_related("party"), user)


def tasks_for(user: Any) -> QuerySet[FollowUpTask]:
    """Return the open follow-up tasks a user may see, their own first."""
    return _scoped(
        FollowUpTask.objects.filter(done_at__isnull=True).select_related(
            "party", "quote", "assigned_to"
        ),
        user,
    )


@dataclass(frozen=True)
class LinkAnswer:
    """What a public acceptance link leads to: a quote that may be answered, or why not."""

    quote: Quote | None
    problem: str = ""  # "invalid" | "revoked" | "expired" | "answered"


def quote_for_link(token: str, *, today: date | None = None) -> LinkAnswer:
    """Return the quote behind a signed link, or the reason the link does not work."""
    today = today or timezone.localdate()
    try:
        payload = signing.TimestampSigner(salt=LINK_SALT).unsign_object(
            token, max_age=timedelta(days=settings.QUOTE_LINK_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired:
        return LinkAnswer(None, "expired")
    except signing.BadSignature:
        return LinkAnswer(None, "invalid")
    if not isinstance(payload, dict) or not payload.get("n"):
        return LinkAnswer(None, "invalid")
    quote = Quote.objects.select_related("party").filter(pk=payload.get("q")).first()
    if quote is None:
        return LinkAnswer(None, "invalid")
    if quote.link_nonce != payload["n"]:
        return LinkAnswer(None, "revoked")
    if quote.status == QuoteStatus.EXPIRED or (
        quote.status == QuoteStatus.SENT and quote.valid_until < today
    ):
        return LinkAnswer(quote, "expired")
    if quote.status != QuoteStatus.SENT:
        return LinkAnswer(quote, "answered")
    return LinkAnswer(quote)


def quotes_needing_follow_up(today: date) -> QuerySet[Quote]:
    """Sent quotes left unanswered for QUOTE_FOLLOW_UP_DAYS days and not followed up yet."""
    cutoff = datetime.combine(today - timedelta(days=settings.QUOTE_FOLLOW_UP_DAYS), time.min)
    return (
        Quote.objects.filter(
            status=QuoteStatus.SENT,
            sent_at__lt=timezone.make_aware(cutoff),
            follow_up__isnull=True,
        )
        .select_related("party", "created_by")
        .order_by("sent_at", "pk")
    )


def documents_of_party(party: Party) -> QuerySet[ArchivedDocument]:
    """Every archived document of a customer: quotes, orders, delivery notes, invoices."""
    # Looked up by label: the history spans apps that depend on this one (stock, invoicing).
    owners = [
        (Quote, Quote.objects.filter(party=party)),
        (Order, Order.objects.filter(party=party)),
        (apps.get_model("invoicing", "Invoice"), None),
        (apps.get_model("stock", "Delivery"), None),
    ]
    condition = Q()
    for model, queryset in owners:
        if queryset is None:
            field = "party" if model._meta.model_name == "invoice" else "order__party"
            queryset = model.objects.filter(**{field: party})
        ids = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        if ids:
            condition |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=ids)
    if not condition:
        return ArchivedDocument.objects.none()
    return ArchivedDocument.objects.filter(condition).order_by("-created_at", "-pk")


def emails_of_party(party: Party) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(party=party).order_by("-created_at", "-pk")


def order_line_commitments(
    lines: Sequence[OrderLine],
) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    """Return, per order line, its (delivered, invoiced, on delivery notes in preparation).

    Only the notes someone prepared count: the backorder note Comptoir makes when a delivery
    leaves short follows the order (stock trims it when the order asks for less).
    """
    from comptoir.invoicing.from_orders import invoiced_quantities  # invoicing imports sales
    from comptoir.stock.models import DeliveryLine  # stock imports sales
    from comptoir.stock.states import DeliveryStatus

    ids = [line.pk for line in lines]
    invoiced = invoiced_quantities(ids)
    prepared: dict[int, Decimal] = {}
    for line_id, quantity in DeliveryLine.objects.filter(
        order_line_id__in=ids,
        delivery__status=DeliveryStatus.DRAFT,
        delivery__backorder_of__isnull=True,
    ).values_list("order_line_id", "quantity"):
        prepared[line_id] = prepared.get(line_id, Decimal(0)) + quantity
    return {
        line.pk: (
            line.delivered_quantity,
            invoiced.get(line.pk, Decimal(0)),
            prepared.get(line.pk, Decimal(0)),
        )
        for line in lines
    }
