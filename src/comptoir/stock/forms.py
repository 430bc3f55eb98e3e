"""Stock forms: a delivery's quantities, a product's reorder level and stock adjustments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.core.forms import DateInput, StyledFormMixin
from comptoir.invoicing.printing import quantity_text
from comptoir.stock.models import StockMoveKind

DATE = DateInput()


class DeliveryForm(StyledFormMixin, forms.Form):
    """One quantity field per order line (``line_<pk>``), prefilled with what is left."""

    planned_date = forms.DateField(label=_("Planned date"), required=False, widget=DATE)

    def __init__(self, *args: Any, lines: list[tuple[Any, Decimal]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.line_fields = []
        for line, deliverable in lines:
            name = f"line_{line.pk}"
            limit = quantity_text(deliverable)
            self.fields[name] = forms.DecimalField(
                label=f"{line.product_reference} {line.label}".strip(),
                decimal_places=3,
                min_value=Decimal(0),
                max_value=deliverable,
                initial=deliverable,
                required=False,
                help_text=_("At most %(qty)s.") % {"qty": limit},
                # Django's own message prints the limit as "20.000", twenty thousand to a
                # French reader: say it as the help text does.
                error_messages={"max_value": _("Enter at most %(qty)s.") % {"qty": limit}},
            )
            self.fields[name].widget.attrs.setdefault("class", "form-control")
            self.line_fields.append((line.pk, name))

    def quantities(self) -> dict[int, Decimal]:
        return {
            pk: self.cleaned_data[name]
            for pk, name in self.line_fields
            if self.cleaned_data.get(name)
        }


class ProductStockForm(StyledFormMixin, forms.Form):
    reorder_level = forms.DecimalField(
        label=_("Reorder level"), decimal_places=3, min_value=Decimal(0), initial=Decimal(0)
    )
    reorder_quantity = forms.DecimalField(
        label=_("Quantity to reorder"), decimal_places=3, min_value=Decimal(0), initial=Decimal(0)
    )
    adjustment = forms.DecimalField(
        label=_("Stock received or adjusted"),
        decimal_places=3,
        required=False,
        help_text=_("Positive when goods come in, negative for a loss found at inventory."),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (StockMoveKind.RECEIPT, _("Receipt")),
            (StockMoveKind.ADJUSTMENT, _("Inventory adjustment")),
        ],
        initial=StockMoveKind.RECEIPT,
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
