"""`price_for` against the database: the right rule, in one query; visible price lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comptoir.catalogue import selectors
from comptoir.catalogue.models import PriceListScope, PriceMethod
from comptoir.parties.models import CustomerCategory
from tests.factories import (
    PartyFactory,
    PriceListFactory,
    PriceRuleFactory,
    ProductFactory,
    ProductFamilyFactory,
)

pytestmark = pytest.mark.django_db
DAY = date(2026, 6, 15)


@pytest.fixture
def setup(rep: Any) -> dict[str, Any]:
    resellers = CustomerCategory.objects.create(code="reseller", name="Revendeurs")
    family = ProductFamilyFactory(name="Papeterie")
    product = ProductFactory(family=family, sale_price=Decimal("4.90"))
    customer = PartyFactory(name="Dupont SA", category=resellers, sales_rep=rep)
    general = PriceListFactory(name="Tarif 2026", valid_from=date(2026, 1, 1))
    PriceRuleFactory(price_list=general, family=family, min_quantity=Decimal(10), value=Decimal(5))
    category_list = PriceListFactory(
        name="Revendeurs", scope=PriceListScope.CATEGORY, category=resellers, priority=10
    )
    PriceRuleFactory(price_list=category_list, min_quantity=Decimal(10), value=Decimal(12))
    contract = PriceListFactory(
        name="Contrat Dupont",
        scope=PriceListScope.CUSTOMER,
        party=customer,
        valid_until=date(2026, 3, 31),
        priority=20,
    )
    PriceRuleFactory(
        price_list=contract, product=product, method=PriceMethod.FIXED, value=Decimal("3.5")
    )
    return {
        "product": product,
        "customer": customer,
        "general": general,
        "category_list": category_list,
        "contract": contract,
        "family": family,
        "resellers": resellers,
    }


def test_price_for_picks_the_rule_and_says_which_in_one_query(setup: dict[str, Any]) -> None:
    product, customer = setup["product"], setup["customer"]
    with CaptureQueriesContext(connection) as queries:
        result = selectors.price_for(product, customer, Decimal(10), DAY)
    assert len(queries) == 1
    assert result.unit_price == Decimal("4.3120")  # 4.90 × 0.88
    assert result.price_list_id == setup["category_list"].pk
    assert result.rule_description == (
        "Price list «Revendeurs» (category Revendeurs), all products, from 10 units: −12 %"
    )


def test_price_for_below_the_break_and_for_anonymous_customers(setup: dict[str, Any]) -> None:
    product, customer = setup["product"], setup["customer"]
    assert selectors.price_for(product, customer, Decimal(9), DAY).unit_price == Decimal("4.9")
    anonymous = selectors.price_for(product, None, Decimal(10), DAY)
    assert anonymous.unit_price == Decimal("4.6550")
    assert anonymous.price_list_id == setup["general"].pk
    assert "family Papeterie" in anonymous.rule_description
    # Before the general list starts: the catalogue price.
    early = selectors.price_for(product, None, Decimal(10), date(2025, 12, 31))
    assert (early.unit_price, early.rule_description) == (Decimal("4.9"), "catalogue price")


def test_customer_contract_wins_while_valid(setup: dict[str, Any]) -> None:
    product, customer = setup["product"], setup["customer"]
    during = selectors.price_for(product, customer, Decimal(10), date(2026, 3, 31))
    assert (during.unit_price, during.price_list_id) == (Decimal("3.5"), setup["contract"].pk)
    assert "customer Dupont SA" in during.rule_description
    assert "fixed price 3,50 €" in during.rule_description
    # Another customer of the same category does not get Dupont's contract.
    other = PartyFactory(name="Martin SARL", category=setup["resellers"])
    assert selectors.price_for(product, other, Decimal(10), date(2026, 3, 31)).price_list_id == (
        setup["category_list"].pk
    )


def test_inactive_list_is_not_used(setup: dict[str, Any], assistant: Any) -> None:
    from comptoir.catalogue.actions import update_price_list

    update_price_list(setup["category_list"], by=assistant, active=False)
    result = selectors.price_for(setup["product"], setup["customer"], Decimal(10), DAY)
    assert result.price_list_id == setup["general"].pk


def test_rep_sees_general_lists_and_those_of_their_customers(
    setup: dict[str, Any], rep: Any, other_rep: Any, accountant: Any
) -> None:
    everything = {setup["general"].pk, setup["category_list"].pk, setup["contract"].pk}
    assert set(selectors.price_lists_visible_to(rep).values_list("pk", flat=True)) == everything
    assert set(selectors.price_lists_visible_to(other_rep).values_list("pk", flat=True)) == {
        setup["general"].pk
    }
    assert set(selectors.price_lists_visible_to(accountant).values_list("pk", flat=True)) == (
        everything
    )
    assert other_rep.has_perm("catalogue.view_pricelist", setup["general"])
    assert not other_rep.has_perm("catalogue.view_pricelist", setup["contract"])
    assert not other_rep.has_perm("catalogue.view_pricelist", setup["category_list"])
    assert rep.has_perm("catalogue.view_pricelist", setup["category_list"])


def test_price_list_sheet_groups_by_family_in_two_queries(setup: dict[str, Any]) -> None:
    ProductFactory(reference="ZZZ-1", label="Sans famille", sale_price=Decimal("2"))
    with CaptureQueriesContext(connection) as queries:
        sections = selectors.price_list_sheet(setup["general"])
        lines = [
            (s.family.name if s.family else None, [line.product.reference for line in s.lines])
            for s in sections
        ]
    assert len(queries) == 2
    assert lines == [("Papeterie", [setup["product"].reference]), (None, ["ZZZ-1"])]
    line = sections[0].lines[0]
    assert [(b.min_quantity, b.unit_price) for b in line.breaks] == [
        (Decimal(1), Decimal("4.9000")),
        (Decimal(10), Decimal("4.6550")),
    ]
