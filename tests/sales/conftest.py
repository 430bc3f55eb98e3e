"""Sales fixtures: a company with complete legal data, customers in a rep's portfolio, products."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import translation

from comptoir.catalogue.models import Product
from comptoir.core.models import Company, User
from comptoir.core.roles import Role
from comptoir.invoicing import validation
from comptoir.parties.models import Party
from comptoir.sales import actions
from comptoir.sales.models import Order, Quote
from tests import billing_fixtures
from tests.factories import AddressFactory, PartyFactory, ProductFactory

# The seller with every legal mention, shared with the payments and dunning tests.
company = billing_fixtures.company


@pytest.fixture(scope="session", autouse=True)
def _stop_schematron_worker() -> Any:
    yield
    validation.shutdown()


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _isolated_files_and_mail(settings: Any, tmp_path: Any) -> None:
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    settings.DATA_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LANGUAGE_CODE = "en"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    mail.outbox = []


@pytest.fixture
def assistant(make_user: Callable[..., User]) -> User:
    """The sales assistant, working in English so screen texts can be asserted."""
    return make_user(Role.SALES_ASSISTANT, language="en")


@pytest.fixture
def customer(company: Company, rep: User) -> Party:
    party = PartyFactory(
        name="Boulangerie Martin SARL", email="achats@martin.example", sales_rep=rep
    )
    AddressFactory(party=party, is_default=True)
    return party


@pytest.fixture
def other_customer(company: Company, other_rep: User) -> Party:
    party = PartyFactory(
        name="Garage Durand SAS", email="compta@durand.example", sales_rep=other_rep
    )
    AddressFactory(party=party, is_default=True)
    return party


@pytest.fixture
def paper(db: Any) -> Product:
    return ProductFactory(label="Ramette A4", sale_price=Decimal("4.9000"))


@pytest.fixture
def chair(db: Any) -> Product:
    return ProductFactory(label="Fauteuil ergonomique", sale_price=Decimal("189.0000"))


@pytest.fixture
def make_quote(assistant: User) -> Callable[..., Quote]:
    def make(party: Party, lines: list[dict[str, Any]], **values: Any) -> Quote:
        return actions.create_quote(party=party, by=assistant, lines=lines, **values)

    return make


@pytest.fixture
def accepted_quote(
    make_quote: Callable[..., Quote],
    customer: Party,
    paper: Product,
    chair: Product,
    assistant: User,
) -> Quote:
    quote = make_quote(
        customer,
        [
            {"product": paper, "quantity": Decimal("10")},
            {"product": chair, "quantity": Decimal("2")},
        ],
    )
    actions.send_quote(quote, by=assistant)
    return actions.accept_quote(quote, name="Jean Martin", ip="203.0.113.7")


@pytest.fixture
def order(accepted_quote: Quote, assistant: User) -> Order:
    return actions.create_order_from_quote(accepted_quote, by=assistant, customer_reference="PO-77")
