"""Pure dunning maths: late interest, the recovery indemnity, the level a party has reached.

Late interest (art. L441-10 Code de commerce): the contractual rate, or by default the ECB
main refinancing rate + 10 points, the 1 January rate applying to the first half-year and
the 1 July rate to the second. Simple interest, actual days / 365, on the amount including
VAT, from the day after the due date to the payment date included. A partial payment lowers
the principal from the next day on. The 40 € recovery indemnity (art. D441-5) is due once
per late invoice and bears no VAT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from comptoir.core.money import round_amount

ZERO = Decimal("0.00")
DAYS_IN_YEAR = Decimal(365)
LEGAL_MARGIN = Decimal(10)
RECOVERY_INDEMNITY = Decimal("40.00")


def half_year_start(day: date) -> date:
    """Return 1 January or 1 July of the half-year that contains `day`."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def next_half_year(day: date) -> date:
    start = half_year_start(day)
    return date(start.year, 7, 1) if start.month == 1 else date(start.year + 1, 1, 1)


def default_rate(day: date, ecb_rates: Mapping[date, Decimal]) -> Decimal:
    """Return the legal late-interest rate (%) for a day: ECB MRO of its half-year + 10."""
    start = half_year_start(day)
    if start not in ecb_rates:
        raise KeyError(f"no ECB rate for the half-year starting {start.isoformat()}")
    return ecb_rates[start] + LEGAL_MARGIN


@dataclass(frozen=True)
class InterestPeriod:
    """Days at one principal and one rate: first and last day late, both included."""

    first_day: date
    last_day: date
    days: int
    principal: Decimal
    rate: Decimal
    interest: Decimal


@dataclass(frozen=True)
class LateInterest:
    periods: tuple[InterestPeriod, ...]
    interest: Decimal
    indemnity: Decimal

    @property
    def total(self) -> Decimal:
        return self.interest + self.indemnity

    @property
    def days(self) -> int:
        return sum(p.days for p in self.periods)


def late_interest(
    *,
    amount: Decimal,
    due: date,
    until: date,
    payments: Sequence[tuple[date, Decimal]] = (),
    rate: Decimal | None = None,
    ecb_rates: Mapping[date, Decimal] | None = None,
    indemnity: bool = True,
) -> LateInterest:
    """Compute the late interest on `amount` (incl. VAT) due on `due`, counted to `until`.

    `payments` are partial payments (date, amount): the principal drops from the day after
    each. `rate` is a contractual annual rate in %; without it `ecb_rates` (half-year start →
    ECB rate) gives the legal default. Each period's interest is rounded to the cent and the
    total is their sum, so the printed lines add up.
    """
    if rate is None and ecb_rates is None:
        raise ValueError("give a contractual rate or the ECB rate table")
    principal = amount
    ordered = sorted((d, a) for d, a in payments if a > 0)
    # Payments on or before the due date only reduce what was late.
    for day, paid in ordered:
        if day <= due:
            principal -= paid
    ordered = [(d, a) for d, a in ordered if due < d <= until]
    if principal <= 0 or until <= due:
        return LateInterest(periods=(), interest=ZERO, indemnity=ZERO)
    cuts: set[date] = {day + timedelta(days=1) for day, _a in ordered}
    if rate is None:
        boundary = next_half_year(due + timedelta(days=1))
        while boundary <= until:
            cuts.add(boundary)
            boundary = next_half_year(boundary)
    first = due + timedelta(days=1)
    starts = sorted(c for c in cuts if first < c <= until)
    periods: list[InterestPeriod] = []
    bounds = [first, *starts, until + timedelta(days=1)]
    paid_by_day: dict[date, Decimal] = {}
    for day, paid in ordered:
        paid_by_day[day] = paid_by_day.get(day, ZERO) + paid
    for start, next_start in zip(bounds, bounds[1:], strict=False):
        # Payments made the day before this period starts lowered the principal.
        principal -= paid_by_day.get(start - timedelta(days=1), ZERO) if start != first else ZERO
        if principal <= 0:
            break
        days = (next_start - start).days
        annual = rate if rate is not None else default_rate(start, ecb_rates or {})
        interest = round_amount(principal * annual / Decimal(100) * days / DAYS_IN_YEAR)
        periods.append(
            InterestPeriod(
                first_day=start,
                last_day=next_start - timedelta(days=1),
                days=days,
                principal=principal,
                rate=annual,
                interest=interest,
            )
        )
    total = sum((p.interest for p in periods), ZERO)
    return LateInterest(
        periods=tuple(periods),
        interest=total,
        indemnity=RECOVERY_INDEMNITY if indemnity else ZERO,
    )


def level_reached(days_late: int, delays: Sequence[int]) -> int | None:
    """Return the index of the highest level whose delay is reached, or None.

    `delays` are the levels' days after the due date, in rank order.
    """
    reached = None
    for index, delay in enumerate(delays):
        if days_late >= delay:
            reached = index
    return reached


SEND = "send"
EXCLUDED = "excluded"
DISPUTED = "disputed"
PROMISED = "promised"
PAUSED = "paused"
NOT_YET = "not_yet"
ALREADY_SENT = "already_sent"


@dataclass(frozen=True)
class PartyDunningState:
    """What a run knows of one party: its oldest overdue item and its dunning history."""

    oldest_due: date
    sent_levels: frozenset[int] = frozenset()  # level indexes already sent since oldest_due
    excluded: bool = False
    disputed: bool = False
    promise_until: date | None = None
    last_payment: date | None = None


def decide(
    state: PartyDunningState, *, on: date, delays: Sequence[int], pause_days: int
) -> tuple[str, int | None]:
    """Return what the run does for a party on `on` and the level index it sends, if any.

    A promise not yet expired, a dispute or an exclusion stop everything; a payment in the
    last `pause_days` days holds the party where it is (a payment stops the escalation);
    each level is sent once per episode of lateness.
    """
    if state.excluded:
        return EXCLUDED, None
    if state.disputed:
        return DISPUTED, None
    if state.promise_until is not None and state.promise_until >= on:
        return PROMISED, None
    level = level_reached((on - state.oldest_due).days, delays)
    if level is None:
        return NOT_YET, None
    if level in state.sent_levels or any(sent > level for sent in state.sent_levels):
        return ALREADY_SENT, level
    if state.last_payment is not None and 0 <= (on - state.last_payment).days < pause_days:
        return PAUSED, level
    return SEND, level
