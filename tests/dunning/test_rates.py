from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings

from comptoir.dunning import rates


def test_shipped_table_has_the_checked_half_years() -> None:
    table = rates._read(rates.RATES_FILE)
    assert table[date(2016, 7, 1)] == Decimal("0.00")
    assert table[date(2023, 1, 1)] == Decimal("2.50")
    assert table[date(2024, 7, 1)] == Decimal("4.25")
    assert table[date(2025, 7, 1)] == Decimal("2.15")


def test_administrator_rows_add_and_override_half_years(tmp_path: Path) -> None:
    (tmp_path / "ecb_mro_rates.csv").write_text(
        "half_year_start,rate\n2026-07-01,2.00\n2027-01-01,1.90\n", encoding="utf-8"
    )
    rates.ecb_rates.cache_clear()
    try:
        with override_settings(DATA_DIR=tmp_path):
            table = rates.ecb_rates()
        assert table[date(2027, 1, 1)] == Decimal("1.90")
        assert table[date(2026, 7, 1)] == Decimal("2.00")
        assert table[date(2025, 1, 1)] == Decimal("3.15")
    finally:
        rates.ecb_rates.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    rates.ecb_rates.cache_clear()
