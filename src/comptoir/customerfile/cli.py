"""The `import`, `retention` and `scan-duplicates` subcommands of `comptoir customers`.

    comptoir customers import FILE [--mapping NAME] [--dry-run] [--role customer] [--tag T]
    comptoir customers retention [--dry-run]
    comptoir customers scan-duplicates [--dry-run] [--auto-merge]

Progress goes to stderr; a failure exits non-zero with one line saying why and, for an import,
the path of the error report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from tqdm import tqdm

from comptoir.customerfile import gdpr, importing, merging
from comptoir.customerfile.actions import ImportFailed, commit_import, run_retention
from comptoir.customerfile.models import ImportMapping
from comptoir.customerfile.readers import ReadError, open_sheet


def add_import_arguments(parser: CommandParser) -> None:
    parser.add_argument("file", type=Path, help=_("CSV (; , or tab), XLSX or ODS file."))
    parser.add_argument("--mapping", help=_("Name of a saved column mapping."))
    parser.add_argument(
        "--dry-run", action="store_true", help=_("Check and report; write nothing.")
    )
    parser.add_argument(
        "--role",
        choices=("prospect", "customer"),
        default="prospect",
        help=_("What the new parties are (default: prospect)."),
    )
    parser.add_argument(
        "--tag", action="append", default=[], help=_("Tag every new party (repeatable).")
    )
    parser.add_argument(
        "--source",
        help=_(
            'Where the data come from, recorded on each contact (default: "Import FILE, DATE").'
        ),
    )
    parser.add_argument("--no-progress", action="store_true", help=_("Hide the progress bar."))


def run_import(command: BaseCommand, options: dict[str, Any]) -> None:
    """Check a customer file, then import it whole, or nothing and say why."""
    path: Path = options["file"]
    quiet = bool(options["no_progress"])
    try:
        sheet = open_sheet(path)
    except ReadError as exc:
        raise CommandError(str(exc)) from exc
    if options.get("mapping"):
        saved = ImportMapping.objects.filter(name=options["mapping"]).first()
        if saved is None:
            raise CommandError(_("No saved mapping named %(name)s.") % {"name": options["mapping"]})
        mapping = importing.mapping_from_saved(sheet.header, saved.columns)
    else:
        mapping = importing.suggest_mapping(sheet.header)
    described = ", ".join(
        f"{title} → {importing.FIELDS[target]}"
        for title, target in zip(sheet.header, mapping, strict=False)
        if target
    )
    format_label = sheet.kind.upper()
    if sheet.kind == "csv":
        format_label += f", {sheet.encoding_label}, " + _("delimiter %(d)s") % {
            "d": repr(sheet.delimiter)
        }
    command.stderr.write(f"{path.name} ({format_label}): {described or _('no column recognised')}")
    workdir = importing.workdir_for(path.name)
    with tqdm(
        desc=_("Checking"), unit=" rows", file=sys.stderr, disable=quiet, mininterval=0.5
    ) as bar:

        def checked(rows: int, _fraction: float) -> None:
            bar.update(rows - bar.n)

        result = importing.check_file(
            sheet, mapping, workdir, role=options["role"], progress=checked
        )
    summary = _(
        "%(rows)d rows: %(parties)d parties and %(contacts)d contacts to create, "
        "%(known)d rows already in the base, %(duplicates)d duplicate rows, "
        "%(errors)d rows with errors, %(warnings)d warnings."
    ) % {
        "rows": result.total_rows,
        "parties": result.parties,
        "contacts": result.contacts,
        "known": result.known_rows,
        "duplicates": result.duplicate_rows,
        "errors": result.error_rows,
        "warnings": result.warning_count,
    }
    command.stderr.write(summary)
    command.stderr.write(_("Report: %(path)s") % {"path": result.report})
    if result.file_errors:
        raise CommandError(
            _("Nothing imported: %(reason)s Report: %(path)s")
            % {"reason": " ".join(result.file_errors), "path": result.report}
        )
    if not result.ok:
        raise CommandError(
            _("Nothing imported: %(count)d rows have errors. Report: %(path)s")
            % {"count": result.error_rows, "path": result.report}
        )
    if options["dry_run"]:
        command.stdout.write(_("Dry run: nothing written."))
        return
    source = options.get("source") or _("Import %(file)s, %(date)s") % {
        "file": path.name,
        "date": date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
    }
    with tqdm(
        total=result.total_rows,
        desc=_("Importing"),
        unit=" rows",
        file=sys.stderr,
        disable=quiet,
        mininterval=0.5,
    ) as bar:
        try:
            counts = commit_import(
                workdir,
                by=None,
                source=source,
                tags=options["tag"],
                progress=lambda done: bar.update(done - bar.n),
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from exc
    command.stdout.write(
        _(
            "Imported %(parties)d parties, %(contacts)d contacts, %(addresses)d addresses "
            "(source: %(source)s)."
        )
        % {
            "parties": counts.parties,
            "contacts": counts.contacts,
            "addresses": counts.addresses,
            "source": source,
        }
    )


def add_retention_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help=_("List what would be flagged or anonymised.")
    )


def run_retention_command(command: BaseCommand, options: dict[str, Any]) -> None:
    """Flag prospects silent for 3 years, anonymise those flagged past the grace period (cron)."""
    if options["dry_run"]:
        plan = gdpr.retention_plan()
        for party in plan.flagged:
            command.stdout.write(_("would flag: %(pk)s %(name)s") % {"pk": party.pk, "name": party})
        for party in plan.anonymised:
            command.stdout.write(
                _("would anonymise: %(pk)s %(name)s") % {"pk": party.pk, "name": party}
            )
        command.stdout.write(
            _("Dry run: %(flag)d to flag, %(anon)d to anonymise; nothing written.")
            % {"flag": len(plan.flagged), "anon": len(plan.anonymised)}
        )
        return
    flagged, anonymised = run_retention(by=None)
    command.stdout.write(
        _("%(flag)d prospects flagged, %(anon)d anonymised.")
        % {"flag": flagged, "anon": anonymised}
    )


def add_scan_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help=_("Count the pairs found; write nothing.")
    )
    parser.add_argument(
        "--auto-merge",
        action="store_true",
        help=_("Merge the pairs above the merge threshold at once (the older party survives)."),
    )


def run_scan_duplicates(command: BaseCommand, options: dict[str, Any]) -> None:
    """Find the likely duplicates among the active parties and queue them for review."""
    if options["dry_run"] and options["auto_merge"]:
        raise CommandError(_("--dry-run and --auto-merge exclude each other."))
    result = merging.scan_duplicates(
        by=None, dry_run=options["dry_run"], auto_merge=options["auto_merge"]
    )
    if options["dry_run"]:
        command.stdout.write(
            _(
                "Dry run: %(pairs)d likely duplicate pairs among %(parties)d parties; nothing written."
            )
            % {"pairs": result.pairs, "parties": result.parties}
        )
        return
    command.stdout.write(
        _(
            "%(parties)d parties scanned: %(pairs)d pairs found, %(new)d new, %(updated)d "
            "rescored, %(decided)d already decided, %(merged)d merged automatically."
        )
        % {
            "parties": result.parties,
            "pairs": result.pairs,
            "new": result.new,
            "updated": result.updated,
            "decided": result.skipped_decided,
            "merged": result.auto_merged,
        }
    )
