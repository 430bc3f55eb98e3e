"""Lookups that Django compiles to SQL once and runs many times, for the hottest paths.

Django compiles a queryset to SQL every time it is evaluated, and for a lookup of a model with
many fields that is most of the cost: reading an invoice's 20 lines took 1.49 ms through the
ORM, of which 0.86 ms compiling and 0.12 ms in the database (measured on the benchmark
machine). Issuing an invoice runs the same six lookups every time with other values.

A ``PreparedLookup`` has Django build and compile its queryset the first time (per thread),
checks that the compiled parameters are exactly the lookup's arguments, and keeps the SQL and
Django's compiler. Each call then binds the new arguments to that SQL and turns the rows into
what iterating the queryset would give: model instances made by ``Model.from_db`` with
Django's own converters and ``select_related`` populators, or the values of a flat
``values_list``. No SQL is written by hand and values are always bound as parameters.

Only plain lookups qualify: a queryset whose parameters are its arguments (int or str, in any
order, distinct), without annotations, extra selects, composite fields or prefetches. Anything
else is refused when it is first compiled (``PreparedLookupError``), so a test run finds it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import QuerySet
from django.db.models.query import FlatValuesListIterable, ModelIterable, get_related_populators

T = TypeVar("T")


class PreparedLookupError(TypeError):
    """The queryset cannot be prepared: its SQL does not bind exactly the lookup's arguments."""


class _Compiled:
    """One compiled form of a lookup: its SQL, converters and how rows become results."""

    def __init__(self, queryset: QuerySet[Any], values: tuple[Any, ...]) -> None:
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        # Where each bound parameter comes from among the arguments (Django orders a filter's
        # keywords by name), and the type Django bound it as (psycopg's Int4 for an integer
        # column on PostgreSQL). Equal arguments would make that ambiguous: they are refused.
        order = [values.index(param) if param in values else -1 for param in params]
        if len(set(values)) != len(values) or sorted(order) != list(range(len(values))):
            raise PreparedLookupError(
                f"the SQL binds {params!r}, not exactly the lookup's distinct arguments {values!r}"
            )
        self.binding = [(index, type(param)) for index, param in zip(order, params, strict=True)]
        iterable = queryset._iterable_class  # noqa: SLF001 - how the queryset yields rows
        if iterable not in (ModelIterable, FlatValuesListIterable):
            raise PreparedLookupError(f"{iterable.__name__} is not supported")
        if getattr(queryset, "_prefetch_related_lookups", ()):
            raise PreparedLookupError("prefetches are not supported")
        if iterable is ModelIterable and compiler.annotation_col_map:
            raise PreparedLookupError("annotated instances are not supported")
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_extra_select or compiler.has_composite_fields(fields):
            raise PreparedLookupError("extra selects and composite fields are not supported")
        self.sql = sql
        self.alias = queryset.db
        self.converters = compiler.get_converters(fields)
        self.flat = iterable is FlatValuesListIterable
        if not self.flat:
            klass_info = compiler.klass_info
            select_fields = klass_info["select_fields"]
            self.model = klass_info["model"]
            self.start, self.end = select_fields[0], select_fields[-1] + 1
            self.init_list = [
                column[0].target.attname for column in compiler.select[self.start : self.end]
            ]
            # The stubs follow Django 6, whose version takes a fetch mode; 5.2's does not.
            self.populators = get_related_populators(  # type: ignore[call-arg]
                klass_info, compiler.select, self.alias
            )

    def run(self, values: tuple[Any, ...]) -> list[Any]:
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [kind(values[index]) for index, kind in self.binding])
            rows = cursor.fetchall()
        if self.converters:
            rows = [self._convert(list(row), connection) for row in rows]
        if self.flat:
            return [row[0] for row in rows]
        objects = []
        for row in rows:
            instance = self.model.from_db(self.alias, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, instance)
            objects.append(instance)
        return objects

    def _convert(self, row: list[Any], connection: Any) -> list[Any]:
        for position, (converters, expression) in self.converters.items():
            value = row[position]
            for converter in converters:
                value = converter(value, expression, connection)
            row[position] = value
        return row


class PreparedLookup(Generic[T]):
    """A queryset-building function whose SQL is compiled once, then run with new arguments.

    ``build(*values)`` must return the same shape of queryset for any values, with those
    values as its only SQL parameters: ``InvoiceLine.objects.filter(invoice_id=pk)
    .order_by("position", "pk")`` qualifies. Calling the lookup returns the list iterating
    the queryset would give.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self._build = build
        self._local = threading.local()

    def __call__(self, *values: int | str) -> list[T]:
        for value in values:
            # bool is an int but would be bound as 1/0 where the ORM might write it otherwise.
            if type(value) not in (int, str):
                raise PreparedLookupError(f"only int and str arguments, not {value!r}")
        # Compiled per thread: Django's compiler holds its thread's connection.
        compiled: _Compiled | None = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = _Compiled(self._build(*values), values)
        return compiled.run(values)

    def first(self, *values: int | str) -> T | None:
        """The first result, or None: for lookups ordered and limited to one row."""
        results = self(*values)
        return results[0] if results else None

    def one(self, *values: int | str) -> T:
        """The single result; the model's DoesNotExist when there is none."""
        results = self(*values)
        if len(results) != 1:
            model: Any = self._build(*values).model
            if not results:
                raise model.DoesNotExist(f"no {model.__name__} matches {values!r}")
            raise model.MultipleObjectsReturned(f"{len(results)} {model.__name__} match")
        return results[0]
