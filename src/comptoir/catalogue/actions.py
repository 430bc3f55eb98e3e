"""Catalogue writes: products, families, price lists, their rules and publications.

Each action is atomic, validates the row (errors keyed by field) and writes an audit entry.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.catalogue.models import (
    PriceList,
    PriceListPublication,
    PriceRule,
    Product,
    ProductFamily,
)
from comptoir.core.audit import changed_fields, record_audit

PRODUCT_FIELDS = {
    "reference",
    "label",
    "description",
    "kind",
    "unit",
    "family",
    "purchase_cost",
    "sale_price",
    "vat_rate",
    "active",
}
FAMILY_FIELDS = {"code", "name"}
PRICE_LIST_FIELDS = {
    "code",
    "name",
    "scope",
    "party",
    "category",
    "priority",
    "valid_from",
    "valid_until",
    "active",
    "currency",
    "notes",
}
RULE_FIELDS = {"product", "family", "min_quantity", "method", "value"}


def _check_fields(values: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in unknown})


def _strip(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {
        key: value.strip() if key in names and isinstance(value, str) else value
        for key, value in values.items()
    }


# -- products ----------------------------------------------------------------------------


@transaction.atomic
def create_product(*, by: Any, **values: Any) -> Product:
    """Add a product or service to the catalogue."""
    _check_fields(values, PRODUCT_FIELDS)
    product = Product(**_strip(values, "reference", "label"))
    product.full_clean()
    product.save()
    record_audit(by, "create_product", product, **values)
    return product


@transaction.atomic
def update_product(product: Product, *, by: Any, **values: Any) -> Product:
    """Change a product's fields; its price lists follow its new catalogue price."""
    _check_fields(values, PRODUCT_FIELDS)
    values = _strip(values, "reference", "label")
    diff = changed_fields(product, values)
    for name, value in values.items():
        setattr(product, name, value)
    product.full_clean()
    if diff:
        product.updated_at = timezone.now()
        product.save()
        record_audit(by, "update_product", product, **diff)
    return product


@transaction.atomic
def deactivate_product(product: Product, *, by: Any) -> Product:
    """Withdraw a product from sale; it stays on past documents and can be reactivated."""
    if product.active:
        product.active = False
        product.updated_at = timezone.now()
        product.save(update_fields=["active", "updated_at"])
        record_audit(by, "deactivate_product", product, active=[True, False])
    return product


# -- families ----------------------------------------------------------------------------


@transaction.atomic
def create_product_family(*, by: Any, **values: Any) -> ProductFamily:
    """Add a product family."""
    _check_fields(values, FAMILY_FIELDS)
    family = ProductFamily(**_strip(values, "code", "name"))
    family.full_clean()
    family.save()
    record_audit(by, "create_product_family", family, **values)
    return family


@transaction.atomic
def update_product_family(family: ProductFamily, *, by: Any, **values: Any) -> ProductFamily:
    """Rename a product family or change its code."""
    _check_fields(values, FAMILY_FIELDS)
    values = _strip(values, "code", "name")
    diff = changed_fields(family, values)
    for name, value in values.items():
        setattr(family, name, value)
    family.full_clean()
    family.save()
    record_audit(by, "update_product_family", family, **diff)
    return family


# -- price lists -------------------------------------------------------------------------


def _clear_unused_target(values: dict[str, Any], price_list: PriceList) -> None:
    """A list's scope decides its target: forget a customer or category the scope does not use."""
    if price_list.scope != "customer" and "party" not in values:
        price_list.party = None
    if price_list.scope != "category" and "category" not in values:
        price_list.category = None


@transaction.atomic
def create_price_list(*, by: Any, **values: Any) -> PriceList:
    """Create a price list for everyone, a customer category or one customer."""
    _check_fields(values, PRICE_LIST_FIELDS)
    price_list = PriceList(**_strip(values, "code", "name"))
    price_list.full_clean()
    price_list.save()
    record_audit(by, "create_price_list", price_list, **values)
    return price_list


@transaction.atomic
def update_price_list(price_list: PriceList, *, by: Any, **values: Any) -> PriceList:
    """Change a price list's name, scope, priority, validity or active flag."""
    _check_fields(values, PRICE_LIST_FIELDS)
    values = _strip(values, "code", "name")
    diff = changed_fields(price_list, values)
    for name, value in values.items():
        setattr(price_list, name, value)
    _clear_unused_target(values, price_list)
    price_list.full_clean()
    if diff:
        price_list.updated_at = timezone.now()
        price_list.save()
        record_audit(by, "update_price_list", price_list, **diff)
    return price_list


def _touch(price_list: PriceList) -> None:
    price_list.updated_at = timezone.now()
    price_list.save(update_fields=["updated_at"])


@transaction.atomic
def add_price_rule(price_list: PriceList, *, by: Any, **values: Any) -> PriceRule:
    """Add a rule to a price list: a fixed price or a discount, from a quantity on."""
    _check_fields(values, RULE_FIELDS)
    rule = PriceRule(price_list=price_list, **values)
    rule.full_clean()
    rule.save()
    _touch(price_list)
    record_audit(by, "add_price_rule", price_list, rule=rule.pk, **values)
    return rule


@transaction.atomic
def update_price_rule(rule: PriceRule, *, by: Any, **values: Any) -> PriceRule:
    """Change a rule's target, quantity break, method or value."""
    _check_fields(values, RULE_FIELDS)
    diff = changed_fields(rule, values)
    for name, value in values.items():
        setattr(rule, name, value)
    rule.full_clean()
    rule.save()
    _touch(rule.price_list)
    record_audit(by, "update_price_rule", rule.price_list, rule=rule.pk, **diff)
    return rule


@transaction.atomic
def remove_price_rule(rule: PriceRule, *, by: Any) -> None:
    """Delete a rule from its price list."""
    price_list = rule.price_list
    snapshot = {
        "rule": rule.pk,
        "product": rule.product_id,
        "family": rule.family_id,
        "min_quantity": rule.min_quantity,
        "method": rule.method,
        "value": rule.value,
    }
    rule.delete()
    _touch(price_list)
    record_audit(by, "remove_price_rule", price_list, **snapshot)


# -- publication -------------------------------------------------------------------------


@transaction.atomic
def publish_price_list(price_list: PriceList, *, by: Any) -> PriceListPublication:
    """Open a public read-only page for the list, behind a new unguessable token."""
    if not price_list.active:
        raise ValidationError(
            {"price_list": _("An inactive price list cannot be published.")},
            code="inactive",
        )
    publication = PriceListPublication.objects.create(
        price_list=price_list,
        # 32 random bytes: 256 bits, as unguessable as a session key.
        token=secrets.token_urlsafe(32),
        created_by=by if getattr(by, "pk", None) else None,
    )
    record_audit(
        by,
        "publish_price_list",
        price_list,
        publication=publication.pk,
        token=publication.token[:6],
    )
    return publication


@transaction.atomic
def revoke_publication(publication: PriceListPublication, *, by: Any) -> PriceListPublication:
    """Close a public link at once: its page answers 404 from now on."""
    if publication.revoked_at is None:
        publication.revoked_at = timezone.now()
        publication.save(update_fields=["revoked_at"])
        record_audit(
            by,
            "revoke_publication",
            publication.price_list,
            publication=publication.pk,
            token=publication.token[:6],
        )
    return publication
