"""Customer-file forms: upload, column mapping, consent per channel, processing register."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from comptoir.core.forms import StyledFormMixin
from comptoir.customerfile.gdpr import REGISTER_FIELDS, SEEDED_REGISTER_TEXTS, register_text
from comptoir.customerfile.importing import FIELDS
from comptoir.customerfile.models import Channel, ConsentStatus, ImportMapping, ProcessingActivity

ROLE_CHOICES = [("prospect", _("Prospects")), ("customer", _("Customers"))]


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Customer file"),
        help_text=_(
            "CSV (; , or tab, any encoding), XLSX or ODS; the first line holds the headers."
        ),
        widget=forms.ClearableFileInput(
            attrs={"id": "import-file", "accept": ".csv,.txt,.xlsx,.ods"}
        ),
    )
    role = forms.ChoiceField(label=_("Import as"), choices=ROLE_CHOICES, initial="prospect")
    tags = forms.CharField(
        label=_("Tags for every new party"),
        required=False,
        help_text=_("Comma-separated, e.g. Salon 2026"),
    )


class MappingForm(StyledFormMixin, forms.Form):
    """One select per column of the file; the choices are the fields a column can feed."""

    saved = forms.ModelChoiceField(
        label=_("Apply a saved mapping"),
        queryset=ImportMapping.objects.all(),
        required=False,
        to_field_name="name",
    )
    save_as = forms.CharField(label=_("Save this mapping as"), max_length=100, required=False)

    def __init__(
        self, *args: Any, header: Sequence[str], initial_mapping: Sequence[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("(ignore)")), *((key, label) for key, label in FIELDS.items())]
        for index, title in enumerate(header):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=title or _("Column %(n)d") % {"n": index + 1},
                choices=choices,
                required=False,
                initial=initial_mapping[index] if index < len(initial_mapping) else "",
                widget=forms.Select(
                    attrs={"class": "form-select form-select-sm", "id": f"map-{index}"}
                ),
            )
        self.header = list(header)

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"column_{i}", "") or "" for i in range(len(self.header))]

    def column_fields(self) -> list[Any]:
        return [self[f"column_{i}"] for i in range(len(self.header))]


class ConsentForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    status = forms.ChoiceField(label=_("Choice"), choices=ConsentStatus.choices)
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        help_text=_("How the person told us, e.g. phone call of 26/11/2026, web form"),
    )


class ErasureForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("e.g. erasure request received by email on 26/11/2026"),
    )


class ProcessingActivityForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ProcessingActivity
        fields = list(REGISTER_FIELDS)
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in fields
            if name not in ("name", "legal_basis")
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A seeded text is offered in the reader's language, like on the register.
        for name in self._seeded_fields():
            self.initial[name] = register_text(getattr(self.instance, name))

    def clean(self) -> dict[str, Any]:
        super().clean()
        # Sent back unchanged, a seeded text keeps its English key (and so keeps following the
        # reader's language) instead of being stored in the language of whoever saved the form.
        for name in self._seeded_fields():
            stored = getattr(self.instance, name)
            if self.cleaned_data.get(name) == register_text(stored):
                self.cleaned_data[name] = stored
        return self.cleaned_data

    def _seeded_fields(self) -> list[str]:
        return [
            name
            for name in self.Meta.fields
            if name != "legal_basis" and getattr(self.instance, name) in SEEDED_REGISTER_TEXTS
        ]
