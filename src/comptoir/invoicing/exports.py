"""Files of an issued document: the archived Factur-X PDF, its CII or its UBL."""

from __future__ import annotations

from comptoir.documents.actions import read_archived
from comptoir.invoicing.einvoice import build_cii
from comptoir.invoicing.models import Invoice
from comptoir.invoicing.selectors import archived_pdf
from comptoir.invoicing.ubl import build_ubl


def export_document(invoice: Invoice, fmt: str) -> tuple[str, bytes]:
    """Return (file name, bytes) of an issued document in ``facturx``, ``cii`` or ``ubl``."""
    number = invoice.number or ""
    if fmt == "facturx":
        document = archived_pdf(invoice)
        if document is None:
            raise LookupError(f"{number} has no archived PDF")
        return f"{number}.pdf", read_archived(document)
    lines = list(invoice.lines.select_related("deducted_invoice").order_by("position", "pk"))
    if fmt == "cii":
        return f"{number}.cii.xml", build_cii(invoice, lines)
    if fmt == "ubl":
        return f"{number}.ubl.xml", build_ubl(invoice, lines)
    raise ValueError(f"unknown format {fmt!r}")
