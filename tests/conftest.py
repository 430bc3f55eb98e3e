"""Shared fixtures: users of every role and logged-in clients."""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from comptoir.core.models import User
from comptoir.core.roles import Role

# Hypothesis checks properties, not speed: under CI's parallel load (two workers on two
# cores, browsers) an example may take longer than its 200 ms default deadline and fail a
# correct test. Speed is measured in bench/.
hypothesis_settings.register_profile("comptoir", deadline=None)
hypothesis_settings.load_profile("comptoir")

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    """Read messages in English: wording assertions must not depend on the French catalogue.

    A test of the French UI creates its user with `language="fr"` (the middleware then
    activates French for that user's requests) or uses `translation.override("fr")`.
    """
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


# Rows that data migrations seed. A transactional test (browser, concurrency) ends with a
# flush that empties every table, so the tests after it on the same worker get them back.
SEEDING_MIGRATIONS = [
    ("comptoir.catalogue.migrations.0002_seed_vat_rates", "seed_vat_rates", "catalogue.VatRate"),
    (
        "comptoir.customerfile.migrations.0002_seed_processing_register",
        "seed",
        "customerfile.ProcessingActivity",
    ),
    (
        "comptoir.dunning.migrations.0002_default_policy",
        "create_default_policy",
        "dunning.DunningPolicy",
    ),
]


@pytest.fixture(autouse=True)
def _seeded_reference_data(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("django_db") is not None:
        request.getfixturevalue("_django_db_helper")
    elif "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    elif "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    from django.apps import apps

    for module, function, model in SEEDING_MIGRATIONS:
        if not apps.get_model(model).objects.exists():
            getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    # Argon2 is the production hasher (tested on its own); MD5 keeps the suite fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(role: str = Role.SALES_ASSISTANT, **fields: Any) -> User:
        n = next(_counter)
        fields.setdefault("username", f"{role}{n}")
        fields.setdefault("first_name", role.replace("_", " ").title())
        fields.setdefault("last_name", f"N{n}")
        fields.setdefault("email", f"{fields['username']}@example.com")
        fields.setdefault("language", "en")
        user = User(role=role, **fields)
        user.set_password("correct horse battery staple")
        user.save()
        return user

    return make


@pytest.fixture
def assistant(make_user: Callable[..., User]) -> User:
    return make_user(Role.SALES_ASSISTANT)


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user(Role.SALES_MANAGER)


@pytest.fixture
def administrator(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMINISTRATOR)


@pytest.fixture
def accountant(make_user: Callable[..., User]) -> User:
    return make_user(Role.ACCOUNTANT)


@pytest.fixture
def rep(make_user: Callable[..., User]) -> User:
    return make_user(Role.SALES_REP)


@pytest.fixture
def other_rep(make_user: Callable[..., User]) -> User:
    return make_user(Role.SALES_REP)


@pytest.fixture
def client_for(db: Any) -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_client_for(db: Any) -> Callable[[User], Client]:
    """A client that sends a fresh API token of the given user."""
    from comptoir.core.actions import create_api_token

    def make(user: User) -> Client:
        _token, raw = create_api_token(user, name="test", by=user)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    return make
