"""Catalogue API: products, VAT rates, price lists with rules, and pricing; 422s and 403s."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from comptoir.catalogue.models import PriceList, Product
from comptoir.parties.models import CustomerCategory
from tests.factories import (
    PartyFactory,
    PriceListFactory,
    PriceRuleFactory,
    ProductFactory,
    ProductFamilyFactory,
    vat_rate,
)

pytestmark = pytest.mark.django_db
API = "/api/v1"


def fields(response: Any) -> set[str]:
    return {error["field"] for error in response.json()["detail"]}


def test_create_get_patch_product(api_client_for: Any, assistant: Any) -> None:
    client = api_client_for(assistant)
    family = ProductFamilyFactory()
    payload = {
        "reference": "API-1",
        "label": "Classeur",
        "sale_price": "2.95",
        "purchase_cost": "1.2",
        "vat_rate_id": vat_rate().pk,
        "family_id": family.pk,
        "unit": "H87",
    }
    response = client.post(f"{API}/products", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["reference"], Decimal(data["sale_price"]), data["unit"]) == (
        "API-1",
        Decimal("2.95"),
        "H87",
    )
    assert Decimal(data["vat_rate"]) == Decimal(20)
    product_id = data["id"]
    response = client.patch(
        f"{API}/products/{product_id}", {"sale_price": "3.10"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert Product.objects.get(pk=product_id).sale_price == Decimal("3.10")
    assert client.get(f"{API}/products/{product_id}").json()["label"] == "Classeur"


def test_product_post_is_idempotent(api_client_for: Any, assistant: Any) -> None:
    client = api_client_for(assistant)
    payload = {"reference": "IDEM-1", "label": "X", "sale_price": "1", "vat_rate_id": vat_rate().pk}
    headers = {"Idempotency-Key": "abc-123"}
    first = client.post(
        f"{API}/products", payload, content_type="application/json", headers=headers
    )
    second = client.post(
        f"{API}/products", payload, content_type="application/json", headers=headers
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert Product.objects.filter(reference="IDEM-1").count() == 1


def test_product_errors_are_422_with_field_names(api_client_for: Any, assistant: Any) -> None:
    client = api_client_for(assistant)
    response = client.post(
        f"{API}/products",
        {"reference": "BAD", "label": "X", "sale_price": "-1", "vat_rate_id": vat_rate().pk},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert fields(response) == {"sale_price"}
    response = client.post(
        f"{API}/products",
        {"reference": "BAD", "label": "X", "sale_price": "1", "vat_rate_id": 999999},
        content_type="application/json",
    )
    assert response.status_code == 422 and fields(response) == {"vat_rate_id"}
    response = client.post(f"{API}/products", {"label": "X"}, content_type="application/json")
    assert response.status_code == 422
    assert {"reference", "sale_price", "vat_rate_id"} <= fields(response)


def test_sales_rep_reads_products_but_cannot_change_them(api_client_for: Any, rep: Any) -> None:
    product = ProductFactory(purchase_cost=Decimal("6"))
    client = api_client_for(rep)
    listing = client.get(f"{API}/products")
    assert listing.status_code == 200
    item = listing.json()["items"][0]
    assert item["reference"] == product.reference and item["purchase_cost"] is None
    response = client.patch(
        f"{API}/products/{product.pk}", {"sale_price": "1"}, content_type="application/json"
    )
    assert response.status_code == 403
    response = client.post(
        f"{API}/products",
        {"reference": "R", "label": "R", "sale_price": "1", "vat_rate_id": vat_rate().pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).sale_price == Decimal(10)


def test_products_are_paginated(api_client_for: Any, accountant: Any) -> None:
    for _n in range(3):
        ProductFactory()
    data = api_client_for(accountant).get(f"{API}/products", {"page": 1}).json()
    assert data["count"] == 3 and len(data["items"]) == 3
    assert Decimal(data["items"][0]["purchase_cost"]) == Decimal(6)


def test_vat_rates(api_client_for: Any, rep: Any) -> None:
    data = api_client_for(rep).get(f"{API}/vat-rates").json()
    by_code = {item["code"]: item for item in data["items"]}
    assert Decimal(by_code["tva-20"]["rate"]) == Decimal(20)
    assert by_code["autoliquidation"]["category"] == "AE"
    assert by_code["autoliquidation"]["exemption_code"] == "VATEX-EU-AE"


def test_price_list_with_nested_rules(api_client_for: Any, manager: Any) -> None:
    client = api_client_for(manager)
    category = CustomerCategory.objects.create(code="reseller", name="Revendeurs")
    family = ProductFamilyFactory()
    payload = {
        "code": "revendeurs",
        "name": "Revendeurs",
        "scope": "category",
        "category_id": category.pk,
        "priority": 10,
        "rules": [
            {"method": "percentage", "value": "15"},
            {"family_id": family.pk, "min_quantity": "20", "method": "percentage", "value": "20"},
        ],
    }
    headers = {"Idempotency-Key": "list-1"}
    response = client.post(
        f"{API}/price-lists", payload, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert len(data["rules"]) == 2 and data["category_id"] == category.pk
    replay = client.post(
        f"{API}/price-lists", payload, content_type="application/json", headers=headers
    )
    assert replay.status_code == 201 and replay.json() == data
    assert PriceList.objects.count() == 1
    list_id = data["id"]
    response = client.post(
        f"{API}/price-lists/{list_id}/rules",
        {"product_id": ProductFactory().pk, "method": "fixed", "value": "4.5"},
        content_type="application/json",
    )
    assert response.status_code == 201
    response = client.patch(
        f"{API}/price-lists/{list_id}", {"priority": 30}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["priority"] == 30 and len(response.json()["rules"]) == 3
    listing = client.get(f"{API}/price-lists").json()
    assert listing["count"] == 1 and len(listing["items"][0]["rules"]) == 3


def test_price_list_errors_are_422_and_leave_nothing(api_client_for: Any, manager: Any) -> None:
    client = api_client_for(manager)
    response = client.post(
        f"{API}/price-lists",
        {"code": "c1", "name": "C1", "scope": "customer"},
        content_type="application/json",
    )
    assert response.status_code == 422 and fields(response) == {"party_id"}
    response = client.post(
        f"{API}/price-lists",
        {
            "code": "c2",
            "name": "C2",
            "valid_from": "2026-02-01",
            "valid_until": "2026-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 422 and fields(response) == {"valid_until"}
    response = client.post(
        f"{API}/price-lists",
        {"code": "c3", "name": "C3", "rules": [{"method": "percentage", "value": "120"}]},
        content_type="application/json",
    )
    assert response.status_code == 422 and fields(response) == {"rules.0.value"}
    assert not PriceList.objects.exists()
    price_list = PriceListFactory()
    response = client.post(
        f"{API}/price-lists/{price_list.pk}/rules",
        {"method": "percentage", "value": "101"},
        content_type="application/json",
    )
    assert response.status_code == 422 and fields(response) == {"value"}


def test_rep_cannot_change_price_lists_nor_see_others(
    api_client_for: Any, rep: Any, other_rep: Any
) -> None:
    customer = PartyFactory(sales_rep=rep)
    contract = PriceListFactory(scope="customer", party=customer)
    general = PriceListFactory()
    assert api_client_for(rep).get(f"{API}/price-lists/{contract.pk}").status_code == 200
    assert api_client_for(other_rep).get(f"{API}/price-lists/{contract.pk}").status_code == 404
    ids = {
        item["id"] for item in api_client_for(other_rep).get(f"{API}/price-lists").json()["items"]
    }
    assert ids == {general.pk}
    response = api_client_for(rep).patch(
        f"{API}/price-lists/{contract.pk}", {"priority": 99}, content_type="application/json"
    )
    assert response.status_code == 403


def test_price_endpoint(api_client_for: Any, rep: Any, other_rep: Any) -> None:
    category = CustomerCategory.objects.create(code="reseller", name="Revendeurs")
    product = ProductFactory(sale_price=Decimal("4.90"))
    customer = PartyFactory(name="Dupont SA", category=category, sales_rep=rep)
    price_list = PriceListFactory(name="Revendeurs", scope="category", category=category)
    rule = PriceRuleFactory(price_list=price_list, min_quantity=Decimal(10), value=Decimal(12))
    client = api_client_for(rep)
    data = client.get(
        f"{API}/price",
        {"product": product.pk, "party": customer.pk, "quantity": "10", "date": "2026-06-15"},
    ).json()
    assert Decimal(data["unit_price"]) == Decimal("4.312")
    assert (data["price_list_id"], data["rule_id"]) == (price_list.pk, rule.pk)
    assert data["rule_description"].startswith("Price list «Revendeurs» (category Revendeurs)")
    data = client.get(f"{API}/price", {"product": product.pk}).json()
    assert (Decimal(data["unit_price"]), data["rule_description"]) == (
        Decimal("4.9"),
        "catalogue price",
    )
    response = client.get(f"{API}/price", {"product": product.pk, "quantity": "0"})
    assert response.status_code == 422 and fields(response) == {"quantity"}
    # Another rep may not price for Dupont (not their customer).
    response = api_client_for(other_rep).get(
        f"{API}/price", {"product": product.pk, "party": customer.pk}
    )
    assert response.status_code == 422 and fields(response) == {"party"}
    assert client.get(f"{API}/price", {"product": 999999}).status_code == 404
