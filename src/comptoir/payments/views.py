"""Payment screens: payments, customer accounts, aged balance, bank statements, SEPA."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import formset_factory
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from comptoir.core.exports import csv_response, xlsx_response
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.money import format_amount
from comptoir.core.selectors import current_company
from comptoir.core.views import FormScreen, apply_validation_error
from comptoir.documents.actions import archive_document, read_archived
from comptoir.documents.rendering import company_logo, render_pdf
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.selectors import invoices_visible_to
from comptoir.parties.models import Party
from comptoir.parties.selectors import parties_visible_to
from comptoir.payments import actions, printing, selectors
from comptoir.payments.bankfiles import BankFileError
from comptoir.payments.forms import (
    BankFileForm,
    DirectDebitForm,
    MandateForm,
    ManualMatchForm,
    PaymentForm,
    ScheduleForm,
    SepaSettingsForm,
    TransferBatchForm,
    TransferForm,
    reload_invoices_with_party,
)
from comptoir.payments.models import (
    BankStatement,
    CreditTransferBatch,
    DirectDebitBatch,
    PaymentMethod,
    SepaMandate,
    SepaSettings,
    StatementLine,
    StatementLineStatus,
)

BUCKET_LABELS = [
    ("not_due", gettext_lazy("Not due")),
    ("1_30", gettext_lazy("1–30 days")),
    ("31_60", gettext_lazy("31–60 days")),
    ("61_90", gettext_lazy("61–90 days")),
    ("over_90", gettext_lazy("> 90 days")),
    ("total", gettext_lazy("Total")),
]


def _require(request: HttpRequest, permission: str, obj: Any = None) -> None:
    if not request.user.has_perm(permission, obj):
        raise PermissionDenied


class PaymentList(ListScreen):
    title = gettext_lazy("Payments")
    permission = "payments.view_payment"
    columns = (
        Column("date", gettext_lazy("Date"), sort="date", kind="date"),
        Column("party__name", gettext_lazy("Customer"), sort="party__name", link=True),
        Column("get_direction_display", gettext_lazy("Direction")),
        Column("get_method_display", gettext_lazy("Method"), sort="method"),
        Column("reference", gettext_lazy("Reference")),
        Column("amount", gettext_lazy("Amount"), sort="amount", kind="decimal"),
        Column("unallocated_amount", gettext_lazy("Unallocated"), kind="decimal"),
    )
    search_fields = ("party__name", "reference")
    filters = (
        Filter(
            "method",
            gettext_lazy("Method"),
            lambda request: PaymentMethod.choices,
            lambda qs, v: qs.filter(method=v),
        ),
    )
    default_sort = "-date"
    export_name = gettext_lazy("payments")
    create_label = gettext_lazy("Record a payment")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.payments_visible_to(self.request.user)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.has_perm("payments.record_payment"):
            self.create_url = reverse("payments:create")
        self.detail_url = lambda p: reverse("payments:account", args=[p.party_id])
        return super().get(request, *args, **kwargs)


class PaymentCreate(FormScreen):
    form_class = PaymentForm
    title = gettext_lazy("Record a payment")
    permission = "payments.record_payment"

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        initial = {}
        party = None
        if self.request.GET.get("party", "").isdigit():
            party = Party.objects.filter(pk=self.request.GET["party"]).first()
            initial["party"] = party
        form = PaymentForm(data=data, initial=initial, party=party)
        reload_invoices_with_party(form, self.request.path)
        return form

    def save(self, form: forms.BaseForm) -> HttpResponse:
        data = form.cleaned_data
        invoices = list(data["invoices"]) or None
        payment = actions.record_payment(
            party=data["party"],
            amount=data["amount"],
            method=data["method"],
            date=data["date"],
            reference=data["reference"],
            invoices=invoices,
            by=self.request.user,
        )
        messages.success(
            self.request,
            _("Payment recorded; %(credit)s € left as credit.")
            % {"credit": format_amount(payment.unallocated_amount)},
        )
        return redirect("payments:account", pk=payment.party_id)


def _visible_party(request: HttpRequest, pk: int) -> Party:
    party = get_object_or_404(parties_visible_to(request.user), pk=pk)
    _require(request, "payments.view_payment", party)
    return party


@login_required
def customer_account(request: HttpRequest, pk: int) -> HttpResponse:
    party = _visible_party(request, pk)
    today = timezone.localdate()
    statement = selectors.statement_of_account(party, start=today - timedelta(days=365), end=today)
    # Paid and credited apart: a credit note set against an invoice is no payment.
    selectors.credited_amounts(statement["open_items"])
    for settlement in statement["open_items"]:
        settlement.state_label = selectors.RECEIVABLE_STATE_LABELS[settlement.state_key]
    open_notes = selectors.InvoiceSettlement.objects.filter(
        party=party, kind=InvoiceKind.CREDIT_NOTE, open_amount__gt=0
    ).select_related("invoice")
    return render(
        request,
        "payments/account.html",
        {
            "title": _("Account of %(party)s") % {"party": party.name},
            "party": party,
            "statement": statement,
            "credit": selectors.customer_credit(party),
            "balance": selectors.customer_balance(party),
            "open_notes": open_notes,
            "payments": selectors.payments_visible_to(request.user).filter(party=party)[:50],
            "buckets": BUCKET_LABELS,
            "can_record": request.user.has_perm("payments.record_payment"),
            "today": today,
        },
    )


@login_required
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Render, archive and download the customer's statement of account."""
    party = _visible_party(request, pk)
    today = timezone.localdate()
    try:
        end = date.fromisoformat(request.GET.get("end", "")) if request.GET.get("end") else today
        start = (
            date.fromisoformat(request.GET["start"])
            if request.GET.get("start")
            else end - timedelta(days=365)
        )
    except ValueError as exc:
        raise PermissionDenied from exc
    data = printing.statement_print_data(
        selectors.statement_of_account(party, start=start, end=end)
    )
    pdf = render_pdf("statement_of_account.typ", data, logo=company_logo(current_company()))
    stamp = timezone.now()
    reference = f"RLV-{party.pk}-{end:%Y%m%d}-{stamp:%H%M%S%f}"
    document = archive_document(
        pdf,
        reference=reference,
        kind="statement_of_account_pdf",
        filename=f"{reference}.pdf",
        mime_type="application/pdf",
        business_object=party,
        by=request.user,
    )
    response = HttpResponse(read_archived(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


@require_POST
@login_required
def use_credit(request: HttpRequest, pk: int, invoice_pk: int) -> HttpResponse:
    party = _visible_party(request, pk)
    _require(request, "payments.record_payment")
    invoice = get_object_or_404(Invoice, pk=invoice_pk, party=party)
    try:
        used = actions.allocate_credit(party, invoice=invoice, by=request.user)
        messages.success(
            request, _("%(amount)s € of credit used.") % {"amount": format_amount(used)}
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("payments:account", pk=party.pk)


@require_POST
@login_required
def refund(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    party = _visible_party(request, pk)
    _require(request, "payments.record_payment")
    note = get_object_or_404(Invoice, pk=note_pk, party=party, kind=InvoiceKind.CREDIT_NOTE)
    try:
        settlement = actions.open_settlement(note)
        actions.refund_credit_note(
            note,
            amount=settlement.open_amount,
            method=request.POST.get("method", PaymentMethod.TRANSFER),
            date=timezone.localdate(),
            by=request.user,
        )
        messages.success(request, _("Refund recorded."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("payments:account", pk=party.pk)


@require_POST
@login_required
def offset(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    party = _visible_party(request, pk)
    _require(request, "payments.record_payment")
    note = get_object_or_404(Invoice, pk=note_pk, party=party, kind=InvoiceKind.CREDIT_NOTE)
    invoice = get_object_or_404(Invoice, pk=request.POST.get("invoice"), party=party)
    try:
        note_open = actions.open_settlement(note).open_amount
        invoice_open = actions.open_settlement(invoice).open_amount
        actions.offset_credit_note(
            note, invoice=invoice, amount=min(note_open, invoice_open), by=request.user
        )
        messages.success(request, _("Credit note offset against %(n)s.") % {"n": invoice.number})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("payments:account", pk=party.pk)


@login_required
def aged_balance(request: HttpRequest) -> HttpResponse:
    _require(request, "payments.view_payment")
    on = timezone.localdate()
    rows, overall = selectors.aged_balance_by_customer(request.user, on)
    if request.GET.get("export") in {"csv", "xlsx"}:
        header = [str(_("Customer"))] + [str(label) for _k, label in BUCKET_LABELS]
        lines = [[r["name"], *[r[k] for k, _l in BUCKET_LABELS]] for r in rows]
        lines.append([str(_("Total")), *[overall[k] for k, _l in BUCKET_LABELS]])
        respond = csv_response if request.GET["export"] == "csv" else xlsx_response
        return respond("aged-balance", header, lines)
    return render(
        request,
        "payments/aged_balance.html",
        {
            "title": _("Aged balance"),
            "rows": rows[:500],
            "overall": overall,
            "buckets": BUCKET_LABELS,
            "dso": selectors.dso(request.user, on),
            "on": on,
        },
    )


class ScheduleEdit(FormScreen):
    form_class = ScheduleForm
    title = gettext_lazy("Payment schedule")
    permission = "payments.record_payment"
    template_name = "payments/schedule.html"

    def get_object(self) -> Invoice:
        return get_object_or_404(invoices_visible_to(self.request.user), pk=self.kwargs["pk"])

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        invoice = self.get_object()
        return super().context(
            form,
            invoice=invoice,
            schedule=selectors.instalments_of(invoice),
            cancel_url=reverse("invoicing:detail", args=[invoice.pk]),
            **extra,
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        invoice = self.get_object()
        actions.set_payment_schedule(
            invoice,
            due_dates=form.cleaned_data["due_dates"],
            weights=form.cleaned_data["shares"],
            by=self.request.user,
        )
        messages.success(self.request, _("Payment schedule saved."))
        return redirect("payments:schedule", pk=invoice.pk)


# -- bank statements ---------------------------------------------------------------------------


@login_required
def statements(request: HttpRequest) -> HttpResponse:
    _require(request, "payments.import_statement")
    form = BankFileForm()
    if request.method == "POST":
        form = BankFileForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                created = actions.import_bank_file(
                    upload.read(), filename=upload.name, by=request.user
                )
            except BankFileError as exc:
                form.add_error("file", str(exc))
            else:
                count = sum(statement.lines.count() for statement in created)
                messages.success(request, _("%(count)s bank lines imported.") % {"count": count})
                return redirect("payments:unmatched")
    return render(
        request,
        "payments/statements.html",
        {
            "title": _("Bank statements"),
            "form": form,
            "statements": BankStatement.objects.all()[:100],
        },
    )


@login_required
def unmatched(request: HttpRequest) -> HttpResponse:
    _require(request, "payments.import_statement")
    lines = list(selectors.unmatched_lines(request.user).order_by("booking_date", "pk")[:200])
    proposals = selectors.proposals_for(lines)
    return render(
        request,
        "payments/unmatched.html",
        {
            "title": _("Bank lines to match"),
            "rows": [(line, proposals.get(line.pk, [])) for line in lines],
        },
    )


@require_POST
@login_required
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm a proposal in one click (htmx swaps the row for its result)."""
    _require(request, "payments.import_statement")
    line = get_object_or_404(StatementLine, pk=pk)
    keys = [int(k) for k in request.POST.get("invoices", "").split(",") if k.strip().isdigit()]
    invoices = list(Invoice.objects.filter(pk__in=keys).select_related("party"))
    error = ""
    try:
        actions.confirm_match(line, invoices=invoices, by=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    line.refresh_from_db()
    if request.htmx:
        return render(request, "payments/_line_done.html", {"line": line, "error": error})
    if error:
        messages.error(request, error)
    return redirect("payments:unmatched")


@require_POST
@login_required
def ignore(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "payments.import_statement")
    line = get_object_or_404(StatementLine, pk=pk)
    error = ""
    try:
        actions.ignore_statement_line(line, by=request.user)
    except ValidationError as exc:
        error = " ".join(exc.messages)
    line.refresh_from_db()
    if request.htmx:
        return render(request, "payments/_line_done.html", {"line": line, "error": error})
    return redirect("payments:unmatched")


@login_required
def manual_match(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "payments.import_statement")
    line = get_object_or_404(StatementLine, pk=pk, status=StatementLineStatus.UNMATCHED)
    form = ManualMatchForm(request.POST or None, initial=request.GET.dict())
    reload_invoices_with_party(form, request.path)
    if request.method == "POST" and form.is_valid() and not request.headers.get("X-Validate-Field"):
        invoices = list(form.cleaned_data["invoices"])
        party = form.cleaned_data["party"]
        if not invoices:
            invoices = list(
                Invoice.objects.filter(party=party, settlement__open_amount__gt=0).order_by(
                    "settlement__due_date"
                )
            )
        try:
            actions.confirm_match(line, invoices=invoices, by=request.user)
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Bank line matched."))
            return redirect("payments:unmatched")
    return render(
        request,
        "payments/manual_match.html",
        {
            "title": _("Match a bank line"),
            "form": form,
            "line": line,
            "cancel_url": reverse("payments:unmatched"),
        },
    )


# -- SEPA --------------------------------------------------------------------------------------


TransferFormSet = formset_factory(TransferForm, extra=3, max_num=50)


@login_required
def sepa(request: HttpRequest) -> HttpResponse:
    _require(request, "payments.manage_sepa")
    settings_row = SepaSettings.objects.filter(pk=1).first()
    settings_form = SepaSettingsForm(
        initial={"creditor_identifier": settings_row.creditor_identifier if settings_row else ""}
    )
    mandate_form = MandateForm()
    debit_form = DirectDebitForm(
        initial={"collection_date": timezone.localdate() + timedelta(days=5)}
    )
    batch_form = TransferBatchForm(
        initial={"execution_date": timezone.localdate() + timedelta(days=1)}
    )
    transfers = TransferFormSet(prefix="transfers")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "settings":
                settings_form = SepaSettingsForm(request.POST)
                if settings_form.is_valid():
                    actions.update_sepa_settings(
                        creditor_identifier=settings_form.cleaned_data["creditor_identifier"],
                        by=request.user,
                    )
                    messages.success(request, _("SEPA settings saved."))
                    return redirect("payments:sepa")
            elif action == "mandate":
                mandate_form = MandateForm(request.POST)
                if mandate_form.is_valid():
                    actions.create_mandate(by=request.user, **mandate_form.cleaned_data)
                    messages.success(request, _("Mandate recorded."))
                    return redirect("payments:sepa")
            elif action == "debit":
                debit_form = DirectDebitForm(request.POST)
                if debit_form.is_valid():
                    batch = actions.create_direct_debit_batch(
                        collection_date=debit_form.cleaned_data["collection_date"], by=request.user
                    )
                    messages.success(
                        request, _("Direct-debit file %(ref)s created.") % {"ref": batch.reference}
                    )
                    return redirect("payments:sepa")
            elif action == "transfers":
                batch_form = TransferBatchForm(request.POST)
                transfers = TransferFormSet(request.POST, prefix="transfers")
                if batch_form.is_valid() and transfers.is_valid():
                    rows = [f.cleaned_data for f in transfers.forms if f.cleaned_data]
                    batch = actions.create_credit_transfer_batch(
                        execution_date=batch_form.cleaned_data["execution_date"],
                        transfers=rows,
                        by=request.user,
                    )
                    messages.success(
                        request, _("Transfer file %(ref)s created.") % {"ref": batch.reference}
                    )
                    return redirect("payments:sepa")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(
        request,
        "payments/sepa.html",
        {
            "title": _("SEPA"),
            "settings_form": settings_form,
            "mandate_form": mandate_form,
            "debit_form": debit_form,
            "batch_form": batch_form,
            "transfers": transfers,
            "mandates": SepaMandate.objects.select_related("party")[:200],
            "debit_batches": DirectDebitBatch.objects.all()[:50],
            "transfer_batches": CreditTransferBatch.objects.all()[:50],
        },
    )


@login_required
def sepa_download(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    _require(request, "payments.manage_sepa")
    model = DirectDebitBatch if kind == "debit" else CreditTransferBatch
    batch = get_object_or_404(model, pk=pk)
    response = HttpResponse(read_archived(batch.document), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{batch.document.filename}"'
    return response


@require_POST
@login_required
def mandate_end(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "payments.manage_sepa")
    mandate = get_object_or_404(SepaMandate, pk=pk, is_active=True)
    actions.end_mandate(mandate, by=request.user)
    messages.success(request, _("Mandate %(ref)s ends.") % {"ref": mandate.reference})
    return redirect("payments:sepa")


@require_POST
@login_required
def sepa_collected(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "payments.record_payment")
    batch = get_object_or_404(DirectDebitBatch, pk=pk)
    try:
        payments = actions.record_direct_debit_collection(batch, by=request.user)
        messages.success(request, _("%(n)s payments recorded.") % {"n": len(payments)})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("payments:sepa")
