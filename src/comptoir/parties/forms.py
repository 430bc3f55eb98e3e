"""Party, contact and address forms: the actions' own checks, shown field by field as you type."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from comptoir.core.forms import StyledFormMixin
from comptoir.core.models import User
from comptoir.core.roles import Role, is_sales_rep
from comptoir.parties import actions
from comptoir.parties.models import Address, Contact, ContactFunction, Party

PARTY_FORM_FIELDS = [
    "kind",
    "name",
    "last_name",
    "first_name",
    "is_customer",
    "is_prospect",
    "is_supplier",
    "legal_form",
    "siret",
    "siren",
    "vat_number",
    "naf_code",
    "email",
    "phone",
    "mobile",
    "website",
    "category",
    "sales_rep",
    "territory",
    "payment_terms_days",
    "payment_terms_base",
    "notes",
]
# The billing address typed with a new party: form field -> address field.
ADDRESS_FORM_FIELDS = {
    "address_line1": "line1",
    "address_line2": "line2",
    "address_postcode": "postcode",
    "address_city": "city",
    "address_country": "country",
}


def _https_urls(field: models.Field[Any, Any], **kwargs: Any) -> forms.Field | None:
    """Read a website typed without a scheme as https (Django 6's default, without the warning)."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


def _attach_errors(form: forms.BaseForm, exc: ValidationError, rename: dict[str, str]) -> None:
    for field, messages in exc.message_dict.items():
        target = rename.get(field, field)
        if target == NON_FIELD_ERRORS or target not in form.fields:
            form.add_error(None, messages)
        elif target in form.fields:
            form.add_error(target, messages)


class PartyForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    """Create or edit a party; a new one may come with its billing address."""

    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separated by commas, e.g. trade fair 2026, key account"),
    )

    class Meta:
        model = Party
        fields = PARTY_FORM_FIELDS
        formfield_callback = _https_urls
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "payment_terms_days": forms.NumberInput(attrs={"min": 0, "max": 60}),
        }

    def __init__(
        self, *args: Any, user: Any = None, party: Party | None = None, **kwargs: Any
    ) -> None:
        # The form works on a copy so that the action gets the party as it is in the database.
        self.party = party
        if party is not None:
            kwargs["instance"] = copy.copy(party)
            kwargs.setdefault("initial", {})["tags"] = ", ".join(t.name for t in party.tags.all())
        super().__init__(*args, **kwargs)
        self.fields["name"].required = False
        self.fields["name"].help_text = _("For a person, leave empty: LAST NAME First name.")
        self.fields["phone"].help_text = _("As you like it, e.g. 01 23 45 67 89 or +44 20 …")
        self.fields["sales_rep"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER]
        )
        if is_sales_rep(user):
            # A rep's parties are their own: nothing to choose.
            del self.fields["sales_rep"]
        if party is None:
            self.fields["address_line1"] = forms.CharField(
                label=_("Billing address"), max_length=200, required=False
            )
            self.fields["address_line2"] = forms.CharField(
                label=_("Billing address (continued)"), max_length=200, required=False
            )
            self.fields["address_postcode"] = forms.CharField(
                label=_("Postcode"), max_length=10, required=False
            )
            self.fields["address_city"] = forms.CharField(
                label=_("City"), max_length=100, required=False
            )
            self.fields["address_country"] = forms.CharField(
                label=_("Country"), max_length=2, initial="FR", required=False
            )
            for name in ADDRESS_FORM_FIELDS:
                self.fields[name].widget.attrs.setdefault("class", "form-control")

    def party_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name] for name in PARTY_FORM_FIELDS if name in data and name in self.fields
        }

    def tag_names(self) -> list[str]:
        return [t for t in (self.cleaned_data.get("tags") or "").split(",") if t.strip()]

    def billing_address(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if self.party is not None or not data.get("address_line1"):
            return None
        return {
            field: data.get(name) or ("FR" if field == "country" else "")
            for name, field in ADDRESS_FORM_FIELDS.items()
        }

    def location_values(self) -> dict[str, Any]:
        """A postcode and city without a street: kept on the party until an address comes."""
        data = self.cleaned_data
        if self.party is not None or data.get("address_line1"):
            return {}
        values = {
            "postcode": data.get("address_postcode") or "",
            "city": data.get("address_city") or "",
        }
        if values["postcode"] or values["city"]:
            values["country"] = data.get("address_country") or "FR"
            return values
        return {}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        values = {k: v for k, v in self.party_values().items() if k not in self.errors}
        values.update(self.location_values())
        try:
            normalised = actions.check_party_values(values, party=self.party)
        except ValidationError as exc:
            _attach_errors(
                self,
                exc,
                {
                    "postcode": "address_postcode",
                    "city": "address_city",
                    "country": "address_country",
                },
            )
        else:
            for name, value in normalised.items():
                if name in self.fields:
                    data[name] = value
            if normalised.get("name"):
                data["name"] = normalised["name"]
        address = self.billing_address()
        if address is not None:
            if not address["postcode"]:
                self.add_error("address_postcode", _("A billing address needs its postcode."))
            if not address["city"]:
                self.add_error("address_city", _("A billing address needs its city."))
            if address["country"] == "FR" and address["postcode"]:
                postcode = address["postcode"].strip()
                if not (postcode.isdigit() and len(postcode) == 5):
                    self.add_error("address_postcode", _("A French postcode has 5 digits."))
        return data


class ContactForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    functions = forms.MultipleChoiceField(
        label=_("Functions"),
        choices=ContactFunction.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )

    class Meta:
        model = Contact
        fields = [
            "civility",
            "last_name",
            "first_name",
            "job_title",
            "functions",
            "email",
            "phone",
            "mobile",
            "is_primary",
            "notes",
            "is_active",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, party: Party, contact: Contact | None = None, **kwargs: Any):
        self.party = party
        if contact is not None:
            kwargs["instance"] = copy.copy(contact)
        super().__init__(*args, **kwargs)
        if contact is None:
            del self.fields["is_active"]

    def contact_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k in self.fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        values = {k: v for k, v in self.contact_values().items() if k not in self.errors}
        try:
            normalised = actions.check_contact_values(values, region=self.party.country or "FR")
        except ValidationError as exc:
            _attach_errors(self, exc, {})
        else:
            data.update(normalised)
        return data


class AddressForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Address
        fields = [
            "kind",
            "label",
            "line1",
            "line2",
            "line3",
            "postcode",
            "city",
            "country",
            "is_default",
        ]

    def __init__(self, *args: Any, address: Address | None = None, **kwargs: Any):
        if address is not None:
            kwargs["instance"] = copy.copy(address)
        super().__init__(*args, **kwargs)

    def address_values(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k in self.fields}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        country = (data.get("country") or "FR").strip().upper()
        data["country"] = country
        postcode = (data.get("postcode") or "").strip()
        if country == "FR" and postcode and not (postcode.isdigit() and len(postcode) == 5):
            self.add_error("postcode", _("A French postcode has 5 digits."))
        return data
