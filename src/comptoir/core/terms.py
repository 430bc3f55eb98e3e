"""Payment terms messages shared by forms and actions (actions may not import forms)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from comptoir.core.calculations import payment_terms_problem


def payment_terms_message(days: int, base: str) -> str | None:
    """Return the message to show when payment terms break L441-10, else None."""
    problem = payment_terms_problem(days, base)
    if problem == "over_60_net":
        return str(
            _(
                "French law (art. L441-10 Code de commerce) caps payment terms at 60 days from the invoice date."
            )
        )
    if problem == "over_45_end_of_month":
        return str(
            _(
                "French law (art. L441-10 Code de commerce) caps end-of-month terms at 45 days end of month."
            )
        )
    if problem == "negative":
        return str(_("Payment terms cannot be negative."))
    return None
