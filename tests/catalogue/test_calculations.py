"""Property tests of the price resolution: one test (at least) per rule of `choose_price`."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from comptoir.catalogue.calculations import (
    CATEGORY,
    CUSTOMER,
    FIXED,
    GENERAL,
    PERCENTAGE,
    PriceCandidate,
    PriceRequest,
    choose_price,
    list_price_breaks,
)

PRODUCT, FAMILY, PARTY, CATEGORY_ID = 1, 10, 100, 1000
TODAY = date(2026, 6, 15)
REQUEST = PriceRequest(
    product_id=PRODUCT,
    family_id=FAMILY,
    on_date=TODAY,
    party_id=PARTY,
    category_id=CATEGORY_ID,
    unit_singular="unit",
    unit_plural="units",
)
_ids = itertools.count(1)

prices = st.decimals(min_value=0, max_value=100_000, places=4, allow_nan=False)
percentages = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False)
quantities = st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False)
priorities = st.integers(min_value=-5, max_value=5)
methods = st.sampled_from([FIXED, PERCENTAGE])


def rule(**fields: object) -> PriceCandidate:
    """A candidate that applies to REQUEST unless told otherwise: general list, every product."""
    n = next(_ids)
    values: dict[str, object] = {
        "rule_id": n,
        "price_list_id": n,
        "price_list_name": f"List {n}",
        "scope": GENERAL,
        "priority": 0,
        "method": PERCENTAGE,
        "value": Decimal("10"),
    }
    values.update(fields)
    if values["scope"] == CATEGORY:
        values.setdefault("list_category_id", CATEGORY_ID)
        values.setdefault("scope_name", "Resellers")
    if values["scope"] == CUSTOMER:
        values.setdefault("list_party_id", PARTY)
        values.setdefault("scope_name", "Dupont SA")
    return PriceCandidate(**values)  # type: ignore[arg-type]


def decimals_of(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@st.composite
def any_candidate(draw: st.DrawFn) -> PriceCandidate:
    """A candidate that may or may not apply: other customers, products, dates, quantities."""
    scope = draw(st.sampled_from([GENERAL, CATEGORY, CUSTOMER]))
    target = draw(st.sampled_from(["product", "other_product", "family", "other_family", "all"]))
    start = draw(st.none() | st.integers(-30, 30).map(lambda d: TODAY + timedelta(days=d)))
    end = draw(st.none() | st.integers(-30, 30).map(lambda d: TODAY + timedelta(days=d)))
    if start and end and end < start:
        start, end = end, start
    method = draw(methods)
    return rule(
        scope=scope,
        priority=draw(priorities),
        method=method,
        value=draw(prices if method == FIXED else percentages),
        min_quantity=draw(quantities),
        product_id={"product": PRODUCT, "other_product": 2}.get(target),
        family_id={"family": FAMILY, "other_family": 11}.get(target),
        list_active=draw(st.booleans()),
        valid_from=start,
        valid_until=end,
        list_party_id=draw(st.sampled_from([PARTY, 200])) if scope == CUSTOMER else None,
        list_category_id=draw(st.sampled_from([CATEGORY_ID, 2000])) if scope == CATEGORY else None,
    )


def applies(c: PriceCandidate, quantity: Decimal) -> bool:
    return (
        c.list_active
        and (c.valid_from is None or c.valid_from <= TODAY)
        and (c.valid_until is None or c.valid_until >= TODAY)
        and (c.scope != CUSTOMER or c.list_party_id == PARTY)
        and (c.scope != CATEGORY or c.list_category_id == CATEGORY_ID)
        and c.product_id in (None, PRODUCT)
        and c.family_id in (None, FAMILY)
        and c.min_quantity <= quantity
    )


SCOPES = {GENERAL: 0, CATEGORY: 1, CUSTOMER: 2}


def rank(c: PriceCandidate) -> tuple[int, int, int, Decimal]:
    target = 2 if c.product_id else 1 if c.family_id else 0
    return (c.priority, SCOPES[c.scope], target, c.min_quantity)


# -- the price of a rule -------------------------------------------------------------------


@given(catalogue=prices, value=prices, quantity=quantities)
def test_fixed_price_is_the_rule_value(
    catalogue: Decimal, value: Decimal, quantity: Decimal
) -> None:
    result = choose_price(catalogue, [rule(method=FIXED, value=value)], quantity, request=REQUEST)
    assert result.unit_price == value


@given(catalogue=prices, percent=percentages, quantity=quantities)
def test_percentage_is_off_the_catalogue_price(
    catalogue: Decimal, percent: Decimal, quantity: Decimal
) -> None:
    result = choose_price(
        catalogue, [rule(method=PERCENTAGE, value=percent)], quantity, request=REQUEST
    )
    exact = catalogue * (100 - percent) / 100
    assert abs(result.unit_price - exact) <= Decimal("0.00005")
    assert Decimal(0) <= result.unit_price <= catalogue
    if percent == 0:
        assert result.unit_price == catalogue
    if percent == 100:
        assert result.unit_price == 0


def test_percentage_rounds_half_up_to_four_places() -> None:
    # 0.0001 × (1 − 50 %) = 0.00005 → 0.0001 half up (banker's rounding would give 0.0000).
    result = choose_price(
        Decimal("0.0001"), [rule(value=Decimal("50"))], Decimal(1), request=REQUEST
    )
    assert result.unit_price == Decimal("0.0001")


# -- which rule wins -----------------------------------------------------------------------


@given(
    catalogue=prices,
    breaks=st.lists(
        st.tuples(quantities, percentages), min_size=1, max_size=6, unique_by=lambda b: b[0]
    ),
    q1=quantities,
    q2=quantities,
)
def test_quantity_breaks_are_monotonic_within_a_list(
    catalogue: Decimal, breaks: list[tuple[Decimal, Decimal]], q1: Decimal, q2: Decimal
) -> None:
    # A sane break table: the larger the quantity, the larger the discount.
    quantities_sorted = sorted(b[0] for b in breaks)
    discounts_sorted = sorted(b[1] for b in breaks)
    candidates = [
        rule(price_list_id=1, price_list_name="Breaks", value=discount, min_quantity=quantity)
        for quantity, discount in zip(quantities_sorted, discounts_sorted, strict=True)
    ]
    low, high = sorted([q1, q2])
    price_low = choose_price(catalogue, candidates, low, request=REQUEST)
    price_high = choose_price(catalogue, candidates, high, request=REQUEST)
    assert price_high.unit_price <= price_low.unit_price
    # The winner is the largest break not above the quantity.
    eligible = [c for c in candidates if c.min_quantity <= high]
    if eligible:
        assert price_high.rule_id == max(eligible, key=lambda c: c.min_quantity).rule_id
    else:
        assert price_high.rule_id is None


@given(
    high=priorities,
    gap=st.integers(min_value=1, max_value=5),
    weak_scope=st.sampled_from([GENERAL, CATEGORY, CUSTOMER]),
    strong_scope=st.sampled_from([GENERAL, CATEGORY, CUSTOMER]),
    cheaper=prices,
    dearer=prices,
)
def test_highest_priority_wins_over_scope_target_and_price(
    high: int,
    gap: int,
    weak_scope: str,
    strong_scope: str,
    cheaper: Decimal,
    dearer: Decimal,
) -> None:
    winner = rule(priority=high, scope=weak_scope, method=FIXED, value=dearer)
    loser = rule(
        priority=high - gap,
        scope=strong_scope,
        product_id=PRODUCT,
        min_quantity=Decimal(5),
        method=FIXED,
        value=cheaper,
    )
    for order in ([winner, loser], [loser, winner]):
        result = choose_price(Decimal(100), order, Decimal(10), request=REQUEST)
        assert result.rule_id == winner.rule_id


@given(priority=priorities, values=st.lists(prices, min_size=3, max_size=3))
def test_most_specific_scope_wins_at_equal_priority(priority: int, values: list[Decimal]) -> None:
    general = rule(
        priority=priority, scope=GENERAL, product_id=PRODUCT, method=FIXED, value=values[0]
    )
    category = rule(priority=priority, scope=CATEGORY, method=FIXED, value=values[1])
    customer = rule(priority=priority, scope=CUSTOMER, method=FIXED, value=values[2])
    assert (
        choose_price(
            Decimal(50), [general, category, customer], Decimal(1), request=REQUEST
        ).rule_id
        == customer.rule_id
    )
    assert choose_price(Decimal(50), [general, category], Decimal(1), request=REQUEST).rule_id == (
        category.rule_id
    )
    # Without a category, the category list does not apply; without a customer, neither.
    anonymous = PriceRequest(product_id=PRODUCT, family_id=FAMILY, on_date=TODAY)
    assert (
        choose_price(
            Decimal(50), [general, category, customer], Decimal(1), request=anonymous
        ).rule_id
        == general.rule_id
    )


@given(values=st.lists(prices, min_size=3, max_size=3), quantity=quantities)
def test_most_specific_rule_wins_within_a_list(values: list[Decimal], quantity: Decimal) -> None:
    every = rule(price_list_id=7, method=FIXED, value=values[0])
    family = rule(price_list_id=7, family_id=FAMILY, method=FIXED, value=values[1])
    product = rule(price_list_id=7, product_id=PRODUCT, method=FIXED, value=values[2])
    result = choose_price(Decimal(50), [every, family, product], quantity, request=REQUEST)
    assert (result.rule_id, result.unit_price) == (product.rule_id, values[2])
    assert choose_price(Decimal(50), [every, family], quantity, request=REQUEST).rule_id == (
        family.rule_id
    )
    # A rule on another product or another family never applies.
    others = [rule(product_id=2, method=FIXED, value=Decimal(1)), rule(family_id=11)]
    assert choose_price(Decimal(50), others, quantity, request=REQUEST).rule_id is None


@given(
    offset=st.integers(min_value=-60, max_value=60), length=st.integers(min_value=0, max_value=60)
)
def test_only_lists_valid_on_the_day_apply(offset: int, length: int) -> None:
    start = TODAY + timedelta(days=offset)
    end = start + timedelta(days=length)
    candidate = rule(valid_from=start, valid_until=end)
    result = choose_price(Decimal(20), [candidate], Decimal(1), request=REQUEST)
    valid = start <= TODAY <= end
    assert (result.rule_id == candidate.rule_id) is valid
    assert result.unit_price == (Decimal("18.0000") if valid else Decimal("20.0000"))


def test_validity_bounds_are_inclusive_and_open_when_empty() -> None:
    for start, end in [(TODAY, TODAY), (None, TODAY), (TODAY, None), (None, None)]:
        candidate = rule(valid_from=start, valid_until=end)
        assert choose_price(Decimal(20), [candidate], Decimal(1), request=REQUEST).rule_id == (
            candidate.rule_id
        )


@given(priority=priorities, value=prices)
def test_inactive_list_is_ignored(priority: int, value: Decimal) -> None:
    inactive = rule(priority=priority + 10, list_active=False, method=FIXED, value=value)
    active = rule(priority=priority, method=FIXED, value=Decimal("7"))
    result = choose_price(Decimal(20), [inactive, active], Decimal(1), request=REQUEST)
    assert result.rule_id == active.rule_id
    assert choose_price(Decimal(20), [inactive], Decimal(1), request=REQUEST).rule_id is None


@given(catalogue=prices, quantity=quantities)
def test_no_rule_gives_the_catalogue_price(catalogue: Decimal, quantity: Decimal) -> None:
    result = choose_price(catalogue, [], quantity, request=REQUEST)
    assert result.unit_price == catalogue
    assert result.rule_description == "catalogue price"
    assert (result.price_list_id, result.rule_id) == (None, None)


@given(
    catalogue=prices,
    candidates=st.lists(any_candidate(), max_size=12),
    quantity=quantities,
)
def test_winner_applies_and_outranks_every_other_applicable_rule(
    catalogue: Decimal, candidates: list[PriceCandidate], quantity: Decimal
) -> None:
    result = choose_price(catalogue, candidates, quantity, request=REQUEST)
    assert isinstance(result.unit_price, Decimal)
    assert decimals_of(result.unit_price) <= 4
    assert result.unit_price >= 0
    applicable = [c for c in candidates if applies(c, quantity)]
    if not applicable:
        assert result.rule_id is None
        assert result.unit_price == catalogue
        return
    winner = next(c for c in candidates if c.rule_id == result.rule_id)
    assert winner in applicable
    assert result.price_list_id == winner.price_list_id
    assert all(rank(winner) >= rank(c) for c in applicable)
    # The order the candidates come in changes nothing.
    again = choose_price(catalogue, list(reversed(candidates)), quantity, request=REQUEST)
    assert again == result


@given(catalogue=prices, value=percentages)
def test_result_has_at_most_four_decimals(catalogue: Decimal, value: Decimal) -> None:
    result = choose_price(
        catalogue * Decimal("1.0001"), [rule(value=value)], Decimal(1), request=REQUEST
    )
    assert isinstance(result.unit_price, Decimal)
    assert decimals_of(result.unit_price) <= 4


# -- what the user reads -------------------------------------------------------------------


def test_description_names_the_list_scope_quantity_and_discount() -> None:
    candidate = rule(
        price_list_name="Revendeurs",
        scope=CATEGORY,
        scope_name="Revendeurs",
        min_quantity=Decimal("10.000"),
        value=Decimal("12.0000"),
    )
    result = choose_price(Decimal(100), [candidate], Decimal(10), request=REQUEST)
    assert result.rule_description == (
        "Price list «Revendeurs» (category Revendeurs), all products, from 10 units: −12 %"
    )
    assert result.unit_price == Decimal("88.0000")


def test_french_description_has_a_no_break_space_before_the_colon() -> None:
    candidate = rule(min_quantity=Decimal("10.000"), value=Decimal("5.0000"))
    with translation.override("fr"):
        result = choose_price(Decimal(100), [candidate], Decimal(10), request=REQUEST)
    assert "\u00a0: −5\u00a0%" in result.rule_description
    assert " :" not in result.rule_description and "s: " not in result.rule_description


def test_description_of_a_fixed_family_price() -> None:
    candidate = rule(
        price_list_name="Marché mairie",
        scope=CUSTOMER,
        scope_name="Mairie de Lyon",
        family_id=FAMILY,
        family_name="Mobilier",
        method=FIXED,
        value=Decimal("249.5"),
    )
    result = choose_price(Decimal(300), [candidate], Decimal(1), request=REQUEST)
    assert result.rule_description == (
        "Price list «Marché mairie» (customer Mairie de Lyon), family Mobilier: "
        "fixed price 249,50 €"
    )


# -- printed price lists -------------------------------------------------------------------


def test_list_price_breaks_give_the_price_from_each_quantity() -> None:
    rules = [
        rule(price_list_id=3, value=Decimal("2"), min_quantity=Decimal("0.5")),  # folded into 1
        rule(price_list_id=3, value=Decimal("5"), min_quantity=Decimal(10)),
        rule(price_list_id=3, value=Decimal("10"), min_quantity=Decimal(50)),
        rule(price_list_id=3, product_id=2, method=FIXED, value=Decimal(1)),  # another product
    ]
    breaks = list_price_breaks(Decimal("4.90"), rules, product_id=PRODUCT, family_id=FAMILY)
    assert [(b.min_quantity, b.unit_price) for b in breaks] == [
        (Decimal(1), Decimal("4.8020")),  # the 2 % from 0.5 applies to 1 unit
        (Decimal(10), Decimal("4.6550")),
        (Decimal(50), Decimal("4.4100")),
    ]


@given(catalogue=prices, candidates=st.lists(any_candidate(), max_size=8))
def test_list_price_breaks_agree_with_choose_price_inside_one_list(
    catalogue: Decimal, candidates: list[PriceCandidate]
) -> None:
    # Put every candidate in one active, general, always-valid list.
    one_list = [
        rule(
            rule_id=c.rule_id,
            price_list_id=1,
            method=c.method,
            value=c.value,
            min_quantity=c.min_quantity,
            product_id=c.product_id,
            family_id=c.family_id,
        )
        for c in candidates
    ]
    breaks = list_price_breaks(catalogue, one_list, product_id=PRODUCT, family_id=FAMILY)
    assert breaks[0].min_quantity == 1
    assert all(b.min_quantity > 1 for b in breaks[1:])
    for price_break in breaks:
        expected = choose_price(catalogue, one_list, price_break.min_quantity, request=REQUEST)
        assert price_break.unit_price == expected.unit_price
