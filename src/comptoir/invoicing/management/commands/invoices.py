"""`comptoir invoices export`: write issued documents as Factur-X PDF, CII or UBL files."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from tqdm import tqdm

from comptoir.core.management.base import ComptoirCommand, os_error_reason
from comptoir.invoicing import selectors
from comptoir.invoicing.batch import add_run_arguments, handle_run
from comptoir.invoicing.exports import export_document

FORMATS = ("facturx", "cii", "ubl")


def iso_date(value: str) -> date:
    """Read a YYYY-MM-DD argument; argparse shows the message of a bad one."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)r is not a date: expected YYYY-MM-DD.") % {"value": value}
        ) from None


def _out_folder(raw: str) -> Path:
    """Create the output folder, or say in one line why it cannot be used."""
    out = Path(raw)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(
            _("Cannot write into %(path)s: %(reason)s.")
            % {"path": raw, "reason": os_error_reason(exc)}
        ) from None
    return out


class Command(ComptoirCommand):
    help = gettext_lazy("Work with issued invoices and credit notes.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add_run_arguments(sub)
        # The run's --until too: "expected YYYY-MM-DD" rather than "invalid fromisoformat value".
        for action in sub.choices["run"]._actions:
            if action.type == date.fromisoformat:
                action.type = iso_date
        export = sub.add_parser("export", help=_("Write issued documents to a folder."))
        export.add_argument("--format", choices=FORMATS, required=True)
        export.add_argument("--out", required=True, help=_("Folder to write into (created)."))
        which = export.add_mutually_exclusive_group()
        which.add_argument("--number", help=_("One document, e.g. FA-2026-000123."))
        which.add_argument(
            "--since", type=iso_date, help=_("Documents issued on or after YYYY-MM-DD.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "run":
            return handle_run(self, options)
        out = _out_folder(options["out"])
        documents = selectors.issued_documents(
            number=options.get("number"), since=options.get("since")
        )
        if options.get("number") and not documents.exists():
            raise CommandError(
                _("No issued document is numbered %(number)s.") % {"number": options["number"]}
            )
        count = 0
        for invoice in tqdm(
            documents.iterator(chunk_size=200),
            total=documents.count(),
            disable=not self.stdout.isatty(),
            unit="doc",
        ):
            filename, content = export_document(invoice, options["format"])
            try:
                (out / filename).write_bytes(content)
            except OSError as exc:
                raise CommandError(
                    _("Cannot write %(path)s: %(reason)s.")
                    % {"path": out / filename, "reason": os_error_reason(exc)}
                ) from None
            count += 1
        self.stdout.write(
            ngettext(
                "%(count)d file written to %(folder)s",
                "%(count)d files written to %(folder)s",
                count,
            )
            % {"count": count, "folder": out}
        )
