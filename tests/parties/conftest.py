"""Parties tests read the English messages (the msgids), whatever the French catalogue says."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation

from comptoir.core.models import User


@pytest.fixture
def make_user(make_user: Callable[..., User]) -> Callable[..., User]:
    def make(*args: Any, **fields: Any) -> User:
        fields.setdefault("language", "en")
        return make_user(*args, **fields)

    return make


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield
