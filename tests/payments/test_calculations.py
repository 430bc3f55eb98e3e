"""Pure payment maths: states, allocation, schedules, aged buckets, DSO, matching."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from comptoir.payments import calculations as calc

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("1000000"), places=2)


def test_payment_state_follows_the_paid_amount() -> None:
    assert calc.payment_state(Decimal("100"), Decimal("0")) == "issued"
    assert calc.payment_state(Decimal("100"), Decimal("0.01")) == "partially_paid"
    assert calc.payment_state(Decimal("100"), Decimal("100")) == "paid"


@given(total=amounts, n=st.integers(min_value=1, max_value=24))
def test_equal_instalments_add_up_exactly_and_the_last_absorbs_rounding(
    total: Decimal, n: int
) -> None:
    shares = calc.split_instalments(total, [Decimal(1)] * n)
    assert sum(shares) == total
    assert len(shares) == n
    assert all(share == shares[0] for share in shares[:-1])
    assert abs(shares[-1] - shares[0]) <= Decimal("0.01") * n


def test_instalments_by_weight() -> None:
    assert calc.split_instalments(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.33"),
        Decimal("33.33"),
        Decimal("33.34"),
    ]
    assert calc.split_instalments(Decimal("1000.00"), [Decimal(30), Decimal(70)]) == [
        Decimal("300.00"),
        Decimal("700.00"),
    ]


@given(paid=amounts, opens=st.lists(amounts, min_size=1, max_size=10))
def test_allocation_settles_oldest_first_and_never_exceeds(
    paid: Decimal, opens: list[Decimal]
) -> None:
    shares = calc.allocate_in_order(paid, opens)
    assert all(Decimal(0) <= s <= o for s, o in zip(shares, opens, strict=True))
    assert sum(shares) == min(paid, sum(opens))
    # Once an invoice is not fully settled, nothing goes to the later ones.
    for index, (share, open_amount) in enumerate(zip(shares, opens, strict=True)):
        if share < open_amount:
            assert all(later == 0 for later in shares[index + 1 :])
            break


def test_aged_buckets_at_their_edges() -> None:
    on = date(2026, 6, 30)
    cases = {
        0: "not_due",
        1: "1_30",
        30: "1_30",
        31: "31_60",
        60: "31_60",
        61: "61_90",
        90: "61_90",
        91: "over_90",
        -5: "not_due",
    }
    for late, bucket in cases.items():
        assert calc.aged_bucket(on - timedelta(days=late), on) == bucket
    balance = calc.aged_balance(
        [
            (on, Decimal("1")),
            (on - timedelta(days=45), Decimal("2")),
            (on - timedelta(days=200), Decimal("4")),
        ],
        on,
    )
    assert balance == {
        "not_due": Decimal("1"),
        "1_30": Decimal("0"),
        "31_60": Decimal("2"),
        "61_90": Decimal("0"),
        "over_90": Decimal("4"),
        "total": Decimal("7"),
    }


def test_dso() -> None:
    assert calc.dso(Decimal("30000"), Decimal("90000"), 90) == Decimal("30.0")
    assert calc.dso(Decimal("1"), Decimal("0"), 90) is None


def test_matching_prefers_the_invoice_number_and_finds_grouped_invoices() -> None:
    candidates = [
        calc.Candidate(1, "FA-2026-000001", 10, "Boulangerie Martin SARL", Decimal("120.00")),
        calc.Candidate(2, "FA-2026-000002", 11, "Garage Dupont SAS", Decimal("120.00")),
        calc.Candidate(3, "FA-2026-000003", 11, "Garage Dupont SAS", Decimal("80.00")),
    ]
    by_number = calc.propose_matches(
        amount=Decimal("120.00"), text="VIR FA2026000002", iban="", candidates=candidates
    )
    assert by_number[0].keys == (2,) and "number" in by_number[0].reasons
    grouped = calc.propose_matches(
        amount=Decimal("200.00"), text="VIREMENT GARAGE DUPONT", iban="", candidates=candidates
    )
    assert grouped[0].keys == (2, 3) and set(grouped[0].reasons) == {"name", "amount"}
    nothing = calc.propose_matches(
        amount=Decimal("55.00"), text="FRAIS BANCAIRES", iban="", candidates=candidates
    )
    assert nothing == []
