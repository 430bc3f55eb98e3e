"""Money helpers: the one rounding rule of the house."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_amount(value: Decimal) -> Decimal:
    """Round to the cent, half up (EN 16931 and French practice)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value: Decimal | None, places: int = 2) -> str:
    """Format an amount French style: 1 234,56 (narrow no-break space as thousands separator)."""
    if value is None:
        return ""
    quantum = Decimal(1).scaleb(-places)
    text = f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"
    return text.replace(",", "\u202f").replace(".", ",")
