"""`comptoir dunning run|interest`: run the dunning of a date, or explain a late-interest figure."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from tqdm import tqdm

from comptoir.core.management.base import ComptoirCommand
from comptoir.core.money import format_amount
from comptoir.dunning.selectors import DECISIONS


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("%(value)r is not a date (YYYY-MM-DD).") % {"value": value}) from exc


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation as exc:
        raise CommandError(_("%(value)r is not a number.") % {"value": value}) from exc


class Command(ComptoirCommand):
    help = gettext_lazy(
        "Dunning: `run --date D [--dry-run]`, or `interest --amount A --due D --paid P`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        run = sub.add_parser("run", help=_("Chase every overdue customer as of a date."))
        run.add_argument("--date", required=True, help=_("Run date, YYYY-MM-DD."))
        run.add_argument("--dry-run", action="store_true", help=_("Show what would be sent."))
        run.add_argument("--no-progress", action="store_true", help=_("Hide the progress bar."))
        interest = sub.add_parser("interest", help=_("Compute late interest line by line."))
        interest.add_argument("--amount", required=True, help=_("Amount due incl. VAT."))
        interest.add_argument("--due", required=True, help=_("Due date, YYYY-MM-DD."))
        interest.add_argument("--paid", required=True, help=_("Payment (or counting) date."))
        interest.add_argument(
            "--rate", help=_("Contractual annual rate in %% (default: ECB + 10).")
        )
        interest.add_argument(
            "--partial",
            action="append",
            default=[],
            metavar="DATE:AMOUNT",
            help=_("A partial payment before --paid (repeatable)."),
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
                desc=_("Delivering"), unit=" msg", file=sys.stderr, disable=quiet or None
            ) as bar:
                report = run_dunning(on, by=None, dry_run=options["dry_run"], progress=bar.update)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        decisions = ", ".join(
            f"{DECISIONS.get(k, k)} {v}" for k, v in sorted(report.decisions.items())
        ) or _("nothing overdue")
        heading = _("Dunning of %(date)s (dry run)") if report.dry_run else _("Dunning of %(date)s")
        self.stdout.write(
            _("%(heading)s: %(decisions)s")
            % {
                "heading": heading % {"date": date_format(on, "SHORT_DATE_FORMAT")},
                "decisions": decisions,
            }
        )
        if report.dry_run:
            invoices_short = _("inv.")  # "3 inv.": the number of overdue invoices
            for row in report.planned:
                self.stdout.write(
                    f"  {row['party'][:40]:<40} {row['level'][:24]:<24} {row['channel']:<14}"
                    f" {row['items']:>3} {invoices_short} {format_amount(row['total_due']):>14} €"
                )
            return
        self.stdout.write(
            "  "
            + _(
                "reminders created %(created)s, emails sent %(emails)s, letters %(letters)s, "
                "calls to make %(calls)s, failed %(failed)s"
            )
            % {
                "created": report.created,
                "emails": report.emails_sent,
                "letters": report.letters,
                "calls": report.calls,
                "failed": report.failed,
            }
        )
        if report.outdated:
            self.stdout.write(
                self.style.WARNING(
                    "  "
                    + _(
                        "%(count)s reminder(s) written by an interrupted run were cancelled: "
                        "their invoices were paid or credited since. The next run reminds "
                        "with the amounts of its day."
                    )
                    % {"count": report.outdated}
                )
            )
        if report.uncertain:
            self.stdout.write(
                self.style.WARNING(
                    "  "
                    + _(
                        "%(count)s email(s) were being sent when a previous run stopped: "
                        "not sent again; check them in the run's page."
                    )
                    % {"count": report.uncertain}
                )
            )

    def interest(self, options: dict[str, Any]) -> None:
        from comptoir.dunning.actions import missing_rate_message
        from comptoir.dunning.calculations import late_interest
        from comptoir.dunning.rates import ecb_rates

        amount = _decimal(options["amount"])
        if amount <= 0:
            raise CommandError(_("The amount due must be above 0."))
        due = _date(options["due"])
        paid = _date(options["paid"])
        rate = _decimal(options["rate"]) if options.get("rate") else None
        if rate is not None and rate < 0:
            raise CommandError(_("The rate cannot be negative."))
        payments = []
        for text in options["partial"]:
            day, _sep, value = text.partition(":")
            payments.append((_date(day), _decimal(value)))
            if payments[-1][1] <= 0:
                raise CommandError(_("A partial payment must be above 0."))
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
            _("contractual rate %(rate)s %%") % {"rate": format_amount(rate, 2)}
            if rate is not None
            else _("ECB main refinancing rate + 10 points")
        )
        self.stdout.write(
            _("Amount due incl. VAT: %(amount)s €, due %(due)s, paid %(paid)s")
            % {
                "amount": format_amount(amount),
                "due": f"{due:%d/%m/%Y}",
                "paid": f"{paid:%d/%m/%Y}",
            }
        )
        self.stdout.write(
            _("Rate: %(basis)s; simple interest, actual days / 365") % {"basis": basis}
        )
        if not result.periods:
            self.stdout.write(_("Paid on time: no late interest, no indemnity."))
            return
        days_short = pgettext("days, abbreviated", "d")
        for period in result.periods:
            self.stdout.write(
                f"  {period.first_day:%d/%m/%Y} → {period.last_day:%d/%m/%Y}  {period.days:>4} {days_short}"
                f"  × {format_amount(period.principal)} € × {format_amount(period.rate, 2)} % / 365"
                f"  = {format_amount(period.interest):>10} €"
            )
        self.stdout.write(
            _("Late interest (%(days)s days): %(amount)s €")
            % {"days": result.days, "amount": format_amount(result.interest)}
        )
        self.stdout.write(
            _("Recovery indemnity (art. D441-5, no VAT): %(amount)s €")
            % {"amount": format_amount(result.indemnity)}
        )
        self.stdout.write(
            _("Total claimable: %(amount)s €") % {"amount": format_amount(result.total)}
        )
