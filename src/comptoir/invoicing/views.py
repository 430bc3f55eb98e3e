"""Invoice screens: list, detail, draft creation, lines, issue, credit note, downloads."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from comptoir.catalogue.calculations import plain_number
from comptoir.core.audit import history_for
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.views import FormScreen, object_for
from comptoir.invoicing import actions, selectors
from comptoir.invoicing.exports import export_document
from comptoir.invoicing.forms import InvoiceForm, InvoiceLineForm
from comptoir.invoicing.models import Invoice, InvoiceKind, InvoiceLine
from comptoir.invoicing.order_links import OrderInvoiceLink
from comptoir.invoicing.printing import address_lines, exemption_reasons, rate_text, vat_label
from comptoir.invoicing.selectors import archived_pdf
from comptoir.invoicing.states import InvoiceStatus
from comptoir.payments.models import Allocation
from comptoir.payments.selectors import (
    RECEIVABLE_KINDS,
    RECEIVABLE_STATE_LABELS,
    settlement_of,
)

# "Issued" agrees with the document in French: une facture émise, un avoir émis.
CREDIT_NOTE_STATUSES = {
    InvoiceStatus.DRAFT: pgettext_lazy("credit note status", "Draft"),
    InvoiceStatus.ISSUED: pgettext_lazy("credit note status", "Issued"),
}


def status_label(invoice: Invoice) -> str:
    """Return the status as it reads for this kind of document."""
    if invoice.is_credit_note:
        return str(CREDIT_NOTE_STATUSES[InvoiceStatus(invoice.status)])
    return str(invoice.get_status_display())


def document_title(invoice: Invoice) -> str:
    """Return "Invoice FA-2026-000001" once issued, "Draft invoice #188" before."""
    if invoice.number:
        return f"{invoice.get_kind_display()} {invoice.number}"
    return str(invoice)


def totals_display(invoice: Invoice, lines: list[InvoiceLine]) -> dict[str, Any]:
    """Return the totals a page shows: the stored ones once issued, provisional ones before.

    A draft's figures come from ``actions.apply_totals``, the computation issuing runs, on
    the objects in memory (nothing is saved): the issued invoice will show the same unless a
    line or the discount changes first.
    """
    provisional = not invoice.is_issued
    if provisional:
        actions.apply_totals(invoice, lines)
    reasons = exemption_reasons(lines)
    return {
        "provisional": provisional,
        "lines_net": invoice.lines_net_amount,
        "discount_text": rate_text(invoice.discount_rate),
        "allowance": invoice.allowance_amount,
        "tax_basis": invoice.tax_basis_amount,
        "vat_groups": [
            {
                "label": vat_label(
                    Decimal(group["rate"]), reasons.get((group["category"], group["rate"]), "")
                ),
                "taxable": Decimal(group["taxable_amount"]),
                "vat": Decimal(group["vat_amount"]),
            }
            for group in invoice.vat_breakdown
        ],
        "total": invoice.total_amount,
        "prepaid": invoice.prepaid_amount,
        "due": invoice.due_amount,
        "due_label": _("Amount due")
        if not invoice.is_credit_note
        # Once issued, what is left to refund is the settlement's (set against the invoice).
        else _("Credit note amount")
        if invoice.is_issued
        else _("Amount to refund"),
    }


PAYMENT_STATE_LABELS = {
    **RECEIVABLE_STATE_LABELS,
    # A credit note's: what it owes the customer is refunded (or set against invoices).
    "open": gettext_lazy("To refund"),
    "refunded": gettext_lazy("Settled"),
}


def origin_of(invoice: Invoice) -> dict[str, Any]:
    """Return the orders and delivery notes an invoice's lines come from, and its references.

    One query over the invoicing links (none for an invoice typed by hand has no link, but
    the query still runs: it is a single indexed read).
    """
    orders: dict[int, str] = {}
    deliveries: dict[int, str] = {}
    rows = (
        OrderInvoiceLink.objects.filter(invoice_line__invoice=invoice)
        .values_list(
            "order_id",
            "order__number",
            "delivery_line__delivery_id",
            "delivery_line__delivery__number",
        )
        .distinct()
    )
    for order_id, order_number, delivery_id, delivery_number in rows:
        orders[order_id] = order_number
        if delivery_id is not None:
            deliveries[delivery_id] = delivery_number
    address = (invoice.buyer or {}).get("delivery_address") if invoice.is_issued else None
    if not invoice.is_issued and invoice.delivery_address_id:
        address = invoice.delivery_address
    return {
        "orders": sorted(orders.items(), key=lambda item: item[1]),
        "deliveries": sorted(deliveries.items(), key=lambda item: item[1]),
        "purchase_order": invoice.purchase_order_reference,
        "buyer_reference": invoice.buyer_reference,
        # Every line of it: a draft's Address printed as str() lost its second line.
        "delivery_address": ", ".join(
            address_lines(address) if isinstance(address, dict) else address.lines()
        )
        if address
        else "",
    }


def history_with_credit_notes(invoice: Invoice, credit_notes: list[Invoice]) -> list[Any]:
    """Return the invoice's audit entries with, merged in, the issue of its credit notes."""
    entries: list[Any] = list(history_for(invoice)[:20])
    for note in credit_notes:
        if note.is_issued and note.issued_at:
            entries.append(
                SimpleNamespace(
                    at=note.issued_at,
                    actor=note.issued_by,
                    action="",
                    label=_("Credit note %(number)s issued") % {"number": note.number},
                    link=note.pk,
                )
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:20]


PAYMENT_FILTER_CHOICES = (
    ("due", gettext_lazy("To pay")),
    ("overdue", gettext_lazy("Overdue")),
    ("partially_paid", gettext_lazy("Partially paid")),
    ("paid", gettext_lazy("Paid")),
    ("credited", gettext_lazy("Credited")),
)


def filter_by_payment(queryset: QuerySet[Any], value: str) -> QuerySet[Any]:
    """Narrow the invoices to one payment state, read from their settlement rows.

    The settlement's state counts credit notes set against an invoice as paid: "paid" and
    "partially paid" also want money received (a payment allocation), "credited" wants a
    credit note set against it.
    """
    receivable = queryset.filter(kind__in=RECEIVABLE_KINDS, status=InvoiceStatus.ISSUED)
    money = Exists(Allocation.objects.filter(invoice=OuterRef("pk"), payment__isnull=False))
    credited = Exists(Allocation.objects.filter(invoice=OuterRef("pk"), credit_note__isnull=False))
    if value == "due":
        return receivable.filter(settlement__open_amount__gt=0)
    if value == "overdue":
        return receivable.filter(
            settlement__open_amount__gt=0, settlement__due_date__lt=timezone.localdate()
        )
    if value == "partially_paid":
        return receivable.filter(money, settlement__open_amount__gt=0)
    if value == "paid":
        return receivable.filter(money, settlement__open_amount=0)
    if value == "credited":
        return receivable.filter(credited)
    return queryset


class InvoiceList(ListScreen):
    title = gettext_lazy("Invoices")
    permission = "invoicing.view_invoice"
    columns = (
        Column("number", gettext_lazy("Number"), sort="number", link=True, value=str),
        Column("get_kind_display", gettext_lazy("Kind"), sort="kind"),
        Column("status", gettext_lazy("Status"), sort="status", value=status_label),
        Column(
            "customer",
            gettext_lazy("Customer"),
            sort="party__name",
            value=lambda i: i.buyer_name or i.party.name,
        ),
        Column("issue_date", gettext_lazy("Date"), sort="issue_date", kind="date"),
        Column("due_date", gettext_lazy("Due"), sort="due_date", kind="date"),
        Column(
            "tax_basis_amount", gettext_lazy("Excl. VAT"), sort="tax_basis_amount", kind="decimal"
        ),
        Column("total_amount", gettext_lazy("Incl. VAT"), sort="total_amount", kind="decimal"),
        Column("vat_amount", gettext_lazy("VAT"), kind="decimal", export_only=True),
        Column("currency", gettext_lazy("Currency"), export_only=True),
    )
    search_fields = ("number", "buyer_name", "party__name")
    filters = (
        Filter(
            "kind",
            gettext_lazy("Kind"),
            lambda request: InvoiceKind.choices,
            lambda qs, v: qs.filter(kind=v),
        ),
        Filter(
            "status",
            gettext_lazy("Status"),
            lambda request: InvoiceStatus.choices,
            lambda qs, v: qs.filter(status=v),
        ),
        Filter(
            "payment",
            gettext_lazy("Payment"),
            lambda request: PAYMENT_FILTER_CHOICES,
            filter_by_payment,
        ),
    )
    default_sort = "-issue_date"
    export_name = gettext_lazy("invoices")
    create_label = gettext_lazy("New invoice")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.invoices_visible_to(self.request.user)

    create_view = "invoicing:create"
    create_permission = "invoicing.change_invoice"
    detail_view = "invoicing:detail"


def _visible_invoice(request: HttpRequest, pk: int) -> Invoice:
    invoices = selectors.invoices_visible_to(request.user)
    return object_for(request, invoices, pk, "invoicing.view_invoice")


def _changeable_invoice(request: HttpRequest, pk: int) -> Invoice:
    invoices = selectors.invoices_visible_to(request.user)
    return object_for(request, invoices, pk, "invoicing.view_invoice", "invoicing.change_invoice")


@login_required
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _visible_invoice(request, pk)
    can_change = request.user.has_perm("invoicing.change_invoice", invoice)
    lines = list(invoice.lines.order_by("position", "pk"))
    reasons = exemption_reasons(lines)
    for line in lines:
        line.vat_label = vat_label(
            line.vat_rate, reasons.get((line.vat_category, str(line.vat_rate)), "")
        )
    # Sending goes through the customer's documents: the form sends the archived PDF.
    archive = (
        archived_pdf(invoice)
        if invoice.is_issued and request.user.has_perm("sales.send_document")
        else None
    )
    credit_notes = list(invoice.credit_notes.select_related("issued_by").order_by("pk"))
    for note in credit_notes:
        note.status_label = status_label(note)
    # Credited in full: nothing left to credit (read only when there are credit notes).
    fully_credited = bool(credit_notes) and not any(
        left > 0 for _line, left in actions.quantities_left_to_credit(invoice)
    )
    settlement = settlement_of(invoice) if invoice.is_issued else None
    if settlement is not None:
        settlement["label"] = (
            PAYMENT_STATE_LABELS["credited"]
            if fully_credited and not invoice.is_credit_note
            else PAYMENT_STATE_LABELS[settlement["state"]]
        )
    return render(
        request,
        "invoicing/invoice_detail.html",
        {
            "title": document_title(invoice),
            "invoice": invoice,
            "status_label": status_label(invoice),
            "lines": lines,
            "totals": totals_display(invoice, lines),
            "credit_notes": credit_notes,
            "settlement": settlement,
            "origin": origin_of(invoice),
            "send_document": archive,
            "can_change": can_change,
            "can_edit_draft": can_change and invoice.status == InvoiceStatus.DRAFT,
            "can_credit": can_change
            and invoice.is_issued
            and invoice.kind != InvoiceKind.CREDIT_NOTE
            and not fully_credited,
            "fully_credited": fully_credited,
            "line_form": InvoiceLineForm() if can_change and not invoice.is_issued else None,
            "history": history_with_credit_notes(invoice, credit_notes),
            # The payments screens this page links to (their permissions are the payments app's).
            "can_see_account": request.user.has_perm("payments.view_payment", invoice.party),
            "can_schedule": invoice.is_issued
            and invoice.kind != InvoiceKind.CREDIT_NOTE
            and request.user.has_perm("payments.record_payment"),
        },
    )


class InvoiceCreate(FormScreen):
    form_class = InvoiceForm
    title = gettext_lazy("New invoice")
    permission = "invoicing.change_invoice"
    submit_label = gettext_lazy("Create the draft")

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        initial = {}
        if self.request.GET.get("party"):
            initial["party"] = self.request.GET["party"]
        return InvoiceForm(data=data, initial=initial)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        invoice = actions.create_invoice(by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Draft created: add its lines, then issue it."))
        return redirect("invoicing:detail", pk=invoice.pk)


class InvoiceLineAdd(FormScreen):
    form_class = InvoiceLineForm
    title = gettext_lazy("Add a line")
    permission = "invoicing.change_invoice"

    def get_object(self) -> Invoice:
        if not hasattr(self, "_invoice"):
            self._invoice = _changeable_invoice(self.request, self.kwargs["pk"])
        return self._invoice

    def _refusal(self) -> HttpResponse | None:
        """Send back to the document, saying why, when it takes no new line."""
        invoice = self.get_object()
        if invoice.is_issued:
            message = _("%(number)s is issued: its lines can no longer change.") % {
                "number": invoice.number
            }
        elif invoice.is_credit_note:
            message = _("A credit note only credits lines of its invoice.")
        elif invoice.kind == InvoiceKind.DOWN_PAYMENT:
            message = _("A down-payment invoice bills a share of its order, line by VAT rate.")
        else:
            return None
        messages.error(self.request, message)
        return redirect("invoicing:detail", pk=invoice.pk)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_access()
        return self._refusal() or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.check_access()
        return self._refusal() or super().post(request, *args, **kwargs)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, InvoiceLineForm)
        invoice = self.get_object()
        actions.add_invoice_line(invoice, by=self.request.user, **form.line_values())
        return redirect("invoicing:detail", pk=invoice.pk)


@require_POST
@login_required
def invoice_line_delete(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    invoice = _changeable_invoice(request, pk)
    line = get_object_or_404(invoice.lines, pk=line_pk)
    try:
        actions.delete_invoice_line(line, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("invoicing:detail", pk=invoice.pk)


@require_POST
@login_required
def invoice_issue(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _changeable_invoice(request, pk)
    try:
        invoice = actions.issue_invoice(invoice, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(number)s is issued.") % {"number": invoice.number})
    return redirect("invoicing:detail", pk=invoice.pk)


@login_required
def invoice_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """A draft's PDF as it would print if issued today, marked "BROUILLON" (nothing saved)."""
    invoice = _changeable_invoice(request, pk)
    try:
        content = actions.preview_pdf(invoice)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("invoicing:detail", pk=invoice.pk)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="draft-{invoice.pk}.pdf"'
    return response


@require_POST
@login_required
def invoice_delete(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _changeable_invoice(request, pk)
    try:
        actions.delete_draft_invoice(invoice, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("invoicing:detail", pk=invoice.pk)
    messages.success(request, _("Draft deleted."))
    return redirect("invoicing:list")


@login_required
def invoice_credit(request: HttpRequest, pk: int) -> HttpResponse:
    """Credit an issued invoice: every line left to credit, or the quantities typed per line.

    A POST without quantities credits whatever is left of the whole invoice.
    """
    invoice = _changeable_invoice(request, pk)
    left = actions.quantities_left_to_credit(invoice)
    if invoice.is_issued and not invoice.is_credit_note and not any(q > 0 for _l, q in left):
        # Credited in full already: a form of zero quantities would only fail.
        messages.info(
            request,
            _("Nothing left to credit: %(number)s is credited in full.")
            % {"number": invoice.number},
        )
        return redirect("invoicing:detail", pk=invoice.pk)
    rows = [
        {
            "line": line,
            "invoiced": plain_number(line.quantity),
            # The price as stored (up to 4 decimals: 14,155 stays 14,155).
            "unit_price": plain_number(line.unit_price, min_places=2),
            "left": plain_number(quantity),
            "field": f"quantity_{line.pk}",
        }
        for line, quantity in left
    ]
    errors: list[str] = []
    if request.method == "POST":
        wanted = None
        if any(row["field"] in request.POST for row in rows):
            wanted = []
            for row in rows:
                raw = "".join(request.POST.get(row["field"], "").split()).replace(",", ".")
                row["value"] = request.POST.get(row["field"], "")
                try:
                    quantity = Decimal(raw or "0")
                except InvalidOperation:
                    errors.append(
                        _("%(label)s: %(value)s is not a quantity.")
                        % {"label": row["line"].label, "value": raw}
                    )
                    continue
                wanted.append((row["line"], quantity))
            if errors:
                # Every mistake at once: the quantities that read also get checked.
                errors.extend(actions.over_credit_errors(invoice, wanted))
        if not errors:
            try:
                credit_note = actions.create_credit_note(invoice, by=request.user, lines=wanted)
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(request, _("Draft credit note created: check it, then issue it."))
                return redirect("invoicing:detail", pk=credit_note.pk)
    for row in rows:
        row.setdefault("value", row["left"])
    return render(
        request,
        "invoicing/credit_note_form.html",
        {
            "title": _("Credit note on %(number)s") % {"number": invoice.number},
            "invoice": invoice,
            "rows": rows,
            "errors": errors,
        },
    )


CONTENT_TYPES = {"facturx": "application/pdf", "cii": "application/xml", "ubl": "application/xml"}


@login_required
def invoice_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    invoice = _visible_invoice(request, pk)
    if fmt not in CONTENT_TYPES or not invoice.is_issued:
        raise Http404
    try:
        filename, content = export_document(invoice, fmt)
    except LookupError as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
