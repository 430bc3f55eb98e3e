"""Pure payment maths: states, allocation, schedules, aged balance, DSO, matching scores.

Plain values in, plain values out; no database. ``core.money.round_amount`` is the only
rounding.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from comptoir.core.money import round_amount

ZERO = Decimal("0.00")
ISSUED = "issued"
PARTIALLY_PAID = "partially_paid"
PAID = "paid"

# Aged balance buckets: (key, first day late, last day late); None = open-ended.
BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("not_due", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("over_90", 91, None),
)


def payment_state(total: Decimal, paid: Decimal) -> str:
    """Return issued, partially_paid or paid for a document of `total` with `paid` settled."""
    if total > ZERO and paid >= total:
        return PAID
    if total <= ZERO:
        return PAID
    if paid > ZERO:
        return PARTIALLY_PAID
    return ISSUED


def allocate_in_order(amount: Decimal, open_amounts: Sequence[Decimal]) -> list[Decimal]:
    """Spread `amount` over the open amounts in order (oldest first); return each share.

    What is left once every open amount is covered is not returned: it stays unallocated.
    """
    shares: list[Decimal] = []
    left = max(amount, ZERO)
    for open_amount in open_amounts:
        share = min(left, max(open_amount, ZERO))
        shares.append(share)
        left -= share
    return shares


def split_instalments(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `weights`; the last share absorbs the rounding.

    The shares always add up to `total` exactly.
    """
    if not weights:
        raise ValueError("at least one instalment")
    if any(weight <= 0 for weight in weights):
        raise ValueError("weights must be positive")
    weight_sum = sum(weights, Decimal(0))
    shares = [round_amount(total * weight / weight_sum) for weight in weights[:-1]]
    shares.append(total - sum(shares, ZERO))
    return shares


def paid_per_instalment(paid: Decimal, amounts: Sequence[Decimal]) -> list[Decimal]:
    """Return what is paid on each instalment: payments settle the earliest first."""
    return allocate_in_order(paid, amounts)


def days_late(due: date, on: date) -> int:
    """Return how many days after its due date `on` is (0 or less: not late)."""
    return (on - due).days


def aged_bucket(due: date, on: date) -> str:
    """Return the aged-balance bucket of an amount due on `due`, seen on `on`."""
    late = days_late(due, on)
    for key, first, last in BUCKETS:
        if (first is None or late >= first) and (last is None or late <= last):
            return key
    raise AssertionError("buckets cover every integer")


def aged_balance(items: Iterable[tuple[date, Decimal]], on: date) -> dict[str, Decimal]:
    """Sum open amounts (due date, amount) into the buckets, with a ``total``."""
    result = {key: ZERO for key, _first, _last in BUCKETS}
    for due, amount in items:
        result[aged_bucket(due, on)] += amount
    result["total"] = sum((result[key] for key, _f, _l in BUCKETS), ZERO)
    return result


def dso(receivables: Decimal, sales: Decimal, days: int) -> Decimal | None:
    """Return days sales outstanding: receivables ÷ sales of the period × its days.

    None when nothing was sold in the period (the ratio means nothing).
    """
    if sales <= ZERO or days <= 0:
        return None
    return (receivables / sales * days).quantize(Decimal("0.1"))


# -- matching --------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Return text without accents or punctuation, upper case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", plain).split())


def compact(text: str) -> str:
    """Return text with only letters and digits, upper case (for numbers and IBANs)."""
    return fold(text).replace(" ", "")


@dataclass(frozen=True)
class Candidate:
    """An open invoice a bank line may pay."""

    key: int
    number: str
    party_key: int
    party_name: str
    open_amount: Decimal
    references: tuple[str, ...] = ()
    ibans: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """Invoices one bank line probably pays, with a score (0–100) and the reasons."""

    keys: tuple[int, ...]
    party_key: int
    score: int
    reasons: tuple[str, ...]


# Weights of each clue; a proposal is shown from 40 and preselected from 80.
NUMBER_IN_LABEL = 60
REFERENCE_IN_LABEL = 40
NAME_IN_LABEL = 25
IBAN_KNOWN = 35
AMOUNT_EQUAL = 30


# Legal forms and filler words a bank label often leaves out of a company's name.
_NAME_NOISE = {
    "SARL",
    "SAS",
    "SASU",
    "SA",
    "EURL",
    "SNC",
    "SCI",
    "SCOP",
    "SELARL",
    "EI",
    "GIE",
    "STE",
    "SOCIETE",
    "ETS",
    "ETABLISSEMENTS",
    "CIE",
    "ET",
    "LES",
    "DES",
    "DU",
    "DE",
    "LA",
    "LE",
}


def _name_in(name: str, text: str) -> bool:
    words = [w for w in fold(name).split() if len(w) > 2 and w not in _NAME_NOISE]
    return bool(words) and all(w in text.split() for w in words[:3])


def propose_matches(
    *,
    amount: Decimal,
    text: str,
    iban: str,
    candidates: Sequence[Candidate],
    limit: int = 3,
) -> list[Proposal]:
    """Rank what a credit of `amount` with this label and payer IBAN probably settles.

    Clues per invoice: its number in the label, the customer's reference, the customer's
    name, a known IBAN of the customer, and the amount equal to what is open. A party whose
    open invoices together equal the amount gets a proposal for all of them.
    """
    folded = fold(text)
    packed = compact(text)
    iban_c = compact(iban)
    by_party: dict[int, list[Candidate]] = {}
    for candidate in candidates:
        by_party.setdefault(candidate.party_key, []).append(candidate)
    proposals: list[Proposal] = []
    for party_key, invoices in by_party.items():
        first = invoices[0]
        party_reasons: list[str] = []
        party_score = 0
        if _name_in(first.party_name, folded):
            party_score += NAME_IN_LABEL
            party_reasons.append("name")
        if iban_c and iban_c in first.ibans:
            party_score += IBAN_KNOWN
            party_reasons.append("iban")
        named = [c for c in invoices if c.number and compact(c.number) in packed]
        referenced = [c for c in invoices if any(r and compact(r) in packed for r in c.references)]
        chosen = named or referenced
        score = party_score
        reasons = list(party_reasons)
        if named:
            score += NUMBER_IN_LABEL
            reasons.append("number")
        elif referenced:
            score += REFERENCE_IN_LABEL
            reasons.append("reference")
        if chosen:
            if sum((c.open_amount for c in chosen), ZERO) == amount:
                score += AMOUNT_EQUAL
                reasons.append("amount")
        else:
            equal = [c for c in invoices if c.open_amount == amount]
            if equal:
                chosen = equal[:1]
                score += AMOUNT_EQUAL
                reasons.append("amount")
            elif sum((c.open_amount for c in invoices), ZERO) == amount and party_score:
                chosen = invoices
                score += AMOUNT_EQUAL
                reasons.append("amount")
            elif party_score:
                chosen = invoices
        if chosen and score >= 40:
            proposals.append(
                Proposal(
                    keys=tuple(c.key for c in chosen),
                    party_key=party_key,
                    score=min(score, 100),
                    reasons=tuple(reasons),
                )
            )
    proposals.sort(key=lambda p: (-p.score, p.keys))
    return proposals[:limit]
