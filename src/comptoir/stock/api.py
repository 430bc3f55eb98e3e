"""Deliveries and stock levels API (read)."""

# No `from __future__ import annotations`: django-ninja reads the annotations at import time.

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from comptoir.stock import selectors
from comptoir.stock.models import Delivery

router = Router(tags=["stock"])


class DeliveryLineOut(Schema):
    order_line_id: int
    quantity: Decimal


class DeliveryOut(Schema):
    id: int
    number: str
    order_id: int
    status: str
    planned_date: date | None
    shipped_date: date | None
    backorder_of_id: int | None


class DeliveryDetailOut(DeliveryOut):
    lines: list[DeliveryLineOut]


class StockLevelOut(Schema):
    id: int
    reference: str
    label: str
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    reorder_level: Decimal


def _require(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.auth.has_perm(permission, obj):
        raise PermissionDenied


@router.get("/deliveries", response=list[DeliveryOut])
@paginate(PageNumberPagination)
def list_deliveries(request: HttpRequest, status: str | None = None) -> QuerySet[Delivery]:
    _require(request, "stock.view_delivery")
    queryset = selectors.deliveries_visible_to(request.auth).order_by("-pk")
    return queryset.filter(status=status) if status else queryset


@router.get("/deliveries/{delivery_id}", response=DeliveryDetailOut)
def get_delivery(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    delivery = get_object_or_404(selectors.deliveries_visible_to(request.auth), pk=delivery_id)
    _require(request, "stock.view_delivery", delivery)
    data = DeliveryOut.from_orm(delivery).model_dump(mode="json")
    data["lines"] = [
        DeliveryLineOut.from_orm(line).model_dump(mode="json") for line in delivery.lines.all()
    ]
    return data


@router.get("/stock/levels", response=list[StockLevelOut])
@paginate(PageNumberPagination)
def list_stock_levels(request: HttpRequest, alerts_only: bool = False) -> Any:
    _require(request, "stock.view_stock")
    levels = selectors.reorder_alerts() if alerts_only else selectors.stock_levels()
    return levels.order_by("reference")
