"""Legal numbering: continuous series with no gap and no duplicate, even under concurrency.

A number is taken from a counter row locked in the caller's transaction: ``SELECT … FOR
UPDATE`` on PostgreSQL (waiting for the lock, never NOWAIT, so concurrent issuers queue up
instead of failing), and on SQLite the ``BEGIN IMMEDIATE`` that settings put on every atomic
block, which serialises writers. If the caller's transaction rolls back, the counter rolls
back with it: the number is not lost, it is given to the next issuer.
"""

from __future__ import annotations

from django.db import transaction

from comptoir.core.models import Company, NumberingCounter
from comptoir.core.selectors import current_company

# Digits after the year: FA-2026-000123. Six digits hold a million documents a year.
NUMBER_DIGITS = 6


class NumberingError(RuntimeError):
    """A number was asked for outside a transaction, where it could be lost."""


def format_number(series: str, year: int, sequence: int) -> str:
    """Return the printed legal number, e.g. ``FA-2026-000123``."""
    return f"{series}-{year}-{sequence:0{NUMBER_DIGITS}d}"


def next_number(series: str, year: int, *, company: Company | None = None) -> str:
    """Take the next number of a series inside the current transaction and return it."""
    return format_number(series, year, next_sequence(series, year, company=company))


def next_sequence(series: str, year: int, *, company: Company | None = None) -> int:
    """Take the next integer of a series (locked until the current transaction ends)."""
    if not transaction.get_connection().in_atomic_block:
        raise NumberingError("next_number() must run inside transaction.atomic()")
    company = company or current_company()
    key = (company.pk, series, year)
    taken = _increment(key)
    if taken is None:
        # ON CONFLICT DO NOTHING: the first issuer of a new year creates the row; a concurrent
        # one waits on the unique index until that insert commits, then increments it.
        NumberingCounter.objects.bulk_create(
            [NumberingCounter(company=company, series=series, year=year, last_number=0)],
            ignore_conflicts=True,
        )
        taken = _increment(key)
        if taken is None:
            raise NumberingError(f"no counter for {series} {year}")
    return taken


def _increment(key: tuple[int, str, int]) -> int | None:
    """Add one to a counter and return the new value, in one statement that locks the row.

    ``UPDATE … RETURNING`` rather than ``SELECT … FOR UPDATE`` then ``UPDATE``: the same row
    lock (PostgreSQL waits for it and then reads the committed value), one round trip
    instead of two. The statement's text is constant; only the key is a parameter.
    """
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(_INCREMENT_SQL, key)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


# The table of NumberingCounter (tests/core check that it is still its name).
_INCREMENT_SQL = (
    "UPDATE core_numberingcounter SET last_number = last_number + 1 "
    "WHERE company_id = %s AND series = %s AND year = %s RETURNING last_number"
)
