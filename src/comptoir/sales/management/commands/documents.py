"""`comptoir documents send|outbox|list|check`: email archived documents, check the archive."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from comptoir.core.management.base import ComptoirCommand
from comptoir.documents.actions import check_archive
from comptoir.documents.models import ArchivedDocument
from comptoir.sales import actions


class Command(ComptoirCommand):
    help = gettext_lazy(
        "Email archived documents (quotes, order acknowledgements, delivery notes, invoices)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        send = sub.add_parser("send", help=_("Email one archived document as an attachment."))
        send.add_argument(
            "--reference", required=True, help=_("e.g. FA-2026-000123, BL-2026-000004.")
        )
        send.add_argument("--to", required=True, help=_("Recipient email address."))
        send.add_argument("--subject", help=_("Instead of the template's subject."))
        send.add_argument("--body", help=_("Instead of the template's text."))
        sub.add_parser(
            "outbox",
            help=_(
                "Send the emails still pending (their process stopped before sending); for cron."
            ),
        )
        check = sub.add_parser(
            "check",
            help=_(
                "Check every archived file against its checksum; list files no document "
                "refers to (left by rolled-back transactions). Exit status 1 if a file is "
                "missing or altered."
            ),
        )
        check.add_argument(
            "--delete-orphans",
            action="store_true",
            help=_("Delete the files no document refers to, if older than a day."),
        )
        listing = sub.add_parser(
            "list", help=_("List the archived documents of a reference prefix.")
        )
        listing.add_argument("--reference", default="", help=_("Reference prefix, e.g. FA-2026."))

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "outbox":
            sent, failed = actions.deliver_pending_messages()
            self.stdout.write(
                _("%(sent)s email(s) sent, %(failed)s failed") % {"sent": sent, "failed": failed}
            )
            if failed:
                raise CommandError(
                    _("%(failed)s email(s) failed: see the customer's emails") % {"failed": failed}
                )
            return
        if options["action"] == "check":
            self.check_archive(delete=options["delete_orphans"])
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
            raise CommandError(
                _("No archived document has the reference %(reference)s.")
                % {"reference": options["reference"]}
            )
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
            raise CommandError(
                _("%(reference)s not sent: %(reason)s")
                % {
                    "reference": document.reference,
                    "reason": message.error or message.get_status_display(),
                }
            )
        self.stdout.write(
            _("%(reference)s sent to %(to)s")
            % {"reference": document.reference, "to": options["to"]}
        )

    def check_archive(self, *, delete: bool) -> None:
        before = timezone.now() - timedelta(days=1) if delete else None
        found = check_archive(delete_orphans_before=before)
        for reference in found.missing:
            self.stdout.write(_("missing") + f"\t{reference}")
        for reference in found.altered:
            self.stdout.write(_("altered") + f"\t{reference}")
        for path in found.orphans:
            state = _("deleted") if not path.exists() else _("orphan")
            self.stdout.write(f"{state}\t{path}")
        self.stdout.write(
            _(
                "%(checked)s document(s) checked: %(missing)s missing, %(altered)s altered, "
                "%(orphans)s file(s) without a document"
            )
            % {
                "checked": found.checked,
                "missing": len(found.missing),
                "altered": len(found.altered),
                "orphans": len(found.orphans),
            }
        )
        if found.missing or found.altered:
            raise CommandError(_("The archive does not match its records."))
