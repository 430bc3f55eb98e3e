"""`comptoir invoices export`: write issued documents as Factur-X PDF, CII or UBL files."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
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


def not_empty(value: str) -> str:
    """Refuse an empty value: `--out ""` must not mean the current folder, nor `--number ""`
    every document."""
    if not value.strip():
        raise argparse.ArgumentTypeError(_("an empty value is not allowed"))
    return value.strip()


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


def _archive_problem(number: str, error: Exception) -> str:
    """Say in one phrase why a document's archived file could not be read."""
    if isinstance(error, ValidationError):
        reason = _("its archived file does not match its checksum")
    elif isinstance(error, FileNotFoundError | LookupError):
        reason = _("its archived file is missing")
    else:
        reason = os_error_reason(error) if isinstance(error, OSError) else str(error)
    return f"{number} ({reason})"


class Command(ComptoirCommand):
    help = gettext_lazy("Work with issued invoices and credit notes.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add_run_arguments(sub)
        # The run's --until too: "expected YYYY-MM-DD" rather than "invalid fromisoformat value".
        for action in sub.choices["run"]._actions:
            if action.type == date.fromisoformat:
                action.type = iso_date
        sub.choices["run"].description = _(
            "Invoice every delivered, uninvoiced order line, one invoice per customer and "
            "order grouping, and issue it. Safe to stop and run again: nothing is invoiced twice."
        )
        export = sub.add_parser(
            "export",
            help=_("Write issued documents to a folder."),
            description=_(
                "Write issued invoices and credit notes to a folder: the archived Factur-X "
                "PDF, or the CII or UBL XML. Every issued document unless --number or --since."
            ),
        )
        export.add_argument(
            "--format",
            choices=FORMATS,
            required=True,
            help=_("facturx: the archived PDF/A-3 with its XML; cii or ubl: the XML alone."),
        )
        export.add_argument(
            "--out", type=not_empty, required=True, help=_("Folder to write into (created).")
        )
        which = export.add_mutually_exclusive_group()
        which.add_argument("--number", type=not_empty, help=_("One document, e.g. FA-2026-000123."))
        which.add_argument(
            "--since", type=iso_date, help=_("Documents issued on or after YYYY-MM-DD.")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "run":
            return handle_run(self, options)
        documents = selectors.issued_documents(
            number=options.get("number"), since=options.get("since")
        )
        if options.get("number") and not documents.exists():
            raise CommandError(
                _("No issued document is numbered %(number)s.") % {"number": options["number"]}
            )
        out = _out_folder(options["out"])
        count = 0
        failed: list[str] = []
        for invoice in tqdm(
            documents.iterator(chunk_size=200),
            total=documents.count(),
            disable=not self.stdout.isatty(),
            unit="doc",
        ):
            try:
                filename, content = export_document(invoice, options["format"])
            except (OSError, LookupError, ValidationError) as exc:
                # A missing or altered archived file: the others are still exported.
                failed.append(_archive_problem(invoice.number or "", exc))
                continue
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
        if failed:
            raise CommandError(
                ngettext(
                    "%(count)d document could not be exported: %(documents)s. "
                    "`comptoir documents check` lists the archive's problems.",
                    "%(count)d documents could not be exported: %(documents)s. "
                    "`comptoir documents check` lists the archive's problems.",
                    len(failed),
                )
                % {"count": len(failed), "documents": "; ".join(failed)}
            )
