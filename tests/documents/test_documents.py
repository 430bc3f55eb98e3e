"""The rendering engine and the archive."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from comptoir.documents import rendering
from comptoir.documents.actions import archive_document, read_archived
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing.printing import WIDTH_COLUMNS


@pytest.fixture(autouse=True)
def _data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    settings.ARCHIVE_ROOT = tmp_path / "archive"


def test_shipped_template_renders_pdf_a() -> None:
    pdf = rendering.render_pdf("invoice.typ", _minimal_invoice_data())
    assert pdf.startswith(b"%PDF")
    assert b"pdfaid:part" in pdf or b"pdfaid" in pdf  # PDF/A identification in the XMP


def _embedded_fonts(pdf: bytes) -> set[str]:
    import io

    from pypdf import PdfReader

    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            # A subset's name: six letters, "+", the PostScript name.
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


def test_documents_embed_comptoir_sans_and_old_templates_still_find_liberation(
    tmp_path: Path,
) -> None:
    """Comptoir Sans is Liberation Sans without hinting (scripts/make_comptoir_sans.py): the
    shipped templates use it; a copy written for Liberation Sans still prints in that."""
    fonts = rendering.FONTS_DIR
    for style in ("Regular", "Bold", "Italic"):
        derived = (fonts / f"ComptoirSans-{style}.ttf").read_bytes()
        original = (fonts / f"LiberationSans-{style}.ttf").read_bytes()
        assert len(derived) < 0.6 * len(original)
        assert b"fpgm" not in derived[:1024] and b"fpgm" in original[:1024]  # table directory
        assert b"Liberation" not in derived.replace(b"\x00", b"")  # the trademark stays out
    assert (fonts / "ComptoirSans.LICENSE").is_file()
    pdf = rendering.render_pdf("invoice.typ", _minimal_invoice_data())
    assert _embedded_fonts(pdf) == {"ComptoirSans-Regular", "ComptoirSans-Bold"}
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "invoice.typ").write_text(
        '#let d = json("/data.json")\n#set text(font: "Liberation Sans")\nOLD #d.number\n'
    )
    assert _embedded_fonts(rendering.render_pdf("invoice.typ", {"number": "FA-1"})) == {
        "LiberationSans"
    }


def test_administrator_copy_overrides_the_shipped_template(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "invoice.typ").write_text(
        '#let d = json(bytes(sys.inputs.data))\n#set text(font: "Liberation Sans")\nOVERRIDDEN #d.number\n'
    )
    assert rendering.template_path("invoice.typ") == tmp_path / "templates" / "invoice.typ"
    pdf = rendering.render_pdf("invoice.typ", {"number": "X-1"})
    assert pdf.startswith(b"%PDF")


def _text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_each_document_gets_its_own_data_through_the_private_folder(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "note.typ").write_text(
        '#let d = json("/data.json")\n#set text(font: "Liberation Sans")\nNOTE #d.number\n'
    )
    assert "NOTE A-1" in _text(rendering.render_pdf("note.typ", {"number": "A-1"}))
    # The same template, new data: the file is rewritten, not a stale copy printed.
    assert "NOTE B-2" in _text(rendering.render_pdf("note.typ", {"number": "B-2"}))
    # An administrator edits the template: the next document uses the edit.
    (tmp_path / "templates" / "note.typ").write_text(
        '#let d = json("/data.json")\n#set text(font: "Liberation Sans")\nEDITED #d.number\n'
    )
    assert "EDITED C-3" in _text(rendering.render_pdf("note.typ", {"number": "C-3"}))


def test_a_template_reaches_only_its_private_folder(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    # Beside the template (the root Typst used to get), and above it.
    (tmp_path / "templates" / "secret.txt").write_text("do not print")
    (tmp_path / "secret.txt").write_text("do not print")
    for reach in ("secret.txt", "/secret.txt", "../secret.txt", "/../secret.txt"):
        (tmp_path / "templates" / "sneaky.typ").write_text(
            f'#set text(font: "Liberation Sans")\n#read("{reach}")\n'
        )
        with pytest.raises(rendering.RenderingError):
            rendering.render_pdf("sneaky.typ", {})
    # The data it is given, it reads.
    (tmp_path / "templates" / "sneaky.typ").write_text(
        '#set text(font: "Liberation Sans")\n#read("/data.json")\n'
    )
    assert '"number": "D-4"' in _text(rendering.render_pdf("sneaky.typ", {"number": "D-4"}))


def test_a_forked_process_writes_its_data_in_a_folder_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderer = rendering.Renderer()
    parent = renderer._workdir()
    assert renderer._workdir() == parent
    monkeypatch.setattr(rendering.os, "getpid", lambda: -1)
    child = renderer._workdir()
    try:
        assert child != parent and child.is_dir()
    finally:
        child.rmdir()  # its exit handler belongs to a process that does not exist


def test_broken_template_and_bad_names_raise(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.typ").write_text("#let x = (\n")
    with pytest.raises(rendering.RenderingError):
        rendering.render_pdf("broken.typ", {})
    with pytest.raises(rendering.RenderingError):
        rendering.template_path("../settings.py")
    with pytest.raises(rendering.RenderingError):
        rendering.template_path("missing.typ")


@pytest.mark.django_db
def test_archive_stores_once_with_checksum(assistant: Any, tmp_path: Path) -> None:
    content = b"%PDF-1.7 archived"
    document = archive_document(
        content,
        reference="FA-2026-000001",
        kind="invoice_pdf",
        filename="FA-2026-000001.pdf",
        mime_type="application/pdf",
        business_object=assistant,
        by=assistant,
    )
    assert document.checksum == hashlib.sha256(content).hexdigest()
    assert document.business_object == assistant
    stored = tmp_path / "archive" / document.path
    assert stored.read_bytes() == content and "FA-2026" not in document.path
    assert read_archived(document) == content
    with pytest.raises(ValidationError, match="already archived"):
        archive_document(
            b"other",
            reference="FA-2026-000001",
            kind="invoice_pdf",
            filename="x.pdf",
            mime_type="application/pdf",
            business_object=None,
            by=assistant,
        )
    assert ArchivedDocument.objects.count() == 1
    # The refused document's file is not left behind.
    assert len([f for f in (tmp_path / "archive").rglob("*") if f.is_file()]) == 1
    document.filename = "renamed.pdf"
    with pytest.raises(ValidationError):
        document.save()
    stored.chmod(0o644)
    stored.write_bytes(b"tampered")
    with pytest.raises(ValidationError, match="checksum"):
        read_archived(document)


def _minimal_invoice_data() -> dict[str, Any]:
    return {
        "title": "FACTURE",
        "number": "FA-2026-000001",
        "issue_date": "26/11/2026",
        "supply_date": "",
        "due_date": "26/12/2026",
        "seller": {
            "name": "S",
            "address": ["1 rue A", "75001 Paris"],
            "contact": "",
            "siret": "1",
            "vat_number": "FR1",
            "legal_line": "S – SAS",
        },
        "buyer": {"name": "B", "address": ["2 rue B"], "siren": "552100554", "vat_number": ""},
        "delivery": None,
        "operation_category": "livraison de biens",
        "vat_on_debits": False,
        "corrects": None,
        "references": "",
        "lines": [
            {
                "reference": "",
                "label": "Pain",
                "description": "",
                "quantity": "1",
                "unit": "u",
                "unit_price": "2,00",
                "discount": "",
                "vat_rate": "20 %",
                "net_amount": "2,00",
            }
        ],
        "widest": {key: "2,00" for key in WIDTH_COLUMNS},
        "vat_groups": [{"label": "S 20 %", "allowance": "0,00", "taxable": "2,00", "vat": "0,40"}],
        "exemptions": [],
        "totals": {
            "lines_net": "2,00",
            "allowance": "0,00",
            "has_allowance": False,
            "tax_basis": "2,00",
            "vat": "0,40",
            "total": "2,40",
            "prepaid": "0,00",
            "has_prepaid": False,
            "due": "2,40",
        },
        "due_label": "Net à payer",
        "currency_symbol": "€",
        "payment": "",
        "mentions": {
            "discount": "Pas d'escompte.",
            "late_penalty": "Pénalités.",
            "recovery": "40 €.",
        },
        "notes": "",
        "footer": "",
    }


def _images(pdf: bytes) -> int:
    import io

    from pypdf import PdfReader

    count = 0
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = page["/Resources"].get("/XObject") or {}
        count += sum(1 for x in xobjects.values() if x.get_object()["/Subtype"] == "/Image")
    return count


def test_company_logo_is_printed_and_a_broken_one_is_left_out(tmp_path: Path) -> None:
    from PIL import Image

    data = _minimal_invoice_data()
    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (30, 60, 120)).save(logo)
    without = rendering.render_pdf("invoice.typ", data)
    assert _images(without) == 0
    assert _images(rendering.render_pdf("invoice.typ", data, logo=logo)) == 1
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    # The document still prints, without the logo.
    assert _images(rendering.render_pdf("invoice.typ", data, logo=broken)) == 0


@pytest.mark.django_db
def test_archive_check_finds_missing_altered_and_orphan_files(
    assistant: Any, tmp_path: Path
) -> None:
    import io
    import os
    import time

    from django.core.management import CommandError, call_command

    def archived(reference: str) -> ArchivedDocument:
        return archive_document(
            reference.encode(),
            reference=reference,
            kind="invoice_pdf",
            filename=f"{reference}.pdf",
            mime_type="application/pdf",
            business_object=None,
            by=assistant,
        )

    intact, altered, gone = archived("FA-1"), archived("FA-2"), archived("FA-3")
    root = tmp_path / "archive"
    (root / altered.path).chmod(0o644)
    (root / altered.path).write_bytes(b"changed")
    (root / gone.path).unlink()
    old_orphan = root / "2020" / "01" / "left-by-a-rollback.pdf"
    old_orphan.parent.mkdir(parents=True)
    old_orphan.write_bytes(b"%PDF")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old_orphan, (two_days_ago, two_days_ago))
    fresh_orphan = root / "2020" / "01" / "in-flight.pdf"
    fresh_orphan.write_bytes(b"%PDF")
    out = io.StringIO()
    with pytest.raises(CommandError, match="does not match"):
        call_command("documents", "check", "--delete-orphans", stdout=out)
    report = out.getvalue()
    assert "missing\tFA-3" in report and "altered\tFA-2" in report
    assert "FA-1" not in report and intact.reference == "FA-1"
    assert "3 document(s) checked: 1 missing, 1 altered, 2 file(s) without a document" in report
    # Only the orphan older than a day is deleted: the other may be a transaction in flight.
    assert not old_orphan.exists() and fresh_orphan.exists()


@pytest.mark.django_db
def test_archived_documents_show_their_kind_by_name_not_code() -> None:
    from django.utils import translation

    invoice = ArchivedDocument(kind="invoice_pdf")
    with translation.override("fr"):
        assert invoice.kind_label == "Facture"
        assert ArchivedDocument(kind="delivery_note_pdf").kind_label == "Bon de livraison"
    with translation.override("en"):
        assert ArchivedDocument(kind="credit_note_pdf").kind_label == "Credit note"
        assert ArchivedDocument(kind="something_new").kind_label == "something_new"
