"""Catalogue screens: products, families, VAT rates, price lists, exports and the public page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from comptoir.catalogue import actions, printing, selectors
from comptoir.catalogue.calculations import plain_number
from comptoir.catalogue.forms import (
    PriceCheckForm,
    PriceListForm,
    PriceRuleForm,
    ProductFamilyForm,
    ProductForm,
)
from comptoir.catalogue.models import (
    PriceList,
    PriceListPublication,
    PriceListScope,
    PriceRule,
    Product,
    ProductFamily,
    ProductKind,
    VatRate,
)
from comptoir.core.audit import history_for
from comptoir.core.exports import csv_response, xlsx_response
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.money import round_amount
from comptoir.core.selectors import current_company, site_url
from comptoir.core.views import FormScreen, object_for

YES_NO = (("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No")))


def _yes_no(field: str) -> Any:
    return lambda qs, value: qs.filter(**{field: value == "yes"}) if value in {"yes", "no"} else qs


# -- products ----------------------------------------------------------------------------

PRICE_COLUMNS = {"sale_price", "purchase_cost"}
COST_COLUMNS = {"purchase_cost", "margin"}


class ProductList(ListScreen):
    template_name = "catalogue/list.html"
    title = gettext_lazy("Products and services")
    permission = "catalogue.view_product"
    columns = (
        Column("reference", gettext_lazy("Reference"), sort="reference", link=True),
        Column("label", gettext_lazy("Label"), sort="label"),
        Column("family__name", gettext_lazy("Family"), sort="family__name"),
        Column("get_unit_display", gettext_lazy("Unit"), sort="unit"),
        Column(
            "sale_price", gettext_lazy("Sale price excl. VAT"), sort="sale_price", kind="decimal"
        ),
        Column(
            "vat_rate__rate", gettext_lazy("VAT rate (%)"), sort="vat_rate__rate", kind="decimal"
        ),
        Column(
            "purchase_cost", gettext_lazy("Purchase cost"), sort="purchase_cost", kind="decimal"
        ),
        Column(
            "margin",
            gettext_lazy("Margin (%)"),
            sort="margin",
            kind="decimal",
            value=lambda p: round_amount(p.margin) if p.margin is not None else None,
        ),
        Column("active", gettext_lazy("Active"), sort="active", kind="bool"),
    )
    search_fields = ("reference", "label", "description")
    filters = (
        Filter(
            "family",
            gettext_lazy("Family"),
            lambda request: [(str(f.pk), f.name) for f in ProductFamily.objects.all()],
            lambda qs, v: qs.filter(family_id=v) if v.isdigit() else qs,
        ),
        Filter(
            "kind",
            gettext_lazy("Kind"),
            lambda request: ProductKind.choices,
            lambda qs, v: qs.filter(kind=v),
        ),
        Filter(
            "vat_rate",
            gettext_lazy("VAT rate"),
            lambda request: [(str(r.pk), r.label) for r in VatRate.objects.all()],
            lambda qs, v: qs.filter(vat_rate_id=v) if v.isdigit() else qs,
        ),
        Filter("active", gettext_lazy("Active"), lambda request: YES_NO, _yes_no("active")),
    )
    default_sort = "reference"
    export_name = gettext_lazy("products")
    create_label = gettext_lazy("New product")

    def get_queryset(self) -> QuerySet[Product]:
        return selectors.products_with_margin()

    def row(self, obj: Any, columns: Any) -> dict[str, Any]:
        row = super().row(obj, columns)
        # Unit prices carry up to 4 decimals: show them all rather than a rounded cent.
        row["cells"] = [
            (column, plain_number(value, 2) if column.key in PRICE_COLUMNS and value else value)
            for column, value in row["cells"]
        ]
        return row

    create_view = "catalogue:product_create"
    create_permission = "catalogue.add_product"
    detail_view = "catalogue:product_detail"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("catalogue.view_purchase_cost"):
            self.columns = tuple(c for c in self.columns if c.key not in COST_COLUMNS)
        return super().get(request, *args, **kwargs)


@login_required
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("catalogue.view_product"):
        raise PermissionDenied
    product = get_object_or_404(selectors.products_with_margin(), pk=pk)
    rules = (
        PriceRule.objects.filter(
            Q(product=product)
            | Q(product__isnull=True, family__isnull=True)
            | (Q(family=product.family) if product.family_id else Q(pk__in=[]))
        )
        .select_related("price_list", "family")
        .order_by("price_list__name", "min_quantity")
    )
    visible_lists = selectors.price_lists_visible_to(request.user).values("pk")
    rules = rules.filter(price_list__in=visible_lists)
    return render(
        request,
        "catalogue/product_detail.html",
        {
            "title": str(product),
            "product": product,
            "rules": rules,
            "can_change": request.user.has_perm("catalogue.change_product"),
            "can_see_cost": request.user.has_perm("catalogue.view_purchase_cost"),
            "history": history_for(product)[:20]
            if request.user.has_perm("catalogue.change_product")
            else [],
        },
    )


class ProductCreate(FormScreen):
    form_class = ProductForm
    title = gettext_lazy("New product")
    permission = "catalogue.add_product"

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(form, cancel_url=reverse("catalogue:products"), **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        product = actions.create_product(by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Product %(product)s created.") % {"product": product})
        return redirect("catalogue:product_detail", pk=product.pk)


class ProductEdit(FormScreen):
    form_class = ProductForm
    title = gettext_lazy("Edit product")
    permission = "catalogue.change_product"

    def get_object(self) -> Product:
        return get_object_or_404(Product, pk=self.kwargs["pk"])

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return ProductForm(data=data, instance=self.get_object())

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        cancel = reverse("catalogue:product_detail", args=[self.kwargs["pk"]])
        return super().context(form, cancel_url=cancel, **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        # A fresh row: the form already wrote its values on its own instance.
        product = actions.update_product(
            self.get_object(), by=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Product saved."))
        return redirect("catalogue:product_detail", pk=product.pk)


@login_required
@require_POST
def product_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    if not request.user.has_perm("catalogue.change_product", product):
        raise PermissionDenied
    actions.deactivate_product(product, by=request.user)
    messages.success(request, _("Product %(product)s withdrawn from sale.") % {"product": product})
    return redirect("catalogue:product_detail", pk=product.pk)


# -- families and VAT rates --------------------------------------------------------------


class FamilyList(ListScreen):
    template_name = "catalogue/list.html"
    title = gettext_lazy("Product families")
    permission = "catalogue.view_productfamily"
    columns = (
        Column("code", gettext_lazy("Code"), sort="code", link=True),
        Column("name", gettext_lazy("Name"), sort="name"),
        Column("product_count", gettext_lazy("Products"), sort="product_count", kind="int"),
    )
    search_fields = ("code", "name")
    default_sort = "name"
    export_name = gettext_lazy("product-families")
    create_label = gettext_lazy("New family")

    def get_queryset(self) -> QuerySet[ProductFamily]:
        return ProductFamily.objects.annotate(product_count=Count("products"))

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.has_perm("catalogue.change_productfamily"):
            self.create_url = reverse("catalogue:family_create")
            self.detail_url = lambda family: reverse("catalogue:family_edit", args=[family.pk])
        else:
            self.detail_url = lambda family: reverse("catalogue:products") + f"?family={family.pk}"
        return super().get(request, *args, **kwargs)


class FamilyCreate(FormScreen):
    form_class = ProductFamilyForm
    title = gettext_lazy("New product family")
    permission = "catalogue.add_productfamily"

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(form, cancel_url=reverse("catalogue:families"), **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        family = actions.create_product_family(by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Family %(family)s created.") % {"family": family})
        return redirect("catalogue:families")


class FamilyEdit(FormScreen):
    form_class = ProductFamilyForm
    title = gettext_lazy("Edit product family")
    permission = "catalogue.change_productfamily"

    def get_object(self) -> ProductFamily:
        return get_object_or_404(ProductFamily, pk=self.kwargs["pk"])

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return ProductFamilyForm(data=data, instance=self.get_object())

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(form, cancel_url=reverse("catalogue:families"), **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        actions.update_product_family(self.get_object(), by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Family saved."))
        return redirect("catalogue:families")


class VatRateList(ListScreen):
    template_name = "catalogue/list.html"
    title = gettext_lazy("VAT rates")
    permission = "catalogue.view_vatrate"
    columns = (
        Column("code", gettext_lazy("Code"), sort="code"),
        Column("label", gettext_lazy("Label"), sort="label"),
        Column("rate", gettext_lazy("Rate (%)"), sort="rate", kind="decimal"),
        Column("get_category_display", gettext_lazy("VAT category"), sort="category"),
        Column("category", gettext_lazy("EN 16931 code"), export_only=True),
        Column("exemption_reason", gettext_lazy("Exemption reason")),
        Column("exemption_code", gettext_lazy("VATEX code"), sort="exemption_code"),
        Column("active", gettext_lazy("Active"), sort="active", kind="bool"),
    )
    search_fields = ("code", "label", "exemption_reason", "exemption_code")
    default_sort = "-rate"
    export_name = gettext_lazy("vat-rates")

    def get_queryset(self) -> QuerySet[VatRate]:
        return VatRate.objects.all()


# -- price lists -------------------------------------------------------------------------


class PriceListList(ListScreen):
    template_name = "catalogue/list.html"
    title = gettext_lazy("Price lists")
    permission = "catalogue.view_pricelist"
    columns = (
        Column("code", gettext_lazy("Code"), sort="code"),
        Column("name", gettext_lazy("Name"), sort="name", link=True),
        Column("scope_description", gettext_lazy("Applies to"), sort="scope"),
        Column("priority", gettext_lazy("Priority"), sort="priority", kind="int"),
        Column("valid_from", gettext_lazy("Valid from"), sort="valid_from", kind="date"),
        Column("valid_until", gettext_lazy("Valid until"), sort="valid_until", kind="date"),
        Column("rule_count", gettext_lazy("Rules"), sort="rule_count", kind="int"),
        Column("active", gettext_lazy("Active"), sort="active", kind="bool"),
    )
    search_fields = ("code", "name", "notes", "party__name", "category__name")
    filters = (
        Filter(
            "scope",
            gettext_lazy("Applies to"),
            lambda request: PriceListScope.choices,
            lambda qs, v: qs.filter(scope=v),
        ),
        Filter("active", gettext_lazy("Active"), lambda request: YES_NO, _yes_no("active")),
    )
    default_sort = "-priority"
    export_name = gettext_lazy("price-lists")
    create_label = gettext_lazy("New price list")

    def get_queryset(self) -> QuerySet[PriceList]:
        return selectors.price_lists_visible_to(self.request.user).annotate(
            rule_count=Count("rules")
        )

    create_view = "catalogue:price_list_create"
    create_permission = "catalogue.add_pricelist"
    detail_view = "catalogue:price_list_detail"


def _visible_price_list(request: HttpRequest, pk: int) -> PriceList:
    price_lists = PriceList.objects.select_related("party", "category")
    return object_for(request, price_lists, pk, "catalogue.view_pricelist")


def _changeable_price_list(request: HttpRequest, pk: int) -> PriceList:
    price_lists = PriceList.objects.select_related("party", "category")
    return object_for(request, price_lists, pk, "catalogue.change_pricelist")


def _price_check(request: HttpRequest) -> dict[str, Any]:
    """Bind the price-check form to the query string and price it when it is valid."""
    customers = selectors.customers_for_pricing(request.user)
    bound = "product" in request.GET
    form = PriceCheckForm(request.GET if bound else None, customers=customers)
    result = None
    if bound and form.is_valid():
        data = form.cleaned_data
        result = selectors.price_for(
            data["product"], data["party"], data["quantity"], data["on_date"] or None
        )
    return {
        "check_form": form,
        "check_result": result,
        "check_data": form.cleaned_data if result else None,
    }


def _public_url(publication: PriceListPublication, request: HttpRequest) -> str:
    path = reverse("catalogue:public_price_list", args=[publication.token])
    return site_url(request) + path


@login_required
def price_list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    price_list = _visible_price_list(request, pk)
    can_change = request.user.has_perm("catalogue.change_pricelist", price_list)
    rules = price_list.rules.select_related("product", "family").order_by(
        "product__reference", "family__name", "min_quantity", "pk"
    )
    context = {
        "title": price_list.name,
        "price_list": price_list,
        "rules": rules,
        "can_change": can_change,
        "can_publish": request.user.has_perm("catalogue.publish_pricelist", price_list),
        "rule_form": PriceRuleForm() if can_change else None,
        "publications": [
            (publication, _public_url(publication, request))
            for publication in price_list.publications.filter(
                revoked_at__isnull=True
            ).select_related("created_by")
        ],
        "history": history_for(price_list)[:20] if can_change else [],
        **_price_check(request),
    }
    return render(request, "catalogue/price_list_detail.html", context)


@login_required
@require_GET
def price_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The price-check result alone, for htmx."""
    price_list = _visible_price_list(request, pk)
    if not request.user.has_perm("catalogue.check_price"):
        raise PermissionDenied
    return render(
        request,
        "catalogue/_price_check.html",
        {"price_list": price_list, **_price_check(request)},
    )


class PriceListCreate(FormScreen):
    form_class = PriceListForm
    title = gettext_lazy("New price list")
    permission = "catalogue.add_pricelist"

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        return super().context(form, cancel_url=reverse("catalogue:price_lists"), **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        price_list = actions.create_price_list(by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Price list %(name)s created.") % {"name": price_list})
        return redirect("catalogue:price_list_detail", pk=price_list.pk)


class PriceListEdit(FormScreen):
    form_class = PriceListForm
    title = gettext_lazy("Edit price list")
    permission = "catalogue.change_pricelist"

    def get_object(self) -> PriceList:
        return get_object_or_404(PriceList, pk=self.kwargs["pk"])

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return PriceListForm(data=data, instance=self.get_object())

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        cancel = reverse("catalogue:price_list_detail", args=[self.kwargs["pk"]])
        return super().context(form, cancel_url=cancel, **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        price_list = actions.update_price_list(
            self.get_object(), by=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Price list saved."))
        return redirect("catalogue:price_list_detail", pk=price_list.pk)


class RuleCreate(FormScreen):
    form_class = PriceRuleForm
    title = gettext_lazy("New price rule")
    permission = "catalogue.change_pricelist"

    def get_object(self) -> PriceList:
        return get_object_or_404(PriceList, pk=self.kwargs["pk"])

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        cancel = reverse("catalogue:price_list_detail", args=[self.kwargs["pk"]])
        return super().context(form, cancel_url=cancel, **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        actions.add_price_rule(self.get_object(), by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Rule added."))
        return redirect("catalogue:price_list_detail", pk=self.kwargs["pk"])


class RuleEdit(FormScreen):
    form_class = PriceRuleForm
    title = gettext_lazy("Edit price rule")
    permission = "catalogue.change_pricelist"

    def get_rule(self) -> PriceRule:
        return get_object_or_404(
            PriceRule.objects.select_related("price_list"),
            pk=self.kwargs["rule_pk"],
            price_list_id=self.kwargs["pk"],
        )

    def get_object(self) -> PriceList:
        return self.get_rule().price_list

    def get_form(self, data: Any = None, files: Any = None) -> forms.BaseForm:
        return PriceRuleForm(data=data, instance=self.get_rule())

    def context(self, form: forms.BaseForm, **extra: Any) -> dict[str, Any]:
        cancel = reverse("catalogue:price_list_detail", args=[self.kwargs["pk"]])
        return super().context(form, cancel_url=cancel, **extra)

    def save(self, form: forms.BaseForm) -> HttpResponse:
        actions.update_price_rule(self.get_rule(), by=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Rule saved."))
        return redirect("catalogue:price_list_detail", pk=self.kwargs["pk"])


@login_required
@require_POST
def rule_remove(request: HttpRequest, pk: int, rule_pk: int) -> HttpResponse:
    price_list = _changeable_price_list(request, pk)
    rule = get_object_or_404(PriceRule, pk=rule_pk, price_list=price_list)
    actions.remove_price_rule(rule, by=request.user)
    messages.success(request, _("Rule removed."))
    return redirect("catalogue:price_list_detail", pk=pk)


@login_required
@require_POST
def price_list_publish(request: HttpRequest, pk: int) -> HttpResponse:
    price_list = get_object_or_404(PriceList, pk=pk)
    if not request.user.has_perm("catalogue.publish_pricelist", price_list):
        raise PermissionDenied
    try:
        actions.publish_price_list(price_list, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Price list published: share the link below."))
    return redirect("catalogue:price_list_detail", pk=pk)


@login_required
@require_POST
def publication_revoke(request: HttpRequest, pk: int, publication_pk: int) -> HttpResponse:
    publication = get_object_or_404(
        PriceListPublication.objects.select_related("price_list"),
        pk=publication_pk,
        price_list_id=pk,
    )
    if not request.user.has_perm("catalogue.publish_pricelist", publication.price_list):
        raise PermissionDenied
    actions.revoke_publication(publication, by=request.user)
    messages.success(request, _("The public link no longer works."))
    return redirect("catalogue:price_list_detail", pk=pk)


def _export_name(price_list: PriceList) -> str:
    return slugify(f"{_('price-list')}-{price_list.code}") or "price-list"


def _price_list_export(price_list: PriceList, fmt: str) -> HttpResponse:
    if fmt == "pdf":
        response = HttpResponse(
            printing.render_price_list_pdf(price_list), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'attachment; filename="{_export_name(price_list)}.pdf"'
        return response
    sections = selectors.price_list_sheet(price_list)
    header = printing.export_header()
    rows = printing.export_rows(sections)
    if fmt == "csv":
        return csv_response(_export_name(price_list), header, rows)
    if fmt == "xlsx":
        return xlsx_response(_export_name(price_list), header, rows)
    raise Http404


@login_required
@require_GET
def price_list_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    return _price_list_export(_visible_price_list(request, pk), fmt)


# -- public page -------------------------------------------------------------------------


def _public_headers(response: HttpResponse) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return _public_headers(
        render(request, "catalogue/publication_gone.html", {"title": _("Price list")}, status=404)
    )


@require_GET
def public_price_list(request: HttpRequest, token: str) -> HttpResponse:
    """The published price list, without login; 404 once the link is revoked."""
    publication = selectors.live_publication(token)
    if publication is None:
        return _gone(request)
    price_list = publication.price_list
    company = current_company()
    return _public_headers(
        render(
            request,
            "catalogue/public_price_list.html",
            {
                "title": price_list.name,
                "price_list": price_list,
                "sections": selectors.price_list_sheet(price_list),
                "company": company,
                "legal_footer": printing.legal_footer(company),
                "validity": printing.validity_text(price_list),
                "token": token,
                "today": timezone.localdate(),
            },
        )
    )


@require_GET
def public_price_list_pdf(request: HttpRequest, token: str) -> HttpResponse:
    publication = selectors.live_publication(token)
    if publication is None:
        return _gone(request)
    return _public_headers(_price_list_export(publication.price_list, "pdf"))
