"""Benchmark: a dunning run over 100,000 open invoices of 20,000 customers.

    .venv/bin/python bench/dunning.py                      # SQLite in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/dunning.py
    taskset -c 0 .venv/bin/python bench/dunning.py         # one core

It measures `run_dunning` (levels for every customer, one grouped reminder each with its late
interest, the outbox written, every email built and serialised as the SMTP backend would
send it, and the history entries written), a second run the same day (which must do nothing), and next to them
a naive loop that reads each invoice, its payments and its customer's settings one ORM query
at a time.

The invoices are bulk-inserted as issued rows (number, chain index, totals) with their
settlement rows: issuing 100,000 real Factur-X invoices would take about an hour and is
measured by bench/invoicing.py. This shortcut exists only here. The bench policy sends emails
at every level except the call (letters render with Typst at ~30/s, measured apart on a
sample), so the run's figure is the engine's, not the PDF renderer's.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "20000"))
INVOICES = int(os.environ.get("BENCH_INVOICES", "100000"))
NAIVE_SAMPLE = int(os.environ.get("BENCH_NAIVE_SAMPLE", "20000"))
RUN_DATE = date(2026, 6, 1)

work = Path(tempfile.mkdtemp(prefix="comptoir-bench-dunning-"))
os.environ.setdefault("COMPTOIR_DATA_DIR", str(work))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
os.environ.setdefault("COMPTOIR_DEBUG", "0")  # as in production: no query log
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

# Serialise every email exactly as the SMTP backend does before writing it to the socket, and
# count it: the locmem backend would add a deep copy per message that no real backend makes.
settings.EMAIL_BACKEND = "__main__.SerialisingBackend"


class SerialisingBackend:
    sent = 0

    def __init__(self, **kwargs: object) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send_messages(self, messages: list) -> int:  # type: ignore[type-arg]
        for message in messages:
            message.message().as_bytes(linesep="\r\n")
        SerialisingBackend.sent += len(messages)
        return len(messages)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build() -> None:
    from comptoir.core.selectors import current_company
    from comptoir.dunning.models import DunningLevel, DunningPolicy
    from comptoir.invoicing.models import Invoice, InvoiceKind
    from comptoir.invoicing.states import InvoiceStatus
    from comptoir.parties.models import Contact, Party
    from comptoir.payments.models import InvoiceSettlement, Payment

    company = current_company()
    company.legal_name = "Bench SAS"
    company.iban = "FR7630006000011234567890189"
    company.save()
    DunningPolicy.objects.all().delete()
    policy = DunningPolicy.objects.create(name="Bench", is_default=True)
    body = (
        "Bonjour,\n{% for item in items %}- {{ item.number }} échue le {{ item.due_date }} : "
        "{{ item.open }} €\n{% endfor %}Total : {{ total_due }} €{% if interest != '0,00' %}, "
        "intérêts {{ interest }} €, indemnité {{ indemnity }} €{% endif %}.\n{{ company }}"
    )
    for rank, delay, channel, claims in [
        (1, 5, "email", False),
        (2, 15, "email", False),
        (3, 25, "phone", False),
        (4, 35, "email", True),
        (5, 50, "email", True),
    ]:
        DunningLevel.objects.create(
            policy=policy,
            rank=rank,
            name=f"Niveau {rank}",
            delay_days=delay,
            channel=channel,
            subject="Relance {{ count }} facture(s)",
            body=body,
            claim_interest=claims,
            claim_indemnity=claims,
        )
    rng = random.Random(2026)
    parties = [
        Party(
            name=f"Client {n:05d} SARL",
            is_customer=True,
            email=f"c{n}@bench.example",
            postcode="69002",
            city="Lyon",
            name_key=f"CLIENT {n:05d}",
        )
        for n in range(CUSTOMERS)
    ]
    with transaction.atomic():
        Party.objects.bulk_create(parties, batch_size=2000)
    party_ids = list(Party.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        Contact.objects.bulk_create(
            [
                Contact(
                    party_id=pk,
                    last_name="Compta",
                    email=f"compta{pk}@bench.example",
                    functions=["billing"],
                )
                for pk in party_ids
            ],
            batch_size=2000,
        )
    issue_start = RUN_DATE - timedelta(days=150)
    invoices = []
    for n in range(INVOICES):
        issued = issue_start + timedelta(days=rng.randint(0, 140))
        total = Decimal(rng.randint(1000, 500000)) / 100
        invoices.append(
            Invoice(
                kind=InvoiceKind.INVOICE,
                status=InvoiceStatus.ISSUED,
                number=f"FA-2026-{n + 1:06d}",
                issue_date=issued,
                supply_date=issued,
                due_date=issued + timedelta(days=30),
                party_id=party_ids[n % CUSTOMERS],
                buyer_name=f"Client {n % CUSTOMERS:05d} SARL",
                chain_index=n + 1,
                tax_basis_amount=(total / Decimal("1.2")).quantize(Decimal("0.01")),
                total_amount=total,
                due_amount=total,
                hash="bench",
            )
        )
    log(f"inserting {INVOICES} issued-looking invoices…")
    with transaction.atomic():
        Invoice.objects.bulk_create(invoices, batch_size=2000)
    rows = Invoice.objects.values_list(
        "pk", "party_id", "number", "issue_date", "due_date", "due_amount"
    )
    settlements = []
    payments = []
    for pk, party_id, number, issued, due, total in rows.iterator(chunk_size=5000):
        paid = Decimal("0.00")
        roll = rng.random()
        if roll < 0.15:
            paid = total
        elif roll < 0.25:
            paid = (total / 2).quantize(Decimal("0.01"))
        settlements.append(
            InvoiceSettlement(
                invoice_id=pk,
                party_id=party_id,
                kind="invoice",
                number=number,
                issue_date=issued,
                due_date=due,
                total_amount=total,
                paid_amount=paid,
                open_amount=total - paid,
                state="paid" if paid == total else ("partially_paid" if paid else "issued"),
                last_payment_date=due - timedelta(days=5) if paid else None,
            )
        )
        if paid:
            payments.append(
                Payment(
                    party_id=party_id,
                    method="transfer",
                    date=due - timedelta(days=5),
                    amount=paid,
                    allocated_amount=paid,
                )
            )
    with transaction.atomic():
        InvoiceSettlement.objects.bulk_create(settlements, batch_size=2000)
        Payment.objects.bulk_create(payments, batch_size=2000)


def naive_loop(limit: int) -> int:
    """The obvious per-invoice ORM code: one invoice at a time, its payments, its customer."""
    from comptoir.dunning.calculations import late_interest, level_reached
    from comptoir.dunning.models import DunningMessage, DunningPolicy, PartyDunning
    from comptoir.dunning.rates import ecb_rates
    from comptoir.invoicing.models import Invoice
    from comptoir.payments.models import InvoiceSettlement

    policy = DunningPolicy.objects.get(is_default=True)
    decided = 0
    for invoice in Invoice.objects.filter(status="issued").order_by("pk")[:limit]:
        settlement = InvoiceSettlement.objects.get(invoice=invoice)
        if settlement.open_amount <= 0 or invoice.due_date >= RUN_DATE:
            continue
        party = invoice.party
        setting = PartyDunning.objects.filter(party=party).first()
        if setting and (setting.excluded or setting.disputed):
            continue
        levels = list(policy.levels.order_by("rank"))
        index = level_reached((RUN_DATE - invoice.due_date).days, [lv.delay_days for lv in levels])
        if index is None:
            continue
        DunningMessage.objects.filter(party=party, level=levels[index]).exists()
        if levels[index].claim_interest:
            late_interest(
                amount=settlement.open_amount,
                due=invoice.due_date,
                until=RUN_DATE,
                ecb_rates=ecb_rates(),
            )
        decided += 1
    return decided


def letters_per_second(sample: int = 20) -> float:
    from comptoir.documents.rendering import render_pdf
    from comptoir.dunning.actions import letter_data
    from comptoir.dunning.models import DunningMessage

    messages = list(DunningMessage.objects.select_related("party", "level")[:sample])
    start = time.perf_counter()
    for message in messages:
        render_pdf("dunning_letter.typ", letter_data(message))
    return len(messages) / (time.perf_counter() - start)


PHASES: dict[str, float] = {}


def server_cpu() -> float:
    """Return the CPU seconds used so far by this connection's PostgreSQL backend (0 on SQLite,
    whose work is already in this process's CPU time)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(module: object, name: str) -> None:
    """Wrap module.name to add its wall time to PHASES (to show where a run spends it)."""
    original = getattr(module, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            PHASES[name] = PHASES.get(name, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def main() -> None:
    from comptoir.dunning import actions
    from comptoir.dunning.actions import run_dunning

    for name in ("plan_run", "write_outbox", "deliver_outbox"):
        timed(actions, name)

    vendor = connection.vendor
    log(f"database: {vendor}; migrating…")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    build()
    build_time = time.perf_counter() - started
    started, cpu, db_cpu = time.perf_counter(), time.process_time(), server_cpu()
    report = run_dunning(RUN_DATE, by=None)
    run_time, run_cpu = time.perf_counter() - started, time.process_time() - cpu
    run_db_cpu = server_cpu() - db_cpu
    phases = dict(PHASES)
    started, cpu = time.perf_counter(), time.process_time()
    again = run_dunning(RUN_DATE, by=None)
    again_time, again_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert again.created == 0 and again.emails_sent == 0
    started, cpu = time.perf_counter(), time.process_time()
    decided = naive_loop(NAIVE_SAMPLE)
    naive_time, naive_cpu = time.perf_counter() - started, time.process_time() - cpu
    naive_full = naive_time * INVOICES / NAIVE_SAMPLE
    naive_full_cpu = naive_cpu * INVOICES / NAIVE_SAMPLE
    rate = letters_per_second()
    from comptoir.payments.models import InvoiceSettlement

    open_invoices = InvoiceSettlement.objects.filter(open_amount__gt=0).count()
    print()
    print(
        f"Dunning bench — {vendor}, {CUSTOMERS:,} customers, {INVOICES:,} invoices "
        f"({open_invoices:,} open), run date {RUN_DATE}"
    )
    print(f"{'step':<56}{'wall s':>10}{'CPU s':>10}")
    print("-" * 76)
    print(f"{'build (bulk insert, not timed against the target)':<56}{build_time:>10.1f}")
    print(
        f"{'run_dunning: plan + outbox + deliver + history':<56}{run_time:>10.1f}{run_cpu:>10.1f}"
    )
    print(f"{'  second run the same day (nothing to do)':<56}{again_time:>10.1f}{again_cpu:>10.1f}")
    sample = f"naive per-invoice ORM loop, {NAIVE_SAMPLE:,} invoices"
    print(f"{sample:<56}{naive_time:>10.1f}{naive_cpu:>10.1f}")
    extrapolated = f"  … extrapolated to {INVOICES:,} invoices"
    print(f"{extrapolated:<56}{naive_full:>10.1f}{naive_full_cpu:>10.1f}")
    print("-" * 76)
    print(
        f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
        "CPU s is this process's"
    )
    if vendor == "postgresql":
        print(
            f"  PostgreSQL backend CPU during the run: {run_db_cpu:.1f} s "
            f"(run CPU, both processes: {run_cpu + run_db_cpu:.1f} s)"
        )
    print("  phases (wall s): " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()))
    print(f"decisions: {report.decisions}")
    print(
        f"reminders created {report.created:,}, emails delivered {report.emails_sent:,} "
        f"({SerialisingBackend.sent:,} serialised by the mail backend), calls {report.calls:,}"
    )
    print(f"naive loop decided {decided:,} invoices of its sample")
    print(
        f"speed-up over the naive loop: ×{naive_full / run_time:.0f} wall, "
        f"×{naive_full_cpu / run_cpu:.0f} CPU"
    )
    print(f"letters (Typst PDF) rendered apart: {rate:.1f}/s")
    target = 30 if vendor == "sqlite" else 20
    verdict = "OK" if run_time < target else "OVER"
    total_cpu = run_cpu + (run_db_cpu if vendor == "postgresql" else 0.0)
    print(
        f"target < {target} s on {vendor}: wall {verdict}, "
        f"CPU {'OK' if total_cpu < target else 'OVER'} ({total_cpu:.1f} s)"
    )


if __name__ == "__main__":
    main()
