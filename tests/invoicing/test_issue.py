"""Issuing: number, totals, snapshot, Factur-X, archive and ledger — all or nothing."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from facturx import get_xml_from_pdf
from lxml import etree

from comptoir.core.models import NumberingCounter
from comptoir.documents.actions import archive_root, read_archived
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing import actions, einvoice
from comptoir.invoicing.models import Invoice, InvoiceKind, InvoiceLine, IssuedDocumentError
from comptoir.invoicing.selectors import archived_pdf
from comptoir.parties.models import Address, AddressKind, Party
from tests.invoicing.conftest import EXEMPT, REDUCED_5_5, REDUCED_10, line

pytestmark = pytest.mark.django_db
RAM = {"ram": einvoice.RAM}


def _xml_of(invoice: Invoice) -> etree._Element:
    document = archived_pdf(invoice)
    assert document is not None
    _name, xml = get_xml_from_pdf(read_archived(document), check_xsd=False)
    return etree.fromstring(xml)


def test_issue_assigns_number_totals_snapshot_and_archives_a_facturx_pdf(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    invoice = issued_for(
        customer,
        [
            line("Farine T65 25 kg", "4", "18.90"),
            line("Sucre", "10", "1.2345", REDUCED_5_5, discount_rate=Decimal("10")),
        ],
        issue_date=date(2026, 11, 20),
    )
    assert invoice.number == "FA-2026-000001"
    assert invoice.status == "issued"
    assert invoice.due_date == date(2026, 12, 20)  # company default: 30 days net
    assert invoice.lines_net_amount == Decimal("75.60") + Decimal("11.12")  # round(12.345 − 1.23)
    assert invoice.vat_amount == Decimal("15.12") + Decimal("0.61")
    assert invoice.total_amount == Decimal("102.45")
    assert invoice.buyer["siren"] == "552100554"
    assert invoice.seller["siren"] == "732829320"
    document = archived_pdf(invoice)
    assert document is not None and document.filename == "FA-2026-000001.pdf"
    xml = _xml_of(invoice)
    assert xml.findtext(".//ram:GrandTotalAmount", namespaces=RAM) == "102.45"
    assert xml.findtext(".//ram:TaxTotalAmount", namespaces=RAM) == "15.73"


def test_the_company_logo_is_printed_on_the_facturx_invoice(
    company: Any,
    customer: Party,
    issued_for: Callable[..., Invoice],
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    from django.core.files.base import ContentFile
    from PIL import Image
    from pypdf import PdfReader

    picture = io.BytesIO()
    Image.new("RGBA", (90, 30), (200, 30, 30, 128)).save(picture, format="PNG")
    company.logo.save("logo.png", ContentFile(picture.getvalue()))
    invoice = issued_for(customer, [line("Pain", "1", "2")])
    document = archived_pdf(invoice)
    assert document is not None
    pdf = read_archived(document)
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    images = [
        x for x in page["/Resources"]["/XObject"].values() if x.get_object()["/Subtype"] == "/Image"
    ]
    assert len(images) == 1
    # Still a Factur-X invoice, validated before it was stored.
    assert b"CrossIndustryInvoice" in get_xml_from_pdf(pdf, check_xsd=False)[1]


def test_snapshot_keeps_the_customer_as_it_was(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    invoice = issued_for(customer, [line("Pain", "1", "2")])
    customer.name = "Renamed later"
    customer.save()
    invoice.refresh_from_db()
    assert invoice.buyer["name"] == "Boulangerie Martin SARL"
    assert invoice.buyer_name == "Boulangerie Martin SARL"


def test_delivery_address_is_kept_only_when_different(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    warehouse = Address.objects.create(
        party=customer,
        kind=AddressKind.DELIVERY,
        line1="ZI Nord",
        postcode="93200",
        city="Saint-Denis",
    )
    invoice = issued_for(customer, [line("Pain", "1", "2")], delivery_address=warehouse)
    assert invoice.buyer["delivery_address"]["city"] == "Saint-Denis"
    xml = _xml_of(invoice)
    assert xml.findtext(".//ram:ShipToTradeParty//ram:CityName", namespaces=RAM) == "Saint-Denis"


def test_issued_invoice_refuses_every_orm_change(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    invoice = issued_for(customer, [line("Pain", "1", "2")])
    invoice.notes = "changed"
    with pytest.raises(IssuedDocumentError):
        invoice.save()
    with pytest.raises(IssuedDocumentError):
        Invoice.objects.get(pk=invoice.pk).save(update_fields=["notes"])
    with pytest.raises(IssuedDocumentError):
        invoice.delete()
    with pytest.raises(IssuedDocumentError):
        Invoice.objects.filter(pk=invoice.pk).update(notes="changed")
    with pytest.raises(IssuedDocumentError):
        Invoice.objects.filter(pk=invoice.pk).delete()
    first_line = invoice.lines.get()
    first_line.quantity = Decimal("99")
    with pytest.raises(IssuedDocumentError):
        first_line.save()
    with pytest.raises(IssuedDocumentError):
        first_line.delete()
    with pytest.raises(IssuedDocumentError):
        InvoiceLine.objects.filter(invoice=invoice).update(quantity=Decimal("2"))
    with pytest.raises(IssuedDocumentError):
        InvoiceLine.objects.filter(invoice=invoice).delete()
    with pytest.raises(IssuedDocumentError):
        actions.add_invoice_line(invoice, by=None, **line("More", "1", "1"))
    with pytest.raises(IssuedDocumentError):
        actions.issue_invoice(invoice, by=None)
    invoice.refresh_from_db()
    assert invoice.notes == "" and invoice.lines.get().quantity == Decimal("1")


def test_failing_pdf_keeps_the_draft_and_gives_the_number_back(
    customer: Party, draft_for: Callable[..., Invoice], assistant: Any, monkeypatch: Any
) -> None:
    first = draft_for(customer, [line("Pain", "1", "2")])
    second = draft_for(customer, [line("Pain", "1", "2")])

    def broken_renderer(*args: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("typst exploded")

    monkeypatch.setattr("comptoir.documents.rendering.render_pdf", broken_renderer)
    with pytest.raises(RuntimeError, match="typst exploded"):
        actions.issue_invoice(first, by=assistant)
    first.refresh_from_db()
    assert first.status == "draft" and first.number is None and first.hash == ""
    assert not NumberingCounter.objects.filter(series="FA", last_number__gt=0).exists()
    assert not ArchivedDocument.objects.exists()
    monkeypatch.undo()
    assert actions.issue_invoice(second, by=assistant).number == "FA-2026-000001"


def test_invalid_xml_keeps_the_draft(
    customer: Party, draft_for: Callable[..., Invoice], assistant: Any, monkeypatch: Any
) -> None:
    invoice = draft_for(customer, [line("Pain", "1", "2")])
    real = einvoice.build_cii

    def without_penalty_note(*args: Any, **kwargs: Any) -> bytes:
        return real(*args, **kwargs).replace(b"<ram:SubjectCode>PMD</ram:SubjectCode>", b"")

    monkeypatch.setattr(einvoice, "build_cii", without_penalty_note)
    with pytest.raises(ValueError, match="PMD"):
        actions.issue_invoice(invoice, by=assistant)
    invoice.refresh_from_db()
    assert invoice.status == "draft" and invoice.number is None
    assert NumberingCounter.objects.filter(series="FA").count() == 0


def test_rolled_back_transaction_takes_no_number(
    customer: Party, draft_for: Callable[..., Invoice], assistant: Any
) -> None:
    invoice = draft_for(customer, [line("Pain", "1", "2")])
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        actions.issue_invoice(invoice, by=assistant, produce_documents=False)
        raise ZeroDivisionError
    invoice.refresh_from_db()
    assert invoice.number is None
    assert actions.issue_invoice(invoice, by=assistant).number == "FA-2026-000001"


def test_issue_refuses_incomplete_company_and_empty_invoice(
    customer: Party, draft_for: Callable[..., Invoice], assistant: Any, company: Any
) -> None:
    empty = draft_for(customer, [])
    with pytest.raises(ValidationError, match="at least one line"):
        actions.issue_invoice(empty, by=assistant)
    company.siret = ""
    company.save()
    invoice = draft_for(customer, [line("Pain", "1", "2")])
    with pytest.raises(ValidationError, match="SIRET"):
        actions.issue_invoice(invoice, by=assistant)


def test_issue_date_cannot_go_back_in_the_series(
    customer: Party,
    issued_for: Callable[..., Invoice],
    draft_for: Callable[..., Invoice],
    assistant: Any,
) -> None:
    issued_for(customer, [line("Pain", "1", "2")], issue_date=date(2026, 11, 20))
    late = draft_for(customer, [line("Pain", "1", "2")])
    with pytest.raises(ValidationError, match="cannot be before"):
        actions.issue_invoice(late, by=assistant, issue_date=date(2026, 11, 19))


def test_year_starts_a_new_series(customer: Party, issued_for: Callable[..., Invoice]) -> None:
    issued_for(
        customer, [line("Pain", "1", "2")], issue_date=date(2026, 12, 31), produce_documents=False
    )
    invoice = issued_for(
        customer, [line("Pain", "1", "2")], issue_date=date(2027, 1, 1), produce_documents=False
    )
    assert invoice.number == "FA-2027-000001"


def test_full_credit_note_cancels_the_invoice(
    customer: Party, issued_for: Callable[..., Invoice], assistant: Any
) -> None:
    invoice = issued_for(
        customer,
        [
            line("Pain", "3", "1.3333"),
            line("Livre", "2", "19.99", REDUCED_5_5),
            line("Cours", "1", "80", EXEMPT),
        ],
        discount_rate=Decimal("3"),
    )
    credit_note = actions.issue_invoice(
        actions.create_credit_note(invoice, by=assistant), by=assistant
    )
    assert credit_note.number == "AV-2026-000001"
    assert credit_note.kind == InvoiceKind.CREDIT_NOTE and credit_note.corrects == invoice
    assert invoice.total_amount - credit_note.total_amount == Decimal("0.00")
    assert invoice.vat_amount == credit_note.vat_amount
    xml = _xml_of(credit_note)
    assert xml.findtext(".//ram:TypeCode", namespaces=RAM) == "381"
    reference = xml.find(".//ram:InvoiceReferencedDocument", namespaces=RAM)
    assert reference.findtext("ram:IssuerAssignedID", namespaces=RAM) == invoice.number
    with pytest.raises(ValidationError, match="left to credit"):
        actions.create_credit_note(invoice, by=assistant)


def test_partial_credit_note(
    customer: Party, issued_for: Callable[..., Invoice], assistant: Any
) -> None:
    invoice = issued_for(customer, [line("Pain", "10", "2"), line("Livre", "2", "20", REDUCED_5_5)])
    bread = invoice.lines.get(label="Pain")
    credit_note = actions.issue_invoice(
        actions.create_credit_note(invoice, by=assistant, lines=[(bread, Decimal("4"))]),
        by=assistant,
    )
    assert credit_note.tax_basis_amount == Decimal("8.00")
    assert credit_note.total_amount == Decimal("9.60")
    with pytest.raises(ValidationError):
        actions.create_credit_note(invoice, by=assistant, lines=[(bread, Decimal("7"))])


def test_down_payment_then_final_invoice_deducts_it(
    customer: Party,
    issued_for: Callable[..., Invoice],
    draft_for: Callable[..., Invoice],
    assistant: Any,
) -> None:
    down = issued_for(
        customer, [line("Acompte 30 % sur commande", "1", "300")], kind=InvoiceKind.DOWN_PAYMENT
    )
    assert down.number == "FA-2026-000001" and down.total_amount == Decimal("360.00")
    assert _xml_of(down).findtext(".//ram:TypeCode", namespaces=RAM) == "386"
    final = draft_for(customer, [line("Four à pain", "1", "1000")])
    actions.deduct_down_payment(final, down_payment=down, by=assistant)
    final = actions.issue_invoice(final, by=assistant)
    assert final.tax_basis_amount == Decimal("700.00")
    assert final.vat_amount == Decimal("140.00")
    assert final.due_amount == Decimal("1200.00") - down.total_amount
    xml = _xml_of(final)
    assert (
        xml.findtext(
            ".//ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID", namespaces=RAM
        )
        == "B4"
    )
    assert (
        xml.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=RAM)
        == down.number
    )
    second = draft_for(customer, [line("Four", "1", "1000")])
    with pytest.raises(ValidationError, match="already deducted"):
        actions.deduct_down_payment(second, down_payment=down, by=assistant)


def test_verify_ledger_passes_then_names_the_tampered_invoice(
    customer: Party, issued_for: Callable[..., Invoice], assistant: Any
) -> None:
    first = issued_for(customer, [line("Pain", "1", "2")], produce_documents=False)
    second = issued_for(customer, [line("Pain", "2", "2")], produce_documents=False)
    third = issued_for(customer, [line("Pain", "3", "2")], produce_documents=False)
    out = io.StringIO()
    call_command("verify-ledger", stdout=out)
    assert "3 documents verified" in out.getvalue()
    assert second.previous_hash == first.hash and third.previous_hash == second.hash

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoiceline SET net_amount = %s WHERE invoice_id = %s",
            ["4.01", second.pk],
        )
    with pytest.raises(CommandError, match=second.number):
        call_command("verify-ledger")


def test_verify_ledger_sees_the_newest_document_deleted_or_put_back_to_draft(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    first = issued_for(customer, [line("Pain", "1", "2")], produce_documents=False)
    second = issued_for(customer, [line("Pain", "2", "2")], produce_documents=False)
    last = issued_for(customer, [line("Pain", "3", "2")], produce_documents=False)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM invoicing_invoiceline WHERE invoice_id = %s", [last.pk])
        cursor.execute("DELETE FROM payments_invoicesettlement WHERE invoice_id = %s", [last.pk])
        cursor.execute("DELETE FROM invoicing_invoice WHERE id = %s", [last.pk])
    # Nothing after it to trip on: the counter of places in the chain says one is gone.
    with pytest.raises(CommandError, match=r"1 document\(s\) after chain index 2 are missing"):
        call_command("verify-ledger")
    # A document put back to draft, its number removed, is named all the same.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoice SET status = 'draft', number = NULL WHERE id = %s",
            [second.pk],
        )
    with pytest.raises(CommandError) as raised:
        call_command("verify-ledger")
    assert f"a document without a number (id {second.pk})" in str(raised.value)
    assert "status was changed to Draft" in str(raised.value)
    assert first.number not in str(raised.value)


def test_verify_ledger_sees_a_renamed_customer(
    customer: Party, issued_for: Callable[..., Invoice]
) -> None:
    issued_for(customer, [line("Pain", "1", "2")], produce_documents=False)
    target = issued_for(customer, [line("Pain", "1", "2")], produce_documents=False)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE invoicing_invoice SET buyer_name = %s WHERE id = %s",
            ["Someone else", target.pk],
        )
    with pytest.raises(CommandError, match=target.number):
        call_command("verify-ledger")


def test_cli_export_writes_every_format(
    customer: Party, issued_for: Callable[..., Invoice], tmp_path: Any
) -> None:
    invoice = issued_for(customer, [line("Pain", "1", "2"), line("Livre", "1", "9", REDUCED_10)])
    for fmt, suffix in (("facturx", ".pdf"), ("cii", ".cii.xml"), ("ubl", ".ubl.xml")):
        call_command(
            "invoices",
            "export",
            "--format",
            fmt,
            "--out",
            str(tmp_path / fmt),
            "--number",
            invoice.number,
            stdout=io.StringIO(),
        )
        written = (tmp_path / fmt / f"{invoice.number}{suffix}").read_bytes()
        assert written
    assert (
        b'<cbc:PayableAmount currencyID="EUR">12.30</cbc:PayableAmount>'
        in (tmp_path / "ubl" / f"{invoice.number}.ubl.xml").read_bytes()
    )
    # An unknown number is refused before the folder is made.
    with pytest.raises(CommandError, match="FA-1999-000001"):
        call_command(
            "invoices",
            "export",
            "--format",
            "cii",
            "--out",
            str(tmp_path / "unknown"),
            "--number",
            "FA-1999-000001",
        )
    assert not (tmp_path / "unknown").exists()
    # An empty value is not "the current folder", nor "every document".
    for empty in (["--out", ""], ["--out", str(tmp_path / "x"), "--number", " "]):
        with pytest.raises(CommandError, match="empty value"):
            call_command("invoices", "export", "--format", "cii", *empty)


def test_cli_export_of_a_damaged_archive_names_the_documents_and_exports_the_rest(
    customer: Party, issued_for: Callable[..., Invoice], tmp_path: Any
) -> None:
    missing = issued_for(customer, [line("Pain", "1", "2")])
    altered = issued_for(customer, [line("Pain", "2", "2")])
    intact = issued_for(customer, [line("Pain", "3", "2")])
    archive = archive_root()
    (archive / archived_pdf(missing).path).unlink()
    with (archive / archived_pdf(altered).path).open("ab") as handle:
        handle.write(b"%tampered")
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command(
            "invoices", "export", "--format", "facturx", "--out", str(tmp_path / "o"), stdout=out
        )
    message = str(raised.value)
    assert "\n" not in message and message.startswith("2 documents could not be exported")
    assert f"{missing.number} (its archived file is missing)" in message
    assert f"{altered.number} (its archived file does not match its checksum)" in message
    assert "1 file written" in out.getvalue()
    assert (tmp_path / "o" / f"{intact.number}.pdf").exists()


def test_final_invoice_with_a_document_discount_discounts_its_goods_only(
    customer: Party,
    issued_for: Callable[..., Invoice],
    draft_for: Callable[..., Invoice],
    assistant: Any,
) -> None:
    down = issued_for(
        customer,
        [line("Acompte", "1", "100")],
        kind=InvoiceKind.DOWN_PAYMENT,
        produce_documents=False,
    )
    final = draft_for(customer, [line("Four", "1", "1000")], discount_rate=Decimal("5"))
    actions.deduct_down_payment(final, down_payment=down, by=assistant)
    final = actions.issue_invoice(final, by=assistant, produce_documents=False)
    # 1000 − 100 deducted = 900 of line nets; the 5 % discount is on the 1000 of goods.
    assert (final.lines_net_amount, final.allowance_amount) == (Decimal("900"), Decimal("50"))
    assert (final.tax_basis_amount, final.vat_amount) == (Decimal("850"), Decimal("170"))
    assert final.vat_breakdown[0]["allowance_basis_amount"] == "1000.00"
    cii = etree.fromstring(einvoice.build_cii(final, list(final.lines.all())))
    basis = cii.findtext(
        ".//ram:ApplicableHeaderTradeSettlement/ram:SpecifiedTradeAllowanceCharge/ram:BasisAmount",
        namespaces={"ram": einvoice.RAM},
    )
    assert basis == "1000.00"


def test_a_draft_previews_as_it_would_print_marked_as_a_draft(
    customer: Party,
    draft_for: Callable[..., Invoice],
    assistant: Any,
    client_for: Any,
    make_user: Any,
) -> None:
    from pypdf import PdfReader

    draft = draft_for(customer, [line("Pain", "3", "2.50")])
    client = client_for(assistant)
    assert 'id="preview-pdf"' in client.get(f"/invoices/{draft.pk}/").content.decode()
    response = client.get(f"/invoices/{draft.pk}/preview/")
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "BROUILLON" in text and "Boulangerie Martin SARL" in text
    assert "9,00" in text  # 7.50 + 20 % VAT
    # Nothing saved: still a draft, no number, no archived file.
    draft.refresh_from_db()
    assert draft.number is None and not draft.is_issued and draft.total_amount == 0
    assert not ArchivedDocument.objects.exists()
    # Whatever would stop issuing stops the preview and says so.
    Party.objects.filter(pk=customer.pk).update(siren="")
    response = client.get(f"/invoices/{draft.pk}/preview/")
    assert response.status_code == 302
    # Only who may issue it previews it.
    reader = client_for(make_user("accountant"))
    assert reader.get(f"/invoices/{draft.pk}/preview/").status_code == 403
