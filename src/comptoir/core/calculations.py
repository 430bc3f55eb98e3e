"""Pure calculations shared by every app (no database, no Django models)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

# L441-10 Code de commerce: at most 60 days from the invoice date, or 45 days end of month.
MAX_NET_DAYS = 60
MAX_END_OF_MONTH_DAYS = 45
NET = "net"
END_OF_MONTH = "end_of_month"


def payment_terms_problem(days: int, base: str) -> str | None:
    """Return why these payment terms break French law, or None when they are allowed."""
    if days < 0:
        return "negative"
    if base == END_OF_MONTH and days > MAX_END_OF_MONTH_DAYS:
        return "over_45_end_of_month"
    if base == NET and days > MAX_NET_DAYS:
        return "over_60_net"
    return None


def due_date(invoice_date: date, days: int, base: str) -> date:
    """Return the due date: invoice date + days, then to the month's end for end-of-month terms."""
    due = invoice_date + timedelta(days=days)
    if base == END_OF_MONTH:
        last_day = calendar.monthrange(due.year, due.month)[1]
        due = due.replace(day=last_day)
    return due
