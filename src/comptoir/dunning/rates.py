"""The ECB main refinancing rate by half-year, read from ``data/ecb_mro_rates.csv``."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

RATES_FILE = Path(__file__).resolve().parent / "data" / "ecb_mro_rates.csv"


@cache
def ecb_rates() -> dict[date, Decimal]:
    """Return {1 January or 1 July: ECB MRO rate in %} for every half-year shipped."""
    with RATES_FILE.open(encoding="utf-8") as handle:
        return {
            date.fromisoformat(row["half_year_start"]): Decimal(row["rate"])
            for row in csv.DictReader(handle)
        }
