"""Pure scoring maths: RFM for customers, fit for prospects, quality of a record.

Plain values in, plain values out; no database. RFM scores are quintiles (1 worst, 5 best)
computed among the customers scored together, ties sharing a score.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy

QUINTILES = 5
# The RFM segments in words (segment_of gives their codes).
SEGMENT_LABELS = {
    "champions": gettext_lazy("Champions"),
    "loyal": gettext_lazy("Loyal"),
    "new": gettext_lazy("New"),
    "at_risk": gettext_lazy("At risk"),
    "lost": gettext_lazy("Lost"),
    "needs_attention": gettext_lazy("Needs attention"),
}


@dataclass(frozen=True)
class Purchases:
    """What one customer bought: date of the last invoice, number of invoices, net amount."""

    last_invoice: date
    invoices: int
    net_amount: Decimal


@dataclass(frozen=True)
class Rfm:
    recency: int
    frequency: int
    monetary: int

    @property
    def code(self) -> str:
        return f"{self.recency}{self.frequency}{self.monetary}"

    @property
    def segment(self) -> str:
        return rfm_segment(self)


def quintile_scores(values: Mapping[Hashable, float | int | Decimal]) -> dict[Hashable, int]:
    """Score each key 1–5 by the rank of its value (higher value, higher score; ties equal).

    The score of a value is 1 + floor(5 × (number of values strictly below it) / count), so
    it never decreases with the value and the highest distinct value of a large set gets 5.
    """
    ordered = sorted(values.values())
    count = len(ordered)
    below: dict[float | int | Decimal, int] = {}
    for index, value in enumerate(ordered):
        below.setdefault(value, index)
    return {key: 1 + (QUINTILES * below[value]) // count for key, value in values.items()}


def rfm_scores(customers: Mapping[Hashable, Purchases], today: date) -> dict[Hashable, Rfm]:
    """Return the RFM scores of customers relative to each other."""
    recency = quintile_scores({k: -(today - p.last_invoice).days for k, p in customers.items()})
    frequency = quintile_scores({k: p.invoices for k, p in customers.items()})
    monetary = quintile_scores({k: p.net_amount for k, p in customers.items()})
    return {k: Rfm(recency[k], frequency[k], monetary[k]) for k in customers}


def rfm_segment(score: Rfm) -> str:
    """Name the usual RFM segment of a score (English key; the UI translates it)."""
    r, f = score.recency, score.frequency
    if r >= 4 and f >= 4:
        return "champions"
    if r >= 3 and f >= 3:
        return "loyal"
    if r >= 4 and f <= 2:
        return "new"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r == 1:
        return "lost"
    return "needs_attention"


@dataclass(frozen=True)
class Check:
    """One quality criterion: passed or not, its weight, and what to do when it failed."""

    code: str
    passed: bool
    weight: int


def quality_score(checks: Sequence[Check]) -> int:
    """Return 0–100: the weighted share of the criteria a record passes."""
    total = sum(c.weight for c in checks)
    if total <= 0:
        return 100
    passed = sum(c.weight for c in checks if c.passed)
    return (100 * passed) // total


@dataclass(frozen=True)
class FitFactors:
    """What makes a prospect worth calling: a target category, size, a complete record, a rep."""

    target_category: bool
    registered: bool  # has a SIREN: a real, identifiable company
    company_form: bool  # SA/SAS/SARL…: a company rather than a sole trader
    contacts: int
    completeness: int  # 0–100
    covered: bool  # in a territory with a sales rep


FIT_WEIGHTS = {
    "target_category": 30,
    "registered": 10,
    "company_form": 10,
    "contacts": 10,
    "completeness": 25,
    "covered": 15,
}


def fit_score(factors: FitFactors) -> int:
    """Return 0–100: how well a prospect fits, from the weighted factors."""
    points = 0
    points += FIT_WEIGHTS["target_category"] if factors.target_category else 0
    points += FIT_WEIGHTS["registered"] if factors.registered else 0
    points += FIT_WEIGHTS["company_form"] if factors.company_form else 0
    points += FIT_WEIGHTS["contacts"] * min(max(factors.contacts, 0), 3) // 3
    points += FIT_WEIGHTS["completeness"] * min(max(factors.completeness, 0), 100) // 100
    points += FIT_WEIGHTS["covered"] if factors.covered else 0
    return points
