"""A form's minimum shows as the user writes numbers: "0,001" in French, not Django's "0.001"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import translation

from comptoir.core.forms import StyledFormMixin
from comptoir.sales.forms import LineForm


class _QuantityForm(StyledFormMixin, forms.Form):
    quantity = forms.DecimalField(
        decimal_places=3, min_value=Decimal("0.001"), max_value=Decimal("1000.5")
    )


def test_french_minimum_has_a_decimal_comma(db: Any) -> None:
    with translation.override("fr"):
        form = LineForm(data={"quantity": "0", "unit_price": "1"})
        form.is_valid()
        errors = " ".join(form.errors["quantity"])
    assert "0,001" in errors and "0.001" not in errors


def test_english_keeps_its_decimal_point_and_maximum_is_localized_too() -> None:
    with translation.override("en"):
        assert "0.001" in " ".join(_QuantityForm(data={"quantity": "0"}).errors["quantity"])
    with translation.override("fr"):
        errors = " ".join(_QuantityForm(data={"quantity": "2000"}).errors["quantity"])
    assert "1000,5" in errors or "1\u202f000,5" in errors or "1\u00a0000,5" in errors
