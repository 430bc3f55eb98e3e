"""Dunning screens: runs, reminders, the phone session, policies, a customer's settings."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from comptoir.core.views import FormScreen, apply_validation_error
from comptoir.documents.actions import read_archived
from comptoir.dunning import actions, selectors
from comptoir.dunning.forms import CallOutcomeForm, LevelForm, PartyDunningForm, PolicyForm, RunForm
from comptoir.dunning.models import (
    DunningLevel,
    DunningMessage,
    DunningPolicy,
    DunningRun,
    PartyDunning,
)
from comptoir.parties.models import Party
from comptoir.parties.selectors import parties_visible_to


def _require(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.user.has_perm(permission, obj):
        raise PermissionDenied


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    """The runs, and running one now (or a dry run that only shows what it would do)."""
    _require(request, "dunning.view_dunning")
    form = RunForm(initial={"run_date": timezone.localdate()})
    report = None
    if request.method == "POST":
        _require(request, "dunning.run_dunning")
        form = RunForm(request.POST)
        if form.is_valid():
            day = form.cleaned_data["run_date"]
            if form.cleaned_data["dry_run"]:
                report = actions.run_dunning(day, by=request.user, dry_run=True)
            else:
                actions.start_dunning_run(day, by=request.user)
                messages.success(request, _("The run is under way; this page shows its progress."))
                return redirect("dunning:run", run_date=day.isoformat())
    return render(
        request,
        "dunning/runs.html",
        {
            "title": _("Dunning"),
            "form": form,
            "report": report,
            "report_decisions": selectors.decision_words(report.decisions) if report else [],
            "runs": [
                (run, selectors.summary_words(run.summary)) for run in DunningRun.objects.all()[:60]
            ],
            "can_run": request.user.has_perm("dunning.run_dunning"),
        },
    )


@login_required
def run_detail(request: HttpRequest, run_date: str) -> HttpResponse:
    _require(request, "dunning.view_dunning")
    try:
        day = date.fromisoformat(run_date)
    except ValueError as exc:
        raise Http404 from exc
    run = get_object_or_404(DunningRun, run_date=day)
    reminders = (
        selectors.messages_visible_to(request.user)
        .filter(run_date=day)
        .order_by("level__rank", "party__name")
    )
    return render(
        request,
        "dunning/run_detail.html",
        {
            "title": _("Dunning run of %(date)s") % {"date": day},
            "run": run,
            "summary": selectors.summary_words(run.summary),
            "reminders": reminders[:500],
            "count": reminders.count(),
        },
    )


@login_required
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(selectors.messages_visible_to(request.user), pk=pk)
    _require(request, "dunning.view_dunning", message)
    if message.document is None:
        raise Http404
    response = HttpResponse(read_archived(message.document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{message.document.filename}"'
    return response


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    """The phone session: today's calls with script, items, last contacts and promises."""
    _require(request, "dunning.view_dunning")
    today = timezone.localdate()
    return render(
        request,
        "dunning/calls.html",
        {
            "title": _("Calls to make"),
            "rows": [
                {**row, "form": CallOutcomeForm(prefix=f"call{row['task'].pk}")}
                for row in selectors.call_list(request.user, today)
            ],
            "promises": selectors.promises_due(request.user, today),
            "can_call": request.user.has_perm("dunning.call"),
        },
    )


@require_POST
@login_required
def call_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a call's outcome in one step; htmx swaps the task card for the result."""
    _require(request, "dunning.call")
    message = get_object_or_404(selectors.messages_visible_to(request.user), pk=pk)
    form = CallOutcomeForm(request.POST, prefix=f"call{pk}")
    done = False
    if form.is_valid():
        try:
            actions.record_call_outcome(
                message.party, message=message, by=request.user, **form.cleaned_data
            )
            done = True
        except ValidationError as exc:
            apply_validation_error(form, exc)
    context = {"task": message, "form": form, "done": done}
    if request.htmx:
        return render(request, "dunning/_call_result.html", context)
    if done:
        messages.success(request, _("Call recorded."))
    return redirect("dunning:calls")


class PartySettings(FormScreen):
    form_class = PartyDunningForm
    title = gettext_lazy("Dunning settings")
    template_name = "dunning/party.html"

    def get_object(self) -> Party:
        return get_object_or_404(parties_visible_to(self.request.user), pk=self.kwargs["pk"])

    def check_access(self) -> None:
        party = self.get_object()
        _require(self.request, "dunning.view_dunning", party)
        if self.request.method == "POST":
            _require(self.request, "dunning.change_party_dunning", party)

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        instance = PartyDunning.objects.filter(party=self.get_object()).first()
        return PartyDunningForm(data=data, instance=instance)

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        party = self.get_object()
        return super().context(
            form,
            party=party,
            reminders=DunningMessage.objects.filter(party=party).select_related("level")[:30],
            outcomes=party_outcomes(party),
            can_change=self.request.user.has_perm("dunning.change_party_dunning", party),
            **extra,
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        party = self.get_object()
        actions.update_party_dunning(party, by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Dunning settings saved."))
        return redirect("dunning:party", pk=party.pk)


def party_outcomes(party: Party) -> Any:
    from comptoir.dunning.models import CallOutcome

    return CallOutcome.objects.filter(party=party).select_related("by")[:20]


@require_POST
@login_required
def interest_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    party = get_object_or_404(parties_visible_to(request.user), pk=pk)
    _require(request, "dunning.run_dunning")
    _require(request, "invoicing.change_invoice")
    waiting = actions.pending_interest_invoice(party)
    if waiting is not None:
        # One draft at a time: a second click used to make a second draft of the same claim.
        messages.info(
            request, _("A draft interest invoice is already waiting: check it, then issue it.")
        )
        return redirect("invoicing:detail", pk=waiting.pk)
    try:
        invoice = actions.create_interest_invoice(party, on=timezone.localdate(), by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dunning:party", pk=party.pk)
    messages.success(request, _("Draft interest invoice created: check it, then issue it."))
    return redirect("invoicing:detail", pk=invoice.pk)


@login_required
def policies(request: HttpRequest) -> HttpResponse:
    _require(request, "dunning.view_dunning")
    return render(
        request,
        "dunning/policies.html",
        {
            "title": _("Dunning policies"),
            "policies": DunningPolicy.objects.prefetch_related("levels"),
            "can_change": request.user.has_perm("dunning.change_policy"),
        },
    )


class PolicyEdit(FormScreen):
    form_class = PolicyForm
    cancel_view = "dunning:policies"
    title = gettext_lazy("Dunning policy")
    permission = "dunning.change_policy"

    def get_object(self) -> DunningPolicy | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(DunningPolicy, pk=pk) if pk else None

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return PolicyForm(data=data, instance=self.get_object())

    def save(self, form: forms.BaseForm) -> HttpResponse:
        actions.save_policy(self.get_object(), by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Policy saved."))
        return redirect("dunning:policies")


class LevelEdit(FormScreen):
    form_class = LevelForm
    cancel_view = "dunning:policies"
    title = gettext_lazy("Dunning level")
    permission = "dunning.change_policy"

    def policy(self) -> DunningPolicy:
        return get_object_or_404(DunningPolicy, pk=self.kwargs["policy_pk"])

    def get_object(self) -> DunningLevel | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(DunningLevel, pk=pk, policy=self.policy()) if pk else None

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return LevelForm(data=data, instance=self.get_object())

    def save(self, form: forms.BaseForm) -> HttpResponse:
        actions.save_level(
            self.get_object(), policy=self.policy(), by=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Level saved."))
        return redirect("dunning:policies")
