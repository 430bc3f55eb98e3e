"""Concurrent issuers for the numbering tests, run as separate processes or threads.

    python -m tests.invoicing.concurrency issue --ids 1,2,3 --seed 7
        (DATABASE_URL names the database) issue those drafts, print JSON stats;
    python -m tests.invoicing.concurrency sqlite-threads --dir DIR --count 400 --threads 8
        build a fresh SQLite file database in DIR, issue with threads, print JSON stats.

Issuing here is the fast path (``produce_documents=False``: numbering, totals, snapshot and
hash chain, no PDF/XML), because the test is about locks, numbers and the chain: rendering
would only make it slower without taking any other lock.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from datetime import date
from typing import Any

YEAR_END = date(2026, 12, 31)
NEW_YEAR = date(2027, 1, 1)
ROLLBACK_RATE = 0.05


class DeliberateRollback(Exception):
    """Raised after the number was taken, to roll the transaction back."""


def issue_all(ids: list[int], seed: int, switch_at: int) -> dict[str, Any]:
    """Issue the drafts in order; roll back 5 % of the attempts after the number is taken.

    The first ``switch_at`` drafts are dated 31 December, the rest 1 January: the year
    changes in the middle of the run.
    """
    from django.db import close_old_connections, transaction

    from comptoir.invoicing.actions import issue_invoice
    from comptoir.invoicing.models import Invoice

    rng = random.Random(seed)  # noqa: S311 - a reproducible test schedule, not a secret
    stats = {"issued": 0, "rolled_back": 0, "errors": [], "numbers_taken_then_rolled_back": 0}
    for position, pk in enumerate(ids):
        issue_date = YEAR_END if position < switch_at else NEW_YEAR
        while True:
            try:
                with transaction.atomic():
                    invoice = issue_invoice(
                        Invoice(pk=pk), by=None, issue_date=issue_date, produce_documents=False
                    )
                    if rng.random() < ROLLBACK_RATE:
                        assert invoice.number
                        raise DeliberateRollback
                stats["issued"] += 1
                break
            except DeliberateRollback:
                stats["rolled_back"] += 1
                stats["numbers_taken_then_rolled_back"] += 1
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                stats["errors"].append(f"{type(exc).__name__}: {exc}")
                break
    close_old_connections()
    return stats


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    import django

    django.setup()


def make_drafts(count: int) -> list[int]:
    """Create a complete company, one customer and ``count`` one-line drafts."""
    from decimal import Decimal

    from comptoir.core.selectors import current_company
    from comptoir.invoicing.models import Invoice, InvoiceLine
    from comptoir.parties.models import Party

    company = current_company()
    for name, value in {
        "legal_name": "Comptoir Démo SAS",
        "legal_form": "SAS",
        "share_capital_amount": Decimal("10000.00"),
        "siren": "732829320",
        "siret": "73282932000074",
        "rcs_city": "Lyon",
        "vat_number": "FR44732829320",
        "address_line1": "12 rue de la République",
        "postcode": "69002",
        "city": "Lyon",
    }.items():
        setattr(company, name, value)
    company.save()
    party = Party.objects.create(name="Client SA", siren="552100554", is_customer=True)
    invoices = Invoice.objects.bulk_create([Invoice(party=party) for _ in range(count)])
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                position=1,
                label="Article",
                quantity=Decimal(1 + n % 7),
                unit_price=Decimal("12.3400"),
                vat_rate=Decimal("20.00"),
            )
            for n, invoice in enumerate(invoices)
        ]
    )
    return [invoice.pk for invoice in invoices]


def check_series() -> dict[str, Any]:
    """Return duplicates, gaps and order problems of the issued numbers."""
    from collections import defaultdict

    from comptoir.invoicing.ledger import verify_ledger
    from comptoir.invoicing.models import Invoice

    rows = list(
        Invoice.objects.issued().order_by("chain_index").values_list("number", "chain_index")
    )
    by_series: dict[str, list[int]] = defaultdict(list)
    for number, _index in rows:
        series, year, sequence = number.rsplit("-", 2)
        by_series[f"{series}-{year}"].append(int(sequence))
    duplicates = sum(len(seq) - len(set(seq)) for seq in by_series.values())
    gaps = sum(max(seq) - len(set(seq)) for seq in by_series.values())
    out_of_order = sum(
        1 for seq in by_series.values() for a, b in zip(seq, seq[1:], strict=False) if b <= a
    )
    checked, broken = verify_ledger()
    return {
        "issued": len(rows),
        "series": {name: len(seq) for name, seq in by_series.items()},
        "duplicates": duplicates,
        "gaps": gaps,
        "out_of_order": out_of_order,
        "chain_gaps": (rows[-1][1] - len(rows)) if rows else 0,
        "ledger_checked": checked,
        "ledger_broken": str(broken) if broken else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue")
    issue.add_argument("--ids", required=True)
    issue.add_argument("--seed", type=int, default=0)
    threads = sub.add_parser("sqlite-threads")
    threads.add_argument("--dir", required=True)
    threads.add_argument("--count", type=int, default=400)
    threads.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    if args.command == "issue":
        _setup_django()
        ids = [int(pk) for pk in args.ids.split(",")]
        print(json.dumps(issue_all(ids, args.seed, switch_at=len(ids) // 2)))
        return

    os.environ["COMPTOIR_DATA_DIR"] = args.dir
    os.environ["DATABASE_URL"] = f"sqlite:///{args.dir}/concurrency.sqlite3"
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    ids = make_drafts(args.count)
    slices = [ids[n :: args.threads] for n in range(args.threads)]
    results: list[dict[str, Any]] = [{} for _ in slices]

    def run(n: int) -> None:
        results[n] = issue_all(slices[n], seed=n, switch_at=len(slices[n]) // 2)

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(n,)) for n in range(args.threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    summary = check_series()
    summary["seconds"] = round(time.monotonic() - started, 2)
    summary["rolled_back"] = sum(r["rolled_back"] for r in results)
    summary["errors"] = [e for r in results for e in r["errors"]]
    print(json.dumps(summary))


if __name__ == "__main__":
    sys.exit(main())
