"""Fixtures for payments and dunning tests: a company ready to invoice, customers, issued invoices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from comptoir.core.models import Company
from comptoir.core.selectors import current_company
from comptoir.invoicing import actions as invoicing
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Address, AddressKind, Contact, Party
from tests.factories import valid_siren

VAT_20 = {"vat_rate": Decimal("20.00"), "vat_category": "S", "vat_rate_code": "normal"}


@pytest.fixture(autouse=True)
def _archive_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    settings.DATA_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def make_user(make_user: Callable[..., Any]) -> Callable[..., Any]:
    """Users read English here, so that wording assertions survive the French catalogue."""

    def make(*args: Any, **fields: Any) -> Any:
        fields.setdefault("language", "en")
        return make_user(*args, **fields)

    return make


@pytest.fixture
def company(db: Any) -> Company:
    company = current_company()
    values = {
        "legal_name": "Comptoir Démo SAS",
        "legal_form": "SAS",
        "share_capital_amount": Decimal("10000.00"),
        "siren": "732829320",
        "siret": "73282932000074",
        "rcs_city": "Lyon",
        "vat_number": "FR44732829320",
        "naf_code": "4669B",
        "address_line1": "12 rue de la République",
        "postcode": "69002",
        "city": "Lyon",
        "email": "factures@comptoir.example",
        "phone": "+33472000000",
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
    }
    for name, value in values.items():
        setattr(company, name, value)
    company.save()
    return company


@pytest.fixture
def make_customer(company: Company) -> Callable[..., Party]:
    counter = iter(range(1, 10_000))

    def make(name: str = "", **fields: Any) -> Party:
        n = next(counter)
        fields.setdefault("siren", valid_siren(n + 500))
        party = Party.objects.create(
            name=name or f"Client {n} SARL",
            is_customer=True,
            postcode="75011",
            city="Paris",
            email=f"compta{n}@client{n}.example",
            **fields,
        )
        Address.objects.create(
            party=party,
            kind=AddressKind.BILLING,
            line1=f"{n} avenue Parmentier",
            postcode="75011",
            city="Paris",
            is_default=True,
        )
        Contact.objects.create(
            party=party,
            last_name="Durand",
            first_name="Luc",
            email=f"luc.durand{n}@client{n}.example",
            functions=["billing"],
        )
        return party

    return make


@pytest.fixture
def customer(make_customer: Callable[..., Party]) -> Party:
    return make_customer("Boulangerie Martin SARL")


@pytest.fixture
def issue(assistant: Any) -> Callable[..., Invoice]:
    """Issue an invoice of `amount` excl. VAT (20 %) on `on`, due 30 days later."""

    def make(party: Party, amount: str, on: date, **values: Any) -> Invoice:
        draft = invoicing.create_invoice(
            party=party,
            by=assistant,
            lines=[
                {
                    "label": "Fournitures",
                    "quantity": Decimal(1),
                    "unit_price": Decimal(amount),
                    **VAT_20,
                }
            ],
            **values,
        )
        return invoicing.issue_invoice(draft, by=assistant, issue_date=on, produce_documents=False)

    return make
