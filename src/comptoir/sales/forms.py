"""Sales forms: quote and order headers, lines, sending, online answers, email templates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from comptoir.catalogue.models import Product, Unit, VatRate
from comptoir.core.forms import DateInput, StyledFormMixin
from comptoir.invoicing.forms import document_discount_field
from comptoir.invoicing.models import OperationCategory
from comptoir.parties.models import Address, Party

DATE = DateInput()


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
    discount_rate = document_discount_field()
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


class OrderHeaderForm(OrderFromQuoteForm):
    """What can change on an open order: references, dates, where it is delivered, notes."""

    delivery_address = forms.ModelChoiceField(
        label=_("Delivery address"),
        queryset=Address.objects.none(),
        required=False,
        empty_label=_("The billing address"),
    )
    email = forms.EmailField(label=_("Send to"), required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, party: Party, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delivery_address"].queryset = Address.objects.filter(  # type: ignore[attr-defined]
            party=party
        ).order_by("-is_default", "kind", "pk")
        self.fields["delivery_address"].label_from_instance = lambda address: (  # type: ignore[attr-defined]
            f"{address.label} — {address}" if address.label else str(address)
        )


class QuoteHeaderForm(StyledFormMixin, forms.Form):
    """What can change on a draft quote's header."""

    valid_until = forms.DateField(label=_("Valid until"), widget=DATE)
    operation_category = QuoteForm.base_fields["operation_category"]
    discount_rate = QuoteForm.base_fields["discount_rate"]
    email = forms.EmailField(label=_("Send to"), required=False)
    notes = QuoteForm.base_fields["notes"]


class OrderLineForm(LineForm):
    """A quote line form as a row of the direct order form: a row left blank is ignored."""

    ROW_FIELDS = ("product", "label", "unit_price", "vat")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quantity"].required = False
        self.fields["discount_rate"].required = False
        for field in self.fields.values():
            field.help_text = ""

    def has_changed(self) -> bool:
        if not self.is_bound:
            return False
        return any(
            self.fields[name].widget.value_from_datadict(
                self.data, self.files, self.add_prefix(name)
            )
            not in (None, "")
            for name in self.ROW_FIELDS
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("quantity") is None:
            data["quantity"] = Decimal(1)
        if data.get("discount_rate") is None:
            data["discount_rate"] = Decimal(0)
        return data


ORDER_LINE_ROWS = 3


class OrderLineFormSetBase(forms.BaseFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.line_values():
            raise forms.ValidationError(_("An order needs at least one line."))

    def line_values(self) -> list[dict[str, Any]]:
        return [
            form.line_values()  # type: ignore[attr-defined]
            for form in self.forms
            if form.has_changed() and form.cleaned_data
        ]


OrderLineFormSet = forms.formset_factory(
    OrderLineForm, formset=OrderLineFormSetBase, extra=ORDER_LINE_ROWS
)


class OrderForm(OrderFromQuoteForm):
    """A direct order: the customer, its references, a document discount and its lines.

    The lines are quote lines (catalogue product priced for the customer, or a free line),
    as many as needed: ``lines`` is a formset whose blank rows are ignored.
    """

    party = forms.ModelChoiceField(label=_("Customer"), queryset=Party.objects.none())
    operation_category = forms.ChoiceField(
        label=_("Operation category"), choices=OperationCategory.choices
    )
    discount_rate = document_discount_field(required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any = None, more_rows: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = _customers(user)  # type: ignore[attr-defined]
        self.order_fields(["party"])
        data = self.data if self.is_bound else None
        if data is not None and more_rows:
            data = data.copy()
            total = int(data.get("line-TOTAL_FORMS") or 0)
            data["line-TOTAL_FORMS"] = str(total + more_rows)
        self.lines = OrderLineFormSet(data=data, prefix="line")

    def is_valid(self) -> bool:
        header = super().is_valid()
        lines = self.lines.is_valid()
        return header and lines

    def order_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            name: data[name]
            for name in (
                "customer_reference",
                "requested_date",
                "promised_date",
                "operation_category",
                "notes",
            )
            if data.get(name)
        }
        values["discount_rate"] = data.get("discount_rate") or Decimal(0)
        return {"party": data["party"], "lines": self.lines.line_values(), **values}


class CancelOrderForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why is the order cancelled?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


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


class RecordAcceptanceForm(StyledFormMixin, forms.Form):
    """A "bon pour accord" that reached the office (signed copy, letter, phone)."""

    name = forms.CharField(
        label=_("Signed by"),
        max_length=200,
        help_text=_("The name on the signed quote or of the person who agreed."),
    )


class RecordRefusalForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason given by the customer"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EmailTemplateForm(StyledFormMixin, forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Body"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_(
            "Placeholders: $reference, $company, $customer, $total, $valid_until, $link, "
            "$sender, $your_reference (the customer's order reference, in brackets, if any)."
        ),
    )


class OrderLineEditForm(OrderLineForm):
    """A row of the order lines screen: an order line (``line`` given) or a new line.

    An existing line keeps its product and unit; once delivered or invoiced (``locked``) its
    price, discount and VAT rate are shown but not editable and it cannot be removed.
    """

    ROW_FIELDS = ("line_id", "product", "label", "unit_price", "vat")

    line_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(label=_("Description"), required=False)
    remove = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(
        self, *args: Any, line: Any = None, locked: bool = False, floor: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.floor = floor
        self.order_fields(
            [
                "line_id",
                "product",
                "label",
                "description",
                "quantity",
                "unit_code",
                "unit_price",
                "discount_rate",
                "vat",
                "remove",
            ]
        )
        if line is None:
            self.fields["remove"].widget = forms.HiddenInput()
            return
        for name in ("product", "unit_code"):
            self.fields[name].disabled = True
        # The line's product and VAT rate stay choosable even if no longer active.
        self.fields["product"].queryset = Product.objects.filter(  # type: ignore[attr-defined]
            pk=line.product_id
        )
        self.fields["vat"].queryset = VatRate.objects.filter(  # type: ignore[attr-defined]
            Q(active=True) | Q(code=line.vat_rate_code)
        )
        self.fields["quantity"].required = True
        self.fields["unit_price"].required = True
        if locked:
            for name in ("unit_price", "discount_rate", "vat", "remove"):
                self.fields[name].disabled = True

    def has_changed(self) -> bool:
        if self.line is not None:
            return True  # an order line stays unless it is removed
        return super().has_changed()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.line is not None and data.get("line_id") != self.line.pk:
            raise forms.ValidationError(
                _("The order's lines changed meanwhile: reload the page and start again.")
            )
        return data

    def line_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.line is None:
            values = super().line_values()
            if data.get("description"):
                values["description"] = data["description"]
            return values
        values = {
            "id": self.line.pk,
            "quantity": data["quantity"],
            "label": data.get("label") or self.line.label,
            "description": data.get("description") or "",
        }
        # A locked line's price fields are shown, not sent: the action keeps them as they are.
        for name in ("unit_price", "discount_rate", "vat"):
            if not self.fields[name].disabled and data.get(name) is not None:
                values[name] = data[name]
        return values


class OrderLinesFormSetBase(OrderLineFormSetBase):
    """The order's lines (first, as they are) then blank rows for new lines."""

    def __init__(self, *args: Any, order_lines: Any = (), commitments: Any = None, **kwargs: Any):
        self.order_lines = list(order_lines)
        self.commitments = commitments or {}
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None and index < len(self.order_lines):
            line = self.order_lines[index]
            delivered, invoiced, prepared = self.commitments.get(line.pk, (0, 0, 0))
            floor = max(delivered + prepared, invoiced) + line.cancelled_quantity
            kwargs.update(line=line, locked=bool(delivered or invoiced), floor=floor)
        return kwargs

    def clean(self) -> None:
        if self.is_bound and self.total_form_count() < len(self.order_lines):
            raise forms.ValidationError(
                _("The order's lines changed meanwhile: reload the page and start again.")
            )
        super().clean()

    def line_values(self) -> list[dict[str, Any]]:
        return [
            form.line_values()  # type: ignore[attr-defined]
            for form in self.forms
            if form.has_changed() and form.cleaned_data and not form.cleaned_data.get("remove")
        ]


OrderLinesFormSet = forms.formset_factory(OrderLineEditForm, formset=OrderLinesFormSetBase, extra=1)


def _short(value: Decimal) -> Decimal:
    """A stored decimal without its trailing zeros: 10, not 10.000 (ten thousand to a French
    eye where the browser shows the point), 1.6575, 0."""
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def order_line_initial(line: Any) -> dict[str, Any]:
    """What an order line's row shows first."""
    return {
        "line_id": line.pk,
        "product": line.product_id,
        "label": line.label,
        "description": line.description,
        "quantity": _short(line.quantity),
        "unit_code": line.unit_code,
        "unit_price": _short(line.unit_price),
        "discount_rate": _short(line.discount_rate),
        "vat": VatRate.objects.filter(code=line.vat_rate_code).first()
        if line.vat_rate_code
        else None,
    }


class OrderLinesForm(StyledFormMixin, forms.Form):
    """An open order's lines: change them, remove them, add new ones (``lines`` formset)."""

    def __init__(
        self,
        *args: Any,
        order_lines: Any,
        commitments: Any,
        more_rows: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        data = self.data if self.is_bound else None
        if data is not None and more_rows:
            data = data.copy()
            total = int(data.get("line-TOTAL_FORMS") or 0)
            data["line-TOTAL_FORMS"] = str(total + more_rows)
        lines = list(order_lines)
        self.lines = OrderLinesFormSet(
            data=data,
            prefix="line",
            initial=[order_line_initial(line) for line in lines],
            order_lines=lines,
            commitments=commitments,
        )

    def is_valid(self) -> bool:
        header = super().is_valid()
        lines = self.lines.is_valid()
        return header and lines

    def line_values(self) -> list[dict[str, Any]]:
        return self.lines.line_values()
