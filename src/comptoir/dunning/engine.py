"""The dunning engine: "something is overdue from a party", whatever that something is.

A source (``OverdueSource``) says what each party owes and since when; the engine knows the
policies, the parties' settings and what was already sent, decides the level each party has
reached and plans one reminder per party grouping all its overdue items. Customers' invoices
are the first source (``sources.CustomerReceivables``); supplier reminders (late deliveries)
will be another, with the same policies, outbox and history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from comptoir.dunning import calculations
from comptoir.dunning.models import (
    DunningLevel,
    DunningMessage,
    DunningPolicy,
    MessageStatus,
    PartyDunning,
)


@dataclass(frozen=True)
class OverdueItem:
    """One thing a party owes: an invoice, an instalment, a delivery…"""

    party_id: int
    key: str
    reference: str
    due_date: date
    total_amount: Decimal
    open_amount: Decimal
    issue_date: date | None = None


class OverdueSource(Protocol):
    """What the engine needs from a kind of debt."""

    name: str

    def overdue_items(self, on: date) -> Iterable[OverdueItem]:
        """Return the items due before `on` and still open."""

    def last_payments(self) -> dict[int, date]:
        """Return each party's last payment date (a payment pauses the escalation)."""

    def recipients(self, party_ids: list[int]) -> dict[int, str]:
        """Return the email address to chase each party at."""

    def names(self, party_ids: list[int]) -> dict[int, str]:
        """Return each party's name."""


@dataclass
class PartyPlan:
    """What a run does for one party."""

    party_id: int
    decision: str
    items: list[OverdueItem]
    oldest_due: date
    level: DunningLevel | None = None
    policy: DunningPolicy | None = None

    @property
    def total_due(self) -> Decimal:
        return sum((item.open_amount for item in self.items), Decimal("0.00"))


@dataclass
class Plan:
    on: date
    parties: list[PartyPlan] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for party in self.parties:
            counts[party.decision] += 1
        return dict(counts)

    def to_send(self) -> list[PartyPlan]:
        return [p for p in self.parties if p.decision == calculations.SEND]


def policies() -> tuple[dict[int, DunningPolicy], dict[int, list[DunningLevel]], int | None]:
    """Return policies by id, their levels in rank order, and the default policy's id."""
    by_id = {policy.pk: policy for policy in DunningPolicy.objects.all()}
    levels: dict[int, list[DunningLevel]] = defaultdict(list)
    for level in DunningLevel.objects.order_by("policy_id", "rank"):
        levels[level.policy_id].append(level)
    default = next((p.pk for p in by_id.values() if p.is_default), None)
    return by_id, levels, default


def plan_run(on: date, source: OverdueSource) -> Plan:
    """Work out, for every party with overdue items, what the run of `on` does."""
    by_party: dict[int, list[OverdueItem]] = defaultdict(list)
    for item in source.overdue_items(on):
        if item.due_date < on and item.open_amount > 0:
            by_party[item.party_id].append(item)
    plan = Plan(on=on)
    if not by_party:
        return plan
    by_id, levels, default = policies()
    settings = {row.party_id: row for row in PartyDunning.objects.all()}
    oldest = {party_id: min(i.due_date for i in items) for party_id, items in by_party.items()}
    earliest = min(oldest.values())
    sent: dict[int, set[int]] = defaultdict(set)
    level_index = {
        level.pk: index
        for policy_levels in levels.values()
        for index, level in enumerate(policy_levels)
    }
    history = DunningMessage.objects.filter(run_date__gte=earliest, source=source.name).exclude(
        status=MessageStatus.CANCELLED
    )
    for party_id, level_id, run_date in history.values_list("party_id", "level_id", "run_date"):
        if party_id in oldest and run_date >= oldest[party_id] and level_id in level_index:
            sent[party_id].add(level_index[level_id])
    last_payments = source.last_payments()
    for party_id, items in by_party.items():
        items.sort(key=lambda i: (i.due_date, i.reference))
        setting = settings.get(party_id)
        policy_id = (setting.policy_id if setting else None) or default
        policy = by_id.get(policy_id) if policy_id else None
        policy_levels = levels.get(policy_id, []) if policy_id else []
        if policy is None or not policy_levels:
            plan.parties.append(PartyPlan(party_id, calculations.NOT_YET, items, oldest[party_id]))
            continue
        state = calculations.PartyDunningState(
            oldest_due=oldest[party_id],
            sent_levels=frozenset(sent.get(party_id, ())),
            excluded=bool(setting and setting.excluded),
            disputed=bool(setting and setting.disputed),
            promise_until=setting.promise_until if setting else None,
            last_payment=last_payments.get(party_id),
        )
        decision, index = calculations.decide(
            state,
            on=on,
            delays=[level.delay_days for level in policy_levels],
            pause_days=policy.pause_after_payment_days,
        )
        plan.parties.append(
            PartyPlan(
                party_id,
                decision,
                items,
                oldest[party_id],
                level=policy_levels[index] if index is not None else None,
                policy=policy,
            )
        )
    plan.parties.sort(key=lambda p: p.party_id)
    return plan


def describe_items(items: list[OverdueItem], on: date) -> list[dict[str, Any]]:
    return [
        {
            "key": item.key,
            "number": item.reference,
            "issue_date": item.issue_date.isoformat() if item.issue_date else "",
            "due_date": item.due_date.isoformat(),
            "total": str(item.total_amount),
            "open": str(item.open_amount),
            "days_late": (on - item.due_date).days,
        }
        for item in items
    ]
