"""Readers: delimiters, encodings, XLSX, ODS, and a 200 MB file read in bounded memory."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from comptoir.customerfile.readers import ReadError, open_sheet, sniff_delimiter


def test_delimiter_is_sniffed() -> None:
    assert sniff_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert sniff_delimiter("a,b,c\n1,2,3\n") == ","
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter('"Dupont, Jean";b\n"x, y";z\n') == ";"


def test_tab_separated_utf8_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("Société\tVille\nÉlan\tÉvry\n\n", encoding="utf-8")
    sheet = open_sheet(path)
    assert (sheet.kind, sheet.encoding, sheet.delimiter) == ("csv", "utf-8", "\t")
    assert list(sheet.rows()) == [(2, ["Élan", "Évry"])]


def test_utf16_excel_unicode_text(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes("Nom\tVille\nGérard\tNîmes\n".encode("utf-16"))
    sheet = open_sheet(path)
    assert sheet.encoding == "utf-16"
    assert list(sheet.rows()) == [(2, ["Gérard", "Nîmes"])]


def test_xlsx_rows_keep_row_numbers_and_numbers_as_text(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Raison sociale", "CP", "SIREN"])
    sheet.append(["Acme", 1000, 732829320])
    sheet.append([None, None, None])
    sheet.append(["=1+2 is text", "75001", None])
    sheet["A4"].data_type = "s"
    path = tmp_path / "file.xlsx"
    workbook.save(path)
    opened = open_sheet(path)
    assert (opened.kind, opened.header) == ("xlsx", ["Raison sociale", "CP", "SIREN"])
    assert list(opened.rows()) == [
        (2, ["Acme", "1000", "732829320"]),
        (4, ["=1+2 is text", "75001", ""]),
    ]


def _ods(path: Path, rows_xml: str) -> Path:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        "<office:body><office:spreadsheet>"
        f'<table:table table:name="Feuille1">{rows_xml}</table:table>'
        '<table:table table:name="Other"><table:table-row><table:table-cell office:value-type="string">'
        "<text:p>ignored</text:p></table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content)
    return path


def _cell(text: str, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return f'<table:table-cell office:value-type="string"{rep}><text:p>{text}</text:p></table:table-cell>'


def test_ods_is_streamed_with_repeats_spaces_and_numbers(tmp_path: Path) -> None:
    rows = (
        f"<table:table-row>{_cell('Société')}{_cell('CP')}{_cell('Nom')}</table:table-row>"
        "<table:table-row>"
        '<table:table-cell office:value-type="string"><text:p>Le<text:s text:c="2"/>Comptoir</text:p></table:table-cell>'
        '<table:table-cell office:value-type="float" office:value="6000"><text:p>6 000</text:p></table:table-cell>'
        f"{_cell('Durand')}"
        "</table:table-row>"
        '<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="3"/></table:table-row>'
        f"<table:table-row>{_cell('x', 2)}<table:table-cell/>{_cell('y')}</table:table-row>"
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    sheet = open_sheet(_ods(tmp_path / "file.ods", rows))
    assert (sheet.kind, sheet.header) == ("ods", ["Société", "CP", "Nom"])
    assert list(sheet.rows()) == [
        (2, ["Le  Comptoir", "6000", "Durand"]),
        (5, ["x", "x", "", "y"]),
    ]


def test_unreadable_files_say_why(tmp_path: Path) -> None:
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(ReadError, match="old Excel"):
        open_sheet(xls)
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("a.txt", "x")
    with pytest.raises(ReadError, match="not a spreadsheet"):
        open_sheet(archive)
    with pytest.raises(ReadError, match="No such file"):
        open_sheet(tmp_path / "missing.csv")


@pytest.mark.slow
def test_a_200_mb_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    notes = "x" * 1900
    line = f"Société Durand;75001;Paris;{notes}\r\n".encode()
    count = 200 * 1024 * 1024 // len(line) + 1
    with path.open("wb") as handle:
        handle.write(b"Raison sociale;CP;Ville;Notes\r\n")
        block = line * 1000
        for _ in range(count // 1000 + 1):
            handle.write(block)
    assert path.stat().st_size > 200 * 1024 * 1024
    sheet = open_sheet(path)
    tracemalloc.start()
    try:
        rows = 0
        for _number, row in sheet.rows():
            rows += 1
            assert len(row) == 4
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows >= count
    assert sheet.fraction_read() == 1.0
    assert peak < 16 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
