"""`comptoir customers SUBCOMMAND`: work on a customer file from the command line.

Each subcommand is a pair of functions in :data:`SUBCOMMANDS` (one adds its arguments, the other
runs it), so that ``import`` and others can join ``dedupe`` without touching it.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from tqdm import tqdm

from comptoir.core.exports import neutralise
from comptoir.core.management.base import ComptoirCommand, os_error_reason
from comptoir.customerfile import cli as customer_cli
from comptoir.customerfile.dedupe import DedupeResult, deduplicate_customers
from comptoir.customerfile.spreadsheets import (
    IDENTIFYING_FIELDS,
    SpreadsheetError,
    open_spreadsheet,
    suggest_mapping,
)

# No tqdm monitor thread: the dedupe engine shares its work with a forked process only when
# no other thread runs (a fork copies the locks other threads hold).
tqdm.monitor_interval = 0

# A phone or a number is data, not a formula, even when it starts with + or -.
_NUMBER_LIKE = re.compile(r"^[+\-]?[\d\s().,/-]+$")


def add_dedupe_arguments(parser: CommandParser) -> None:
    parser.add_argument("input", type=Path, help=_("CSV (; , or tab) or XLSX customer file."))
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        required=True,
        help=_("CSV to write: every input row, in order, with a cluster_id column first."),
    )
    parser.add_argument(
        "--pairs",
        type=Path,
        help=_("Also write the scored pairs (merged and to review) with their reasons."),
    )
    parser.add_argument("--no-progress", action="store_true", help=_("Hide the progress bar."))


def run_dedupe(command: BaseCommand, options: dict[str, Any]) -> None:
    """Deduplicate a customer file into OUTPUT, rows in input order with their cluster_id."""
    source: Path = options["input"]
    output: Path = options["output"]
    quiet = bool(options["no_progress"])
    try:
        sheet = open_spreadsheet(source)
        mapping = suggest_mapping(sheet.header)
        if not any(field in mapping for field in IDENTIFYING_FIELDS):
            raise CommandError(
                _(
                    "No customer column recognised in %(path)s (headers: %(headers)s); "
                    "expected e.g. Raison sociale, Nom, E-mail, Téléphone, SIREN."
                )
                % {"path": source.name, "headers": ", ".join(sheet.header[:8]) or "-"}
            )
        raw: dict[str, list[str]] = {field: [] for field in mapping}
        columns = [(raw[field], index) for field, index in mapping.items()]
        n = 0
        with tqdm(
            desc=_("Reading"), unit=" rows", file=sys.stderr, disable=quiet, mininterval=0.5
        ) as bar:
            for row in sheet.rows():
                width = len(row)
                for values, index in columns:
                    values.append(row[index] if index < width else "")
                n += 1
                if n % 10_000 == 0:
                    bar.update(10_000)
            bar.update(n % 10_000)
        if n == 0:
            raise CommandError(_("%(path)s has a header but no data rows.") % {"path": source.name})
        stages = tqdm(
            total=5, desc=_("Deduplicating"), unit=" steps", file=sys.stderr, disable=quiet
        )
        with stages:

            def on_stage(name: str) -> None:
                stages.set_postfix_str(name)
                stages.update(1)

            result = deduplicate_customers(raw, n, on_stage=on_stage)
        del raw, columns
        _write_clusters(sheet, result, output, n, quiet)
        if options.get("pairs"):
            _write_pairs(result, options["pairs"])
    except SpreadsheetError as exc:
        raise CommandError(str(exc)) from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise CommandError(
            _("%(path)s cannot be read as CSV: %(reason)s") % {"path": source.name, "reason": exc}
        ) from exc
    except OSError as exc:
        raise CommandError(
            _("Cannot write %(path)s: %(reason)s")
            % {"path": output, "reason": os_error_reason(exc)}
        ) from exc
    merged = int((result.decision == DedupeResult.MERGED).sum())
    review = int((result.decision == DedupeResult.REVIEW).sum())
    command.stderr.write(
        _(
            "%(rows)d rows, %(entities)d entities; %(merged)d pairs merged, %(review)d to review "
            "-> %(output)s"
        )
        % {
            "rows": n,
            "entities": int(result.cluster.max(initial=0)),
            "merged": merged,
            "review": review,
            "output": output,
        }
    )


def _safe(cell: str) -> str:
    return cell if _NUMBER_LIKE.match(cell) else neutralise(cell)


def _write_clusters(sheet: Any, result: DedupeResult, output: Path, n: int, quiet: bool) -> None:
    cluster = result.cluster.tolist()
    with (
        output.open("w", encoding="utf-8-sig", newline="") as handle,
        tqdm(total=n, desc=_("Writing"), unit=" rows", file=sys.stderr, disable=quiet) as bar,
    ):
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["cluster_id", *(_safe(h) for h in sheet.header)])
        written = 0
        for row in sheet.rows():
            if written == n:
                break
            writer.writerow([cluster[written], *(_safe(cell) for cell in row)])
            written += 1
            if written % 10_000 == 0:
                bar.update(10_000)
        bar.update(written % 10_000)
    if written != n:
        raise CommandError(_("The input file changed while it was being deduplicated."))


def _write_pairs(result: DedupeResult, path: Path) -> None:
    labels = {
        DedupeResult.MERGED: _("merged"),
        DedupeResult.REVIEW: _("review"),
        DedupeResult.DISTINCT: _("distinct"),
    }
    probability = result.probability()
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow([_("row"), _("other row"), _("score"), _("decision"), _("reasons")])
        for k in range(len(result.pair_a)):
            writer.writerow(
                [
                    int(result.pair_a[k]) + 1,
                    int(result.pair_b[k]) + 1,
                    f"{probability[k]:.4f}",
                    labels[int(result.decision[k])],
                    ", ".join(str(reason) for reason in result.reasons(k)),
                ]
            )


Subcommand = tuple[
    Any, Callable[[CommandParser], None], Callable[[BaseCommand, dict[str, Any]], None]
]
SUBCOMMANDS: dict[str, Subcommand] = {
    "dedupe": (
        gettext_lazy(
            "Find the rows of a customer file that are one entity (one person at one organisation)."
        ),
        add_dedupe_arguments,
        run_dedupe,
    ),
    "import": (
        gettext_lazy(
            "Import a customer file (CSV, XLSX, ODS): every row, or none and a report saying why."
        ),
        customer_cli.add_import_arguments,
        customer_cli.run_import,
    ),
    "retention": (
        gettext_lazy(
            "Flag prospects silent for 3 years, then anonymise them after the grace period (cron)."
        ),
        customer_cli.add_retention_arguments,
        customer_cli.run_retention_command,
    ),
    "scan-duplicates": (
        gettext_lazy(
            "Find the likely duplicates among the active parties and queue them for review."
        ),
        customer_cli.add_scan_arguments,
        customer_cli.run_scan_duplicates,
    ),
}


class Command(ComptoirCommand):
    help = gettext_lazy(
        "Work on a customer file: comptoir customers dedupe INPUT --output OUTPUT.csv"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, (description, add_arguments, _run) in SUBCOMMANDS.items():
            add_arguments(
                subparsers.add_parser(name, help=str(description), description=str(description))
            )

    def database_needed(self, options: dict[str, Any]) -> bool:
        # `dedupe` reads a file and writes a file: it runs without a database.
        return options.get("subcommand") != "dedupe"

    def handle(self, *args: Any, **options: Any) -> None:
        SUBCOMMANDS[options["subcommand"]][2](self, options)
