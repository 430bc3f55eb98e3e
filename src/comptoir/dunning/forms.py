"""Dunning forms: a run, a call outcome, a party's settings, policies and levels."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.core.forms import DateInput, StyledFormMixin
from comptoir.dunning import templating
from comptoir.dunning.models import CallOutcomeKind, DunningLevel, DunningPolicy, PartyDunning


class RunForm(StyledFormMixin, forms.Form):
    run_date = forms.DateField(label=_("Date"), widget=DateInput())
    dry_run = forms.BooleanField(
        label=_("Dry run (show what would be sent, change nothing)"), required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        run_date = data.get("run_date")
        # Reminders sent today about a day to come would claim lateness that is not there yet.
        if run_date and run_date > timezone.localdate() and not data.get("dry_run"):
            self.add_error(
                "run_date",
                _("A real run cannot be dated in the future: tick Dry run to preview it."),
            )
        return data


class CallOutcomeForm(StyledFormMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallOutcomeKind.choices)
    promise_date = forms.DateField(label=_("Promised date"), required=False, widget=DateInput())
    promise_amount = forms.DecimalField(
        label=_("Promised amount"), required=False, decimal_places=2, min_value=Decimal("0.01")
    )
    call_back_on = forms.DateField(label=_("Call back on"), required=False, widget=DateInput())
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class PartyDunningForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PartyDunning
        fields = [
            "policy",
            "excluded",
            "disputed",
            "dispute_note",
            "promise_until",
            "promise_amount",
        ]
        widgets = {"promise_until": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A promise to pay is of a positive amount.
        self.fields["promise_amount"].validators.append(MinValueValidator(Decimal("0.01")))
        self.fields["promise_amount"].widget.attrs["min"] = "0.01"


class PolicyForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DunningPolicy
        fields = ["name", "is_default", "interest_rate", "pause_after_payment_days"]


class LevelForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DunningLevel
        fields = [
            "rank",
            "name",
            "delay_days",
            "channel",
            "subject",
            "body",
            "call_script",
            "claim_interest",
            "claim_indemnity",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 12}),
            "call_script": forms.Textarea(attrs={"rows": 5}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("subject", "body", "call_script"):
            if data.get(name):
                try:
                    templating.check_template(data[name])
                except forms.ValidationError as exc:
                    self.add_error(name, exc.messages)
        return data
