"""Payment forms: record a payment, a schedule, a bank file, SEPA data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from comptoir.core import identifiers
from comptoir.core.forms import DateInput, StyledFormMixin
from comptoir.core.money import format_amount
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments.models import PaymentMethod, SepaMandate
from comptoir.payments.selectors import RECEIVABLE_KINDS

DATE = DateInput()


class InvoiceChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    widget = forms.SelectMultiple(attrs={"size": 6})

    def label_from_instance(self, obj: Any) -> str:
        settlement = getattr(obj, "settlement", None)
        if settlement is None:
            return f"{obj.number} {obj.buyer_name}"
        return gettext("%(number)s %(buyer)s — %(open)s € left, due %(due_date)s") % {
            "number": obj.number,
            "buyer": obj.buyer_name,
            "open": format_amount(settlement.open_amount),
            "due_date": date_format(settlement.due_date, "SHORT_DATE_FORMAT"),
        }


def reload_invoices_with_party(form: forms.BaseForm, url: str) -> None:
    """Have htmx reload the form's invoice list from `url` whenever its customer changes.

    The customer's select sends the request itself: inline validation swaps that select for a
    new one, which would leave a listener put elsewhere (`from:#id_party`) on the old one.
    """
    form.fields["party"].widget.attrs.update(
        {
            "hx-get": url,
            "hx-trigger": "change",
            # Else inherited from the inline-validation wrapper: the whole form, CSRF token
            # included, would go into the address of this GET, which needs only the customer.
            "hx-include": "this",
            "hx-target": "#field-invoices",
            "hx-select": "#field-invoices",
            "hx-swap": "outerHTML",
        }
    )


def open_invoices(party: Party | None = None) -> Any:
    queryset = Invoice.objects.filter(
        settlement__open_amount__gt=0, settlement__kind__in=RECEIVABLE_KINDS
    ).select_related("settlement")
    if party is not None:
        queryset = queryset.filter(party=party)
    return queryset.order_by("settlement__due_date", "number")


class PaymentForm(StyledFormMixin, forms.Form):
    party = forms.ModelChoiceField(
        label=_("Customer"), queryset=Party.objects.customers().order_by("name")
    )
    date = forms.DateField(label=_("Date"), initial=timezone.localdate, widget=DATE)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), decimal_places=2)
    reference = forms.CharField(label=_("Reference"), required=False, max_length=140)
    invoices = InvoiceChoiceField(
        label=_("Invoices paid"),
        queryset=Invoice.objects.none(),
        required=False,
        help_text=_(
            "Choose the invoices this payment settles (Ctrl+click to choose several). If you "
            "choose none, it settles the customer's open invoices from the oldest due date on; "
            "whatever is left stays as the customer's credit."
        ),
    )

    def __init__(self, *args: Any, party: Party | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = party
        if chosen is None and str(self.data.get("party", "")).isdigit():
            chosen = Party.objects.filter(pk=self.data["party"]).first()
        # Only the chosen customer's invoices: the whole base's would make a huge list.
        self.fields["invoices"].queryset = (  # type: ignore[attr-defined]
            open_invoices(chosen) if chosen is not None else Invoice.objects.none()
        )


class ScheduleForm(StyledFormMixin, forms.Form):
    due_dates = forms.CharField(
        label=_("Due dates"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One date a line (YYYY-MM-DD or DD/MM/YYYY)."),
    )
    shares = forms.CharField(
        label=_("Shares"),
        required=False,
        help_text=_("Optional, e.g. 30 30 40; empty: equal instalments."),
    )

    def clean_due_dates(self) -> list[date]:
        dates = []
        for raw in self.cleaned_data["due_dates"].split():
            try:
                if "/" in raw:
                    day, month, year = raw.split("/")
                    dates.append(date(int(year), int(month), int(day)))
                else:
                    dates.append(date.fromisoformat(raw))
            except ValueError as exc:
                raise forms.ValidationError(_("%(value)s is not a date.") % {"value": raw}) from exc
        return dates

    def clean_shares(self) -> list[Decimal] | None:
        # Shares are separated by spaces or semicolons; a comma is a decimal comma (33,34).
        raw = self.cleaned_data.get("shares", "").replace(";", " ").split()
        if not raw:
            return None
        try:
            shares = [Decimal(value.replace(",", ".")) for value in raw]
        except ArithmeticError as exc:
            raise forms.ValidationError(_("Enter numbers separated by spaces.")) from exc
        if any(share <= 0 for share in shares):
            raise forms.ValidationError(_("Each share is a percentage above 0."))
        total = sum(shares)
        if total != 100:
            raise forms.ValidationError(
                _("The shares are percentages of the invoice: they add up to %(total)s, not 100.")
                % {"total": format_amount(total).removesuffix(",00")}
            )
        return shares


class BankFileForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Bank file"),
        help_text=_("CFONB 120, CAMT.053 (XML) or OFX, as your bank gives it."),
    )


class ManualMatchForm(StyledFormMixin, forms.Form):
    party = forms.ModelChoiceField(
        label=_("Customer"), queryset=Party.objects.customers().order_by("name")
    )
    invoices = InvoiceChoiceField(
        label=_("Invoices"), queryset=Invoice.objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        party_pk = str(self.data.get("party") or self.initial.get("party") or "")
        queryset = Invoice.objects.none()
        # Only a number reaches the query: anything else is the field's error to report.
        if party_pk.isdigit():
            queryset = Invoice.objects.filter(
                party_id=party_pk, settlement__open_amount__gt=0
            ).select_related("settlement")
        self.fields["invoices"].queryset = queryset.order_by("settlement__due_date")  # type: ignore[attr-defined]


class SepaSettingsForm(StyledFormMixin, forms.Form):
    creditor_identifier = forms.CharField(
        label=_("SEPA creditor identifier (ICS)"), max_length=40, required=False
    )


class MandateForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SepaMandate
        fields = ["party", "reference", "signature_date", "iban", "bic", "recurring"]
        widgets = {"signature_date": DATE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["party"].queryset = Party.objects.customers().order_by("name")  # type: ignore[attr-defined]

    def clean_iban(self) -> str:
        value = self.cleaned_data.get("iban", "")
        return identifiers.normalise_iban(value) if value else ""

    def clean_bic(self) -> str:
        value = self.cleaned_data.get("bic", "")
        return identifiers.normalise_bic(value) if value else ""


class DirectDebitForm(StyledFormMixin, forms.Form):
    collection_date = forms.DateField(label=_("Collection date"), widget=DATE)


class TransferForm(StyledFormMixin, forms.Form):
    party = forms.ModelChoiceField(
        label=_("Supplier"), queryset=Party.objects.suppliers().order_by("name")
    )
    iban = forms.CharField(label=_("IBAN"), max_length=50, validators=[identifiers.validate_iban])
    bic = forms.CharField(label=_("BIC"), max_length=20, required=False)
    amount = forms.DecimalField(label=_("Amount"), min_value=Decimal("0.01"), decimal_places=2)
    remittance = forms.CharField(label=_("Remittance information"), max_length=140)


class TransferBatchForm(StyledFormMixin, forms.Form):
    execution_date = forms.DateField(label=_("Execution date"), widget=DATE)
