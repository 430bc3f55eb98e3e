"""Sales forms: quote and order headers, lines, sending, online answers, email templates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.catalogue.models import Product, Unit, VatRate
from comptoir.core.forms import StyledFormMixin
from comptoir.invoicing.models import OperationCategory
from comptoir.parties.models import Party

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _customers(user: Any) -> Any:
    from comptoir.parties.selectors import parties_visible_to

    return parties_visible_to(user).filter(is_active=True).filter(is_customer=True).order_by("name")


class QuoteForm(StyledFormMixin, forms.Form):
    party = forms.ModelChoiceField(label=_("Customer"), queryset=Party.objects.none())
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=DATE, help_text=_("Empty: 30 days.")
    )
    operation_category = forms.ChoiceField(
        label=_("Operation category"), choices=OperationCategory.choices
    )
    discount_rate = forms.DecimalField(
        label=_("Document discount (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
        initial=Decimal(0),
    )
    email = forms.EmailField(
        label=_("Send to"), required=False, help_text=_("Empty: the customer's email.")
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from comptoir.parties.selectors import parties_visible_to

        self.fields["party"].queryset = (  # type: ignore[attr-defined]
            parties_visible_to(user)
            .filter(is_active=True)
            .exclude(is_customer=False, is_prospect=False)
            .order_by("name")
        )


class LineForm(StyledFormMixin, forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True).order_by("reference"),
        required=False,
        help_text=_("Empty for a free line. The price comes from the customer's price lists."),
    )
    label = forms.CharField(label=_("Label"), required=False, max_length=200)
    quantity = forms.DecimalField(
        label=_("Quantity"), decimal_places=3, min_value=Decimal("0.001"), initial=Decimal(1)
    )
    unit_code = forms.ChoiceField(
        label=_("Unit"),
        choices=[("", _("The product's unit")), *Unit.choices],
        required=False,
    )
    unit_price = forms.DecimalField(
        label=_("Unit price excl. VAT"),
        decimal_places=4,
        min_value=Decimal(0),
        required=False,
        help_text=_("Empty: the customer's catalogue price."),
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
        for name in ("product", "vat", "label", "unit_code"):
            if data.get(name):
                values[name] = data[name]
        if data.get("unit_price") is not None:
            values["unit_price"] = data["unit_price"]
        return values


class OrderFromQuoteForm(StyledFormMixin, forms.Form):
    customer_reference = forms.CharField(
        label=_("Customer PO reference"), required=False, max_length=100
    )
    requested_date = forms.DateField(
        label=_("Requested delivery date"), required=False, widget=DATE
    )
    promised_date = forms.DateField(label=_("Promised delivery date"), required=False, widget=DATE)


ORDER_LINE_SLOTS = 5


class OrderForm(OrderFromQuoteForm):
    """A direct order: the customer, its references and up to five catalogue lines."""

    party = forms.ModelChoiceField(label=_("Customer"), queryset=Party.objects.none())

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = _customers(user)  # type: ignore[attr-defined]
        self.order_fields(["party"])
        products = Product.objects.filter(active=True).order_by("reference")
        for slot in range(1, ORDER_LINE_SLOTS + 1):
            self.fields[f"product_{slot}"] = forms.ModelChoiceField(
                label=_("Product %(n)s") % {"n": slot}, queryset=products, required=slot > 1
            )
            self.fields[f"quantity_{slot}"] = forms.DecimalField(
                label=_("Quantity %(n)s") % {"n": slot},
                decimal_places=3,
                min_value=Decimal("0.001"),
                required=False,
            )
            for name in (f"product_{slot}", f"quantity_{slot}"):
                self.fields[name].widget.attrs.setdefault(
                    "class", "form-select" if name.startswith("product") else "form-control"
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for slot in range(1, ORDER_LINE_SLOTS + 1):
            if data.get(f"product_{slot}") and not data.get(f"quantity_{slot}"):
                self.add_error(f"quantity_{slot}", _("Enter the quantity."))
        return data

    def order_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        lines = [
            {"product": data[f"product_{slot}"], "quantity": data[f"quantity_{slot}"]}
            for slot in range(1, ORDER_LINE_SLOTS + 1)
            if data.get(f"product_{slot}") and data.get(f"quantity_{slot}")
        ]
        values = {
            name: data[name]
            for name in ("customer_reference", "requested_date", "promised_date")
            if data.get(name)
        }
        return {"party": data["party"], "lines": lines, **values}


class SendForm(StyledFormMixin, forms.Form):
    to = forms.EmailField(label=_("To"))
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 8}))


class AcceptForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you decline?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class EmailTemplateForm(StyledFormMixin, forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Body"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Placeholders: $reference, $company, $customer, $total, $valid_until, $link, $sender."
        ),
    )
