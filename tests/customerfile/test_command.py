"""`comptoir customers dedupe INPUT --output OUTPUT.csv`: the file-mode contract."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from tests.customerfile.test_dedupe import MESSY, MESSY_ENTITIES

pytestmark = pytest.mark.django_db


def _read(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def _dedupe(source: Path, output: Path, *extra: str) -> None:
    call_command(
        "customers", "dedupe", str(source), "--output", str(output), "--no-progress", *extra
    )


def _assert_contract(output: Path, original: list[list[str]]) -> list[int]:
    written = _read(output)
    assert written[0] == ["cluster_id", *original[0]]
    assert len(written) == len(original)  # every row, no more, no less
    for out_row, in_row in zip(written[1:], original[1:], strict=True):
        kept = [c[1:] if c.startswith("'=") else c for c in out_row[1:]]
        assert kept == in_row  # original columns, in input order
    return [int(r[0]) for r in written[1:]]


def test_every_input_row_in_input_order_with_a_cluster_id(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    _dedupe(MESSY, output)
    clusters = _assert_contract(output, _read(MESSY))
    # Rows sharing a cluster_id are one entity, and only them.
    assert len(set(zip(clusters, MESSY_ENTITIES, strict=True))) == len(set(MESSY_ENTITIES))
    assert len(set(clusters)) == len(set(MESSY_ENTITIES))
    assert clusters[0] == 1


def test_formula_cells_are_neutralised_and_phones_are_not(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    _dedupe(MESSY, output)
    rows = _read(output)
    assert rows[-1][1].startswith("'=HYPERLINK")
    assert rows[2][6] == "+33 1 43 55 67 89"  # a phone starting with + stays as it is


def test_cp1252_tab_separated_file(tmp_path: Path) -> None:
    original = _read(MESSY)
    source = tmp_path / "export.txt"
    with source.open("w", encoding="cp1252", newline="") as handle:
        csv.writer(handle, delimiter="\t").writerows(original)
    assert "é".encode("cp1252") in source.read_bytes()
    output = tmp_path / "out.csv"
    _dedupe(source, output)
    clusters = _assert_contract(output, original)
    assert len(set(clusters)) == len(set(MESSY_ENTITIES))


def test_comma_separated_utf8_without_bom(tmp_path: Path) -> None:
    original = _read(MESSY)
    source = tmp_path / "export.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=",").writerows(original)
    output = tmp_path / "out.csv"
    _dedupe(source, output)
    assert len(set(_assert_contract(output, original))) == len(set(MESSY_ENTITIES))


def test_xlsx_file(tmp_path: Path) -> None:
    original = _read(MESSY)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for r, row in enumerate(original, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            cell.data_type = "s"  # text, as typed: "=HYPERLINK(…)" is not run
    source = tmp_path / "clients.xlsx"
    book.save(source)
    output = tmp_path / "out.csv"
    _dedupe(source, output)
    assert len(set(_assert_contract(output, original))) == len(set(MESSY_ENTITIES))


def test_english_headers_are_recognised(tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(
        "Company,First name,Last name,Email,Phone\n"
        "Acme SAS,John,Smith,john@acme.fr,01 43 55 67 89\n"
        "ACME,John,Smith,JOHN@ACME.FR,0143556789\n"
        "Acme SAS,Jane,Smith,jane@acme.fr,01 43 55 67 89\n",
        encoding="utf-8",
    )
    output = tmp_path / "out.csv"
    _dedupe(source, output)
    clusters = [r[0] for r in _read(output)[1:]]
    assert clusters[0] == clusters[1] != clusters[2]


def test_pairs_file_gives_score_decision_and_reasons(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    _dedupe(MESSY, tmp_path / "out.csv", "--pairs", str(pairs))
    rows = _read(pairs)
    assert rows[0] == ["row", "other row", "score", "decision", "reasons"]
    merged = [r for r in rows[1:] if r[3] == "merged"]
    assert {(r[0], r[1]) for r in merged} >= {("1", "2"), ("14", "15"), ("8", "9")}
    assert all(float(r[2]) > 0.99 and r[4] for r in merged)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xef\xbb\xbf\r\n", "is empty"),
        (b"\x00\x01\x02binary\x00", "neither a CSV nor an XLSX"),
        (b"PK\x03\x04not really a zip", "not a readable XLSX"),
        (b"\xd0\xcf\x11\xe0old excel", ".xls"),
        ("Produit;Prix\nCafé;3\n".encode(), "No customer column recognised"),
        (b"Nom;Prenom;Ville\n", "no data rows"),
    ],
)
def test_bad_files_fail_with_one_clear_line(tmp_path: Path, content: bytes, message: str) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        _dedupe(source, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_missing_file_fails(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No such file"):
        _dedupe(tmp_path / "clients.csv", tmp_path / "out.csv")


def test_command_line_exit_code_and_stderr(tmp_path: Path) -> None:
    comptoir = shutil.which("comptoir", path=str(Path(sys.executable).parent))
    assert comptoir
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    english = {**os.environ, "COMPTOIR_LANGUAGE": "en"}
    failed = subprocess.run(
        [comptoir, "customers", "dedupe", str(empty), "--output", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        check=False,
        env=english,
    )
    assert failed.returncode != 0
    assert failed.stderr.strip().splitlines()[-1] == "Error: The file empty.csv is empty."
    ok = subprocess.run(
        [comptoir, "customers", "dedupe", str(MESSY), "--output", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        check=False,
        env=english,
    )
    assert ok.returncode == 0, ok.stderr
    assert "16 rows, 10 entities" in ok.stderr
    assert "Writing" in ok.stderr  # the progress bar goes to stderr
