"""Catalogue API: products, VAT rates, price lists with their rules, and the price of a product.

Writes go through the same actions as the UI; errors come back as 422 with field names.
"""

# No `from __future__ import annotations`: django-ninja reads the endpoint annotations at
# import time, and `idempotent` wraps endpoints in a function from another module.

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from comptoir.api.api import idempotent
from comptoir.catalogue import actions, selectors
from comptoir.catalogue.models import (
    PriceList,
    PriceRule,
    Product,
    ProductFamily,
    VatRate,
)
from comptoir.parties.models import CustomerCategory, Party

router = Router(tags=["catalogue"])

# API field (an id) -> action field (an object), and the model to find the id in.
_PRODUCT_KEYS: dict[str, tuple[str, type[Model]]] = {
    "family_id": ("family", ProductFamily),
    "vat_rate_id": ("vat_rate", VatRate),
}
_PRICE_LIST_KEYS: dict[str, tuple[str, type[Model]]] = {
    "party_id": ("party", Party),
    "category_id": ("category", CustomerCategory),
}
_RULE_KEYS: dict[str, tuple[str, type[Model]]] = {
    "product_id": ("product", Product),
    "family_id": ("family", ProductFamily),
}
Method = Literal["fixed", "percentage"]
Scope = Literal["general", "category", "customer"]


# -- schemas -----------------------------------------------------------------------------


class VatRateOut(Schema):
    id: int
    code: str
    label: str
    rate: Decimal
    category: str
    exemption_reason: str
    exemption_code: str
    active: bool


class ProductPatch(Schema):
    reference: str | None = None
    label: str | None = None
    description: str | None = None
    kind: Literal["goods", "service"] | None = None
    unit: str | None = None
    family_id: int | None = None
    purchase_cost: Decimal | None = None
    sale_price: Decimal | None = None
    vat_rate_id: int | None = None
    active: bool | None = None


class ProductIn(ProductPatch):
    reference: str
    label: str
    sale_price: Decimal
    vat_rate_id: int


class ProductOut(Schema):
    id: int
    reference: str
    label: str
    description: str
    kind: str
    unit: str
    family_id: int | None
    sale_price: Decimal
    vat_rate_id: int
    vat_rate: Decimal
    purchase_cost: Decimal | None
    active: bool
    created_at: datetime
    updated_at: datetime

    # The resolvers also see the plain dict `idempotent` replays: pass its values through.
    @staticmethod
    def resolve_vat_rate(obj: Product | dict[str, Any]) -> Decimal:
        if isinstance(obj, dict):
            return Decimal(obj["vat_rate"])
        return obj.vat_rate.rate

    @staticmethod
    def resolve_purchase_cost(obj: Product | dict[str, Any], context: Any) -> Decimal | None:
        if isinstance(obj, dict):
            return obj.get("purchase_cost")
        # Purchase costs are for the back office and the accountant, not for sales reps.
        user = context["request"].auth
        return obj.purchase_cost if user.has_perm("catalogue.view_purchase_cost") else None


class PriceRuleIn(Schema):
    product_id: int | None = None
    family_id: int | None = None
    min_quantity: Decimal = Decimal("0")
    method: Method
    value: Decimal


class PriceRuleOut(Schema):
    id: int
    product_id: int | None
    family_id: int | None
    min_quantity: Decimal
    method: str
    value: Decimal


class PriceListPatch(Schema):
    code: str | None = None
    name: str | None = None
    scope: Scope | None = None
    party_id: int | None = None
    category_id: int | None = None
    priority: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    active: bool | None = None
    notes: str | None = None


class PriceListIn(PriceListPatch):
    code: str
    name: str
    rules: list[PriceRuleIn] = []


class PriceListOut(Schema):
    id: int
    code: str
    name: str
    scope: str
    party_id: int | None
    category_id: int | None
    priority: int
    valid_from: date | None
    valid_until: date | None
    active: bool
    currency: str
    notes: str
    rules: list[PriceRuleOut]

    @staticmethod
    def resolve_rules(obj: PriceList | dict[str, Any]) -> list[Any]:
        if isinstance(obj, dict):
            return list(obj["rules"])
        return list(obj.rules.all())


class PriceOut(Schema):
    product_id: int
    party_id: int | None
    quantity: Decimal
    date: date
    catalogue_price: Decimal
    unit_price: Decimal
    rule_description: str
    price_list_id: int | None
    rule_id: int | None


# -- helpers -----------------------------------------------------------------------------


@contextmanager
def _api_field_names(keys: dict[str, tuple[str, type[Model]]]) -> Iterator[None]:
    """Name the fields in errors as the API client sent them (`vat_rate_id`, not `vat_rate`)."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {field: api_name for api_name, (field, _model) in keys.items()}
        raise ValidationError(
            {renamed.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from exc


def _values(
    payload: Schema,
    keys: dict[str, tuple[str, type[Model]]],
    *,
    nullable: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Return the fields the client sent, ids turned into rows; null means blank text."""
    values = payload.dict(exclude_unset=True, exclude=set(exclude))
    errors: dict[str, list[str]] = {}
    for api_name, (field, model) in keys.items():
        if api_name in values:
            pk = values.pop(api_name)
            if pk is None:
                values[field] = None
                continue
            obj = model._default_manager.filter(pk=pk).first()
            if obj is None:
                errors[api_name] = [f"No {field.replace('_', ' ')} has id {pk}."]
            values[field] = obj
    if errors:
        raise ValidationError(errors)
    keep_null = nullable | {field for field, _model in keys.values()}
    for name, value in list(values.items()):
        if value is None and name not in keep_null:
            errors[name] = ["This field cannot be null."]
    if errors:
        raise ValidationError(errors)
    return values


def _require(request: HttpRequest, perm: str, obj: Any = None) -> None:
    if not request.auth.has_perm(perm, obj):  # type: ignore[attr-defined]
        raise PermissionDenied


def _price_list(request: HttpRequest, price_list_id: int) -> PriceList:
    return get_object_or_404(
        selectors.price_lists_visible_to(request.auth).prefetch_related(_RULES), pk=price_list_id
    )


_RULES = Prefetch("rules", queryset=PriceRule.objects.order_by("product_id", "family_id", "pk"))


# -- products ----------------------------------------------------------------------------


@router.get("/products", response=list[ProductOut])
@paginate(PageNumberPagination)
def list_products(
    request: HttpRequest,
    q: str | None = None,
    family: int | None = None,
    kind: Literal["goods", "service"] | None = None,
    active: bool | None = None,
) -> QuerySet[Product]:
    """List products by reference; filter by search text, family id, kind or active flag."""
    _require(request, "catalogue.view_product")
    queryset = Product.objects.select_related("vat_rate")
    if q:
        for term in q.split()[:5]:
            queryset = queryset.filter(Q(label__icontains=term) | Q(reference__icontains=term))
    if family is not None:
        queryset = queryset.filter(family_id=family)
    if kind:
        queryset = queryset.filter(kind=kind)
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("reference", "pk")


@router.post("/products", response={201: ProductOut})
@idempotent
def create_product(request: HttpRequest, payload: ProductIn) -> tuple[int, Any]:
    """Create a product (send `Idempotency-Key` to retry safely)."""
    _require(request, "catalogue.add_product")
    values = _values(payload, _PRODUCT_KEYS, nullable=frozenset({"purchase_cost"}))
    with _api_field_names(_PRODUCT_KEYS):
        product = actions.create_product(by=request.auth, **values)
    return 201, ProductOut.from_orm(product, context={"request": request})


@router.get("/products/{product_id}", response=ProductOut)
def get_product(request: HttpRequest, product_id: int) -> Product:
    _require(request, "catalogue.view_product")
    return get_object_or_404(Product.objects.select_related("vat_rate"), pk=product_id)


@router.patch("/products/{product_id}", response=ProductOut)
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch) -> Product:
    """Change the fields sent; the others stay as they are."""
    product = get_object_or_404(Product.objects.select_related("vat_rate"), pk=product_id)
    _require(request, "catalogue.change_product", product)
    values = _values(payload, _PRODUCT_KEYS, nullable=frozenset({"purchase_cost"}))
    with _api_field_names(_PRODUCT_KEYS):
        return actions.update_product(product, by=request.auth, **values)


# -- VAT rates ---------------------------------------------------------------------------


@router.get("/vat-rates", response=list[VatRateOut])
@paginate(PageNumberPagination)
def list_vat_rates(request: HttpRequest, active: bool | None = None) -> QuerySet[VatRate]:
    """List the VAT rates, highest first, with their EN 16931 category and exemption code."""
    _require(request, "catalogue.view_vatrate")
    queryset = VatRate.objects.all()
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("-rate", "code")


# -- price lists -------------------------------------------------------------------------


@router.get("/price-lists", response=list[PriceListOut])
@paginate(PageNumberPagination)
def list_price_lists(
    request: HttpRequest, scope: Scope | None = None, active: bool | None = None
) -> QuerySet[PriceList]:
    """List the price lists you may read, with their rules."""
    _require(request, "catalogue.view_pricelist")
    queryset = selectors.price_lists_visible_to(request.auth).prefetch_related(_RULES)
    if scope:
        queryset = queryset.filter(scope=scope)
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("-priority", "name", "pk")


@router.post("/price-lists", response={201: PriceListOut})
@idempotent
def create_price_list(request: HttpRequest, payload: PriceListIn) -> tuple[int, Any]:
    """Create a price list, with its rules if sent (send `Idempotency-Key` to retry safely)."""
    _require(request, "catalogue.add_pricelist")
    values = _values(
        payload,
        _PRICE_LIST_KEYS,
        nullable=frozenset({"valid_from", "valid_until"}),
        exclude=frozenset({"rules"}),
    )
    with transaction.atomic():  # a refused rule leaves no half-made list behind
        with _api_field_names(_PRICE_LIST_KEYS):
            price_list = actions.create_price_list(by=request.auth, **values)
        for index, rule in enumerate(payload.rules):
            try:
                _add_rule(request, price_list, rule)
            except ValidationError as exc:
                raise ValidationError(
                    {
                        f"rules.{index}.{field}": messages
                        for field, messages in exc.message_dict.items()
                    }
                ) from exc
    return 201, PriceListOut.from_orm(_price_list(request, price_list.pk))


@router.get("/price-lists/{price_list_id}", response=PriceListOut)
def get_price_list(request: HttpRequest, price_list_id: int) -> PriceList:
    price_list = _price_list(request, price_list_id)
    _require(request, "catalogue.view_pricelist", price_list)
    return price_list


@router.patch("/price-lists/{price_list_id}", response=PriceListOut)
def update_price_list(
    request: HttpRequest, price_list_id: int, payload: PriceListPatch
) -> PriceList:
    """Change the fields sent; the others stay as they are."""
    price_list = _price_list(request, price_list_id)
    _require(request, "catalogue.change_pricelist", price_list)
    values = _values(payload, _PRICE_LIST_KEYS, nullable=frozenset({"valid_from", "valid_until"}))
    with _api_field_names(_PRICE_LIST_KEYS):
        actions.update_price_list(price_list, by=request.auth, **values)
    return _price_list(request, price_list_id)


def _add_rule(request: HttpRequest, price_list: PriceList, payload: PriceRuleIn) -> PriceRule:
    values = _values(payload, _RULE_KEYS)
    with _api_field_names(_RULE_KEYS):
        return actions.add_price_rule(price_list, by=request.auth, **values)


@router.post("/price-lists/{price_list_id}/rules", response={201: PriceRuleOut})
@idempotent
def add_price_rule(
    request: HttpRequest, price_list_id: int, payload: PriceRuleIn
) -> tuple[int, Any]:
    """Add a rule: a fixed price or a percentage off, for a product, a family or everything."""
    price_list = _price_list(request, price_list_id)
    _require(request, "catalogue.change_pricelist", price_list)
    return 201, PriceRuleOut.from_orm(_add_rule(request, price_list, payload))


# -- pricing -----------------------------------------------------------------------------


@router.get("/price", response=PriceOut)
def get_price(
    request: HttpRequest,
    product: int,
    party: int | None = None,
    quantity: Decimal = Decimal("1"),
    date: date | None = None,
) -> dict[str, Any]:
    """Price a quantity of a product for a customer on a day, and say which rule gave it."""
    _require(request, "catalogue.check_price")
    if quantity <= 0:
        raise ValidationError({"quantity": ["The quantity must be above 0."]})
    item = get_object_or_404(Product, pk=product)
    customer = None
    if party is not None:
        customer = selectors.customers_for_pricing(request.auth).filter(pk=party).first()
        if customer is None:
            raise ValidationError({"party": [f"No customer you may price for has id {party}."]})
    result = selectors.price_for(item, customer, quantity, date)
    return {
        "product_id": item.pk,
        "party_id": customer.pk if customer else None,
        "quantity": quantity,
        "date": date or timezone.localdate(),
        "catalogue_price": item.sale_price,
        "unit_price": result.unit_price,
        "rule_description": result.rule_description,
        "price_list_id": result.price_list_id,
        "rule_id": result.rule_id,
    }
