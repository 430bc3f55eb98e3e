"""`comptoir dunning run|interest`: run the dunning of a date, or explain a late-interest figure."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from comptoir.core.money import format_amount


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation as exc:
        raise CommandError(f"{value!r} is not a number") from exc


class Command(BaseCommand):
    help = "Dunning: `run --date D [--dry-run]`, or `interest --amount A --due D --paid P`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        run = sub.add_parser("run", help="Chase every overdue customer as of a date.")
        run.add_argument("--date", required=True, help="Run date, YYYY-MM-DD.")
        run.add_argument("--dry-run", action="store_true", help="Show what would be sent.")
        run.add_argument("--no-progress", action="store_true")
        interest = sub.add_parser("interest", help="Compute late interest line by line.")
        interest.add_argument("--amount", required=True, help="Amount due incl. VAT.")
        interest.add_argument("--due", required=True, help="Due date, YYYY-MM-DD.")
        interest.add_argument("--paid", required=True, help="Payment (or counting) date.")
        interest.add_argument("--rate", help="Contractual annual rate in %% (default: ECB + 10).")
        interest.add_argument(
            "--partial",
            action="append",
            default=[],
            metavar="DATE:AMOUNT",
            help="A partial payment before --paid (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "run":
            self.run(options)
        else:
            self.interest(options)

    def run(self, options: dict[str, Any]) -> None:
        from comptoir.dunning.actions import run_dunning

        on = _date(options["date"])
        quiet = options["no_progress"] or options["dry_run"]
        try:
            with tqdm(
                desc="Delivering", unit=" msg", file=sys.stderr, disable=quiet or None
            ) as bar:
                report = run_dunning(on, by=None, dry_run=options["dry_run"], progress=bar.update)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        decisions = (
            ", ".join(f"{k} {v}" for k, v in sorted(report.decisions.items())) or "nothing overdue"
        )
        self.stdout.write(
            f"Dunning {on.isoformat()}{' (dry run)' if report.dry_run else ''}: {decisions}"
        )
        if report.dry_run:
            for row in report.planned:
                self.stdout.write(
                    f"  {row['party'][:40]:<40} {row['level'][:24]:<24} {row['channel']:<14}"
                    f" {row['items']:>3} inv. {format_amount(row['total_due']):>14} €"
                )
            return
        self.stdout.write(
            f"  reminders created {report.created}, emails sent {report.emails_sent}, "
            f"letters {report.letters}, calls to make {report.calls}, failed {report.failed}"
        )
        if report.uncertain:
            self.stdout.write(
                self.style.WARNING(
                    f"  {report.uncertain} email(s) were being sent when a previous run stopped: "
                    "not sent again; check them in the run's page."
                )
            )

    def interest(self, options: dict[str, Any]) -> None:
        from comptoir.dunning.actions import missing_rate_message
        from comptoir.dunning.calculations import late_interest
        from comptoir.dunning.rates import ecb_rates

        amount = _decimal(options["amount"])
        due = _date(options["due"])
        paid = _date(options["paid"])
        rate = _decimal(options["rate"]) if options.get("rate") else None
        payments = []
        for text in options["partial"]:
            day, _sep, value = text.partition(":")
            payments.append((_date(day), _decimal(value)))
        try:
            result = late_interest(
                amount=amount,
                due=due,
                until=paid,
                payments=payments,
                rate=rate,
                ecb_rates=None if rate is not None else ecb_rates(),
            )
        except KeyError as exc:
            raise CommandError(missing_rate_message(exc)) from exc
        basis = (
            f"contractual rate {rate} %"
            if rate is not None
            else "ECB main refinancing rate + 10 points"
        )
        self.stdout.write(
            f"Amount due incl. VAT: {format_amount(amount)} €, due {due:%d/%m/%Y}, paid {paid:%d/%m/%Y}"
        )
        self.stdout.write(f"Rate: {basis}; simple interest, actual days / 365")
        if not result.periods:
            self.stdout.write("Paid on time: no late interest, no indemnity.")
            return
        for period in result.periods:
            self.stdout.write(
                f"  {period.first_day:%d/%m/%Y} → {period.last_day:%d/%m/%Y}  {period.days:>4} d"
                f"  × {format_amount(period.principal)} € × {period.rate} % / 365"
                f"  = {format_amount(period.interest):>10} €"
            )
        self.stdout.write(f"Late interest ({result.days} days): {format_amount(result.interest)} €")
        self.stdout.write(
            f"Recovery indemnity (art. D441-5, no VAT): {format_amount(result.indemnity)} €"
        )
        self.stdout.write(f"Total claimable: {format_amount(result.total)} €")
