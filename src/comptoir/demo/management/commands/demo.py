"""`comptoir demo`: migrate, build the demo company once, print the logins and serve."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandParser
from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from tqdm import tqdm

from comptoir.core.management.base import ComptoirCommand
from comptoir.demo.builder import build_demo, demo_exists

# The demo report's counts, in words.
COUNT_LABELS = {
    "parties": gettext_lazy("parties"),
    "products": gettext_lazy("products"),
    "families": gettext_lazy("families"),
    "price lists": gettext_lazy("price lists"),
    "quotes": gettext_lazy("quotes"),
    "orders": gettext_lazy("orders"),
    "deliveries": gettext_lazy("deliveries"),
    "invoices": gettext_lazy("invoices"),
    "credit notes": gettext_lazy("credit notes"),
    "late payers": gettext_lazy("late payers"),
    "follow-up tasks": gettext_lazy("follow-up tasks"),
    "payments": gettext_lazy("payments"),
    "open invoices": gettext_lazy("open invoices"),
    "bank lines to match": gettext_lazy("bank lines to match"),
}


class Command(ComptoirCommand):
    needs_database = False  # it migrates the database itself
    help = gettext_lazy(
        "Build the demo company (Bureau & Cie) on the configured database and serve it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help=_("Build the data, then stop."))
        parser.add_argument(
            "--seed", type=int, default=2026, help=_("Random seed (same seed, same data).")
        )
        parser.add_argument(
            "--size",
            choices=["small", "large"],
            default="small",
            help=_("small: ~300 customers; large: 100,000 parties for benchmarks."),
        )
        parser.add_argument(
            "--reset", action="store_true", help=_("Empty the database first and rebuild.")
        )
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if options["reset"]:
            # Unapply and reapply every migration rather than flush: flush would also drop
            # the rows that data migrations seed (VAT rates).
            call_command("migrate", "core", "zero", interactive=False, verbosity=0)
            call_command("migrate", interactive=False, verbosity=0)
        if demo_exists():
            self.stdout.write(_("The demo company is already built (use --reset to rebuild it)."))
        else:
            total = 100_000 if options["size"] == "large" else 320
            with tqdm(total=total, desc=_("Parties"), unit=" rows", disable=None) as bar:
                report = build_demo(seed=options["seed"], size=options["size"], progress=bar.update)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")  # fresh planner statistics for the new data
            counts = ", ".join(
                f"{value} {COUNT_LABELS.get(name, name)}" for name, value in report.counts.items()
            )
            self.stdout.write(
                self.style.SUCCESS(_("Demo company built: %(counts)s.") % {"counts": counts})
            )
        self.print_logins()
        if not options["no_serve"]:
            call_command("serve", port=options["port"])

    def print_logins(self) -> None:
        from comptoir.demo.builder import DEMO_PASSWORD, USERS

        self.stdout.write(
            "\n" + _("Logins (password for all: %(password)s)") % {"password": DEMO_PASSWORD}
        )
        for username, first, last, role in USERS:
            self.stdout.write(f"  {username:<10} {first} {last} — {role.label}")
