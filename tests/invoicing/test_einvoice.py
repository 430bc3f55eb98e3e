"""E-invoices validate (XSD + EN 16931 + BR-FR, CII and UBL), and the PDF, the XML and the
database carry the same figures."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from facturx import get_xml_from_pdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pypdf import PdfReader

from comptoir.documents.actions import read_archived
from comptoir.invoicing import actions, validation
from comptoir.invoicing.einvoice import RAM, build_cii
from comptoir.invoicing.models import Invoice, InvoiceKind
from comptoir.invoicing.printing import money as print_money
from comptoir.invoicing.selectors import archived_pdf
from comptoir.invoicing.ubl import build_ubl
from comptoir.parties.models import Address, AddressKind, Party
from tests.invoicing.conftest import EXEMPT, INTRA_EU, REDUCED_5_5, REDUCED_10, STANDARD_20, line

NS = {"ram": RAM}


def _lines(invoice: Invoice) -> list[Any]:
    return list(invoice.lines.order_by("position", "pk"))


def _assert_valid(invoice: Invoice) -> None:
    for syntax, xml in (
        ("cii", build_cii(invoice, _lines(invoice))),
        ("ubl", build_ubl(invoice, _lines(invoice))),
    ):
        findings = validation.findings_for(xml, syntax=syntax)
        assert validation.fatal(findings) == [], (invoice.number, syntax, findings)


@pytest.mark.django_db
def test_a_spread_of_documents_validates_in_cii_and_ubl(
    customer: Party,
    eu_customer: Party,
    issued_for: Callable[..., Invoice],
    draft_for: Callable[..., Invoice],
    assistant: Any,
    company: Any,
) -> None:
    company.vat_on_debits = True
    company.save()
    depot = Address.objects.create(
        party=customer,
        kind=AddressKind.DELIVERY,
        line1="Dépôt, 8 rue du Port",
        postcode="13002",
        city="Marseille",
    )
    documents = [
        issued_for(
            customer,
            [
                line("Farine", "12.5", "1.8765", STANDARD_20, discount_rate=Decimal("7.5")),
                line("Repas", "3", "14.90", REDUCED_10),
                line("Livres", "2", "22.00", REDUCED_5_5),
                line("Formation", "1", "650", EXEMPT),
            ],
            discount_rate=Decimal("4"),
            delivery_address=depot,
            operation_category="mixed",
            purchase_order_reference="PO-2026-118",
        ),
        issued_for(
            eu_customer,
            [line("Four", "1", "12000", INTRA_EU), line("Pelle", "4", "35.5", INTRA_EU)],
        ),
        issued_for(customer, [line("Maintenance", "6", "95")], operation_category="services"),
    ]
    documents.append(
        actions.issue_invoice(actions.create_credit_note(documents[0], by=assistant), by=assistant)
    )
    partial = actions.create_credit_note(
        documents[1], by=assistant, lines=[(documents[1].lines.get(label="Pelle"), Decimal("1"))]
    )
    documents.append(actions.issue_invoice(partial, by=assistant))
    down = issued_for(customer, [line("Acompte", "1", "500")], kind=InvoiceKind.DOWN_PAYMENT)
    final = draft_for(customer, [line("Ligne de production", "1", "2000")])
    actions.deduct_down_payment(final, down_payment=down, by=assistant)
    documents += [down, actions.issue_invoice(final, by=assistant)]
    for document in documents:
        _assert_valid(document)


def money(value: Decimal) -> str:
    return print_money(value).replace("\u00a0", " ")


def _pdf_text_and_xml(invoice: Invoice) -> tuple[str, etree._Element]:
    archived = archived_pdf(invoice)
    assert archived is not None
    content = read_archived(archived)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    text = text.replace("\u00a0", " ")
    _name, xml = get_xml_from_pdf(content, check_xsd=False)
    return text, etree.fromstring(xml)


RATES = [STANDARD_20, REDUCED_10, REDUCED_5_5, EXEMPT]
random_lines = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal("500"), places=3),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=4),
        st.decimals(min_value=Decimal("0"), max_value=Decimal("50"), places=2),
        st.sampled_from(range(len(RATES))),
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.slow
@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=random_lines,
    discount=st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=2),
)
def test_pdf_xml_and_database_carry_the_same_figures(
    customer: Party,
    draft_for: Callable[..., Invoice],
    assistant: Any,
    rows: list[Any],
    discount: Decimal,
) -> None:
    draft = draft_for(
        customer,
        [
            line(f"Article {n}", str(q), str(p), RATES[r], discount_rate=d)
            for n, (q, p, d, r) in enumerate(rows)
        ],
        discount_rate=discount,
    )
    invoice = actions.issue_invoice(draft, by=assistant, issue_date=date(2026, 12, 31))
    text, xml = _pdf_text_and_xml(invoice)
    summation = xml.find(".//ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS)
    figures = {
        "LineTotalAmount": invoice.lines_net_amount,
        "AllowanceTotalAmount": invoice.allowance_amount,
        "TaxBasisTotalAmount": invoice.tax_basis_amount,
        "TaxTotalAmount": invoice.vat_amount,
        "GrandTotalAmount": invoice.total_amount,
        "DuePayableAmount": invoice.due_amount,
    }
    for tag, stored in figures.items():
        assert Decimal(summation.findtext(f"ram:{tag}", namespaces=NS)) == stored, tag
    for value in (invoice.tax_basis_amount, invoice.vat_amount, invoice.total_amount):
        assert money(value) in text
    xml_lines = xml.findall(".//ram:IncludedSupplyChainTradeLineItem", NS)
    for stored, element in zip(_lines(invoice), xml_lines, strict=True):
        assert (
            Decimal(element.findtext(".//ram:LineTotalAmount", namespaces=NS)) == stored.net_amount
        )
        assert money(stored.net_amount) in text
    for group in invoice.vat_breakdown:
        assert money(Decimal(group["vat_amount"])) in text
    credit = actions.issue_invoice(
        actions.create_credit_note(invoice, by=assistant),
        by=assistant,
        issue_date=date(2026, 12, 31),
    )
    assert invoice.total_amount - credit.total_amount == Decimal("0.00")


@pytest.mark.django_db
def test_line_texts_reach_the_xml_as_typed(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    """The line items are written as text and parsed: what escaping must keep, it keeps."""
    texts = [
        "Vis & écrous <M8>",
        'Pied "réglable" l\'unité',
        "Ligne 1\r\nligne 2\tfin",
        "Cadre ]]> 30 %",
        "  Espaces\u00a0insécables «fr»  ",
    ]
    invoice = issued_for(
        customer,
        [
            line(text, "1", "10.00", description=text[::-1], product_reference=f"R&{n}<")
            for n, text in enumerate(texts)
        ],
        produce_documents=False,
    )
    root = etree.fromstring(build_cii(invoice, _lines(invoice)))
    items = root.findall(".//ram:IncludedSupplyChainTradeLineItem", NS)
    assert [i.findtext("ram:SpecifiedTradeProduct/ram:Name", namespaces=NS) for i in items] == texts
    assert [
        i.findtext("ram:SpecifiedTradeProduct/ram:Description", namespaces=NS) for i in items
    ] == [text[::-1] for text in texts]
    assert [
        i.findtext("ram:SpecifiedTradeProduct/ram:SellerAssignedID", namespaces=NS) for i in items
    ] == [f"R&{n}<" for n in range(len(texts))]
    assert validation.fatal(validation.findings_for(etree.tostring(root))) == []
