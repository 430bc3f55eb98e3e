"""Core tests read English messages unless a test sets a language on purpose.

The French catalogue is filled in separately; pinning the language keeps these wording
assertions true whatever it holds. Users default to English here; a test that checks the
French UI creates its user with `language="fr"`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation

from comptoir.core.models import User


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def make_user(make_user: Callable[..., User]) -> Callable[..., User]:
    def make(*args: Any, **fields: Any) -> User:
        fields.setdefault("language", "en")
        return make_user(*args, **fields)

    return make
