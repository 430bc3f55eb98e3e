"""`comptoir documents send|list`: email an archived document from the command line."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from comptoir.documents.models import ArchivedDocument
from comptoir.sales import actions


class Command(BaseCommand):
    help = "Email archived documents (quotes, order acknowledgements, delivery notes, invoices)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser("send", help="Email one archived document as an attachment.")
        send.add_argument("--reference", required=True, help="e.g. FA-2026-000123, BL-2026-000004.")
        send.add_argument("--to", required=True, help="Recipient email address.")
        send.add_argument("--subject", help="Instead of the template's subject.")
        send.add_argument("--body", help="Instead of the template's text.")
        sub.add_parser(
            "outbox",
            help="Send the emails still pending (their process stopped before sending); for cron.",
        )
        listing = sub.add_parser("list", help="List the archived documents of a reference prefix.")
        listing.add_argument("--reference", default="", help="Reference prefix, e.g. FA-2026.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "outbox":
            sent, failed = actions.deliver_pending_messages()
            self.stdout.write(f"{sent} email(s) sent, {failed} failed")
            if failed:
                raise CommandError(f"{failed} email(s) failed: see the customer's emails")
            return
        if options["action"] == "list":
            documents = ArchivedDocument.objects.filter(
                reference__startswith=options["reference"]
            ).order_by("reference")
            for document in documents.iterator():
                self.stdout.write(f"{document.reference}\t{document.kind}\t{document.checksum}")
            return
        document = ArchivedDocument.objects.filter(reference=options["reference"]).first()
        if document is None:
            raise CommandError(f"no archived document {options['reference']}")
        try:
            with transaction.atomic():
                message = actions.send_document(
                    document,
                    to=options["to"],
                    by=None,
                    subject=options.get("subject"),
                    body=options.get("body"),
                )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        # Normally sent as the transaction commits; deliver now if it has not gone yet
        # (an outer transaction, as in tests): delivery claims the row, so never twice.
        actions.deliver_outbox_message(message.pk)
        message.refresh_from_db()
        if message.status != "sent":
            raise CommandError(f"{document.reference} not sent: {message.error or message.status}")
        self.stdout.write(f"{document.reference} sent to {options['to']}")
