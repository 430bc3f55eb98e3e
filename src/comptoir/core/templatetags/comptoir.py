"""Template filters: amounts, phones and list cells shown French style."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from comptoir.core import audit
from comptoir.core.identifiers import display_phone
from comptoir.core.money import format_amount

register = template.Library()


@register.filter
def amount(value: Decimal | None, places: int = 2) -> str:
    return format_amount(value, places)


@register.filter
def phone(value: str) -> str:
    return display_phone(value)


@register.filter
def cell(value: Any, kind: str) -> str:
    """Render a list cell according to its column kind."""
    if value is None or value == "":
        return ""
    if kind == "decimal" and isinstance(value, Decimal):
        return format_amount(value)
    if kind == "phone":
        return display_phone(str(value))
    if kind == "bool":
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def action_label(action: str) -> str:
    """An audit action in words: `{{ entry.action|action_label }}`."""
    return audit.action_label(action)
