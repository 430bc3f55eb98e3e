"""Template filters for unit prices and quantities, which carry more than two decimals."""

from __future__ import annotations

from decimal import Decimal

from django import template

from comptoir.catalogue.calculations import plain_number

register = template.Library()


@register.filter
def unit_price(value: Decimal | None) -> str:
    """12,50 or 0,1234: two decimals at least, four at most, no useless zeros."""
    return "" if value is None else plain_number(value, min_places=2)


@register.filter
def quantity(value: Decimal | None) -> str:
    """10 or 2,5: a quantity without useless zeros."""
    return "" if value is None else plain_number(value, max_places=3)


@register.filter
def number(value: Decimal | None) -> str:
    """12 or 12,5: a percentage or rate without useless zeros."""
    return "" if value is None else plain_number(value)
