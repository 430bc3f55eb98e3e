"""Dunning reads: reminders a user may see, the call list of the day, tiles."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from comptoir.core.money import format_amount
from comptoir.dunning.models import (
    CallOutcome,
    Channel,
    DunningMessage,
    MessageStatus,
    PartyDunning,
)
from comptoir.payments.models import InvoiceSettlement
from comptoir.payments.selectors import RECEIVABLE_KINDS, _scoped

# What the run decided for each overdue customer, in words.
DECISIONS = {
    "send": pgettext_lazy("dunning decision", "send"),
    "excluded": pgettext_lazy("dunning decision", "excluded"),
    "disputed": pgettext_lazy("dunning decision", "disputed"),
    "promised": pgettext_lazy("dunning decision", "payment promised"),
    "paused": pgettext_lazy("dunning decision", "paused"),
    "not_yet": pgettext_lazy("dunning decision", "not yet"),
    "already_sent": pgettext_lazy("dunning decision", "already sent"),
}
# What a run's summary counts, in words.
SUMMARY_LABELS = {
    "created": gettext_lazy("reminders"),
    "emails_sent": gettext_lazy("emails sent"),
    "letters": gettext_lazy("letters"),
    "calls": gettext_lazy("calls to make"),
    "failed": gettext_lazy("failed"),
    "uncertain": gettext_lazy("to check"),
    "outdated": gettext_lazy("cancelled, amounts changed since"),
}


def decision_words(decisions: dict[str, int]) -> list[tuple[str, int]]:
    """A run's decisions per customer as (words, count), in a stable order."""
    return [(str(DECISIONS.get(key, key)), count) for key, count in sorted(decisions.items())]


def summary_words(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """A finished run's counts as (words, count), decisions left out."""
    return [
        (str(SUMMARY_LABELS.get(key, key)), value)
        for key, value in (summary or {}).items()
        if key != "decisions"
    ]


def messages_visible_to(user: Any) -> QuerySet[DunningMessage]:
    return _scoped(DunningMessage.objects.select_related("party", "level"), user)


def call_list(user: Any, on: date) -> list[dict[str, Any]]:
    """Return the calls to make on `on`: script, overdue items, last contacts, promises.

    A call task stays on the list until an outcome closes it; "call back" hides it until
    its date, "no answer" keeps it for the next session.
    """
    last_call_back = CallOutcome.objects.filter(message=OuterRef("pk")).order_by("-at")
    tasks = (
        messages_visible_to(user)
        .filter(channel=Channel.PHONE, status=MessageStatus.TO_CALL, run_date__lte=on)
        .annotate(call_back_on=Subquery(last_call_back.values("call_back_on")[:1]))
        .order_by("-total_due", "pk")
    )
    tasks = [t for t in tasks if t.call_back_on is None or t.call_back_on <= on]
    party_ids = [t.party_id for t in tasks]
    outcomes: dict[int, list[CallOutcome]] = {}
    for outcome in CallOutcome.objects.filter(party_id__in=party_ids).select_related("by")[:500]:
        outcomes.setdefault(outcome.party_id, []).append(outcome)
    reminders: dict[int, list[DunningMessage]] = {}
    for message in (
        DunningMessage.objects.filter(party_id__in=party_ids)
        .exclude(channel=Channel.PHONE)
        .select_related("level")
        .order_by("-run_date")[:500]
    ):
        reminders.setdefault(message.party_id, []).append(message)
    settings = {s.party_id: s for s in PartyDunning.objects.filter(party_id__in=party_ids)}
    return [
        {
            "task": task,
            "script": task.level.call_script,
            "outcomes": outcomes.get(task.party_id, [])[:3],
            "reminders": reminders.get(task.party_id, [])[:3],
            "settings": settings.get(task.party_id),
        }
        for task in tasks
    ]


def worst_payers(user: Any, on: date, limit: int = 5) -> list[dict[str, Any]]:
    rows = (
        _scoped(
            InvoiceSettlement.objects.filter(
                kind__in=RECEIVABLE_KINDS, open_amount__gt=0, due_date__lt=on
            ),
            user,
        )
        .values("party_id", "party__name")
        .annotate(overdue=Sum("open_amount"))
        .order_by("-overdue")[:limit]
    )
    return list(rows)


def worst_payers_tile(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("dunning.view_dunning"):
        return None
    rows = worst_payers(user, timezone.localdate(), limit=3)
    value = ", ".join(f"{r['party__name']} ({format_amount(r['overdue'])} €)" for r in rows)
    return {
        "title": _("Worst late payers"),
        "value": value or "—",
        "url": reverse("payments:aged_balance"),
    }


def promises_due(user: Any, on: date) -> QuerySet[PartyDunning]:
    return _scoped(PartyDunning.objects.filter(promise_until=on).select_related("party"), user)


def promises_tile(user: Any) -> dict[str, Any] | None:
    if not user.has_perm("dunning.view_dunning"):
        return None
    count = promises_due(user, timezone.localdate()).count()
    return {
        "title": _("Promises to pay due today"),
        "value": str(count),
        "url": reverse("dunning:calls"),
    }
