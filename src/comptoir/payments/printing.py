"""The data the statement-of-account template prints, formatted from stored amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from comptoir.core.money import format_amount
from comptoir.core.selectors import current_company
from comptoir.parties.models import AddressKind

NBSP = "\u00a0"
BUCKET_TITLES = [
    ("not_due", "Non échu"),
    ("1_30", "1 à 30 j"),
    ("31_60", "31 à 60 j"),
    ("61_90", "61 à 90 j"),
    ("over_90", "Plus de 90 j"),
    ("total", "Total"),
]


def money(value: Decimal | None) -> str:
    if value is None or value == 0:
        return ""
    return format_amount(value).replace("\u202f", NBSP)


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def statement_print_data(statement: dict[str, Any]) -> dict[str, Any]:
    """Return the template data of a statement of account (printed in French)."""
    company = current_company()
    party = statement["party"]
    address = party.addresses.filter(kind=AddressKind.BILLING).order_by("-is_default", "pk").first()
    return {
        "seller": {
            "name": company.legal_name,
            "address": [
                line
                for line in (
                    company.address_line1,
                    company.address_line2,
                    f"{company.postcode} {company.city}".strip(),
                )
                if line
            ],
            "siret": company.siret,
            "iban": company.iban,
        },
        "customer": {
            "name": party.name,
            "address": address.lines() if address else [f"{party.postcode} {party.city}".strip()],
        },
        "start": _day(statement["start"]),
        "end": _day(statement["end"]),
        "opening": format_amount(statement["opening"]).replace("\u202f", NBSP),
        "closing": format_amount(statement["closing"]).replace("\u202f", NBSP),
        "movements": [
            {
                "date": _day(m["date"]),
                "label": m["label"],
                "due": _day(m["due_date"]),
                "debit": money(m["debit"]),
                "credit": money(m["credit"]),
                "balance": format_amount(m["balance"]).replace("\u202f", NBSP),
            }
            for m in statement["movements"]
        ],
        "aged": [
            {
                "title": title,
                "amount": format_amount(statement["aged"][key]).replace("\u202f", NBSP),
            }
            for key, title in BUCKET_TITLES
        ],
    }
