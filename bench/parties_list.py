"""Benchmark the parties list page and the API list on the large demo (100,000 parties).

Usage: .venv/bin/python bench/parties_list.py [--db sqlite,postgres] [--requests 200]

For each database it builds the large demo once (kept in bench/out/ for SQLite, database
`comptoir_bench` on PostgreSQL), then times filtered, sorted list pages of 50 rows and API
pages in-process with Django's test client, and prints p50/p95 against the 150 ms target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGET_P95_MS = 150.0
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgres://postgres@127.0.0.1:5432/comptoir_bench"

# Filtered, sorted views a user actually opens: role filter + sort, a rep's portfolio,
# a text search, a deep page.
PAGE_QUERIES = [
    "role=customer&sort=name",
    "role=prospect&sort=-city",
    "q=martin&sort=name",
    "role=customer&sort=postcode&page=40",
    "role=customer&q=lyon",
]
API_QUERIES = ["role=customer", "role=prospect&page=20", "q=martin", "role=supplier"]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def worker(requests: int) -> dict[str, object]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    from comptoir.core.actions import create_api_token
    from comptoir.core.models import User
    from comptoir.parties.models import Party

    call_command("migrate", interactive=False, verbosity=0)
    if Party.objects.count() < 100_000:
        started = time.perf_counter()
        with open(os.devnull, "w") as quiet:
            call_command("demo", no_serve=True, size="large", reset=True, stdout=quiet)
        build_s = time.perf_counter() - started
    else:
        build_s = 0.0
    setup_test_environment()
    assistant = User.objects.get(username="sophie")
    client = Client()
    client.force_login(assistant)
    _token, raw = create_api_token(assistant, name="bench", by=assistant)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    results: dict[str, object] = {"parties": Party.objects.count(), "build_s": build_s}
    for name, make_request, queries in (
        ("list page", lambda q: client.get(f"/parties/?{q}"), PAGE_QUERIES),
        ("API list", lambda q: api.get(f"/api/v1/parties?{q}"), API_QUERIES),
    ):
        for q in queries:  # warm caches and connections
            assert make_request(q).status_code == 200
        timings = []
        for i in range(requests):
            q = queries[i % len(queries)]
            started = time.perf_counter()
            response = make_request(q)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (q, response.status_code)
        results[name] = {
            "p50": statistics.median(timings),
            "p95": percentile(timings, 95),
            "max": max(timings),
        }
    return results


def run_for(db: str, requests: int) -> dict[str, object]:
    env = dict(os.environ)
    OUT.mkdir(parents=True, exist_ok=True)
    env["COMPTOIR_DATA_DIR"] = str(OUT / f"data-{db}")
    if db == "postgres":
        subprocess.run(
            ["psql", PG_ADMIN_URL, "-qc", "CREATE DATABASE comptoir_bench"],
            capture_output=True,
            check=False,
        )
        env["DATABASE_URL"] = PG_URL
    else:
        env.pop("DATABASE_URL", None)
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", "--requests", str(requests)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        sys.exit(f"{db} worker failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.requests)))
        return
    rows = []
    for db in args.db.split(","):
        print(
            f"… {db}: building the large demo if needed and timing {args.requests} requests",
            file=sys.stderr,
        )
        result = run_for(db, args.requests)
        for name in ("list page", "API list"):
            stats = result[name]
            assert isinstance(stats, dict)
            rows.append((db, name, result["parties"], stats["p50"], stats["p95"], stats["max"]))
    print(
        f"\n{'database':<10} {'endpoint':<10} {'parties':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target p95 < {TARGET_P95_MS:.0f} ms"
    )
    for db, name, parties, p50, p95, worst in rows:
        verdict = "ok" if p95 < TARGET_P95_MS else "MISSED"
        print(f"{db:<10} {name:<10} {parties:>8} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f}  {verdict}")


if __name__ == "__main__":
    main()
