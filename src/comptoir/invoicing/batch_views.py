"""Screens that start a batch invoicing run and follow it while the worker runs it."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from comptoir.core.forms import DateInput, StyledFormMixin
from comptoir.core.selectors import worker_running
from comptoir.invoicing import batch
from comptoir.invoicing.order_links import InvoicingRun, InvoicingRunStatus

PERMISSION = "invoicing.change_invoice"


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


class RunForm(StyledFormMixin, forms.Form):
    until = forms.DateField(
        label=gettext_lazy("Invoice deliveries shipped up to"),
        widget=DateInput(),
    )


@login_required
def run_start(request: HttpRequest) -> HttpResponse:
    _require(request)
    form = RunForm(request.POST or None, initial={"until": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        run = batch.start_invoicing_run(until=form.cleaned_data["until"], by=request.user)
        return redirect("invoicing_orders:run_detail", pk=run.pk)
    until = timezone.localdate()
    pending = batch.batches(until)
    return render(
        request,
        "invoicing/batch_start.html",
        {
            "title": _("Batch invoicing"),
            "form": form,
            "pending": pending[:50],
            # One invoice per customer, discount and currency: a customer may have several.
            "pending_count": len(pending),
            "customer_count": len({b.party_id for b in pending}),
            "runs": InvoicingRun.objects.all()[:10],
            "no_worker": not worker_running(),
        },
    )


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    run = get_object_or_404(InvoicingRun, pk=pk)
    template = (
        "invoicing/_batch_progress.html"
        if getattr(request, "htmx", False)
        else "invoicing/batch_run.html"
    )
    finished = run.status in (InvoicingRunStatus.DONE, InvoicingRunStatus.FAILED)
    return render(
        request,
        template,
        {
            "title": _("Batch invoicing"),
            "run": run,
            "finished": finished,
            "invoices": list(batch.invoices_of_run(run)) if finished else [],
            "no_worker": not finished and not worker_running(),
        },
    )
