"""Invoicing fixtures: a company with complete legal data, customers, and issued documents."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from comptoir.core.models import Company
from comptoir.invoicing import actions, validation
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Address, AddressKind, Party
from tests import billing_fixtures

STANDARD_20 = {"vat_rate": Decimal("20.00"), "vat_category": "S", "vat_rate_code": "normal"}
REDUCED_10 = {"vat_rate": Decimal("10.00"), "vat_category": "S", "vat_rate_code": "intermediaire"}
REDUCED_5_5 = {"vat_rate": Decimal("5.50"), "vat_category": "S", "vat_rate_code": "reduit"}
EXEMPT = {
    "vat_rate": Decimal("0.00"),
    "vat_category": "E",
    "vat_rate_code": "exonere",
    "vat_exemption_reason": "Exonération de TVA, article 261 du CGI",
    "vat_exemption_code": "VATEX-EU-132",
}
INTRA_EU = {
    "vat_rate": Decimal("0.00"),
    "vat_category": "K",
    "vat_rate_code": "intracom",
    "vat_exemption_reason": "Exonération de TVA, article 262 ter I du CGI",
    "vat_exemption_code": "VATEX-EU-IC",
}


def line(
    label: str, qty: str, price: str, vat: dict[str, Any] = STANDARD_20, **extra: Any
) -> dict[str, Any]:
    return {"label": label, "quantity": Decimal(qty), "unit_price": Decimal(price), **vat, **extra}


# The seller with every legal mention, shared with the payments and dunning tests.
company = billing_fixtures.company


@pytest.fixture(scope="session", autouse=True)
def _stop_schematron_worker() -> Any:
    yield
    validation.shutdown()


@pytest.fixture(autouse=True)
def _english_messages() -> Any:
    # Tests match the English messages; the French catalogue is tested by its own suite.
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _archive_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    settings.DATA_DIR = tmp_path


@pytest.fixture
def customer(company: Company) -> Party:
    party = Party.objects.create(
        name="Boulangerie Martin SARL",
        siren="552100554",
        siret="55210055400013",
        vat_number="FR40552100554",
        is_customer=True,
        postcode="75011",
        city="Paris",
    )
    Address.objects.create(
        party=party,
        kind=AddressKind.BILLING,
        line1="3 avenue Parmentier",
        postcode="75011",
        city="Paris",
        is_default=True,
    )
    return party


@pytest.fixture
def eu_customer(company: Company) -> Party:
    party = Party.objects.create(
        name="Bäckerei Müller GmbH",
        vat_number="DE136695976",
        is_customer=True,
        postcode="10115",
        city="Berlin",
        country="DE",
    )
    Address.objects.create(
        party=party,
        kind=AddressKind.BILLING,
        line1="Invalidenstraße 1",
        postcode="10115",
        city="Berlin",
        country="DE",
        is_default=True,
    )
    return party


@pytest.fixture
def draft_for(assistant: Any) -> Callable[..., Invoice]:
    def make(party: Party, lines: list[dict[str, Any]], **values: Any) -> Invoice:
        return actions.create_invoice(party=party, by=assistant, lines=lines, **values)

    return make


@pytest.fixture
def issued_for(draft_for: Callable[..., Invoice], assistant: Any) -> Callable[..., Invoice]:
    def make(party: Party, lines: list[dict[str, Any]], **values: Any) -> Invoice:
        issue_kwargs = {
            k: values.pop(k) for k in ("issue_date", "produce_documents") if k in values
        }
        return actions.issue_invoice(
            draft_for(party, lines, **values), by=assistant, **issue_kwargs
        )

    return make
