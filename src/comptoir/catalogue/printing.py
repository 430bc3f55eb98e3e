"""Printed price lists: the offline catalogue as a PDF (Typst) and as CSV/XLSX rows."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from comptoir.catalogue.calculations import plain_number
from comptoir.catalogue.models import PriceList
from comptoir.catalogue.selectors import SheetSection, price_list_sheet
from comptoir.core.identifiers import display_phone
from comptoir.core.models import Company
from comptoir.core.money import format_amount
from comptoir.core.selectors import current_company
from comptoir.documents.rendering import company_logo, render_pdf


def price_text(value: Decimal) -> str:
    """A unit price with 2 to 4 decimal places: 12,50 or 0,1234."""
    return plain_number(value, min_places=2)


def legal_footer(company: Company) -> str:
    """The seller's legal mentions on one line (Code de commerce R123-237)."""
    parts: list[str] = []
    name = " ".join(part for part in (company.legal_name, company.legal_form) if part)
    if name and company.share_capital_amount is not None:
        name += " " + _("with a share capital of %(amount)s €") % {
            "amount": format_amount(company.share_capital_amount)
        }
    if name:
        parts.append(name)
    address = ", ".join(
        part
        for part in (
            company.address_line1,
            company.address_line2,
            f"{company.postcode} {company.city}".strip(),
        )
        if part
    )
    if address:
        parts.append(address)
    if company.siren:
        siren = f"SIREN {company.siren}"
        if company.rcs_city:
            siren += f" RCS {company.rcs_city}"
        parts.append(siren)
    if company.vat_number:
        parts.append(_("VAT number %(number)s") % {"number": company.vat_number})
    # The footer text without what the line above already says (the demo's repeats the
    # name, capital and RCS in another format).
    from comptoir.invoicing.printing import footer_text

    extra = footer_text(
        {
            "footer": company.document_footer,
            "name": company.legal_name,
            "siren": company.siren,
            "siret": company.siret,
            "vat_number": company.vat_number,
        }
    )
    if extra:
        parts.append(extra)
    return " – ".join(parts)


def validity_text(price_list: PriceList) -> str:
    start = date_format(price_list.valid_from, "SHORT_DATE_FORMAT") if price_list.valid_from else ""
    end = date_format(price_list.valid_until, "SHORT_DATE_FORMAT") if price_list.valid_until else ""
    if start and end:
        return _("Valid from %(start)s to %(end)s") % {"start": start, "end": end}
    if start:
        return _("Valid from %(start)s") % {"start": start}
    if end:
        return _("Valid until %(end)s") % {"end": end}
    return _("Valid until further notice")


def break_text(quantity: Decimal, price: Decimal) -> str:
    return _("from %(quantity)s: %(price)s") % {
        "quantity": plain_number(quantity, max_places=3),
        "price": price_text(price),
    }


def sheet_data(price_list: PriceList, sections: list[SheetSection]) -> dict[str, Any]:
    """The price list as plain JSON data for the Typst template; never a purchase cost."""
    company = current_company()
    return {
        "company": {
            "name": company.trade_name or company.legal_name,
            "contact": [
                part
                for part in (display_phone(company.phone), company.email, company.website)
                if part
            ],
            "footer": legal_footer(company),
        },
        "title": _("Price list «%(name)s»") % {"name": price_list.name},
        "subtitle": price_list.scope_description(),
        "validity": validity_text(price_list),
        "notes": price_list.notes,
        "printed": _("Printed on %(date)s") % {"date": date_format(timezone.localdate())},
        "currency_note": _("Unit prices in euros excluding VAT."),
        "labels": {
            "reference": _("Reference"),
            "label": _("Product"),
            "unit": _("Unit"),
            "price": _("Price excl. VAT"),
            "vat": _("VAT"),
            "breaks": _("Quantity prices"),
            "page": _("Page"),
            "no_family": _("Other products"),
        },
        "sections": [
            {
                "family": section.family.name if section.family else "",
                "lines": [
                    {
                        "reference": line.product.reference,
                        "label": line.product.label,
                        "unit": line.product.get_unit_display(),
                        "price": price_text(line.unit_price),
                        "vat": plain_number(line.product.vat_rate.rate) + " %",
                        "breaks": [
                            break_text(b.min_quantity, b.unit_price) for b in line.quantity_breaks
                        ],
                    }
                    for line in section.lines
                ],
            }
            for section in sections
        ],
    }


def render_price_list_pdf(price_list: PriceList) -> bytes:
    """Render the price list as a PDF catalogue grouped by family."""
    data = sheet_data(price_list, price_list_sheet(price_list))
    return render_pdf("price_list.typ", data, logo=company_logo(current_company()))


def export_header() -> list[str]:
    return [
        _("Family"),
        _("Reference"),
        _("Product"),
        _("Unit"),
        _("From quantity"),
        _("Unit price excl. VAT"),
        _("Catalogue price excl. VAT"),
        _("VAT rate (%)"),
    ]


def export_rows(sections: list[SheetSection]) -> Iterator[list[Any]]:
    """One row per product and quantity break, numbers as numbers (typed XLSX cells)."""
    for section in sections:
        for line in section.lines:
            for price_break in line.breaks:
                yield [
                    section.family.name if section.family else "",
                    line.product.reference,
                    line.product.label,
                    line.product.get_unit_display(),
                    price_break.min_quantity.normalize(),  # 10, not 10,000
                    price_break.unit_price,
                    line.catalogue_price,
                    line.product.vat_rate.rate,
                ]
