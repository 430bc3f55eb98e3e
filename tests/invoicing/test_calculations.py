"""EN 16931 arithmetic, property-tested."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.invoicing.calculations import (
    LineInput,
    balance,
    invoice_totals,
    line_amounts,
    signed_total,
)

RATES = [Decimal("20.00"), Decimal("10.00"), Decimal("5.50"), Decimal("2.10"), Decimal("0.00")]
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999"), places=3)
prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=4)
discounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)
lines_strategy = st.lists(
    st.builds(
        LineInput,
        quantity=quantities,
        unit_price=prices,
        discount_rate=discounts,
        vat_category=st.just("S"),
        vat_rate=st.sampled_from(RATES[:4]),
    ),
    min_size=1,
    max_size=12,
)


def test_line_net_is_rounded_after_the_allowance() -> None:
    amounts = line_amounts(Decimal("3"), Decimal("0.3333"), Decimal("10"))
    assert amounts.allowance_amount == Decimal("0.10")  # 0.9999 × 10 % = 0.09999
    assert amounts.net_amount == Decimal("0.90")  # round(0.9999 − 0.10)


def test_vat_is_computed_per_rate_on_the_sum_not_per_line() -> None:
    lines = [LineInput(Decimal("1"), Decimal("0.0250"))] * 3
    totals = invoice_totals(lines)
    # Per line: 0.03 × 20 % = 0.006 → 0.01 each, 0.03 in all; EN 16931: round(0.09 × 20 %).
    assert totals.lines_net_amount == Decimal("0.09")
    assert totals.vat_amount == Decimal("0.02")


def test_document_discount_is_split_per_vat_rate() -> None:
    totals = invoice_totals(
        [
            LineInput(Decimal("1"), Decimal("100"), vat_rate=Decimal("20")),
            LineInput(Decimal("1"), Decimal("50"), vat_rate=Decimal("5.5")),
        ],
        discount_rate=Decimal("10"),
    )
    by_rate = {g.rate: g for g in totals.vat_groups}
    assert by_rate[Decimal("20.00")].allowance_amount == Decimal("10.00")
    assert by_rate[Decimal("5.50")].taxable_amount == Decimal("45.00")
    assert by_rate[Decimal("5.50")].vat_amount == Decimal("2.48")  # 2.475 half up
    assert totals.tax_basis_amount == Decimal("135.00")
    assert totals.total_amount == Decimal("135.00") + Decimal("18.00") + Decimal("2.48")


def test_negative_deduction_line_keeps_its_sign() -> None:
    amounts = line_amounts(Decimal("-1"), Decimal("250.00"), Decimal("0"))
    assert amounts.net_amount == Decimal("-250.00")


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy, discount=discounts)
def test_totals_hold_the_en16931_identities(lines: list[LineInput], discount: Decimal) -> None:
    totals = invoice_totals(lines, discount_rate=discount)
    assert totals.lines_net_amount == sum(
        (line_amounts(x.quantity, x.unit_price, x.discount_rate).net_amount for x in lines),
        Decimal("0"),
    )
    assert totals.tax_basis_amount == totals.lines_net_amount - totals.allowance_amount
    assert totals.vat_amount == sum((g.vat_amount for g in totals.vat_groups), Decimal("0"))
    assert totals.total_amount == totals.tax_basis_amount + totals.vat_amount
    assert totals.due_amount == totals.total_amount
    for group in totals.vat_groups:
        assert group.taxable_amount == group.lines_net_amount - group.allowance_amount
        assert abs(group.vat_amount - group.taxable_amount * group.rate / 100) <= Decimal("0.005")
    for value in (totals.total_amount, totals.vat_amount, totals.allowance_amount):
        assert value == value.quantize(Decimal("0.01"))


@settings(max_examples=100, deadline=None)
@given(lines=lines_strategy, discount=discounts)
def test_invoice_plus_full_credit_note_is_zero(lines: list[LineInput], discount: Decimal) -> None:
    invoice = invoice_totals(lines, discount_rate=discount)
    credit_note = invoice_totals(lines, discount_rate=discount)  # same lines, credited
    assert balance([(invoice.total_amount, False), (credit_note.total_amount, True)]) == 0
    assert signed_total(Decimal("12.30"), is_credit_note=True) == Decimal("-12.30")
