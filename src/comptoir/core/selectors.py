"""Core reads with business meaning."""

from __future__ import annotations

from typing import Any

from comptoir.core.models import Company


def current_company() -> Company:
    """Return the seller's profile (created empty the first time)."""
    company = Company.objects.order_by("pk").first()
    if company is None:
        company, _created = Company.objects.get_or_create(pk=1)
    return company


# Apps register tiles for the home page: callables taking the user and returning
# a dict(title, value, url) or None. Later issues (dunning, reporting) add theirs.
HOME_TILES: list[Any] = []


def home_tiles(user: Any) -> list[dict[str, Any]]:
    tiles = []
    for tile in HOME_TILES:
        value = tile(user)
        if value is not None:
            tiles.append(value)
    return tiles
