"""Factur-X: embed the CII XML into the invoice PDF/A-3 with the Factur-X XMP metadata."""

from __future__ import annotations

import logging

from facturx import generate_from_binary

# factur-x logs every step at INFO and dumps whole XMLs on errors; we log our own findings.
logging.getLogger("factur-x").setLevel(logging.WARNING)


def embed_cii(pdf: bytes, xml: bytes) -> bytes:
    """Return the Factur-X PDF (EN 16931 profile) carrying ``xml`` as factur-x.xml.

    The XML was validated before (XSD and schematrons): factur-x's own XSD check is off so
    it is not paid twice.
    """
    result = generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=False,
        check_schematron=False,
        lang="fr-FR",
    )
    if not isinstance(result, bytes):
        raise RuntimeError("factur-x returned no PDF")
    return result
