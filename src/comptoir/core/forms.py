"""Form helpers shared by every app: Bootstrap widgets and htmx inline validation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from comptoir.core import identifiers
from comptoir.core.models import Company, User
from comptoir.core.terms import payment_terms_message

# Identifiers people type with spaces or dots ("552 100 554 00021", "06.12.34.56.78"): the form
# accepts the longer input and the clean_* methods store the compact form that fits the column.
LOOSE_INPUT_LENGTHS = {
    "siren": 20,
    "siret": 30,
    "vat_number": 30,
    "naf_code": 10,
    "iban": 50,
    "bic": 20,
    "phone": 30,
    "mobile": 30,
}


def _localize_limits(field: forms.Field) -> None:
    """Write a field's minimum and maximum the user's way ("0,001", not Django's raw "0.001")."""
    for validator in field.validators:
        if isinstance(validator, MinValueValidator | MaxValueValidator) and not callable(
            validator.limit_value
        ):
            message = str(validator.message) % {"limit_value": number_format(validator.limit_value)}
            # Django formats the message once more with its parameters: keep any % as it is.
            field.error_messages[validator.code] = message.replace("%", "%%")


class DateInput(forms.DateInput):
    """The browser's date picker: it reads and writes ISO dates whatever the page's language
    (a French "27/11/2026" in its value shows an empty field, and saving again clears it)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class StyledFormMixin:
    """Give every widget its Bootstrap class; accept identifiers typed with separators."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if name in LOOSE_INPUT_LENGTHS and isinstance(field, forms.CharField):
                field.max_length = LOOSE_INPUT_LENGTHS[name]
                field.validators = [
                    v for v in field.validators if not isinstance(v, MaxLengthValidator)
                ]
                field.widget.attrs["maxlength"] = str(LOOSE_INPUT_LENGTHS[name])
            _localize_limits(field)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)
            # Inline validation sends a field back after each change: an autofocus on it (Django
            # puts one on the username) would pull the cursor back while the user types on.
            widget.attrs.pop("autofocus", None)


class CompanyForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Company
        fields = [
            "legal_name",
            "trade_name",
            "legal_form",
            "share_capital_amount",
            "siren",
            "siret",
            "rcs_city",
            "vat_number",
            "naf_code",
            "address_line1",
            "address_line2",
            "postcode",
            "city",
            "country",
            "email",
            "phone",
            "website",
            "iban",
            "bic",
            "logo",
            "payment_terms_days",
            "payment_terms_base",
            "late_penalty_text",
            "recovery_indemnity_text",
            "vat_on_debits",
            "document_footer",
        ]
        widgets = {
            "late_penalty_text": forms.Textarea(attrs={"rows": 2}),
            "recovery_indemnity_text": forms.Textarea(attrs={"rows": 2}),
            "document_footer": forms.Textarea(attrs={"rows": 2}),
        }

    def clean_siren(self) -> str:
        value = self.cleaned_data.get("siren", "")
        return identifiers.normalise_siren(value) if value else ""

    def clean_siret(self) -> str:
        value = self.cleaned_data.get("siret", "")
        return identifiers.normalise_siret(value) if value else ""

    def clean_vat_number(self) -> str:
        value = self.cleaned_data.get("vat_number", "")
        return identifiers.normalise_vat_number(value) if value else ""

    def clean_iban(self) -> str:
        value = self.cleaned_data.get("iban", "")
        return identifiers.normalise_iban(value) if value else ""

    def clean_bic(self) -> str:
        value = self.cleaned_data.get("bic", "")
        return identifiers.normalise_bic(value) if value else ""

    def clean_naf_code(self) -> str:
        value = self.cleaned_data.get("naf_code", "")
        return identifiers.normalise_naf(value) if value else ""

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "")
        return identifiers.normalise_phone(value) if value else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        siren, siret, vat = data.get("siren"), data.get("siret"), data.get("vat_number")
        if siren and siret and not siret.startswith(siren):
            self.add_error(
                "siret", _("The SIRET must start with the SIREN %(siren)s.") % {"siren": siren}
            )
        if siren and vat and identifiers.vat_siren(vat) not in (None, siren):
            self.add_error(
                "vat_number",
                _("This French VAT number is not the one of SIREN %(siren)s.") % {"siren": siren},
            )
        days, base = data.get("payment_terms_days"), data.get("payment_terms_base")
        if days is not None and base:
            message = payment_terms_message(days, base)
            if message:
                self.add_error("payment_terms_days", message)
        return data


class ProfileForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "phone", "language"]


class UserForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "email",
            "phone",
            "role",
            "language",
            "is_active",
        ]


class NewUserForm(StyledFormMixin, UserCreationForm):  # type: ignore[type-arg]
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "role", "language")


class ApiTokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=80)
