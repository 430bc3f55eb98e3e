"""Legal numbering under concurrency: no duplicate, no gap, numbers in issue order, no lock
failure (concurrent issuers wait for the lock instead of failing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from comptoir.core.numbering import NumberingError, format_number, next_number
from tests.invoicing.concurrency import check_series, make_drafts

REPO = Path(__file__).resolve().parents[2]
PROCESSES = 8
INVOICES = 2000


def test_format_number() -> None:
    assert format_number("FA", 2026, 123) == "FA-2026-000123"


def test_increment_statement_names_the_counter_table() -> None:
    from comptoir.core import numbering
    from comptoir.core.models import NumberingCounter

    assert f"UPDATE {NumberingCounter._meta.db_table} " in numbering._INCREMENT_SQL


@pytest.mark.django_db
def test_numbers_follow_each_other_and_roll_back(company: Any) -> None:
    with transaction.atomic():
        assert next_number("FA", 2026) == "FA-2026-000001"
        assert next_number("FA", 2026) == "FA-2026-000002"
        assert next_number("AV", 2026) == "AV-2026-000001"
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        assert next_number("FA", 2026) == "FA-2026-000003"
        raise ZeroDivisionError
    with transaction.atomic():
        assert next_number("FA", 2026) == "FA-2026-000003"
        assert next_number("FA", 2027) == "FA-2027-000001"


@pytest.mark.django_db(transaction=True)
def test_number_outside_a_transaction_is_refused(company: Any) -> None:
    with pytest.raises(NumberingError):
        next_number("FA", 2026)


def _stats(stdout: str) -> dict[str, Any]:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_sqlite_threads_issue_without_duplicate_gap_or_lock_failure(tmp_path: Path) -> None:
    """8 threads on a SQLite file database (WAL, BEGIN IMMEDIATE) issue 400 invoices."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.invoicing.concurrency",
            "sqlite-threads",
            "--dir",
            str(tmp_path),
            "--count",
            "400",
            "--threads",
            "8",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    stats = _stats(result.stdout)
    assert stats["errors"] == []
    assert stats["issued"] == 400
    assert set(stats["series"]) == {"FA-2026", "FA-2027"}
    assert stats["rolled_back"] > 0
    assert stats["duplicates"] == 0 and stats["gaps"] == 0 and stats["out_of_order"] == 0
    assert stats["chain_gaps"] == 0 and stats["ledger_broken"] is None


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_postgres_processes_issue_2000_without_duplicate_gap_or_lock_failure() -> None:
    """8 processes issue 2,000 invoices together on PostgreSQL.

    5 % of the transactions roll back after taking their number (and are retried), and each
    process moves from 31 December to 1 January half-way. Issuing takes the fast path
    (numbering, totals, snapshot, hash chain; no PDF/XML): the locks are the same.
    """
    if connection.vendor != "postgresql":
        pytest.skip("DATABASE_URL is not PostgreSQL")
    ids = make_drafts(INVOICES)
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD'] or ''}@"
        f"{settings_dict['HOST'] or '127.0.0.1'}:{settings_dict['PORT'] or 5432}/"
        f"{settings_dict['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.invoicing.concurrency",
                "issue",
                "--ids",
                ",".join(map(str, ids[n::PROCESSES])),
                "--seed",
                str(n),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=900)
        assert worker.returncode == 0, stderr[-3000:]
        results.append(_stats(stdout))
    assert [e for r in results for e in r["errors"]] == []  # 0 lock failures, 0 errors
    assert sum(r["issued"] for r in results) == INVOICES
    assert sum(r["rolled_back"] for r in results) > 0
    stats = check_series()
    assert stats["issued"] == INVOICES
    assert set(stats["series"]) == {"FA-2026", "FA-2027"}
    assert stats["duplicates"] == 0 and stats["gaps"] == 0 and stats["out_of_order"] == 0
    assert stats["chain_gaps"] == 0 and stats["ledger_broken"] is None
