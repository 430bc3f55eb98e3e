"""Stock screens: deliveries, shipping, delivery notes, stock levels and reorder alerts."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from comptoir.catalogue.models import Product, ProductKind
from comptoir.catalogue.templatetags.catalogue_tags import quantity
from comptoir.core.audit import history_for
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.views import FormScreen, object_for
from comptoir.documents.actions import read_archived
from comptoir.invoicing.printing import quantity_text
from comptoir.sales.models import Order
from comptoir.sales.views import changeable_order, pdf_response
from comptoir.stock import actions, selectors
from comptoir.stock.forms import DeliveryForm, ProductStockForm
from comptoir.stock.models import Delivery, ProductStock
from comptoir.stock.states import DeliveryStatus


class DeliveryList(ListScreen):
    title = gettext_lazy("Deliveries")
    permission = "stock.view_delivery"
    columns = (
        Column("number", gettext_lazy("Delivery note"), sort="number", link=True),
        Column("order__number", gettext_lazy("Order"), sort="order__number"),
        Column("order__party__name", gettext_lazy("Customer"), sort="order__party__name"),
        Column("get_status_display", gettext_lazy("Status"), sort="status"),
        Column("planned_date", gettext_lazy("Planned"), sort="planned_date", kind="date"),
        Column("shipped_date", gettext_lazy("Shipped"), sort="shipped_date", kind="date"),
    )
    search_fields = ("number", "order__number", "order__party__name")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            lambda request: DeliveryStatus.choices,
            lambda qs, v: qs.filter(status=v),
        ),
    )
    default_sort = "-number"
    export_name = gettext_lazy("deliveries")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.deliveries_visible_to(self.request.user)

    detail_view = "stock:delivery_detail"


def _visible_delivery(request: HttpRequest, pk: int) -> Delivery:
    return object_for(
        request, selectors.deliveries_visible_to(request.user), pk, "stock.view_delivery"
    )


def _changeable_delivery(request: HttpRequest, pk: int) -> Delivery:
    return object_for(
        request,
        selectors.deliveries_visible_to(request.user),
        pk,
        "stock.view_delivery",
        "stock.change_delivery",
    )


@login_required
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from comptoir.invoicing import from_orders  # invoicing imports stock: import late

    delivery = _visible_delivery(request, pk)
    lines = list(delivery.lines.select_related("delivery", "order_line", "order_line__product"))
    levels = {}
    if delivery.status == DeliveryStatus.DRAFT:
        levels = selectors.on_hand(
            [line.order_line.product_id for line in lines if line.order_line.product_id]
        )
    rows = [(line, levels.get(line.order_line.product_id)) for line in lines]
    # A note its order's reduction emptied: its lines are gone, the audit trail kept them.
    taken_off = (
        selectors.lines_taken_off(delivery)
        if delivery.status == DeliveryStatus.CANCELLED and not lines
        else None
    )
    can_change = request.user.has_perm("stock.change_delivery", delivery)
    return render(
        request,
        "stock/delivery_detail.html",
        {
            "title": str(delivery),
            "delivery": delivery,
            "rows": rows,
            "taken_off": taken_off,
            "backorders": list(delivery.backorders.all()),
            "can_ship": can_change and delivery.status == DeliveryStatus.DRAFT,
            "can_invoice": request.user.has_perm("invoicing.change_invoice")
            and delivery.status == DeliveryStatus.SHIPPED,
            # "Invoice this delivery" only while something of it is left to invoice.
            "has_to_invoice": request.user.has_perm("invoicing.change_invoice")
            and from_orders.delivery_left_to_invoice(delivery),
            "history": history_for(delivery)[:20],
        },
    )


class DeliveryCreate(FormScreen):
    form_class = DeliveryForm
    title = gettext_lazy("New delivery")
    permission = "stock.change_delivery"
    submit_label = gettext_lazy("Prepare the delivery note")

    def get_object(self) -> Order:
        if not hasattr(self, "_order"):
            self._order = changeable_order(self.request, self.kwargs["order_pk"])
        return self._order

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # The order page offers "New delivery" on every open order: when nothing is left to
        # prepare, say why on the order instead of a form with only a date to fill in.
        if request.user.is_authenticated:
            self.check_access()
            reason = self.nothing_to_prepare()
            if reason:
                messages.info(request, reason)
                return redirect("sales:order_detail", pk=kwargs["order_pk"])
        return super().dispatch(request, *args, **kwargs)

    def nothing_to_prepare(self) -> str:
        """Say why no new note can be prepared for the order ("" when one can)."""
        order = self.get_object()
        if not order.is_open:
            return _("This order is delivered or cancelled.")
        if any(self.deliverable().values()):
            return ""
        to_ship = [
            delivery.number
            for delivery in Delivery.objects.filter(
                order=order, status=DeliveryStatus.DRAFT
            ).order_by("pk")
        ]
        if not to_ship:
            return _("Nothing is left to deliver on this order.")
        return ngettext(
            "Nothing is left to prepare: the rest of this order is on delivery note "
            "%(notes)s, still to ship.",
            "Nothing is left to prepare: the rest of this order is on delivery notes "
            "%(notes)s, still to ship.",
            len(to_ship),
        ) % {"notes": ", ".join(to_ship)}

    def deliverable(self) -> dict[int, Decimal]:
        """What each line may still put on a note: the refusal and the form both need it."""
        if not hasattr(self, "_deliverable"):
            self._deliverable = actions.deliverable_quantities(self.get_object())
        return self._deliverable

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        order = self.get_object()
        deliverable = self.deliverable()
        lines = [
            (line, deliverable[line.pk])
            for line in order.lines.order_by("position", "pk")
            if deliverable[line.pk] > 0
        ]
        return DeliveryForm(data=data, lines=lines, initial={"planned_date": order.promised_date})

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(
            form, cancel_url=reverse("sales:order_detail", args=[self.kwargs["order_pk"]]), **extra
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        assert isinstance(form, DeliveryForm)
        delivery = actions.create_delivery(
            self.get_object(),
            by=self.request.user,
            quantities=form.quantities(),
            planned_date=form.cleaned_data.get("planned_date"),
        )
        messages.success(
            self.request, _("Delivery %(number)s prepared.") % {"number": delivery.number}
        )
        return redirect("stock:delivery_detail", pk=delivery.pk)


@require_POST
@login_required
def delivery_ship(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _changeable_delivery(request, pk)
    try:
        actions.ship_delivery(delivery, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(number)s shipped.") % {"number": delivery.number})
    return redirect("stock:delivery_detail", pk=delivery.pk)


@require_POST
@login_required
def delivery_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _changeable_delivery(request, pk)
    try:
        actions.cancel_delivery(delivery, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("stock:delivery_detail", pk=delivery.pk)


@login_required
def delivery_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _visible_delivery(request, pk)
    if delivery.status == DeliveryStatus.SHIPPED:
        document = actions.archive_delivery_note(delivery, by=request.user)
        return pdf_response(read_archived(document), document.filename)
    return pdf_response(actions.delivery_pdf(delivery), f"{delivery.number}-draft.pdf")


@login_required
def delivery_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Open the sending form of a shipped delivery's note."""
    delivery = _changeable_delivery(request, pk)
    if delivery.status != DeliveryStatus.SHIPPED:
        messages.error(request, _("Ship the delivery before sending its note."))
        return redirect("stock:delivery_detail", pk=delivery.pk)
    document = actions.archive_delivery_note(delivery, by=request.user)
    return redirect("sales:document_send", pk=document.pk)


class StockLevelList(ListScreen):
    title = gettext_lazy("Stock levels")
    permission = "stock.view_stock"
    columns = (
        Column("reference", gettext_lazy("Reference"), sort="reference", link=True),
        Column("label", gettext_lazy("Product"), sort="label"),
        Column("on_hand", gettext_lazy("On hand"), sort="on_hand", kind="decimal"),
        Column("reserved", gettext_lazy("Reserved"), sort="reserved", kind="decimal"),
        Column("available", gettext_lazy("Available"), sort="available", kind="decimal"),
        Column(
            "reorder_level", gettext_lazy("Reorder level"), sort="reorder_level", kind="decimal"
        ),
    )
    search_fields = ("reference", "label")
    default_sort = "reference"
    export_name = gettext_lazy("stock-levels")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.stock_levels()

    def row(self, obj: Any, columns: Sequence[Column]) -> dict[str, Any]:
        # Quantities as the delivery pages write them ("743", "2,5"), not as amounts
        # ("743,00"); the exports keep the numbers.
        row = super().row(obj, columns)
        row["cells"] = [
            (column, quantity(value) if isinstance(value, Decimal) else value)
            for column, value in row["cells"]
        ]
        return row

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.has_perm("stock.change_stock"):
            self.detail_url = lambda product: reverse("stock:product_stock", args=[product.pk])
        return super().get(request, *args, **kwargs)


class ReorderAlertList(StockLevelList):
    title = gettext_lazy("Reorder alerts")
    columns = (
        *StockLevelList.columns,
        Column(
            "stock_settings__reorder_quantity",
            gettext_lazy("Quantity to reorder"),
            kind="decimal",
        ),
    )
    export_name = gettext_lazy("reorder-alerts")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.reorder_alerts()


class ProductStockEdit(FormScreen):
    template_name = "sales/form_with_help.html"
    form_class = ProductStockForm
    permission = "stock.change_stock"
    submit_label = gettext_lazy("Save")

    def get_object(self) -> Product:
        return get_object_or_404(Product, pk=self.kwargs["pk"], kind=ProductKind.GOODS)

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        product = self.get_object()
        row = ProductStock.objects.filter(product=product).first()
        initial = (
            {"reorder_level": row.reorder_level, "reorder_quantity": row.reorder_quantity}
            if row
            else {}
        )
        return ProductStockForm(data=data, initial=initial)

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        product = self.get_object()
        level = selectors.level_of(product)
        return super().context(
            form,
            title=_("Stock of %(product)s") % {"product": product},
            help=_("On hand %(on_hand)s, reserved %(reserved)s, available %(available)s.")
            % {name: quantity_text(value) for name, value in level.__dict__.items()},
            cancel_url=reverse("stock:levels"),
            **extra,
        )

    def save(self, form: forms.BaseForm) -> HttpResponse:
        product = self.get_object()
        data = form.cleaned_data
        actions.set_reorder_level(
            product,
            reorder_level=data["reorder_level"],
            reorder_quantity=data["reorder_quantity"],
            by=self.request.user,
        )
        if data.get("adjustment"):
            actions.record_stock_move(
                product,
                quantity=data["adjustment"],
                kind=data["kind"],
                note=data.get("note", ""),
                by=self.request.user,
            )
        messages.success(self.request, _("Stock settings saved."))
        return redirect("stock:levels")
