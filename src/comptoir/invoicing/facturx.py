"""Factur-X: the invoice PDF/A-3 with its CII XML attached and the Factur-X XMP metadata.

Typst renders the PDF/A-3b and attaches ``factur-x.xml`` itself (associated file, relationship
Data). What Typst cannot write is the Factur-X part of the XMP metadata (document type, file
name, version, conformance level, and the PDF/A extension schema that declares them), so
``declare_facturx`` adds it to Typst's own XMP packet, in place: the metadata object is
rewritten and the cross-reference table shifted, which costs well under a millisecond where
re-writing the whole file with pypdf (``facturx.generate_from_binary``) cost about 10 ms.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from lxml import etree

from comptoir.documents import rendering
from comptoir.documents.rendering import Attachment

# factur-x (the package) logs every step at INFO and dumps whole XMLs on errors when the
# tests and exports read files back with it; we log our own findings.
logging.getLogger("factur-x").setLevel(logging.WARNING)

FACTURX_FILENAME = "factur-x.xml"
FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
FX_PROPERTIES = {
    "DocumentFileName": "The name of the embedded XML document",
    "DocumentType": "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER",
    "Version": "The actual version of the standard applying to the embedded XML document",
    "ConformanceLevel": "The conformance level of the embedded XML document",
}


class FacturXError(RuntimeError):
    """The PDF is not laid out as Typst writes it, so its metadata cannot be completed."""


def cii_attachment(xml: bytes) -> Attachment:
    return Attachment(
        name=FACTURX_FILENAME,
        content=xml.decode("utf-8"),
        mime_type="text/xml",
        description="Factur-X XML file",
        relationship="data",
    )


def render_facturx(template: str, data: Mapping[str, Any], xml: bytes) -> bytes:
    """Render a Factur-X PDF/A-3 (EN 16931 profile) that carries ``xml`` as factur-x.xml."""
    pdf = rendering.render_pdf(template, data, attachments=[cii_attachment(xml)])
    return declare_facturx(pdf)


def _add(parent: Any, namespace: str, name: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, f"{{{namespace}}}{name}")
    element.text = text
    return element


def facturx_xmp(packet: bytes, *, level: str = "EN 16931") -> bytes:
    """Return an XMP packet with the Factur-X properties and their extension schema added."""
    parser = etree.XMLParser(remove_blank_text=False, resolve_entities=False, no_network=True)
    tree = etree.fromstring(packet, parser).getroottree()
    rdf = tree.getroot().find(f"{{{RDF}}}RDF")
    if rdf is None:
        raise FacturXError("the XMP packet has no rdf:RDF")
    resource = {f"{{{RDF}}}parseType": "Resource"}
    bag = rdf.find(f"{{{RDF}}}Description/{{{PDFA_EXTENSION}}}schemas/{{{RDF}}}Bag")
    if bag is None:
        holder = etree.SubElement(rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
        bag = _add(_add(holder, PDFA_EXTENSION, "schemas"), RDF, "Bag")
    schema = etree.SubElement(bag, f"{{{RDF}}}li", resource)
    _add(schema, PDFA_SCHEMA, "schema", "Factur-X PDFA Extension Schema")
    _add(schema, PDFA_SCHEMA, "namespaceURI", FX)
    _add(schema, PDFA_SCHEMA, "prefix", "fx")
    properties = _add(_add(schema, PDFA_SCHEMA, "property"), RDF, "Seq")
    for name, description in FX_PROPERTIES.items():
        item = etree.SubElement(properties, f"{{{RDF}}}li", resource)
        _add(item, PDFA_PROPERTY, "name", name)
        _add(item, PDFA_PROPERTY, "valueType", "Text")
        _add(item, PDFA_PROPERTY, "category", "external")
        _add(item, PDFA_PROPERTY, "description", description)
    facturx = etree.SubElement(
        rdf, f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""}, nsmap={"fx": FX}
    )
    _add(facturx, FX, "DocumentType", "INVOICE")
    _add(facturx, FX, "DocumentFileName", FACTURX_FILENAME)
    _add(facturx, FX, "Version", "1.0")
    _add(facturx, FX, "ConformanceLevel", level)
    return etree.tostring(tree, encoding="utf-8")


STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
XREF = re.compile(rb"xref\r?\n0 (\d+)\r?\n")
ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])(\r\n| \n| \r)")
METADATA_REF = re.compile(rb"/Metadata\s+(\d+)\s+0\s+R")
ROOT_REF = re.compile(rb"/Root\s+(\d+)\s+0\s+R")
STREAM_HEAD = re.compile(rb"(\d+) 0 obj\s*<<(.*?)>>\s*stream\r?\n", re.DOTALL)
LENGTH = re.compile(rb"/Length\s+(\d+)(?![\d\s]*R)")


def declare_facturx(pdf: bytes, *, level: str = "EN 16931") -> bytes:
    """Return the PDF with the Factur-X properties in its XMP metadata.

    Expects what Typst writes: one classic cross-reference table at the end, an uncompressed
    metadata stream with a direct length. Anything else raises ``FacturXError`` (the invoice
    then stays a draft) rather than producing a file we have not checked.
    """
    try:
        return _declare_facturx(pdf, level)
    except (ValueError, IndexError) as exc:
        raise FacturXError(f"unexpected PDF layout: {exc}") from exc


def _declare_facturx(pdf: bytes, level: str) -> bytes:
    end = STARTXREF.search(pdf, max(len(pdf) - 64, 0))
    if end is None:
        raise FacturXError("no startxref at the end of the PDF")
    xref_at = int(end.group(1))
    xref = XREF.match(pdf, xref_at)
    if xref is None:
        raise FacturXError("the PDF has no single classic cross-reference table")
    entries = []
    position = xref.end()
    for _ in range(int(xref.group(1))):
        entry = ENTRY.match(pdf, position)
        if entry is None:
            raise FacturXError("malformed cross-reference entry")
        entries.append(entry)
        position = entry.end()
    trailer = pdf[position : end.start()]
    root = ROOT_REF.search(trailer)
    if not trailer.lstrip().startswith(b"trailer") or b"/Prev" in trailer or root is None:
        raise FacturXError("the PDF has incremental updates or no catalog")

    def object_at(number: int) -> int:
        return int(entries[number].group(1))

    catalog_at = object_at(int(root.group(1)))
    metadata = METADATA_REF.search(pdf, catalog_at, pdf.index(b"endobj", catalog_at))
    if metadata is None:
        raise FacturXError("the catalog has no XMP metadata")
    number = int(metadata.group(1))
    start = object_at(number)
    head = STREAM_HEAD.match(pdf, start)
    length = LENGTH.search(head.group(2)) if head is not None else None
    if head is None or int(head.group(1)) != number or length is None:
        raise FacturXError("the metadata is not a stream with a direct length")
    if b"/Filter" in head.group(2):
        raise FacturXError("the metadata stream is compressed")
    packet_end = head.end() + int(length.group(1))
    stop = pdf.index(b"endobj", packet_end) + len(b"endobj")
    packet = facturx_xmp(pdf[head.end() : packet_end], level=level)
    dictionary = LENGTH.sub(b"/Length %d" % len(packet), head.group(2), count=1)
    replaced = b"%d 0 obj\n<<%s>>\nstream\n%s\nendstream\nendobj" % (number, dictionary, packet)
    shift = len(replaced) - (stop - start)
    table = [pdf[xref_at : xref.end()]]
    for entry in entries:
        offset = int(entry.group(1))
        if entry.group(3) == b"n" and offset > start:
            offset += shift
        table.append(b"%010d %s %s%s" % (offset, entry.group(2), entry.group(3), entry.group(4)))
    return b"".join(
        [
            pdf[:start],
            replaced,
            pdf[stop:xref_at],
            *table,
            trailer,
            b"startxref\n%d\n%%%%EOF\n" % (xref_at + shift),
        ]
    )
