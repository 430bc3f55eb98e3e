"""Catalogue forms: products, families, price lists, price rules and the price check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.catalogue.models import (
    PriceList,
    PriceListScope,
    PriceRule,
    Product,
    ProductFamily,
    VatCategory,
    VatRate,
)
from comptoir.core.forms import DateInput, StyledFormMixin
from comptoir.parties.models import Party


class ProductForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Product
        fields = [
            "reference",
            "label",
            "description",
            "kind",
            "unit",
            "family",
            "sale_price",
            "vat_rate",
            "purchase_cost",
            "active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.vat_rate_id if self.instance.pk else None
        self.fields["vat_rate"].queryset = VatRate.objects.filter(  # type: ignore[attr-defined]
            active=True
        ) | VatRate.objects.filter(pk=current)
        if not self.instance.pk and not self.is_bound:
            # Most products sell at the normal rate: propose the highest standard rate.
            self.fields["vat_rate"].initial = (
                VatRate.objects.filter(active=True, category=VatCategory.STANDARD)
                .order_by("-rate")
                .values_list("pk", flat=True)
                .first()
            )
        for name in ("sale_price", "purchase_cost"):
            self.fields[name].widget.attrs.update({"step": "0.0001", "min": "0"})


class ProductFamilyForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ProductFamily
        fields = ["code", "name"]


class PriceListForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PriceList
        fields = [
            "code",
            "name",
            "scope",
            "category",
            "party",
            "priority",
            "valid_from",
            "valid_until",
            "active",
            "notes",
        ]
        widgets = {
            "valid_from": DateInput(),
            "valid_until": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "category": _("Only for a category price list."),
            "party": _("Only for a customer price list."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.party_id if self.instance.pk else None
        self.fields["party"].queryset = (  # type: ignore[attr-defined]
            Party.objects.filter(is_customer=True) | Party.objects.filter(pk=current)
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The scope decides the target: a customer or category left selected in the other
        # field (say, after switching a category list to general) is dropped, not refused.
        if data.get("scope") != PriceListScope.CUSTOMER:
            data["party"] = None
        if data.get("scope") != PriceListScope.CATEGORY:
            data["category"] = None
        return data


class PriceRuleForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PriceRule
        fields = ["product", "family", "min_quantity", "method", "value"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.product_id if self.instance.pk else None
        self.fields["product"].queryset = (  # type: ignore[attr-defined]
            Product.objects.filter(active=True) | Product.objects.filter(pk=current)
        ).order_by("reference")
        self.fields["product"].help_text = _("Leave product and family empty for every product.")
        self.fields["family"].help_text = ""
        self.fields["min_quantity"].widget.attrs.update({"step": "0.001", "min": "0"})
        self.fields["value"].widget.attrs.update({"step": "0.0001", "min": "0"})


class PriceCheckForm(StyledFormMixin, forms.Form):
    """Which price would this customer pay for this quantity of this product on this day."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True).order_by("reference")
    )
    party = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Party.objects.none(),
        required=False,
        empty_label=_("(no customer: general prices)"),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        max_digits=14,
        decimal_places=3,
        min_value=Decimal("0.001"),
        initial=Decimal("1"),
    )
    on_date = forms.DateField(label=_("Date"), widget=DateInput(), required=False)

    def __init__(self, *args: Any, customers: Any = None, **kwargs: Any) -> None:
        # Its own ids: the price list page also shows the rule form, with a product field too.
        kwargs.setdefault("auto_id", "check_%s")
        super().__init__(*args, **kwargs)
        if customers is not None:
            self.fields["party"].queryset = customers  # type: ignore[attr-defined]
        self.fields["on_date"].initial = timezone.localdate()
