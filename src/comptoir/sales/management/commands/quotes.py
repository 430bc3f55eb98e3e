"""`comptoir quotes follow-up|expire`: the daily quote chores, for cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from comptoir.sales import actions


class Command(BaseCommand):
    help = "Create follow-up tasks for unanswered quotes, or expire quotes past their validity."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        follow = sub.add_parser(
            "follow-up", help="One task per quote sent and unanswered for QUOTE_FOLLOW_UP_DAYS."
        )
        follow.add_argument("--dry-run", action="store_true", help="List them, create nothing.")
        sub.add_parser("expire", help="Mark sent quotes past their validity date expired.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "expire":
            expired = actions.expire_quotes()
            self.stdout.write(f"{len(expired)} quote(s) expired")
            return
        dry_run = options["dry_run"]
        quotes = actions.create_follow_up_tasks(dry_run=dry_run)
        for quote in quotes:
            self.stdout.write(
                f"{quote.reference}\t{quote.party.name}\tsent {quote.sent_at:%Y-%m-%d}"
            )
        verb = "would get" if dry_run else "got"
        self.stdout.write(f"{len(quotes)} quote(s) {verb} a follow-up task")
