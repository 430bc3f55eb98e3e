"""The ECB main refinancing rate by half-year: the shipped table, then the administrator's.

The shipped ``data/ecb_mro_rates.csv`` holds the rate in force on each 1 January and 1 July
(checked against the ECB's decisions: 0.05 % from 10 September 2014, 0.00 % from 16 March
2016, 2.50 % from 21 December 2022, 4.00 % from 21 June 2023, 4.50 % from 20 September
2023, 4.25 % from 12 June 2024, 3.15 % from 18 December 2024, 2.15 % from 11 June 2025 and
still in January 2026). A half-year that Comptoir does not ship yet is added by the
administrator in ``<COMPTOIR_DATA_DIR>/ecb_mro_rates.csv`` (same two columns); its rows win
over the shipped ones.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings

RATES_FILE = Path(__file__).resolve().parent / "data" / "ecb_mro_rates.csv"


def override_file() -> Path:
    """Return the administrator's table of rates, read after the shipped one."""
    return Path(settings.DATA_DIR) / "ecb_mro_rates.csv"


def _read(path: Path) -> dict[date, Decimal]:
    with path.open(encoding="utf-8") as handle:
        return {
            date.fromisoformat(row["half_year_start"]): Decimal(row["rate"])
            for row in csv.DictReader(handle)
        }


@cache
def ecb_rates() -> dict[date, Decimal]:
    """Return {1 January or 1 July: ECB MRO rate in %} for every half-year known."""
    rates = _read(RATES_FILE)
    if override_file().is_file():
        rates.update(_read(override_file()))
    return rates
