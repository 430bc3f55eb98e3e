"""Catalogue tests read English messages: users, anonymous visitors and plain code use English.

The French catalogue is filled in separately; pinning the language keeps these assertions
about wording true whatever it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation

from comptoir.core.models import User
from comptoir.core.roles import Role


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def _english_user(make_user: Callable[..., User], role: str) -> User:
    return make_user(role, language="en")


@pytest.fixture
def assistant(make_user: Callable[..., User]) -> User:
    return _english_user(make_user, Role.SALES_ASSISTANT)


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return _english_user(make_user, Role.SALES_MANAGER)


@pytest.fixture
def administrator(make_user: Callable[..., User]) -> User:
    return _english_user(make_user, Role.ADMINISTRATOR)


@pytest.fixture
def accountant(make_user: Callable[..., User]) -> User:
    return _english_user(make_user, Role.ACCOUNTANT)


@pytest.fixture
def rep(make_user: Callable[..., User]) -> User:
    return _english_user(make_user, Role.SALES_REP)


@pytest.fixture
def other_rep(make_user: Callable[..., User]) -> User:
    return _english_user(make_user, Role.SALES_REP)
