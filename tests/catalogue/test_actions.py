"""Catalogue actions: validation keyed by field, audit entries, seeded VAT rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from comptoir.catalogue import actions
from comptoir.catalogue.models import (
    PriceListPublication,
    PriceListScope,
    PriceMethod,
    PriceRule,
    Product,
    VatCategory,
    VatRate,
)
from comptoir.core.audit import history_for
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


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_vat_rates_are_seeded_as_data() -> None:
    standard = set(
        VatRate.objects.filter(category=VatCategory.STANDARD).values_list("rate", flat=True)
    )
    assert standard == {Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1")}
    zero = VatRate.objects.exclude(category=VatCategory.STANDARD)
    assert zero.exists()
    for rate in zero:
        assert rate.rate == 0
        assert rate.exemption_reason and rate.exemption_code.startswith("VATEX-")
        rate.full_clean()  # every seeded row passes the model's own rules
    franchise = VatRate.objects.get(code="franchise-293b")
    assert (franchise.category, franchise.exemption_code) == ("E", "VATEX-FR-FRANCHISE")
    assert "293 B" in franchise.exemption_reason
    assert VatRate.objects.get(code="livraison-intracom").exemption_code == "VATEX-EU-IC"


def test_create_product_is_audited(assistant: Any) -> None:
    product = actions.create_product(
        by=assistant,
        reference=" PAP-001 ",
        label="Ramette A4",
        sale_price=Decimal("4.90"),
        purchase_cost=Decimal("2.5"),
        vat_rate=vat_rate(),
    )
    assert product.reference == "PAP-001"
    entry = history_for(product).get()
    assert entry.action == "create_product" and entry.actor == assistant
    assert entry.changes["sale_price"] == "4.90"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sale_price": Decimal("-1")}, "sale_price"),
        ({"purchase_cost": Decimal("-0.01")}, "purchase_cost"),
        ({"sale_price": Decimal("1.00001")}, "sale_price"),
        ({"unit": "ZZZ"}, "unit"),
        ({"kind": "software"}, "kind"),
        ({"reference": ""}, "reference"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_product_validation_is_keyed_by_field(
    assistant: Any, values: dict[str, Any], field: str
) -> None:
    fields = {"reference": "X-1", "label": "X", "sale_price": Decimal(1), "vat_rate": vat_rate()}
    with pytest.raises(ValidationError) as exc:
        actions.create_product(by=assistant, **{**fields, **values})
    assert field in errors_of(exc)
    assert not Product.objects.filter(reference="X-1").exists()


def test_duplicate_reference_is_refused_on_the_field(assistant: Any) -> None:
    ProductFactory(reference="DUP-1")
    with pytest.raises(ValidationError) as exc:
        ProductFactory(reference="DUP-1")
    assert "reference" in errors_of(exc)


def test_update_and_deactivate_product(assistant: Any) -> None:
    product = ProductFactory(sale_price=Decimal("10"))
    actions.update_product(product, by=assistant, sale_price=Decimal("12.5"), label="Neuf")
    product.refresh_from_db()
    assert (product.sale_price, product.label) == (Decimal("12.5"), "Neuf")
    entry = history_for(product).first()
    assert entry is not None and entry.action == "update_product"
    assert [Decimal(v) for v in entry.changes["sale_price"]] == [Decimal(10), Decimal("12.5")]
    actions.deactivate_product(product, by=assistant)
    product.refresh_from_db()
    assert product.active is False
    assert history_for(product).first().action == "deactivate_product"  # type: ignore[union-attr]


def test_database_refuses_a_negative_price_even_past_the_actions() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(
            reference="RAW", label="raw", sale_price=Decimal("-1"), vat_rate=vat_rate()
        )


def test_price_list_validation(assistant: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        actions.create_price_list(
            by=assistant,
            code="l1",
            name="L1",
            valid_from=date(2026, 2, 1),
            valid_until=date(2026, 1, 31),
        )
    assert "valid_until" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        actions.create_price_list(by=assistant, code="l2", name="L2", scope=PriceListScope.CUSTOMER)
    assert "party" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        actions.create_price_list(by=assistant, code="l3", name="L3", scope=PriceListScope.CATEGORY)
    assert "category" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        actions.create_price_list(
            by=assistant, code="l4", name="L4", party=PartyFactory(), scope=PriceListScope.GENERAL
        )
    assert "party" in errors_of(exc)


def test_changing_scope_forgets_the_old_target(assistant: Any) -> None:
    category = CustomerCategory.objects.create(code="public", name="Secteur public")
    price_list = PriceListFactory(scope=PriceListScope.CATEGORY, category=category)
    actions.update_price_list(price_list, by=assistant, scope=PriceListScope.GENERAL)
    price_list.refresh_from_db()
    assert (price_list.scope, price_list.category_id) == ("general", None)
    assert history_for(price_list).first().changes["scope"] == ["category", "general"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"method": PriceMethod.PERCENTAGE, "value": Decimal("100.01")}, "value"),
        ({"method": PriceMethod.PERCENTAGE, "value": Decimal("-1")}, "value"),
        ({"method": PriceMethod.FIXED, "value": Decimal("-0.5")}, "value"),
        ({"min_quantity": Decimal("-1")}, "min_quantity"),
        ({"method": "markup"}, "method"),
    ],
)
def test_rule_validation_is_keyed_by_field(
    assistant: Any, values: dict[str, Any], field: str
) -> None:
    price_list = PriceListFactory()
    with pytest.raises(ValidationError) as exc:
        actions.add_price_rule(
            price_list, by=assistant, **{"method": "percentage", "value": Decimal(5), **values}
        )
    assert field in errors_of(exc)
    assert not PriceRule.objects.exists()


def test_rule_cannot_target_a_product_and_a_family(assistant: Any) -> None:
    family = ProductFamilyFactory()
    with pytest.raises(ValidationError) as exc:
        PriceRuleFactory(product=ProductFactory(family=family), family=family)
    assert "family" in errors_of(exc)


def test_a_second_rule_for_the_same_products_from_the_same_quantity_is_refused(
    assistant: Any,
) -> None:
    price_list = PriceListFactory()
    product = ProductFactory()
    first = actions.add_price_rule(
        price_list, by=assistant, product=product, method="fixed", value=Decimal("9.50")
    )
    with pytest.raises(ValidationError) as exc:
        actions.add_price_rule(
            price_list, by=assistant, product=product, method="percentage", value=Decimal(10)
        )
    assert "min_quantity" in errors_of(exc)
    # Another quantity break, another target or another list is a rule of its own.
    tenth = actions.add_price_rule(
        price_list,
        by=assistant,
        product=product,
        min_quantity=Decimal(10),
        method="fixed",
        value=Decimal("8.90"),
    )
    actions.add_price_rule(price_list, by=assistant, method="percentage", value=Decimal(5))
    actions.add_price_rule(
        PriceListFactory(), by=assistant, product=product, method="fixed", value=Decimal(9)
    )
    # A rule may be saved again unchanged, but not moved onto its twin's quantity.
    actions.update_price_rule(first, by=assistant, value=Decimal("9.40"))
    with pytest.raises(ValidationError) as exc:
        actions.update_price_rule(tenth, by=assistant, min_quantity=Decimal(0))
    assert "min_quantity" in errors_of(exc)
    assert PriceRule.objects.filter(price_list=price_list).count() == 3


def test_add_update_remove_rule_are_audited_on_the_list(assistant: Any) -> None:
    rule = PriceRuleFactory(by=assistant, value=Decimal(5))
    price_list = rule.price_list
    actions.update_price_rule(rule, by=assistant, value=Decimal(7))
    rule.refresh_from_db()
    assert rule.value == Decimal(7)
    actions.remove_price_rule(rule, by=assistant)
    assert not PriceRule.objects.filter(pk=rule.pk).exists()
    assert [e.action for e in history_for(price_list)][:3] == [
        "remove_price_rule",
        "update_price_rule",
        "add_price_rule",
    ]


def test_publish_gives_a_new_unguessable_token_and_revoke_closes_it(assistant: Any) -> None:
    price_list = PriceListFactory()
    first = actions.publish_price_list(price_list, by=assistant)
    second = actions.publish_price_list(price_list, by=assistant)
    assert first.token != second.token
    assert len(first.token) >= 43  # 32 random bytes, URL-safe base64
    actions.revoke_publication(first, by=assistant)
    assert PriceListPublication.objects.get(pk=first.pk).revoked_at is not None
    assert PriceListPublication.objects.get(pk=second.pk).revoked_at is None
    assert {e.action for e in history_for(price_list)} >= {
        "publish_price_list",
        "revoke_publication",
    }


def test_inactive_list_cannot_be_published(assistant: Any) -> None:
    price_list = PriceListFactory(active=False)
    with pytest.raises(ValidationError):
        actions.publish_price_list(price_list, by=assistant)
