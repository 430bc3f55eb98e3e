"""A down payment on a discounted order: the final invoice discounts its goods only.

Property-tested on the pure arithmetic: for random lines, document discount and down-payment
rate, the down payment (rate % of the discounted taxable amount per VAT rate) plus the final
invoice that deducts it tax exactly what the order taxes, and each document allowance is
its base (BT-93) × the discount (BT-94) rounded (BT-92), the base leaving the deduction out.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.core.money import round_amount
from comptoir.invoicing.calculations import LineInput, invoice_totals
from tests.invoicing.test_calculations import discounts, lines_strategy

HUNDRED = Decimal(100)
down_rates = st.decimals(min_value=Decimal("1"), max_value=Decimal("100"), places=2)


@settings(max_examples=200, deadline=None)
@given(lines=lines_strategy, discount=discounts, rate=down_rates)
def test_down_payment_plus_final_invoice_tax_what_the_order_taxes(
    lines: list[LineInput], discount: Decimal, rate: Decimal
) -> None:
    order = invoice_totals(lines, discount_rate=discount)
    down_lines = [
        LineInput(
            quantity=Decimal(1),
            unit_price=round_amount(group.taxable_amount * rate / HUNDRED),
            vat_category=group.category,
            vat_rate=group.rate,
        )
        for group in order.vat_groups
    ]
    down = invoice_totals(down_lines)
    deductions = [
        LineInput(
            quantity=Decimal(-1),
            unit_price=line.unit_price,
            vat_category=line.vat_category,
            vat_rate=line.vat_rate,
            deduction=True,
        )
        for line in down_lines
    ]
    final = invoice_totals([*lines, *deductions], discount_rate=discount)
    assert final.allowance_amount == order.allowance_amount
    for group, order_group in zip(final.vat_groups, order.vat_groups, strict=True):
        assert group.allowance_basis_amount == order_group.lines_net_amount
        assert group.allowance_amount == round_amount(
            group.allowance_basis_amount * discount / HUNDRED
        )
        # BR-S-08: the taxable amount is every line net (the deduction too) − the allowance.
        assert group.taxable_amount == group.lines_net_amount - group.allowance_amount
    assert final.tax_basis_amount + down.tax_basis_amount == order.tax_basis_amount
    assert final.tax_basis_amount == final.lines_net_amount - final.allowance_amount
    # VAT is rounded per document: the two documents may differ from the order by a cent
    # per VAT rate, never more.
    assert abs(final.vat_amount + down.vat_amount - order.vat_amount) <= Decimal("0.01") * len(
        order.vat_groups
    )
