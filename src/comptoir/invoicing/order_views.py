"""Screens that invoice one order or delivery, or bill a down payment (batch runs: batch_views)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from comptoir.core.forms import StyledFormMixin
from comptoir.core.money import format_amount
from comptoir.core.views import FormScreen
from comptoir.invoicing import from_orders
from comptoir.sales.views import visible_order
from comptoir.stock.selectors import deliveries_visible_to

PERMISSION = "invoicing.change_invoice"


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


@require_POST
@login_required
def invoice_order(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    order = visible_order(request, pk)
    try:
        invoice = from_orders.invoice_order(order, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("sales:order_detail", pk=order.pk)
    messages.success(request, _("Draft invoice created: check it, then issue it."))
    return redirect("invoicing:detail", pk=invoice.pk)


@require_POST
@login_required
def invoice_delivery(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    delivery = get_object_or_404(deliveries_visible_to(request.user), pk=pk)
    try:
        invoice = from_orders.invoice_delivery(delivery, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("stock:delivery_detail", pk=delivery.pk)
    messages.success(request, _("Draft invoice created: check it, then issue it."))
    return redirect("invoicing:detail", pk=invoice.pk)


class DownPaymentForm(StyledFormMixin, forms.Form):
    rate = forms.DecimalField(
        label=gettext_lazy("Down payment (% of the order)"),
        min_value=Decimal("0.01"),
        max_value=Decimal(100),
        decimal_places=2,
        initial=Decimal(30),
    )


class DownPaymentCreate(FormScreen):
    form_class = DownPaymentForm
    template_name = "sales/form_with_help.html"
    permission = PERMISSION
    submit_label = gettext_lazy("Create the draft")

    def get_object(self) -> Any:
        if not hasattr(self, "_order"):
            self._order = visible_order(self.request, self.kwargs["pk"])
        return self._order

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        # The order and its amount: the rate is a share of it.
        order = self.get_object()
        return super().context(
            form,
            title=_("Down-payment invoice on order %(number)s") % {"number": order.number},
            help=_(
                "%(customer)s — order total %(excl)s € excl. VAT, %(incl)s € incl. VAT. "
                "The down payment is this percentage of the order's amount excl. VAT at each "
                "VAT rate, VAT added."
            )
            % {
                "customer": order.party.name,
                "excl": format_amount(order.tax_basis_amount),
                "incl": format_amount(order.total_amount),
            },
            cancel_url=reverse("sales:order_detail", args=[order.pk]),
            **extra,
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Say at once why an order takes no down payment, rather than show a form to refuse."""
        self.check_access()
        order = self.get_object()
        refusal = from_orders.down_payment_refusal(order)
        if refusal is not None:
            messages.error(request, refusal)
            return redirect("sales:order_detail", pk=order.pk)
        return self.render(self.get_form())

    def save(self, form: forms.BaseForm) -> HttpResponse:
        invoice = from_orders.create_down_payment_invoice(
            self.get_object(), by=self.request.user, rate=form.cleaned_data["rate"]
        )
        messages.success(self.request, _("Draft down-payment invoice created."))
        return redirect("invoicing:detail", pk=invoice.pk)
