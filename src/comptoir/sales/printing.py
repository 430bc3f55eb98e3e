"""The data the quote and order-acknowledgement templates print (figures formatted from the DB)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from comptoir.core.selectors import current_company
from comptoir.invoicing.actions import seller_snapshot
from comptoir.invoicing.printing import (
    CURRENCY_SYMBOLS,
    UNIT_LABELS,
    footer_text,
    french_date,
    money,
    quantity_text,
    rate_text,
    seller_contact,
    seller_legal_line,
    unit_price_text,
)
from comptoir.parties.models import Address, AddressKind, Party
from comptoir.parties.selectors import default_address
from comptoir.sales.models import DocumentLine, Order, Quote


def address_lines(address: Address | None, party: Party) -> list[str]:
    """Return the printed lines of an address (or of the party's city when it has none)."""
    if address is None:
        return [line for line in (f"{party.postcode} {party.city}".strip(),) if line]
    lines = address.lines()
    if address.country and address.country != "FR":
        lines.append(address.country)
    return lines


def seller_data() -> dict[str, Any]:
    seller = seller_snapshot(current_company())
    address = seller["address"]
    lines = [address["line1"], address["line2"], f"{address['postcode']} {address['city']}"]
    contact = seller_contact(seller)
    return {
        "name": seller["name"],
        "address": [line for line in lines if line.strip()],
        "contact": contact,
        "siret": seller["siret"],
        "vat_number": seller["vat_number"],
        "legal_line": seller_legal_line(seller),
        # Without what the legal line already prints.
        "footer": footer_text(seller),
        "late_penalty": seller.get("late_penalty_text", ""),
        "recovery": seller.get("recovery_indemnity_text", ""),
    }


def buyer_data(party: Party) -> dict[str, Any]:
    return {
        "name": party.name,
        "address": address_lines(default_address(party, AddressKind.BILLING), party),
        "siren": party.siren,
        "vat_number": party.vat_number,
    }


def lines_data(lines: Sequence[DocumentLine], *, priced: bool = True) -> list[dict[str, str]]:
    return [
        {
            "reference": line.product_reference,
            "label": line.label,
            "description": line.description,
            "quantity": quantity_text(line.quantity),
            "unit": UNIT_LABELS.get(line.unit_code, line.unit_code),
            "unit_price": unit_price_text(line.unit_price) if priced else "",
            "discount": rate_text(line.discount_rate) if line.discount_rate else "",
            "vat_rate": rate_text(line.vat_rate),
            "net_amount": money(line.net_amount) if priced else "",
        }
        for line in lines
    ]


def vat_group_label(group: dict[str, Any], reasons: dict[str, str]) -> str:
    """ "20 %" (no EN 16931 category code); at 0 %, the exemption reason after the rate."""
    rate = Decimal(str(group["rate"]))
    label = rate_text(rate)
    if not rate and reasons.get(group["category"]):
        label = f"{label} – {reasons[group['category']]}"
    return label


def totals_data(document: Quote | Order) -> dict[str, Any]:
    reasons: dict[str, str] = {}
    for line in document.lines.all():
        if not line.vat_rate and line.vat_exemption_reason:
            reasons.setdefault(line.vat_category, line.vat_exemption_reason)
    return {
        "vat_groups": [
            {
                "label": vat_group_label(group, reasons),
                "taxable": money(Decimal(group["taxable_amount"])),
                "vat": money(Decimal(group["vat_amount"])),
            }
            for group in document.vat_breakdown
        ],
        "lines_net": money(document.lines_net_amount),
        "allowance": money(document.allowance_amount),
        "allowance_rate": rate_text(document.discount_rate),
        "has_allowance": bool(document.allowance_amount),
        "tax_basis": money(document.tax_basis_amount),
        "vat": money(document.vat_amount),
        "total": money(document.total_amount),
        "currency_symbol": CURRENCY_SYMBOLS.get(document.currency, document.currency),
    }


def quote_print_data(quote: Quote) -> dict[str, Any]:
    """Return the JSON-ready data of a quote ("Devis")."""
    dates = [f"Date : {french_date(quote.issue_date)}"]
    dates.append(f"Valable jusqu'au : {french_date(quote.valid_until)}")
    return {
        "title": "DEVIS",
        "number": quote.reference if not quote.is_draft else f"{quote.reference} (brouillon)",
        "dates": dates,
        "seller": seller_data(),
        "buyer": buyer_data(quote.party),
        "delivery": None,
        "references": "",
        "lines": lines_data(list(quote.lines.order_by("position", "pk"))),
        "totals": totals_data(quote),
        "priced": True,
        "acceptance": True,
        "notes": quote.notes,
    }


def order_print_data(order: Order) -> dict[str, Any]:
    """Return the JSON-ready data of an order acknowledgement ("Accusé de réception de commande")."""
    dates = [f"Date de commande : {french_date(order.order_date)}"]
    if order.requested_date:
        dates.append(f"Livraison souhaitée : {french_date(order.requested_date)}")
    if order.promised_date:
        dates.append(f"Livraison prévue : {french_date(order.promised_date)}")
    references = []
    if order.customer_reference:
        references.append(f"Votre commande : {order.customer_reference}")
    if order.quote_id:
        references.append(f"Devis : {order.quote}")
    delivery = (
        address_lines(order.delivery_address, order.party) if order.delivery_address else None
    )
    return {
        "title": "ACCUSÉ DE RÉCEPTION DE COMMANDE",
        "number": order.number,
        "dates": dates,
        "seller": seller_data(),
        "buyer": buyer_data(order.party),
        "delivery": delivery,
        "references": " – ".join(references),
        "lines": lines_data(list(order.lines.order_by("position", "pk"))),
        "totals": totals_data(order),
        "priced": True,
        "acceptance": False,
        "notes": order.notes,
    }
