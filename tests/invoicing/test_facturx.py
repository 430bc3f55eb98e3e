"""The Factur-X PDF: Typst's PDF/A-3 with the CII attached and declared in the XMP."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader

from comptoir.documents.actions import read_archived
from comptoir.documents.rendering import render_pdf
from comptoir.invoicing.facturx import FX, FacturXError, attach_cii
from comptoir.invoicing.models import Invoice
from comptoir.invoicing.selectors import archived_pdf
from comptoir.parties.models import Party
from tests.invoicing.conftest import line

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
PDFA_SCHEMA = "{http://www.aiim.org/pdfa/ns/schema#}"


def _issued_pdf(customer: Party, issued_for: Callable[..., Invoice]) -> tuple[Invoice, bytes]:
    invoice = issued_for(customer, [line("Farine", "4", "18.90"), line("Sucre", "10", "1.2345")])
    document = archived_pdf(invoice)
    assert document is not None
    return invoice, read_archived(document)


@pytest.mark.django_db
def test_the_issued_pdf_carries_its_cii_and_declares_it_in_the_xmp(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    invoice, pdf = _issued_pdf(customer, issued_for)
    name, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml"
    cii = etree.fromstring(xml)
    assert facturx.get_flavor(cii) == "factur-x" and facturx.get_level(cii) == "en16931"
    assert cii.findtext(".//{*}ExchangedDocument/{*}ID") == invoice.number

    reader = PdfReader(io.BytesIO(pdf), strict=True)
    catalog = reader.trailer["/Root"]
    (filespec,) = [ref.get_object() for ref in catalog["/AF"]]
    assert filespec["/F"] == "factur-x.xml" and filespec["/AFRelationship"] == "/Data"
    embedded = filespec["/EF"]["/F"].get_object()
    assert embedded["/Subtype"] == "/text/xml" and embedded.get_data() == xml
    assert embedded["/Params"]["/Size"] == len(xml) and embedded["/Params"]["/ModDate"]
    assert catalog["/Names"]["/EmbeddedFiles"]["/Names"][1].get_object() == filespec
    xmp = etree.fromstring(catalog["/Metadata"].get_object().get_data())
    assert xmp.findtext(f".//{{{FX}}}DocumentType") == "INVOICE"
    assert xmp.findtext(f".//{{{FX}}}DocumentFileName") == "factur-x.xml"
    assert xmp.findtext(f".//{{{FX}}}Version") == "1.0"
    assert xmp.findtext(f".//{{{FX}}}ConformanceLevel") == "EN 16931"
    assert xmp.findtext(".//{http://www.aiim.org/pdfa/ns/id/}part") == "3"
    # PDF/A: every property outside the standard schemas is declared by an extension schema,
    # all of them in one pdfaExtension:schemas bag.
    (bag,) = xmp.findall(f".//{{http://www.aiim.org/pdfa/ns/extension/}}schemas/{RDF}Bag")
    declared = {li.findtext(f"{PDFA_SCHEMA}namespaceURI"): li for li in bag}
    fx_names = {
        p.findtext("{http://www.aiim.org/pdfa/ns/property#}name")
        for p in declared[FX].find(f"{PDFA_SCHEMA}property/{RDF}Seq")
    }
    assert declared[FX].findtext(f"{PDFA_SCHEMA}prefix") == "fx"
    assert fx_names == {"DocumentType", "DocumentFileName", "Version", "ConformanceLevel"}
    # Every cross-reference entry still points at its object after the rewrite.
    xref_at = int(re.search(rb"startxref\s+(\d+)", pdf[-40:]).group(1))  # type: ignore[union-attr]
    entries = re.findall(rb"(\d{10}) \d{5} n", pdf[xref_at:])
    for number, offset in enumerate(entries, start=1):
        assert pdf[int(offset) :].startswith(b"%d 0 obj" % number), number


def test_attach_cii_refuses_a_pdf_it_does_not_know() -> None:
    xml = b'<?xml version="1.0" encoding="UTF-8"?><x/>'
    typst_pdf = render_pdf("invoice.typ", _data())
    attached = attach_cii(typst_pdf, xml)
    assert FX.encode() in attached and FX.encode() not in typst_pdf
    xref_at = re.search(rb"startxref\s+(\d+)", typst_pdf[-40:]).group(1)  # type: ignore[union-attr]
    size = re.search(rb"/Size (\d+)", typst_pdf[-300:]).group(1)  # type: ignore[union-attr]
    updated = (
        typst_pdf
        + b"xref\n0 1\n0000000000 65535 f\r\ntrailer\n<</Size %s/Prev %s>>\n"
        % (
            size,
            xref_at,
        )
        + b"startxref\n%d\n%%%%EOF\n" % len(typst_pdf)
    )
    compressed = typst_pdf.replace(b"/Subtype/XML>>", b"/Subtype/XML/Filter/FlateDecode>>", 1)
    for other in (updated, compressed, attached, b"%PDF-1.7\n%%EOF\n"):
        with pytest.raises(FacturXError):
            attach_cii(other, xml)


def _data() -> dict[str, Any]:
    from tests.documents.test_documents import _minimal_invoice_data

    return _minimal_invoice_data()
