"""Prepared lookups give what the ORM gives, compile once, and refuse what they cannot bind."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from comptoir.core.prepared import PreparedLookup, PreparedLookupError
from comptoir.invoicing.models import Invoice, InvoiceLine
from comptoir.parties.models import Address, AddressKind, Party

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice() -> Invoice:
    party = Party.objects.create(name="Boulangerie Martin", is_customer=True)
    draft = Invoice.objects.create(party=party, supply_date=date(2026, 3, 4))
    for position, (price, rate) in enumerate(
        [(Decimal("3.1415"), Decimal("20.00")), (Decimal("12.50"), Decimal("5.50"))], start=1
    ):
        InvoiceLine.objects.create(
            invoice=draft,
            position=3 - position,  # stored out of order
            label=f"Article {position}",
            quantity=Decimal("2.500"),
            unit_price=price,
            vat_rate=rate,
            net_amount=Decimal("7.85"),
        )
    return draft


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_instances_equal_the_orm_ones_with_their_converted_values(invoice: Invoice) -> None:
    lines = PreparedLookup[InvoiceLine](
        lambda pk: InvoiceLine.objects.filter(invoice_id=pk).order_by("position", "pk")
    )
    expected = list(InvoiceLine.objects.filter(invoice_id=invoice.pk).order_by("position", "pk"))
    got = lines(invoice.pk)
    assert [_fields(line) for line in got] == [_fields(line) for line in expected]
    assert [line.position for line in got] == [1, 2]
    # Decimals come back with their field's scale, as the ORM gives them.
    assert str(got[0].unit_price) == str(expected[0].unit_price)
    assert all(line._state.db == "default" and not line._state.adding for line in got)


def test_select_related_is_populated_without_another_query(invoice: Invoice) -> None:
    lookup = PreparedLookup[Invoice](
        lambda pk: Invoice.objects.select_related("party").filter(pk=pk)
    )
    lookup.one(invoice.pk)  # compiled
    with CaptureQueriesContext(connection) as queries:
        got = lookup.one(invoice.pk)
        assert got.party.name == "Boulangerie Martin"
        assert got.supply_date == date(2026, 3, 4)
    assert len(queries) == 1


def test_flat_values_and_arguments_in_any_order(invoice: Invoice) -> None:
    party = invoice.party
    Address.objects.create(party=party, kind=AddressKind.BILLING, line1="1 rue A", city="Lyon")
    wanted = Address.objects.create(
        party=party, kind=AddressKind.BILLING, line1="2 rue B", city="Lyon", is_default=True
    )
    Address.objects.create(party=party, kind=AddressKind.DELIVERY, line1="3 rue C", city="Lyon")
    # Django binds the kind before the party (keywords sorted by name): mapped back.
    lookup = PreparedLookup[int](
        lambda party_id, kind: (
            Address.objects.filter(party_id=party_id, kind=kind)
            .order_by("-is_default", "pk")
            .values_list("pk", flat=True)[:1]
        )
    )
    assert lookup.first(party.pk, "billing") == wanted.pk
    assert lookup.first(party.pk, "nothing") is None
    dates = PreparedLookup[date](
        lambda pk: Invoice.objects.filter(pk=pk).values_list("supply_date", flat=True)
    )
    assert dates(invoice.pk) == [date(2026, 3, 4)]


def test_compiled_once_per_thread(invoice: Invoice) -> None:
    built: list[int] = []

    def build(pk: int) -> Any:
        built.append(pk)
        return Invoice.objects.filter(pk=pk)

    lookup = PreparedLookup[Invoice](build)
    assert lookup.one(invoice.pk).pk == invoice.pk
    assert lookup(invoice.pk + 1000) == []
    assert built == [invoice.pk]
    assert "compiled" in lookup._local.__dict__
    compiled_elsewhere: list[Any] = []
    thread = threading.Thread(target=lambda: compiled_elsewhere.append(lookup._local.__dict__))
    thread.start()
    thread.join()
    assert compiled_elsewhere == [{}]  # another thread compiles its own (its own connection)


def test_one_raises_the_models_exceptions(invoice: Invoice) -> None:
    lookup = PreparedLookup[Invoice](lambda party_id: Invoice.objects.filter(party_id=party_id))
    with pytest.raises(Invoice.DoesNotExist):
        lookup.one(invoice.party_id + 1000)
    Invoice.objects.create(party=invoice.party)
    with pytest.raises(Invoice.MultipleObjectsReturned):
        lookup.one(invoice.party_id)


def test_what_cannot_be_bound_is_refused(invoice: Invoice) -> None:
    constant = PreparedLookup[Invoice](lambda pk: Invoice.objects.filter(pk=pk, status="draft"))
    with pytest.raises(PreparedLookupError, match="binds"):
        constant(invoice.pk)
    same = PreparedLookup[Invoice](
        lambda a, b: Invoice.objects.filter(pk=a, party_id=b),
    )
    with pytest.raises(PreparedLookupError, match="distinct"):
        same(invoice.pk, invoice.pk)
    with pytest.raises(PreparedLookupError, match="only int and str"):
        PreparedLookup[Invoice](lambda flag: Invoice.objects.filter(pk=flag))(True)
    annotated = PreparedLookup[Party](
        lambda pk: Party.objects.filter(pk=pk).annotate(n=Count("invoices"))
    )
    with pytest.raises(PreparedLookupError, match="annotated"):
        annotated(invoice.party_id)
    prefetching = PreparedLookup[Invoice](
        lambda pk: Invoice.objects.filter(pk=pk).prefetch_related("lines")
    )
    with pytest.raises(PreparedLookupError, match="prefetches"):
        prefetching(invoice.pk)
