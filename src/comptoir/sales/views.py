"""Sales screens: quotes, the public acceptance page, orders, tasks, sending documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from comptoir.core.audit import history_for
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.selectors import current_company, site_url
from comptoir.core.views import FormScreen, object_for
from comptoir.documents.actions import read_archived
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing.models import InvoiceKind
from comptoir.parties.models import AddressKind
from comptoir.parties.selectors import default_address
from comptoir.sales import actions, selectors
from comptoir.sales.forms import (
    AcceptForm,
    CancelOrderForm,
    EmailTemplateForm,
    LineForm,
    OrderForm,
    OrderFromQuoteForm,
    OrderHeaderForm,
    OrderLinesForm,
    QuoteForm,
    QuoteHeaderForm,
    RecordAcceptanceForm,
    RecordRefusalForm,
    RefuseForm,
    SendForm,
)
from comptoir.sales.mailing import DEFAULT_TEMPLATES, fill, template_text
from comptoir.sales.models import Order, Quote
from comptoir.sales.states import OrderStatus, QuoteStatus


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- quotes -------------------------------------------------------------------------------


class QuoteList(ListScreen):
    title = gettext_lazy("Quotes")
    permission = "sales.view_quote"
    columns = (
        Column("reference", gettext_lazy("Quote"), sort="number", link=True),
        Column("party__name", gettext_lazy("Customer"), sort="party__name"),
        Column("get_status_display", gettext_lazy("Status"), sort="status"),
        Column("issue_date", gettext_lazy("Date"), sort="issue_date", kind="date"),
        Column("valid_until", gettext_lazy("Valid until"), sort="valid_until", kind="date"),
        Column(
            "tax_basis_amount", gettext_lazy("Excl. VAT"), sort="tax_basis_amount", kind="decimal"
        ),
        Column("total_amount", gettext_lazy("Incl. VAT"), kind="decimal", export_only=True),
    )
    search_fields = ("number", "party__name")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            lambda request: QuoteStatus.choices,
            lambda qs, v: qs.filter(status=v),
        ),
    )
    default_sort = "-issue_date"
    export_name = gettext_lazy("quotes")
    create_label = gettext_lazy("New quote")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.quotes_visible_to(self.request.user)

    create_view = "sales:quote_create"
    create_permission = "sales.change_quote"
    detail_view = "sales:quote_detail"


def _visible_quote(request: HttpRequest, pk: int) -> Quote:
    return object_for(request, selectors.quotes_visible_to(request.user), pk, "sales.view_quote")


def _changeable_quote(request: HttpRequest, pk: int) -> Quote:
    return object_for(
        request,
        selectors.quotes_visible_to(request.user),
        pk,
        "sales.view_quote",
        "sales.change_quote",
    )


class QuoteCreate(FormScreen):
    form_class = QuoteForm
    title = gettext_lazy("New quote")
    permission = "sales.change_quote"
    submit_label = gettext_lazy("Create the draft")

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        initial = {"party": self.request.GET.get("party")} if self.request.GET.get("party") else {}
        return QuoteForm(data=data, initial=initial, user=self.request.user)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        values = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        quote = actions.create_quote(by=self.request.user, **values)
        messages.success(self.request, _("Draft quote created: add its lines, then send it."))
        return redirect("sales:quote_detail", pk=quote.pk)


@login_required
def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _visible_quote(request, pk)
    can_change = request.user.has_perm("sales.change_quote", quote)
    revisions = Quote.objects.filter(number=quote.number).order_by("revision")
    order = Order.objects.filter(quote=quote).first()
    return render(
        request,
        "sales/quote_detail.html",
        {
            "title": str(quote),
            "quote": quote,
            "lines": list(quote.lines.select_related("product").order_by("position", "pk")),
            "revisions": revisions,
            "order": order,
            "can_change": can_change,
            "can_edit": can_change and quote.is_draft,
            "can_send": can_change and quote.status == QuoteStatus.DRAFT,
            "can_revise": can_change
            and quote.status not in (QuoteStatus.ACCEPTED, QuoteStatus.SUPERSEDED),
            "can_order": can_change and quote.status == QuoteStatus.ACCEPTED and order is None,
            "link_url": actions.quote_link_url(quote, base_url=site_url(request))
            if quote.status == QuoteStatus.SENT and quote.link_nonce and can_change
            else "",
            "order_form": OrderFromQuoteForm(),
            "can_answer": can_change and quote.status == QuoteStatus.SENT,
            "acceptance_form": RecordAcceptanceForm(),
            "refusal_form": RecordRefusalForm(),
            "history": history_for(quote)[:20],
        },
    )


class QuoteEdit(FormScreen):
    """Change a draft quote's header: validity, category, document discount, recipient, notes."""

    form_class = QuoteHeaderForm
    title = gettext_lazy("Edit the draft quote")
    permission = "sales.change_quote"

    def get_object(self) -> Quote:
        return _changeable_quote(self.request, self.kwargs["pk"])

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            quote = self.get_object()
            if not quote.is_draft:
                messages.error(request, _("Only a draft quote can change; make a new revision."))
                return redirect("sales:quote_detail", pk=quote.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        quote = self.get_object()
        return QuoteHeaderForm(
            data=data,
            initial={
                "valid_until": quote.valid_until,
                "operation_category": quote.operation_category,
                "discount_rate": quote.discount_rate,
                "email": quote.email,
                "notes": quote.notes,
            },
        )

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(
            form, cancel_url=reverse("sales:quote_detail", args=[self.kwargs["pk"]]), **extra
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        quote = self.get_object()
        values = dict(form.cleaned_data)
        values["notes"] = values.get("notes") or ""
        values["email"] = values.get("email") or ""
        actions.update_draft_quote(quote, by=self.request.user, **values)
        messages.success(self.request, _("Quote saved."))
        return redirect("sales:quote_detail", pk=quote.pk)


class QuoteLineAdd(FormScreen):
    form_class = LineForm
    title = gettext_lazy("Add a line")
    permission = "sales.change_quote"

    def get_object(self) -> Quote:
        return _changeable_quote(self.request, self.kwargs["pk"])

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, LineForm)
        quote = self.get_object()
        line = actions.add_quote_line(quote, by=self.request.user, **form.line_values())
        if line.price_rule:
            messages.info(self.request, _("Price: %(rule)s") % {"rule": line.price_rule})
        return redirect("sales:quote_detail", pk=quote.pk)


@require_POST
@login_required
def quote_line_delete(request: HttpRequest, pk: int, line_pk: int) -> HttpResponse:
    quote = _changeable_quote(request, pk)
    line = get_object_or_404(quote.lines, pk=line_pk)
    try:
        actions.delete_quote_line(line, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("sales:quote_detail", pk=quote.pk)


class QuoteSend(FormScreen):
    template_name = "sales/form_with_help.html"
    form_class = SendForm
    title = gettext_lazy("Send the quote")
    permission = "sales.change_quote"
    submit_label = gettext_lazy("Send")

    def get_object(self) -> Quote:
        if not hasattr(self, "_quote"):
            self._quote = _changeable_quote(self.request, self.kwargs["pk"])
        return self._quote

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Say why it cannot be sent before the form is filled in, not after.
        if request.user.is_authenticated:
            quote = self.get_object()
            reason = ""
            if quote.status != QuoteStatus.DRAFT:
                reason = _("This quote was sent already; make a new revision to send another.")
            elif not quote.lines.exists():
                reason = _("A quote needs at least one line.")
            if reason:
                messages.error(request, reason)
                return redirect("sales:quote_detail", pk=quote.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        quote = self.get_object()
        text = template_text("quote")
        context = actions.quote_email_context(quote, by=self.request.user)
        return SendForm(
            data=data,
            initial={
                "to": quote.email or quote.party.email,
                "subject": fill(text.subject, context),
                "body": fill(text.body, context),
            },
        )

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(
            form,
            cancel_url=reverse("sales:quote_detail", args=[self.kwargs["pk"]]),
            help=_("The quote's PDF is attached; $link becomes the acceptance link."),
            **extra,
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        quote = self.get_object()
        actions.send_quote(
            quote,
            by=self.request.user,
            base_url=site_url(self.request),
            **form.cleaned_data,
        )
        messages.success(self.request, _("Quote sent to %(to)s.") % {"to": form.cleaned_data["to"]})
        return redirect("sales:quote_detail", pk=quote.pk)


@require_POST
@login_required
def quote_mark_sent(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a quote sent without emailing it (handed over or posted)."""
    quote = _changeable_quote(request, pk)
    try:
        actions.send_quote(quote, by=request.user, email=False, base_url=site_url(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("sales:quote_detail", pk=quote.pk)


@require_POST
@login_required
def quote_revise(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _changeable_quote(request, pk)
    try:
        revision = actions.revise_quote(quote, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("sales:quote_detail", pk=quote.pk)
    messages.success(request, _("Revision %(n)s created.") % {"n": revision.revision})
    return redirect("sales:quote_detail", pk=revision.pk)


@require_POST
@login_required
def quote_revoke_link(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _changeable_quote(request, pk)
    actions.revoke_quote_link(quote, by=request.user)
    messages.success(request, _("The acceptance link no longer works."))
    return redirect("sales:quote_detail", pk=quote.pk)


@require_POST
@login_required
def quote_renew_link(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _changeable_quote(request, pk)
    try:
        actions.renew_quote_link(quote, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("A new acceptance link is ready to send."))
    return redirect("sales:quote_detail", pk=quote.pk)


@require_POST
@login_required
def quote_record_answer(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an answer that reached the office rather than the online link."""
    quote = _changeable_quote(request, pk)
    accepted = request.POST.get("answer") == "accept"
    form = (RecordAcceptanceForm if accepted else RecordRefusalForm)(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Give the name of who agreed.") if accepted else _("Give the customer's reason."),
        )
        return redirect("sales:quote_detail", pk=quote.pk)
    try:
        if accepted:
            actions.accept_quote(quote, name=form.cleaned_data["name"], ip=None, by=request.user)
        else:
            actions.refuse_quote(
                quote, reason=form.cleaned_data["reason"], ip=None, by=request.user
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Acceptance recorded.") if accepted else _("Refusal recorded."))
    return redirect("sales:quote_detail", pk=quote.pk)


@require_POST
@login_required
def quote_to_order(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _changeable_quote(request, pk)
    form = OrderFromQuoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the order's references and dates."))
        return redirect("sales:quote_detail", pk=quote.pk)
    values = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    try:
        order = actions.create_order_from_quote(quote, by=request.user, **values)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("sales:quote_detail", pk=quote.pk)
    messages.success(request, _("Order %(number)s created.") % {"number": order.number})
    return redirect("sales:order_detail", pk=order.pk)


@login_required
def quote_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    quote = _visible_quote(request, pk)
    document = ArchivedDocument.objects.filter(reference=quote.reference).first()
    content = read_archived(document) if document else actions.quote_pdf(quote)
    return pdf_response(content, f"{quote.reference}.pdf")


# -- the customer's page (no login) -------------------------------------------------------

ZERO = Decimal("0")

PROBLEM_MESSAGES = {
    "invalid": gettext_lazy("This link is not valid. Check that you copied it whole."),
    "revoked": gettext_lazy(
        "This link no longer works: it was withdrawn, or the quote was replaced. "
        "Ask us for a new one."
    ),
    "expired": gettext_lazy("This quote has expired. Ask us for an updated one."),
    "answered": gettext_lazy("This quote has already been answered. Thank you."),
}


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def quote_public(request: HttpRequest, token: str) -> HttpResponse:
    answer = selectors.quote_for_link(token)
    if answer.quote is None or answer.problem:
        status = 404 if answer.problem == "invalid" else 410
        if answer.problem == "answered":
            status = 200
        return render(
            request,
            "sales/quote_link_problem.html",
            {
                "title": _("Quote"),
                "seller": current_company(),
                "message": PROBLEM_MESSAGES[answer.problem],
                "quote": answer.quote if answer.problem == "answered" else None,
            },
            status=status,
        )
    quote = answer.quote
    accept_form, refuse_form = AcceptForm(), RefuseForm()
    if request.method == "POST":
        try:
            if request.POST.get("answer") == "accept":
                accept_form = AcceptForm(request.POST)
                if accept_form.is_valid():
                    actions.accept_quote(
                        quote, name=accept_form.cleaned_data["name"], ip=_client_ip(request)
                    )
                    return render(
                        request,
                        "sales/quote_answered.html",
                        {
                            "title": _("Thank you"),
                            "quote": quote,
                            "accepted": True,
                            "seller": current_company(),
                        },
                    )
            elif request.POST.get("answer") == "refuse":
                refuse_form = RefuseForm(request.POST)
                if refuse_form.is_valid():
                    actions.refuse_quote(
                        quote, reason=refuse_form.cleaned_data["reason"], ip=_client_ip(request)
                    )
                    return render(
                        request,
                        "sales/quote_answered.html",
                        {
                            "title": _("Thank you"),
                            "quote": quote,
                            "accepted": False,
                            "seller": current_company(),
                        },
                    )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return render(
        request,
        "sales/quote_public.html",
        {
            "title": str(quote),
            "quote": quote,
            "lines": list(quote.lines.order_by("position", "pk")),
            "accept_form": accept_form,
            "refuse_form": refuse_form,
            "token": token,
            "seller": current_company(),
        },
    )


def quote_public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    answer = selectors.quote_for_link(token)
    if answer.quote is None or answer.problem not in ("", "answered"):
        raise Http404
    document = ArchivedDocument.objects.filter(reference=answer.quote.reference).first()
    if document is None:
        raise Http404
    return pdf_response(read_archived(document), document.filename)


# -- orders -------------------------------------------------------------------------------


class OrderList(ListScreen):
    title = gettext_lazy("Orders")
    permission = "sales.view_order"
    columns = (
        Column("number", gettext_lazy("Order"), sort="number", link=True),
        Column("party__name", gettext_lazy("Customer"), sort="party__name"),
        Column("customer_reference", gettext_lazy("Customer PO")),
        Column("get_status_display", gettext_lazy("Status"), sort="status"),
        Column("order_date", gettext_lazy("Date"), sort="order_date", kind="date"),
        Column("promised_date", gettext_lazy("Promised"), sort="promised_date", kind="date"),
        Column(
            "tax_basis_amount", gettext_lazy("Excl. VAT"), sort="tax_basis_amount", kind="decimal"
        ),
    )
    search_fields = ("number", "party__name", "customer_reference")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            lambda request: OrderStatus.choices,
            lambda qs, v: qs.filter(status=v),
        ),
    )
    default_sort = "-order_date"
    export_name = gettext_lazy("orders")
    create_label = gettext_lazy("New order")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.orders_visible_to(self.request.user)

    create_view = "sales:order_create"
    create_permission = "sales.change_order"
    detail_view = "sales:order_detail"


def visible_order(request: HttpRequest, pk: int) -> Order:
    return object_for(request, selectors.orders_visible_to(request.user), pk, "sales.view_order")


def changeable_order(request: HttpRequest, pk: int) -> Order:
    return object_for(
        request,
        selectors.orders_visible_to(request.user),
        pk,
        "sales.view_order",
        "sales.change_order",
    )


class OrderCreate(FormScreen):
    """A direct order: its header and as many lines as needed (quote lines: catalogue or free)."""

    form_class = OrderForm
    template_name = "sales/order_form.html"
    title = gettext_lazy("New order")
    permission = "sales.change_order"
    submit_label = gettext_lazy("Record the order")
    MORE_ROWS = 3

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        initial = {"party": self.request.GET.get("party")} if self.request.GET.get("party") else {}
        more = self.MORE_ROWS if data is not None and data.get("more_lines") else 0
        return OrderForm(data=data, initial=initial, user=self.request.user, more_rows=more)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("more_lines"):
            self.check_access()
            # More empty rows, what was typed kept, no error shown yet.
            return self.render(self.get_form(request.POST), show_errors=False)
        return super().post(request, *args, **kwargs)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, OrderForm)
        order = actions.create_order(by=self.request.user, **form.order_values())
        messages.success(self.request, _("Order %(number)s created.") % {"number": order.number})
        return redirect("sales:order_detail", pk=order.pk)


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = visible_order(request, pk)
    can_change = request.user.has_perm("sales.change_order", order)
    lines = list(order.lines.select_related("product").order_by("position", "pk"))
    invoiced: dict[int, Any] = {}
    for link in order.invoice_links.filter(order_line__isnull=False).values(  # type: ignore[attr-defined]
        "order_line_id", "quantity"
    ):
        invoiced[link["order_line_id"]] = (
            invoiced.get(link["order_line_id"], ZERO) + link["quantity"]
        )
    rows = [(line, invoiced.get(line.pk, ZERO)) for line in lines]
    can_invoice = (
        request.user.has_perm("invoicing.change_invoice") and order.status != OrderStatus.CANCELLED
    )
    from comptoir.invoicing import from_orders  # invoicing imports sales.views: import late
    from comptoir.stock.actions import deliverable_quantities  # stock imports sales.views too

    invoices = (
        order.invoice_links.values_list(  # type: ignore[attr-defined]
            "invoice_line__invoice_id",
            "invoice_line__invoice__number",
            "invoice_line__invoice__kind",
        )
        .distinct()
        .order_by("invoice_line__invoice_id")
    )
    return render(
        request,
        "sales/order_detail.html",
        {
            "title": str(order),
            "order": order,
            "rows": rows,
            "lines": lines,
            "invoices": [
                (invoice_pk, number, InvoiceKind(kind).label if kind in InvoiceKind else kind)
                for invoice_pk, number, kind in invoices
            ],
            "deliveries": list(order.deliveries.order_by("pk")),  # type: ignore[attr-defined]
            "can_change": can_change,
            # "New delivery" only when something is left to put on a note.
            "can_deliver": can_change
            and order.is_open
            and any(deliverable_quantities(order).values()),
            "can_invoice": can_invoice,
            # Buttons only when the action would do something (the actions still refuse).
            "has_to_invoice": can_invoice and bool(from_orders.left_to_invoice(order)),
            "can_down_payment": can_invoice and from_orders.down_payment_refusal(order) is None,
            "billed": from_orders.billed_totals(order),
            "after_cancellation": from_orders.totals_after_cancellation(order, lines),
            "billing_address": None
            if order.delivery_address
            else default_address(order.party, AddressKind.BILLING),
            "history": history_for(order)[:20],
        },
    )


class OpenOrderScreen(FormScreen):
    """A form on an open order the user may change; a closed one sends back to its page."""

    permission = "sales.change_order"
    closed_message = gettext_lazy("A delivered or cancelled order no longer changes.")

    def get_object(self) -> Order:
        if not hasattr(self, "_order"):
            self._order = changeable_order(self.request, self.kwargs["pk"])
        return self._order

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not self.get_object().is_open:
            messages.error(request, self.closed_message)
            return redirect("sales:order_detail", pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class OrderEdit(OpenOrderScreen):
    """Change an open order's references, dates, delivery address, recipient and notes."""

    form_class = OrderHeaderForm
    title = gettext_lazy("Edit the order")

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        order = self.get_object()
        return OrderHeaderForm(
            data=data,
            party=order.party,
            initial={
                "customer_reference": order.customer_reference,
                "requested_date": order.requested_date,
                "promised_date": order.promised_date,
                "delivery_address": order.delivery_address_id,
                "email": order.email,
                "notes": order.notes,
            },
        )

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(
            form, cancel_url=reverse("sales:order_detail", args=[self.kwargs["pk"]]), **extra
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        order = self.get_object()
        values = dict(form.cleaned_data)
        for name in ("customer_reference", "notes", "email"):
            values[name] = values.get(name) or ""
        actions.update_order(order, by=self.request.user, **values)
        messages.success(self.request, _("Order saved."))
        return redirect("sales:order_detail", pk=order.pk)


class OrderLinesEdit(OpenOrderScreen):
    """Change an open order's lines (quantity, price, discount, VAT, label), add or remove lines."""

    form_class = OrderLinesForm
    template_name = "sales/order_lines_form.html"
    submit_label = gettext_lazy("Save the lines")
    MORE_ROWS = 3

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        order = self.get_object()
        lines = list(order.lines.select_related("product").order_by("position", "pk"))
        more = self.MORE_ROWS if data is not None and data.get("more_lines") else 0
        return OrderLinesForm(
            data=data,
            order_lines=lines,
            commitments=selectors.order_line_commitments(lines),
            more_rows=more,
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("more_lines"):
            self.check_access()
            # More empty rows, what was typed kept, no error shown yet.
            return self.render(self.get_form(request.POST), show_errors=False)
        return super().post(request, *args, **kwargs)

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        order = self.get_object()
        return super().context(
            form,
            title=_("Lines of order %(number)s") % {"number": order.number},
            order=order,
            cancel_url=reverse("sales:order_detail", args=[order.pk]),
            **extra,
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, OrderLinesForm)
        order = actions.update_order_lines(
            self.get_object(), by=self.request.user, lines=form.line_values()
        )
        messages.success(
            self.request, _("Lines of order %(number)s saved.") % {"number": order.number}
        )
        return redirect("sales:order_detail", pk=order.pk)


class OrderCancel(OpenOrderScreen):
    """Confirm cancelling an order (or its undelivered rest), saying why."""

    form_class = CancelOrderForm
    template_name = "sales/order_cancel.html"
    closed_message = gettext_lazy("This order is already delivered or cancelled.")

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        order = self.get_object()
        partial = order.status == OrderStatus.PARTIALLY_DELIVERED
        return super().context(
            form,
            title=_("Cancel the undelivered rest of order %(number)s") % {"number": order.number}
            if partial
            else _("Cancel order %(number)s") % {"number": order.number},
            submit_label=_("Confirm the cancellation"),
            help=_(
                "What was delivered stays delivered; the quantities still to deliver are "
                "cancelled. This cannot be undone."
            )
            if partial
            else _("The whole order is cancelled. This cannot be undone."),
            **extra,
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        order = actions.cancel_order(
            self.get_object(), by=self.request.user, reason=form.cleaned_data["reason"]
        )
        messages.success(
            self.request,
            _("Order %(number)s: %(status)s.")
            % {"number": order.number, "status": order.get_status_display()},
        )
        return redirect("sales:order_detail", pk=order.pk)


@login_required
def order_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    order = visible_order(request, pk)
    document = actions.archive_order_acknowledgement(order, by=request.user)
    return pdf_response(read_archived(document), document.filename)


@login_required
def order_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Archive the acknowledgement if needed, then open the sending form."""
    order = changeable_order(request, pk)
    document = actions.archive_order_acknowledgement(order, by=request.user)
    return redirect("sales:document_send", pk=document.pk)


# -- tasks, sending, templates ------------------------------------------------------------


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("sales.view_followuptask"):
        raise PermissionDenied
    tasks = selectors.tasks_for(request.user).order_by("due_date", "pk")[:200]
    return render(request, "sales/tasks.html", {"title": _("Follow-up tasks"), "tasks": tasks})


@require_POST
@login_required
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(selectors.tasks_for(request.user), pk=pk)
    if not request.user.has_perm("sales.change_followuptask", task):
        raise PermissionDenied
    actions.complete_task(task, by=request.user)
    return redirect("sales:tasks")


def visible_document(request: HttpRequest, pk: int) -> ArchivedDocument:
    """Return an archived document whose business object the user may read."""
    document = get_object_or_404(ArchivedDocument, pk=pk)
    obj = document.business_object
    party = getattr(obj, "party", None) or getattr(getattr(obj, "order", None), "party", None)
    if party is None or not request.user.has_perm("parties.view_party", party):
        raise Http404
    return document


class DocumentSend(FormScreen):
    form_class = SendForm
    template_name = "sales/form_with_help.html"
    title = gettext_lazy("Send a document")
    permission = "sales.send_document"
    submit_label = gettext_lazy("Send")

    def get_object(self) -> ArchivedDocument:
        # Asked for by the form, the context and the way back: looked up once.
        if not hasattr(self, "_document"):
            self._document = visible_document(self.request, self.kwargs["pk"])
        return self._document

    def _back_url(self) -> str:
        """Where the user came from (the page that passed ?next=), else the customer's page."""
        target = self.request.POST.get("next") or self.request.GET.get("next")
        if target and url_has_allowed_host_and_scheme(
            target,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        ):
            return target
        party = actions.party_of_document(self.get_object())
        if party is not None:
            return reverse("parties:detail", args=[party.pk]) + "#documents"
        return reverse("home")

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        document = self.get_object()
        return super().context(
            form,
            # What goes with the email, so nobody sends it wondering.
            help=_("Attached: %(file)s (%(size)s kB).")
            % {"file": document.filename, "size": max(1, round(document.size / 1024))},
            cancel_url=self._back_url(),
            **extra,
        )

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        document = self.get_object()
        party = actions.party_of_document(document)
        text = template_text(actions.EMAIL_CODES.get(document.kind, "document"))
        context = actions.document_email_context(document, by=self.request.user)
        return SendForm(
            data=data,
            initial={
                "to": party.email if party else "",
                "subject": fill(text.subject, context),
                "body": fill(text.body, context),
            },
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        document = self.get_object()
        actions.send_document(document, by=self.request.user, **form.cleaned_data)
        messages.success(
            self.request,
            _("%(reference)s sent to %(to)s.")
            % {"reference": document.reference, "to": form.cleaned_data["to"]},
        )
        # Back where the user clicked "Send" (the invoice page passes itself).
        return redirect(self._back_url())


@login_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    document = visible_document(request, pk)
    response = HttpResponse(read_archived(document), content_type=document.mime_type)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


TEMPLATE_LABELS = {
    "quote": gettext_lazy("Quote"),
    "order": gettext_lazy("Order acknowledgement"),
    "delivery_note": gettext_lazy("Delivery note"),
    "invoice": gettext_lazy("Invoice or credit note"),
    "document": gettext_lazy("Other document"),
}


@login_required
def email_templates(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("sales.change_emailtemplate"):
        raise PermissionDenied
    rows = [
        (code, TEMPLATE_LABELS.get(code, code), template_text(code)) for code in DEFAULT_TEMPLATES
    ]
    return render(
        request, "sales/email_templates.html", {"title": _("Email templates"), "rows": rows}
    )


class EmailTemplateEdit(FormScreen):
    form_class = EmailTemplateForm
    title = gettext_lazy("Edit an email template")
    permission = "sales.change_emailtemplate"

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        code = self.kwargs["code"]
        if code not in DEFAULT_TEMPLATES:
            raise Http404
        text = template_text(code)
        return EmailTemplateForm(data=data, initial={"subject": text.subject, "body": text.body})

    def save(self, form: forms.BaseForm) -> HttpResponse:
        actions.update_email_template(
            self.kwargs["code"], by=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Template saved."))
        return redirect("sales:email_templates")


def follow_up_tile(user: Any) -> dict[str, Any] | None:
    """Home tile: the open follow-up tasks the user sees."""
    if not user.has_perm("sales.view_followuptask"):
        return None
    return {
        "title": _("Quotes to follow up"),
        "value": selectors.tasks_for(user).count(),
        "url": reverse("sales:tasks"),
    }
