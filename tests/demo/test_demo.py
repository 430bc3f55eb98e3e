"""The demo company is realistic, valid by the domain rules, repeatable and built once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from comptoir.catalogue.models import PriceList, Product, ProductFamily
from comptoir.catalogue.selectors import price_for
from comptoir.core import identifiers
from comptoir.core.models import User
from comptoir.core.roles import Role
from comptoir.core.selectors import current_company
from comptoir.demo import builder
from comptoir.demo.builder import build_demo
from comptoir.parties.models import Address, Contact, CustomerCategory, Party, Tag, Territory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _parties_and_catalogue_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests check parties and catalogue; issued invoices cannot be deleted between two
    # builds. The sales history is tested on its own (tests/sales/test_demo_history.py).
    monkeypatch.setattr(builder, "EXTRA_BUILDERS", [])


def empty_demo() -> None:
    """Delete the demo rows but keep what migrations seeded (VAT rates)."""
    for model in (PriceList, Product, ProductFamily, Party, CustomerCategory, Territory, Tag, User):
        model.objects.all().delete()


def snapshot() -> list[tuple[str, str, str]]:
    return list(Party.objects.order_by("pk").values_list("name", "siret", "phone")[:50])


def test_demo_company_is_complete_and_valid() -> None:
    report = build_demo(seed=7)
    assert report.counts["parties"] == 320
    assert Party.objects.filter(is_supplier=True).count() == 20
    customers_and_prospects = Party.objects.filter(is_supplier=False)
    assert customers_and_prospects.count() == 300
    assert customers_and_prospects.filter(is_customer=True).count() > 150
    assert customers_and_prospects.filter(is_prospect=True).count() > 50
    assert Product.objects.count() == 80
    assert ProductFamily.objects.count() == 6
    assert PriceList.objects.count() == 3
    roles = sorted(User.objects.values_list("role", flat=True))
    assert roles.count(Role.SALES_REP) == 3
    for role in (Role.ADMINISTRATOR, Role.SALES_MANAGER, Role.SALES_ASSISTANT, Role.ACCOUNTANT):
        assert role in roles
    assert current_company().missing_legal_fields() == []
    for party in Party.objects.all():
        assert identifiers.normalise_siren(party.siren) == party.siren
        assert identifiers.normalise_siret(party.siret) == party.siret
        assert party.siret.startswith(party.siren)
        assert identifiers.normalise_vat_number(party.vat_number) == party.vat_number
        assert identifiers.vat_siren(party.vat_number) == party.siren
        assert identifiers.normalise_phone(party.phone) == party.phone
    assert len({p.siret for p in Party.objects.all()}) == 320
    for contact in Contact.objects.exclude(mobile=""):
        assert identifiers.normalise_phone(contact.mobile) == contact.mobile
    assert Address.objects.filter(kind="billing", is_default=True).count() == 320
    # Reps own the customers of their territory only.
    for rep in User.objects.filter(role=Role.SALES_REP):
        assert Party.objects.filter(sales_rep=rep).exists()


def test_the_price_lists_give_their_prices() -> None:
    build_demo(seed=7)
    reseller = Party.objects.filter(category__code="reseller").first()
    product = Product.objects.filter(family__code="papeterie").first()
    assert reseller is not None and product is not None
    result = price_for(product, reseller, 1, None)
    assert result.unit_price < product.sale_price


def test_same_seed_same_data() -> None:
    build_demo(seed=11)
    first = snapshot()
    empty_demo()
    build_demo(seed=11)
    assert snapshot() == first
    empty_demo()
    build_demo(seed=12)
    assert snapshot() != first


def test_demo_command_builds_once() -> None:
    out = StringIO()
    call_command("demo", no_serve=True, stdout=out)
    count = Party.objects.count()
    call_command("demo", no_serve=True, stdout=out)
    assert Party.objects.count() == count
    assert "already built" in out.getvalue()
    assert "sophie" in out.getvalue()
