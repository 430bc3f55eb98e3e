"""Catalogue reads with business meaning: prices, visible price lists, printable price lists."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, DecimalField, ExpressionWrapper, F, Q, QuerySet, Value, When
from django.utils import timezone

from comptoir.catalogue import calculations
from comptoir.catalogue.calculations import PriceBreak, PriceCandidate, PriceRequest, PriceResult
from comptoir.catalogue.models import (
    UNIT_PLURALS,
    PriceList,
    PriceListPublication,
    PriceListScope,
    PriceRule,
    Product,
    ProductFamily,
    Unit,
)
from comptoir.core.roles import is_sales_rep, reads_everything
from comptoir.parties.models import Party

_RULE_FIELDS = (
    "pk",
    "product_id",
    "family_id",
    "family__name",
    "min_quantity",
    "method",
    "value",
    "price_list_id",
    "price_list__name",
    "price_list__scope",
    "price_list__priority",
    "price_list__active",
    "price_list__valid_from",
    "price_list__valid_until",
    "price_list__party_id",
    "price_list__party__name",
    "price_list__category_id",
    "price_list__category__name",
)


def _candidate(row: dict[str, Any]) -> PriceCandidate:
    scope = row["price_list__scope"]
    if scope == PriceListScope.CATEGORY:
        scope_name = row["price_list__category__name"] or ""
    elif scope == PriceListScope.CUSTOMER:
        scope_name = row["price_list__party__name"] or ""
    else:
        scope_name = ""
    return PriceCandidate(
        rule_id=row["pk"],
        price_list_id=row["price_list_id"],
        price_list_name=row["price_list__name"],
        scope=scope,
        priority=row["price_list__priority"],
        method=row["method"],
        value=row["value"],
        min_quantity=row["min_quantity"],
        product_id=row["product_id"],
        family_id=row["family_id"],
        family_name=row["family__name"] or "",
        list_active=row["price_list__active"],
        valid_from=row["price_list__valid_from"],
        valid_until=row["price_list__valid_until"],
        list_party_id=row["price_list__party_id"],
        list_category_id=row["price_list__category_id"],
        scope_name=scope_name,
    )


def unit_labels(unit: str) -> tuple[str, str]:
    """Return the singular and plural label of a unit code."""
    try:
        code = Unit(unit)
    except ValueError:
        return unit, unit
    return str(code.label), str(UNIT_PLURALS.get(code, code.label))


def price_for(
    product: Product,
    party: Party | None,
    quantity: Decimal,
    on_date: date | None = None,
) -> PriceResult:
    """Return the unit price excl. VAT of `quantity` of `product` for `party` on a day.

    `party=None` prices for an anonymous customer (general lists only). One query loads
    the rules that may apply; ``calculations.choose_price`` picks the winner.
    """
    on_date = on_date or timezone.localdate()
    scope = Q(price_list__scope=PriceListScope.GENERAL)
    if party is not None:
        scope |= Q(price_list__scope=PriceListScope.CUSTOMER, price_list__party_id=party.pk)
        if party.category_id is not None:
            scope |= Q(
                price_list__scope=PriceListScope.CATEGORY,
                price_list__category_id=party.category_id,
            )
    target = Q(product_id=product.pk) | Q(product__isnull=True, family__isnull=True)
    if product.family_id is not None:
        target |= Q(family_id=product.family_id)
    rows = (
        PriceRule.objects.filter(scope, target, price_list__active=True)
        .filter(min_quantity__lte=quantity)
        .filter(Q(price_list__valid_from__isnull=True) | Q(price_list__valid_from__lte=on_date))
        .filter(Q(price_list__valid_until__isnull=True) | Q(price_list__valid_until__gte=on_date))
        .values(*_RULE_FIELDS)
    )
    singular, plural = unit_labels(product.unit)
    request = PriceRequest(
        product_id=product.pk,
        family_id=product.family_id,
        on_date=on_date,
        party_id=party.pk if party is not None else None,
        category_id=party.category_id if party is not None else None,
        unit_singular=singular,
        unit_plural=plural,
    )
    return calculations.choose_price(
        product.sale_price, [_candidate(row) for row in rows], quantity, request=request
    )


def products_with_margin() -> QuerySet[Product]:
    """Products with family and VAT rate loaded and their margin rate in percent (`margin`)."""
    margin = Case(
        When(
            Q(sale_price__gt=0) & Q(purchase_cost__isnull=False),
            then=ExpressionWrapper(
                (F("sale_price") - F("purchase_cost")) * Value(Decimal(100)) / F("sale_price"),
                output_field=DecimalField(max_digits=20, decimal_places=4),
            ),
        ),
        default=None,
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    return Product.objects.select_related("family", "vat_rate").annotate(margin=margin)


def price_lists_visible_to(user: Any) -> QuerySet[PriceList]:
    """The price lists the user may read: all of them, or for a rep those of their customers."""
    lists = PriceList.objects.select_related("party", "category")
    if reads_everything(user):
        return lists
    if is_sales_rep(user):
        portfolio = Party.objects.filter(sales_rep=user)
        return lists.filter(
            Q(scope=PriceListScope.GENERAL)
            | Q(scope=PriceListScope.CUSTOMER, party__in=portfolio)
            | Q(
                scope=PriceListScope.CATEGORY,
                category__in=portfolio.filter(category__isnull=False).values("category"),
            )
        )
    return lists.none()


def customers_for_pricing(user: Any) -> QuerySet[Party]:
    """The customers the user may check a price for: a rep's own, everyone's otherwise."""
    parties = Party.objects.customers().active().select_related("category").order_by("name")
    if reads_everything(user):
        return parties
    if is_sales_rep(user):
        return parties.filter(sales_rep=user)
    return parties.none()


@dataclass
class SheetLine:
    """A product as a printed price list shows it: its prices from each quantity break."""

    product: Product
    catalogue_price: Decimal
    breaks: list[PriceBreak]

    @property
    def unit_price(self) -> Decimal:
        return self.breaks[0].unit_price

    @property
    def quantity_breaks(self) -> list[PriceBreak]:
        return self.breaks[1:]


@dataclass
class SheetSection:
    family: ProductFamily | None
    lines: list[SheetLine] = field(default_factory=list)


def price_list_sheet(price_list: PriceList) -> list[SheetSection]:
    """Return the list's prices for every active product, grouped by family (two queries)."""
    rules = [_candidate(row) for row in price_list.rules.values(*_RULE_FIELDS)]
    by_product: dict[int | None, list[PriceCandidate]] = defaultdict(list)
    by_family: dict[int | None, list[PriceCandidate]] = defaultdict(list)
    every_product: list[PriceCandidate] = []
    for rule in rules:
        if rule.product_id is not None:
            by_product[rule.product_id].append(rule)
        elif rule.family_id is not None:
            by_family[rule.family_id].append(rule)
        else:
            every_product.append(rule)
    products = (
        Product.objects.filter(active=True)
        .select_related("family", "vat_rate")
        .order_by(F("family__name").asc(nulls_last=True), "reference")
    )
    sections: list[SheetSection] = []
    for product in products:
        own = by_product.get(product.pk, []) + by_family.get(product.family_id, []) + every_product
        line = SheetLine(
            product=product,
            catalogue_price=product.sale_price,
            breaks=calculations.list_price_breaks(
                product.sale_price, own, product_id=product.pk, family_id=product.family_id
            ),
        )
        if not sections or sections[-1].family != product.family:
            sections.append(SheetSection(family=product.family))
        sections[-1].lines.append(line)
    return sections


def live_publication(token: str) -> PriceListPublication | None:
    """Return the live publication of an active list for this token, or None."""
    if not token or len(token) > 64:
        return None
    return (
        PriceListPublication.objects.select_related("price_list")
        .filter(token=token, revoked_at__isnull=True, price_list__active=True)
        .first()
    )
