"""Invoice arithmetic per EN 16931 (pure: plain values in, plain values out).

The rules (DESIGN.md, "Money and tax"):
- line net amount (BT-131) = round(quantity × net unit price − line allowance (BT-136));
- the document discount is one allowance per VAT category and rate (BG-20 needs a VAT
  category), each round(base × discount rate) (BT-92 = BT-93 × BT-94 / 100), the base
  (BT-93) being the sum of the group's line nets but for the lines that deduct a down
  payment: the down payment was taken on the discounted total, so discounting its deduction
  again would take the discount twice;
- the taxable amount per group (BT-116) = sum of all its line nets − its allowance;
- VAT per category and rate (BT-117) = round(taxable amount (BT-116) × rate);
- totals: BT-109 = BT-106 − BT-107, BT-112 = BT-109 + BT-110, BT-115 = BT-112 − BT-113.
A credit note holds positive figures like the invoice it corrects (its type code says it
credits); ``signed_total`` turns it negative for ledgers, so an invoice plus its full credit
note sums to 0.00.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from comptoir.core.money import round_amount

ZERO = Decimal("0.00")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineInput:
    """What a line needs for the totals."""

    quantity: Decimal
    unit_price: Decimal
    discount_rate: Decimal = ZERO  # percent
    vat_category: str = "S"
    vat_rate: Decimal = Decimal("20.00")  # percent
    deduction: bool = False  # deducts a down payment: outside the document discount's base

    @classmethod
    def of(
        cls, line: Any, *, quantity: Decimal | None = None, deduction: bool = False
    ) -> LineInput:
        """The figures of a stored line (quote, order or invoice line), or of ``quantity`` of it."""
        return cls(
            quantity=line.quantity if quantity is None else quantity,
            unit_price=line.unit_price,
            discount_rate=line.discount_rate,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            deduction=deduction,
        )


@dataclass(frozen=True)
class LineAmounts:
    gross_amount: Decimal  # quantity × unit price, unrounded
    allowance_amount: Decimal  # BT-136
    net_amount: Decimal  # BT-131


@dataclass(frozen=True)
class VatGroup:
    """One row of the VAT breakdown (BG-23)."""

    category: str
    rate: Decimal
    lines_net_amount: Decimal
    allowance_amount: Decimal  # document allowance for this group (BG-20, BT-92)
    allowance_basis_amount: Decimal  # what the allowance is a percentage of (BT-93)
    taxable_amount: Decimal  # BT-116
    vat_amount: Decimal  # BT-117


@dataclass(frozen=True)
class Totals:
    lines_net_amount: Decimal  # BT-106
    allowance_amount: Decimal  # BT-107
    tax_basis_amount: Decimal  # BT-109
    vat_amount: Decimal  # BT-110
    total_amount: Decimal  # BT-112
    prepaid_amount: Decimal  # BT-113
    due_amount: Decimal  # BT-115
    vat_groups: tuple[VatGroup, ...]


def line_amounts(quantity: Decimal, unit_price: Decimal, discount_rate: Decimal) -> LineAmounts:
    """Return a line's allowance and net amount (BT-136, BT-131)."""
    gross = quantity * unit_price
    allowance = round_amount(abs(gross) * discount_rate / HUNDRED) if discount_rate else ZERO
    # The allowance lowers the line's magnitude: a negative line (a deducted down payment)
    # keeps its sign.
    net = round_amount(gross - allowance) if gross >= 0 else round_amount(gross + allowance)
    return LineAmounts(gross_amount=gross, allowance_amount=allowance, net_amount=net)


def vat_amount(taxable_amount: Decimal, rate: Decimal) -> Decimal:
    """Return the VAT of one category and rate (BR-CO-17)."""
    return round_amount(taxable_amount * rate / HUNDRED)


def document_allowance(lines_net_amount: Decimal, discount_rate: Decimal) -> Decimal:
    """Return the document discount of one VAT group."""
    if not discount_rate:
        return ZERO
    return round_amount(lines_net_amount * discount_rate / HUNDRED)


def invoice_totals(
    lines: Sequence[LineInput],
    *,
    discount_rate: Decimal = ZERO,
    prepaid_amount: Decimal = ZERO,
) -> Totals:
    """Return every total and the VAT breakdown of an invoice or credit note."""
    by_group: dict[tuple[str, Decimal], Decimal] = {}
    basis: dict[tuple[str, Decimal], Decimal] = {}
    lines_net = ZERO
    for line in lines:
        net = line_amounts(line.quantity, line.unit_price, line.discount_rate).net_amount
        key = (line.vat_category, normalise_rate(line.vat_rate))
        by_group[key] = by_group.get(key, ZERO) + net
        basis[key] = basis.get(key, ZERO) + (ZERO if line.deduction else net)
        lines_net += net
    groups = []
    for (category, rate), group_net in sorted(by_group.items(), key=_group_order):
        allowance = document_allowance(basis[(category, rate)], discount_rate)
        taxable = group_net - allowance
        groups.append(
            VatGroup(
                category=category,
                rate=rate,
                lines_net_amount=group_net,
                allowance_amount=allowance,
                allowance_basis_amount=basis[(category, rate)],
                taxable_amount=taxable,
                vat_amount=vat_amount(taxable, rate),
            )
        )
    allowance_total = sum((g.allowance_amount for g in groups), ZERO)
    tax_basis = lines_net - allowance_total
    vat_total = sum((g.vat_amount for g in groups), ZERO)
    total = tax_basis + vat_total
    return Totals(
        lines_net_amount=lines_net,
        allowance_amount=allowance_total,
        tax_basis_amount=tax_basis,
        vat_amount=vat_total,
        total_amount=total,
        prepaid_amount=prepaid_amount,
        due_amount=total - prepaid_amount,
        vat_groups=tuple(groups),
    )


def normalise_rate(rate: Decimal) -> Decimal:
    """Return a VAT rate with two decimals, so 20, 20.0 and 20.00 are one group."""
    return rate.quantize(Decimal("0.01"))


def _group_order(item: tuple[tuple[str, Decimal], Decimal]) -> tuple[Decimal, str]:
    (category, rate), _net = item
    return (-rate, category)


def signed_total(amount: Decimal, *, is_credit_note: bool) -> Decimal:
    """Return an amount as it counts in a ledger: negative for a credit note."""
    return -amount if is_credit_note else amount


def balance(documents: Iterable[tuple[Decimal, bool]]) -> Decimal:
    """Sum (amount, is_credit_note) pairs as a ledger does."""
    return sum((signed_total(a, is_credit_note=c) for a, c in documents), ZERO)
