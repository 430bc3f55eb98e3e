"""Core reads with business meaning."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from comptoir.core.models import Company, WorkerHeartbeat
from comptoir.core.prepared import PreparedLookup

# A worker writes its heartbeat every HEARTBEAT_SECONDS; one not seen for WORKER_GONE_AFTER
# is taken as stopped (a few missed beats: a busy database may delay one).
HEARTBEAT_SECONDS = 5
WORKER_GONE_AFTER = timedelta(seconds=30)


def current_company() -> Company:
    """Return the seller's profile (created empty the first time)."""
    company = _COMPANY.first()
    if company is None:
        company, _created = Company.objects.get_or_create(pk=1)
    return company


# Read on every document issued: compiled once (comptoir.core.prepared).
_COMPANY = PreparedLookup[Company](lambda: Company.objects.order_by("pk")[:1])


def site_url(request: Any = None) -> str:
    """Return the address customers reach the site at.

    ``COMPTOIR_SITE_URL`` when it is set; otherwise, serving a web request, the host that
    request came to (the port the server really listens on); else the ``SITE_URL`` default
    (command line, background tasks).
    """
    if request is not None and not settings.SITE_URL_EXPLICIT:
        return str(request.build_absolute_uri("/")).rstrip("/")
    return str(settings.SITE_URL).rstrip("/")


def worker_running() -> bool:
    """Tell whether a background worker gave a sign of life recently."""
    since = timezone.now() - WORKER_GONE_AFTER
    return WorkerHeartbeat.objects.filter(seen_at__gte=since).exists()


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
