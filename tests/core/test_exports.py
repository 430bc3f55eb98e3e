"""Spreadsheet exports are safe from formula injection and open right in French Excel."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from comptoir.core.exports import FORMULA_PREFIXES, Raw, csv_cell, csv_rows, neutralise, xlsx_bytes


@given(st.text())
def test_no_neutralised_text_starts_like_a_formula(text: str) -> None:
    assert not neutralise(text).startswith(FORMULA_PREFIXES)


@given(st.text())
def test_neutralising_keeps_the_text(text: str) -> None:
    assert neutralise(text).removeprefix("'") == text or neutralise(text) == text


def test_csv_for_french_excel() -> None:
    text = "".join(
        csv_rows(["Nom", "Montant", "Date"], [["=SUM(A1)", Decimal("1234.50"), date(2026, 3, 1)]])
    )
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == "Nom;Montant;Date"
    assert lines[1] == "'=SUM(A1);1234,50;01/03/2026"


def test_cells_the_app_formatted_itself_are_kept() -> None:
    assert csv_cell(Raw("+44 20 7946 0958")) == "+44 20 7946 0958"
    assert csv_cell("+44 20 7946 0958") == "'+44 20 7946 0958"


def test_xlsx_keeps_numbers_typed_and_neutralises_text() -> None:
    content = xlsx_bytes(["Nom", "Montant"], [["@cmd", Decimal("12.30")], ["-2+3", Decimal("-1")]])
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].value == "'@cmd"
    assert sheet["A3"].value == "'-2+3"
    assert sheet["A2"].data_type == "s"
    assert float(sheet["B2"].value) == 12.3
