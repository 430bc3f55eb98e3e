"""The one list screen: search, filters, sort, pagination, CSV/XLSX export, htmx refresh.

An app declares a subclass of ``ListScreen`` with its columns, search fields and filters and
implements ``get_queryset()`` already scoped to what the user may see. The same class serves
the full page, the htmx table refresh and both exports, so the export is always the list the
user is looking at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import slugify
from django.views import View

from comptoir.core.exports import csv_response, xlsx_response


@dataclass(frozen=True)
class Column:
    """One column: how to read the value, how to sort on it, and how to show it."""

    key: str
    label: Any
    sort: str | None = None
    kind: str = "text"  # text | decimal | date | datetime | int | bool | phone
    link: bool = False
    value: Callable[[Any], Any] | None = None
    export_only: bool = False

    def read(self, obj: Any) -> Any:
        if self.value is not None:
            return self.value(obj)
        current = obj
        for part in self.key.split("__"):
            if current is None:
                return None
            current = getattr(current, part)
            if callable(current) and not isinstance(current, Model):
                current = current()
        return current


@dataclass(frozen=True)
class Filter:
    """A select filter; `apply` narrows the queryset for the chosen value."""

    name: str
    label: Any
    choices: Callable[[HttpRequest], Sequence[tuple[str, Any]]]
    apply: Callable[[QuerySet[Any], str], QuerySet[Any]]


@dataclass
class Page:
    rows: list[dict[str, Any]]
    number: int
    num_pages: int
    count: int
    has_previous: bool
    has_next: bool
    querystring: dict[str, str] = field(default_factory=dict)


class ListScreen(LoginRequiredMixin, View):
    """Base list view; subclasses set the class attributes and `get_queryset`."""

    title: Any = ""
    columns: Sequence[Column] = ()
    search_fields: Sequence[str] = ()
    filters: Sequence[Filter] = ()
    default_sort: str = "pk"
    page_size = 50
    template_name = "core/list.html"
    # The exported file's name (slugified): gettext_lazy("invoices") gives factures.csv in French.
    export_name: Any = "export"
    permission: str | None = None
    create_url: str | None = None
    create_label: Any = ""
    detail_url: Callable[[Any], str] | None = None
    # URL names: the creation screen (offered to holders of `create_permission`, to everyone
    # when it is None) and an object's page (reversed with its pk).
    create_view: str | None = None
    create_permission: str | None = None
    detail_view: str | None = None

    def get_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    # -- request parsing -------------------------------------------------------------
    def sortable(self) -> dict[str, str]:
        return {c.key: c.sort for c in self.columns if c.sort}

    def current_sort(self) -> str:
        requested = self.request.GET.get("sort", "")
        key = requested.lstrip("-")
        if key in self.sortable():
            return requested
        return self.default_sort

    def order_by(self, sort: str) -> list[str]:
        key = sort.lstrip("-")
        column = self.sortable().get(key)
        if column is None:
            return [sort, "pk"] if sort else ["pk"]
        prefix = "-" if sort.startswith("-") else ""
        return [prefix + column, prefix + "pk"]

    def filtered_queryset(self) -> QuerySet[Any]:
        queryset = self.get_queryset()
        q = self.request.GET.get("q", "").strip()
        if q:
            condition = Q()
            for term in q.split()[:5]:
                condition &= self.search_filter(term)
            queryset = queryset.filter(condition)
        for flt in self.filters:
            value = self.request.GET.get(flt.name, "")
            if value:
                queryset = flt.apply(queryset, value)
        return queryset.order_by(*self.order_by(self.current_sort()))

    # -- rendering -------------------------------------------------------------------
    def search_filter(self, term: str) -> Q:
        """Return the condition one search word must meet (any search field contains it)."""
        condition = Q()
        for name in self.search_fields:
            condition |= Q(**{f"{name}__icontains": term})
        return condition

    def visible_columns(self) -> list[Column]:
        return [c for c in self.columns if not c.export_only]

    def row(self, obj: Any, columns: Sequence[Column]) -> dict[str, Any]:
        return {
            "obj": obj,
            "url": self.detail_url(obj) if self.detail_url else None,
            "cells": [(c, c.read(obj)) for c in columns],
        }

    def base_querystring(self) -> dict[str, str]:
        return {
            key: str(value)
            for key, value in self.request.GET.items()
            if key not in {"page", "export"} and value
        }

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if self.permission and not request.user.has_perm(self.permission):
            raise PermissionDenied
        if self.create_view and (
            self.create_permission is None or request.user.has_perm(self.create_permission)
        ):
            self.create_url = reverse(self.create_view)
        if self.detail_view:
            name = self.detail_view
            self.detail_url = lambda obj: reverse(name, args=[obj.pk])
        export = request.GET.get("export")
        if export in {"csv", "xlsx"}:
            return self.export(export)
        queryset = self.filtered_queryset()
        paginator = Paginator(queryset, self.page_size)
        page_obj = paginator.get_page(request.GET.get("page"))
        columns = self.visible_columns()
        params = self.base_querystring()
        context = {
            "title": self.title,
            "columns": columns,
            "filters": [
                (flt, flt.choices(request), request.GET.get(flt.name, "")) for flt in self.filters
            ],
            "page": Page(
                rows=[self.row(obj, columns) for obj in page_obj.object_list],
                number=page_obj.number,
                num_pages=paginator.num_pages,
                count=paginator.count,
                has_previous=page_obj.has_previous(),
                has_next=page_obj.has_next(),
            ),
            "q": request.GET.get("q", ""),
            "sort": self.current_sort(),
            "querystring": urlencode(params),
            "sort_links": {
                c.key: urlencode(
                    {**params, "sort": ("-" if self.current_sort() == c.key else "") + c.key}
                )
                for c in columns
                if c.sort
            },
            "page_links": {
                "previous": urlencode({**params, "page": page_obj.number - 1}),
                "next": urlencode({**params, "page": page_obj.number + 1}),
                "last": urlencode({**params, "page": paginator.num_pages}),
                "first": urlencode({**params, "page": 1}),
            },
            "create_url": self.create_url,
            "create_label": self.create_label,
            "list_url": request.path,
        }
        context.update(self.extra_context())
        template = (
            "core/_list_table.html"
            if getattr(request, "htmx", False) and not request.htmx.boosted  # type: ignore[attr-defined]
            else self.template_name
        )
        return render(request, template, context)

    def extra_context(self) -> dict[str, Any]:
        return {}

    def export_rows(self, columns: Sequence[Column]) -> Iterator[list[Any]]:
        for obj in self.filtered_queryset().iterator(chunk_size=2000):
            yield [c.read(obj) for c in columns]

    def export(self, fmt: str) -> HttpResponseBase:
        columns = list(self.columns)
        header = [str(c.label) for c in columns]
        name = slugify(str(self.export_name)) or "export"
        if fmt == "csv":
            return csv_response(name, header, self.export_rows(columns))
        return xlsx_response(name, header, self.export_rows(columns))
