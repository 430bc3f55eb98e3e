"""Late interest: worked examples computed by hand, and properties that always hold."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from comptoir.dunning.calculations import (
    RECOVERY_INDEMNITY,
    default_rate,
    half_year_start,
    late_interest,
    level_reached,
)
from comptoir.dunning.rates import ecb_rates

RATES = ecb_rates()


def test_the_rate_table_covers_2015_to_2026_by_half_year() -> None:
    assert len(RATES) == 24
    assert RATES[date(2015, 1, 1)] == Decimal("0.05")
    assert RATES[date(2023, 7, 1)] == Decimal("4.00")
    assert default_rate(date(2024, 3, 15), RATES) == Decimal("14.50")
    assert default_rate(date(2024, 9, 15), RATES) == Decimal("14.25")
    assert half_year_start(date(2026, 6, 30)) == date(2026, 1, 1)
    assert half_year_start(date(2026, 7, 1)) == date(2026, 7, 1)


def test_across_a_half_year_boundary_each_part_takes_its_own_rate() -> None:
    # 1 200,00 € due 31/05/2025, paid 15/08/2025.
    # 01/06–30/06: 30 days at 3,15 + 10 = 13,15 %: 1200 × 0.1315 × 30 / 365 = 12.9699 → 12,97
    # 01/07–15/08: 46 days at 2,15 + 10 = 12,15 %: 1200 × 0.1215 × 46 / 365 = 18.3748 → 18,37
    result = late_interest(
        amount=Decimal("1200.00"), due=date(2025, 5, 31), until=date(2025, 8, 15), ecb_rates=RATES
    )
    assert [(p.days, p.rate, p.interest) for p in result.periods] == [
        (30, Decimal("13.15"), Decimal("12.97")),
        (46, Decimal("12.15"), Decimal("18.37")),
    ]
    assert result.interest == Decimal("31.34")
    assert result.indemnity == Decimal("40.00")
    assert result.total == Decimal("71.34")


def test_the_2023_rise_splits_ten_days_and_ten_days() -> None:
    # 10 000 € due 20/06/2023, paid 10/07/2023: 21–30/06 at 12,50 %, 01–10/07 at 14,00 %.
    # 10000 × 0.125 × 10 / 365 = 34.2466 → 34,25 ; 10000 × 0.14 × 10 / 365 = 38.3562 → 38,36
    result = late_interest(
        amount=Decimal("10000.00"), due=date(2023, 6, 20), until=date(2023, 7, 10), ecb_rates=RATES
    )
    assert [p.interest for p in result.periods] == [Decimal("34.25"), Decimal("38.36")]
    assert result.interest == Decimal("72.61")


def test_a_partial_payment_lowers_the_principal_from_the_next_day() -> None:
    # 1 200 € due 31/05/2026 at a contractual 12 %; 500 € paid 30/06, the rest 15/08.
    # 01/06–30/06: 1200 × 0.12 × 30 / 365 = 11.8356 → 11,84
    # 01/07–15/08: 700 × 0.12 × 46 / 365 = 10.5863 → 10,59
    result = late_interest(
        amount=Decimal("1200.00"),
        due=date(2026, 5, 31),
        until=date(2026, 8, 15),
        payments=[(date(2026, 6, 30), Decimal("500.00"))],
        rate=Decimal("12"),
    )
    assert [(p.principal, p.days, p.interest) for p in result.periods] == [
        (Decimal("1200.00"), 30, Decimal("11.84")),
        (Decimal("700.00"), 46, Decimal("10.59")),
    ]
    assert result.interest == Decimal("22.43")


def test_a_contractual_rate_does_not_split_at_the_half_year() -> None:
    # 1 000 € due 15/12/2024 paid 14/01/2025 at 15 %: 30 days, 1000 × 0.15 × 30 / 365 = 12.3288
    result = late_interest(
        amount=Decimal("1000.00"),
        due=date(2024, 12, 15),
        until=date(2025, 1, 14),
        rate=Decimal("15"),
    )
    assert len(result.periods) == 1
    assert result.interest == Decimal("12.33")


def test_paid_on_time_owes_nothing() -> None:
    for until in (date(2026, 5, 31), date(2026, 5, 1)):
        result = late_interest(
            amount=Decimal("500"), due=date(2026, 5, 31), until=until, ecb_rates=RATES
        )
        assert result.interest == result.indemnity == Decimal("0.00")
    paid_before = late_interest(
        amount=Decimal("500"),
        due=date(2026, 5, 31),
        until=date(2026, 7, 1),
        payments=[(date(2026, 5, 30), Decimal("500"))],
        ecb_rates=RATES,
    )
    assert paid_before.total == Decimal("0.00")


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000000"), places=2)
# Up to 400 days after the latest due date stays within the rates the tests know (to the end of
# 2026): later, there is no ECB rate to apply yet and the computation rightly refuses.
due_dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2025, 11, 26))


@given(amount=amounts, due=due_dates, days=st.integers(min_value=-400, max_value=400))
def test_interest_is_never_negative(amount: Decimal, due: date, days: int) -> None:
    result = late_interest(
        amount=amount, due=due, until=due + timedelta(days=days), ecb_rates=RATES
    )
    assert result.interest >= 0 and result.indemnity >= 0
    if days <= 0:
        assert result.total == 0


@given(amount=amounts, due=due_dates, days=st.integers(min_value=0, max_value=300))
def test_interest_grows_with_days(amount: Decimal, due: date, days: int) -> None:
    shorter = late_interest(
        amount=amount, due=due, until=due + timedelta(days=days), ecb_rates=RATES
    )
    longer = late_interest(
        amount=amount, due=due, until=due + timedelta(days=days + 1), ecb_rates=RATES
    )
    assert longer.interest >= shorter.interest
    assert longer.days == shorter.days + 1


@given(
    amount=amounts,
    due=due_dates,
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=2),
    days=st.integers(min_value=1, max_value=365),
)
def test_contractual_rate_is_simple_interest_on_actual_days(
    amount: Decimal, due: date, rate: Decimal, days: int
) -> None:
    result = late_interest(amount=amount, due=due, until=due + timedelta(days=days), rate=rate)
    exact = amount * rate / 100 * days / 365
    assert abs(result.interest - exact) <= Decimal("0.005")
    assert result.indemnity == RECOVERY_INDEMNITY


def test_level_reached() -> None:
    delays = [5, 15, 25, 35, 50]
    assert level_reached(4, delays) is None
    assert level_reached(5, delays) == 0
    assert level_reached(24, delays) == 1
    assert level_reached(200, delays) == 4
