"""Pricing as pure functions: which price list rule gives a unit price, and what price.

Resolution order (``choose_price``; the user guide ``docs/user/price-lists.md`` says the same):

1. A rule is a candidate only if
   - its price list is active and valid on the day (``valid_from <= day <= valid_until``,
     an empty bound is open);
   - its price list applies to the customer: a general list always, a category list when
     the customer is in that category, a customer list for that customer only (without a
     customer, only general lists apply);
   - it targets the product itself, the product's family, or every product (no target);
   - its ``min_quantity`` is at most the quantity ordered.
2. Among the candidates the winner has, in this order:
   the highest list priority; then the most specific list scope (customer > category >
   general); then the most specific rule (product > family > every product); then the
   largest quantity break. A remaining tie goes to the lowest price, then the oldest rule.
3. The price of the winner: a fixed price is its value; a percentage is the catalogue price
   × (1 − value / 100). Unit prices are rounded to 4 decimal places, half up.
4. Without any candidate the price is the catalogue price ("catalogue price").

Everything here takes and returns plain values (``Decimal``, ``date``, dataclasses), never
floats and never models, so it can be property-tested.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from comptoir.core.money import format_amount

GENERAL = "general"
CATEGORY = "category"
CUSTOMER = "customer"
FIXED = "fixed"
PERCENTAGE = "percentage"

SCOPE_RANK = {GENERAL: 0, CATEGORY: 1, CUSTOMER: 2}
# Unit prices carry 4 decimal places (DESIGN.md, "Money and tax"); amounts are rounded to
# the cent later, by core.money.round_amount, when a document line is computed.
UNIT_PRICE_QUANTUM = Decimal("0.0001")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(frozen=True)
class PriceRequest:
    """What is priced: a product (and its family) for a customer (and their category) on a day."""

    product_id: int
    family_id: int | None
    on_date: date
    party_id: int | None = None
    category_id: int | None = None
    unit_singular: str = ""
    unit_plural: str = ""


@dataclass(frozen=True)
class PriceCandidate:
    """One price rule with the price list facts needed to choose between rules."""

    rule_id: int
    price_list_id: int
    price_list_name: str
    scope: str  # general | category | customer
    priority: int
    method: str  # fixed | percentage
    value: Decimal
    min_quantity: Decimal = ZERO
    product_id: int | None = None
    family_id: int | None = None
    family_name: str = ""
    list_active: bool = True
    valid_from: date | None = None
    valid_until: date | None = None
    list_party_id: int | None = None
    list_category_id: int | None = None
    scope_name: str = ""  # the category's or the customer's name

    @property
    def target_rank(self) -> int:
        """2 for a product rule, 1 for a family rule, 0 for a rule on every product."""
        if self.product_id is not None:
            return 2
        if self.family_id is not None:
            return 1
        return 0


@dataclass(frozen=True)
class PriceResult:
    unit_price: Decimal
    rule_description: str
    price_list_id: int | None = None
    rule_id: int | None = None


@dataclass(frozen=True)
class PriceBreak:
    """The unit price of one list from a quantity on (a line of a printed price list)."""

    min_quantity: Decimal
    unit_price: Decimal
    rule_id: int | None


def round_unit_price(value: Decimal) -> Decimal:
    """Round a unit price to 4 decimal places, half up."""
    return value.quantize(UNIT_PRICE_QUANTUM, rounding=ROUND_HALF_UP)


def apply_rule(catalogue_price: Decimal, method: str, value: Decimal) -> Decimal:
    """Return the unit price a rule gives: its fixed value or the discounted catalogue price."""
    if method == FIXED:
        return round_unit_price(value)
    if method == PERCENTAGE:
        return round_unit_price(catalogue_price * (HUNDRED - value) / HUNDRED)
    raise ValueError(f"unknown pricing method {method!r}")


def list_is_valid(candidate: PriceCandidate, on_date: date) -> bool:
    """Tell whether the candidate's list is active and within its validity on the day."""
    if not candidate.list_active:
        return False
    if candidate.valid_from is not None and on_date < candidate.valid_from:
        return False
    return candidate.valid_until is None or on_date <= candidate.valid_until


def list_applies_to(candidate: PriceCandidate, request: PriceRequest) -> bool:
    """Tell whether the candidate's list is meant for the request's customer."""
    if candidate.scope == GENERAL:
        return True
    if candidate.scope == CATEGORY:
        return request.category_id is not None and candidate.list_category_id == request.category_id
    if candidate.scope == CUSTOMER:
        return request.party_id is not None and candidate.list_party_id == request.party_id
    return False


def rule_targets(candidate: PriceCandidate, product_id: int, family_id: int | None) -> bool:
    """Tell whether the rule is about this product: itself, its family, or every product."""
    if candidate.product_id is not None:
        return candidate.product_id == product_id
    if candidate.family_id is not None:
        return family_id is not None and candidate.family_id == family_id
    return True


def choose_price(
    catalogue_price: Decimal,
    candidates: Iterable[PriceCandidate],
    quantity: Decimal,
    *,
    request: PriceRequest,
) -> PriceResult:
    """Return the unit price excl. VAT for the request, and the rule that gave it.

    The candidates may include rules that do not apply (other customers, other products,
    lists out of date, larger quantity breaks): they are filtered out here, following the
    resolution order in this module's docstring.
    """
    best: tuple[tuple[int, int, int, Decimal, Decimal, int], PriceCandidate, Decimal] | None = None
    for candidate in candidates:
        if candidate.min_quantity > quantity:
            continue
        if not list_is_valid(candidate, request.on_date):
            continue
        if not list_applies_to(candidate, request):
            continue
        if not rule_targets(candidate, request.product_id, request.family_id):
            continue
        price = apply_rule(catalogue_price, candidate.method, candidate.value)
        # Smallest key wins: negate what must be highest.
        key = (
            -candidate.priority,
            -SCOPE_RANK.get(candidate.scope, -1),
            -candidate.target_rank,
            -candidate.min_quantity,
            price,
            candidate.rule_id,
        )
        if best is None or key < best[0]:
            best = (key, candidate, price)
    if best is None:
        return PriceResult(
            unit_price=round_unit_price(catalogue_price), rule_description=_("catalogue price")
        )
    _key, winner, price = best
    return PriceResult(
        unit_price=price,
        rule_description=describe_rule(winner, request),
        price_list_id=winner.price_list_id,
        rule_id=winner.rule_id,
    )


def list_price_breaks(
    catalogue_price: Decimal,
    rules: Sequence[PriceCandidate],
    *,
    product_id: int,
    family_id: int | None,
) -> list[PriceBreak]:
    """Return the unit prices one list gives a product, for 1 unit and from each larger break.

    Used to print a price list: the list's validity and scope are not checked (the reader
    is told them in the heading); among the list's rules for the product the most specific
    rule wins, then the largest quantity break, as in ``choose_price``. A printed list
    starts at one unit, so breaks at or below 1 are folded into the first line; consecutive
    breaks with the same price are merged.
    """
    own = [rule for rule in rules if rule_targets(rule, product_id, family_id)]
    quantities = sorted({ONE} | {rule.min_quantity for rule in own if rule.min_quantity > ONE})
    breaks: list[PriceBreak] = []
    for quantity in quantities:
        applicable = [rule for rule in own if rule.min_quantity <= quantity]
        if applicable:
            winner = min(
                applicable,
                key=lambda rule: (
                    -rule.target_rank,
                    -rule.min_quantity,
                    apply_rule(catalogue_price, rule.method, rule.value),
                    rule.rule_id,
                ),
            )
            price = apply_rule(catalogue_price, winner.method, winner.value)
            rule_id: int | None = winner.rule_id
        else:
            price, rule_id = round_unit_price(catalogue_price), None
        if breaks and breaks[-1].unit_price == price:
            continue
        breaks.append(PriceBreak(min_quantity=quantity, unit_price=price, rule_id=rule_id))
    return breaks


def plain_number(value: Decimal, min_places: int = 0, max_places: int = 4) -> str:
    """Write a decimal French style with no useless trailing zeros: 12, 12,5, 1 250,75."""
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return format_amount(value, min(max(places, min_places), max_places))


def describe_rule(candidate: PriceCandidate, request: PriceRequest) -> str:
    """Say in words which rule gave a price.

    E.g. "Price list «Resellers» (category Resellers), from 10 units: −12 %".
    """
    if candidate.scope == CATEGORY:
        scope = _("category %(name)s") % {"name": candidate.scope_name}
    elif candidate.scope == CUSTOMER:
        scope = _("customer %(name)s") % {"name": candidate.scope_name}
    else:
        scope = _("general")
    parts = [
        _("Price list «%(name)s» (%(scope)s)") % {"name": candidate.price_list_name, "scope": scope}
    ]
    if candidate.target_rank == 1:
        parts.append(_("family %(name)s") % {"name": candidate.family_name})
    elif candidate.target_rank == 0:
        parts.append(_("all products"))
    if candidate.min_quantity > 0:
        unit = request.unit_singular if candidate.min_quantity == 1 else request.unit_plural
        parts.append(
            (
                _("from %(quantity)s %(unit)s")
                % {"quantity": plain_number(candidate.min_quantity, max_places=3), "unit": unit}
            ).strip()
        )
    if candidate.method == PERCENTAGE:
        price = _("−%(value)s %%") % {"value": plain_number(candidate.value)}
    else:
        price = _("fixed price %(price)s €") % {"price": plain_number(candidate.value, 2)}
    # The colon is the translator's: French wants a no-break space before it.
    return _("%(rule)s: %(price)s") % {"rule": ", ".join(parts), "price": price}
