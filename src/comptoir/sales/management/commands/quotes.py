"""`comptoir quotes follow-up|expire`: the daily quote chores, for cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from comptoir.core.management.base import ComptoirCommand
from comptoir.sales import actions


class Command(ComptoirCommand):
    help = gettext_lazy(
        "Create follow-up tasks for unanswered quotes, or expire quotes past their validity."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        follow = sub.add_parser(
            "follow-up", help=_("One task per quote sent and unanswered for QUOTE_FOLLOW_UP_DAYS.")
        )
        follow.add_argument("--dry-run", action="store_true", help=_("List them, create nothing."))
        sub.add_parser("expire", help=_("Mark sent quotes past their validity date expired."))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "expire":
            expired = actions.expire_quotes()
            self.stdout.write(
                ngettext("%(count)d quote expired", "%(count)d quotes expired", len(expired))
                % {"count": len(expired)}
            )
            return
        dry_run = options["dry_run"]
        quotes = actions.create_follow_up_tasks(dry_run=dry_run)
        for quote in quotes:
            sent = _("sent %(date)s") % {"date": date_format(quote.sent_at, "SHORT_DATE_FORMAT")}
            self.stdout.write(f"{quote.reference}\t{quote.party.name}\t{sent}")
        if dry_run:
            text = ngettext(
                "%(count)d quote would get a follow-up task",
                "%(count)d quotes would get a follow-up task",
                len(quotes),
            )
        else:
            text = ngettext(
                "%(count)d quote got a follow-up task",
                "%(count)d quotes got a follow-up task",
                len(quotes),
            )
        self.stdout.write(text % {"count": len(quotes)})
