"""UBL 2.1 export (EN 16931 + BR-FR) of an issued invoice or credit note.

The figures are the stored ones, as in the CII: both syntaxes say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from lxml import etree

from comptoir.invoicing.einvoice import (
    EN16931,
    SIREN_SCHEME,
    SIRET_SCHEME,
    allowance_basis,
    amount,
    billing_mode_of,
    document_notes,
    electronic_address,
    needs_ship_to,
    payment_terms_description,
    preceding_invoice,
    price,
    quantity,
    rate,
)
from comptoir.invoicing.models import Invoice, InvoiceLine

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
ROOT_NS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}


class _Ubl:
    def __init__(self, root_name: str, currency: str) -> None:
        self.currency = currency
        self.root = etree.Element(
            etree.QName(ROOT_NS[root_name], root_name),
            nsmap={None: ROOT_NS[root_name], "cac": CAC, "cbc": CBC},
        )

    def cbc(self, parent: Any, name: str, text: str, **attrs: str) -> Any:
        element = etree.SubElement(parent, etree.QName(CBC, name), attrs)
        element.text = text
        return element

    def cac(self, parent: Any, name: str) -> Any:
        return etree.SubElement(parent, etree.QName(CAC, name))

    def money(self, parent: Any, name: str, value: Decimal) -> Any:
        return self.cbc(parent, name, amount(value), currencyID=self.currency)

    def tax_category(
        self,
        parent: Any,
        category: str,
        rate_value: Decimal,
        *,
        tag: str = "TaxCategory",
        reason: str = "",
        code: str = "",
    ) -> None:
        element = self.cac(parent, tag)
        self.cbc(element, "ID", category)
        self.cbc(element, "Percent", rate(rate_value))
        if code and category != "S":
            self.cbc(element, "TaxExemptionReasonCode", code)
        if reason and category != "S":
            self.cbc(element, "TaxExemptionReason", reason)
        self.cbc(self.cac(element, "TaxScheme"), "ID", "VAT")


def _address(ubl: _Ubl, parent: Any, tag: str, address: dict[str, Any]) -> None:
    element = ubl.cac(parent, tag)
    if address.get("line1"):
        ubl.cbc(element, "StreetName", address["line1"])
    if address.get("line2"):
        ubl.cbc(element, "AdditionalStreetName", address["line2"])
    if address.get("city"):
        ubl.cbc(element, "CityName", address["city"])
    if address.get("postcode"):
        ubl.cbc(element, "PostalZone", address["postcode"])
    if address.get("line3"):
        ubl.cbc(ubl.cac(element, "AddressLine"), "Line", address["line3"])
    ubl.cbc(ubl.cac(element, "Country"), "IdentificationCode", address.get("country") or "FR")


def _party(ubl: _Ubl, parent: Any, tag: str, data: dict[str, Any]) -> None:
    party = ubl.cac(ubl.cac(parent, tag), "Party")
    scheme, identifier = electronic_address(data)
    ubl.cbc(party, "EndpointID", identifier, schemeID=scheme)
    if data.get("siret"):
        ubl.cbc(ubl.cac(party, "PartyIdentification"), "ID", data["siret"], schemeID=SIRET_SCHEME)
    _address(ubl, party, "PostalAddress", data.get("address") or {})
    if data.get("vat_number"):
        tax = ubl.cac(party, "PartyTaxScheme")
        ubl.cbc(tax, "CompanyID", data["vat_number"])
        ubl.cbc(ubl.cac(tax, "TaxScheme"), "ID", "VAT")
    legal = ubl.cac(party, "PartyLegalEntity")
    ubl.cbc(legal, "RegistrationName", data.get("name", ""))
    if data.get("siren"):
        ubl.cbc(legal, "CompanyID", data["siren"], schemeID=SIREN_SCHEME)


def build_ubl(invoice: Invoice, lines: Sequence[InvoiceLine]) -> bytes:
    """Return the UBL 2.1 Invoice or CreditNote of an issued document."""
    if invoice.number is None or invoice.issue_date is None:
        raise ValueError("only an issued invoice has an e-invoice")
    credit = invoice.is_credit_note
    ubl = _Ubl("CreditNote" if credit else "Invoice", invoice.currency)
    root = ubl.root
    ubl.cbc(root, "CustomizationID", EN16931)
    ubl.cbc(root, "ProfileID", billing_mode_of(invoice, lines))
    ubl.cbc(root, "ID", invoice.number)
    ubl.cbc(root, "IssueDate", invoice.issue_date.isoformat())
    if not credit and invoice.due_date:
        ubl.cbc(root, "DueDate", invoice.due_date.isoformat())
    ubl.cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", invoice.type_code)
    for subject, content in document_notes(invoice):
        ubl.cbc(root, "Note", f"#{subject}#{content}" if subject else content)
    ubl.cbc(root, "DocumentCurrencyCode", invoice.currency)
    if invoice.buyer_reference:
        ubl.cbc(root, "BuyerReference", invoice.buyer_reference)
    if invoice.purchase_order_reference:
        ubl.cbc(ubl.cac(root, "OrderReference"), "ID", invoice.purchase_order_reference)
    preceding = preceding_invoice(invoice, lines)
    if preceding is not None and preceding.issue_date is not None:
        reference = ubl.cac(ubl.cac(root, "BillingReference"), "InvoiceDocumentReference")
        ubl.cbc(reference, "ID", preceding.number or "")
        ubl.cbc(reference, "IssueDate", preceding.issue_date.isoformat())
    _party(ubl, root, "AccountingSupplierParty", invoice.seller)
    _party(ubl, root, "AccountingCustomerParty", invoice.buyer)
    delivery = ubl.cac(root, "Delivery")
    ubl.cbc(delivery, "ActualDeliveryDate", (invoice.supply_date or invoice.issue_date).isoformat())
    ship_to = invoice.buyer.get("delivery_address") or (
        invoice.buyer.get("address") if needs_ship_to(lines) else None
    )
    if ship_to:
        _address(ubl, ubl.cac(delivery, "DeliveryLocation"), "Address", ship_to)
        name = ubl.cac(ubl.cac(delivery, "DeliveryParty"), "PartyName")
        ubl.cbc(name, "Name", invoice.buyer.get("name", ""))
    if invoice.seller.get("iban") and not credit:
        means = ubl.cac(root, "PaymentMeans")
        ubl.cbc(means, "PaymentMeansCode", "58")
        ubl.cbc(ubl.cac(means, "PayeeFinancialAccount"), "ID", invoice.seller["iban"])
    terms = ubl.cac(root, "PaymentTerms")
    ubl.cbc(
        terms,
        "Note",
        "Avoir : montant à déduire ou à rembourser"
        if credit or invoice.payment_terms_days is None
        else payment_terms_description(invoice),
    )
    for group in invoice.vat_breakdown:
        if Decimal(group["allowance_amount"]):
            allowance = ubl.cac(root, "AllowanceCharge")
            ubl.cbc(allowance, "ChargeIndicator", "false")
            ubl.cbc(allowance, "AllowanceChargeReason", "Remise globale")
            ubl.cbc(allowance, "MultiplierFactorNumeric", rate(invoice.discount_rate))
            ubl.money(allowance, "Amount", Decimal(group["allowance_amount"]))
            ubl.money(allowance, "BaseAmount", allowance_basis(group))
            ubl.tax_category(allowance, group["category"], Decimal(group["rate"]))
    exemptions = {
        (line.vat_category, rate(line.vat_rate)): (
            line.vat_exemption_reason,
            line.vat_exemption_code,
        )
        for line in lines
        if line.vat_category != "S"
    }
    tax_total = ubl.cac(root, "TaxTotal")
    ubl.money(tax_total, "TaxAmount", invoice.vat_amount)
    for group in invoice.vat_breakdown:
        subtotal = ubl.cac(tax_total, "TaxSubtotal")
        ubl.money(subtotal, "TaxableAmount", Decimal(group["taxable_amount"]))
        ubl.money(subtotal, "TaxAmount", Decimal(group["vat_amount"]))
        reason, code = exemptions.get((group["category"], group["rate"]), ("", ""))
        ubl.tax_category(
            subtotal, group["category"], Decimal(group["rate"]), reason=reason, code=code
        )
    totals = ubl.cac(root, "LegalMonetaryTotal")
    ubl.money(totals, "LineExtensionAmount", invoice.lines_net_amount)
    ubl.money(totals, "TaxExclusiveAmount", invoice.tax_basis_amount)
    ubl.money(totals, "TaxInclusiveAmount", invoice.total_amount)
    ubl.money(totals, "AllowanceTotalAmount", invoice.allowance_amount)
    ubl.money(totals, "ChargeTotalAmount", Decimal("0"))
    ubl.money(totals, "PrepaidAmount", invoice.prepaid_amount)
    ubl.money(totals, "PayableAmount", invoice.due_amount)
    for index, line in enumerate(lines, start=1):
        element = ubl.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        ubl.cbc(element, "ID", str(index))
        ubl.cbc(
            element,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            quantity(line.quantity),
            unitCode=line.unit_code,
        )
        ubl.money(element, "LineExtensionAmount", line.net_amount)
        if line.allowance_amount:
            allowance = ubl.cac(element, "AllowanceCharge")
            ubl.cbc(allowance, "ChargeIndicator", "false")
            ubl.cbc(allowance, "AllowanceChargeReason", "Remise")
            ubl.money(allowance, "Amount", line.allowance_amount)
        item = ubl.cac(element, "Item")
        if line.description:
            ubl.cbc(item, "Description", line.description)
        ubl.cbc(item, "Name", line.label)
        if line.product_reference:
            ubl.cbc(ubl.cac(item, "SellersItemIdentification"), "ID", line.product_reference)
        ubl.tax_category(item, line.vat_category, line.vat_rate, tag="ClassifiedTaxCategory")
        ubl.cbc(
            ubl.cac(element, "Price"),
            "PriceAmount",
            price(line.unit_price),
            currencyID=ubl.currency,
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
