"""Invoice forms: a draft's header and its lines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.catalogue.models import Product, VatRate
from comptoir.core.forms import StyledFormMixin
from comptoir.invoicing.models import InvoiceKind, OperationCategory
from comptoir.parties.models import Party


def document_discount_field(*, required: bool = True) -> forms.DecimalField:
    """The document discount of a quote, an order or an invoice, in percent."""
    return forms.DecimalField(
        label=_("Document discount (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        initial=Decimal(0),
        required=required,
    )


class InvoiceForm(StyledFormMixin, forms.Form):
    party = forms.ModelChoiceField(
        label=_("Customer"), queryset=Party.objects.customers().active().order_by("name")
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (InvoiceKind.INVOICE, _("Invoice")),
            (InvoiceKind.DOWN_PAYMENT, _("Down-payment invoice")),
        ],
        initial=InvoiceKind.INVOICE,
    )
    operation_category = forms.ChoiceField(
        label=_("Operation category"), choices=OperationCategory.choices
    )
    discount_rate = document_discount_field()
    buyer_reference = forms.CharField(label=_("Customer reference"), required=False, max_length=100)
    purchase_order_reference = forms.CharField(
        label=_("Purchase order reference"), required=False, max_length=100
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class InvoiceLineForm(StyledFormMixin, forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True).order_by("reference"),
        required=False,
        help_text=_("Empty for a free line. The price comes from the customer's price lists."),
    )
    label = forms.CharField(label=_("Label"), required=False, max_length=200)
    quantity = forms.DecimalField(label=_("Quantity"), decimal_places=3, initial=Decimal(1))
    unit_price = forms.DecimalField(
        label=_("Unit price excl. VAT"), decimal_places=4, min_value=Decimal(0), required=False
    )
    discount_rate = forms.DecimalField(
        label=_("Discount (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        initial=Decimal(0),
    )
    vat = forms.ModelChoiceField(
        label=_("VAT rate"),
        queryset=VatRate.objects.filter(active=True),
        required=False,
        help_text=_("Empty: the product's rate."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("product"):
            if not data.get("label"):
                self.add_error("label", _("Enter a label or choose a product."))
            if data.get("unit_price") is None:
                self.add_error("unit_price", _("Enter a price or choose a product."))
            if not data.get("vat"):
                self.add_error("vat", _("Choose a VAT rate or a product."))
        return data

    def line_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "quantity": data["quantity"],
            "discount_rate": data["discount_rate"],
        }
        for name in ("product", "vat"):
            if data.get(name):
                values[name] = data[name]
        if data.get("label"):
            values["label"] = data["label"]
        if data.get("unit_price") is not None:
            values["unit_price"] = data["unit_price"]
        return values
