"""Bank files written from the specs are imported once, matched, and refused when broken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from comptoir.invoicing import actions as invoicing
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments import actions, bankfiles, selectors
from comptoir.payments.models import (
    BankStatement,
    InvoiceSettlement,
    Payment,
    StatementLine,
    StatementLineStatus,
)

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data" / "bank"


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def invoices(
    make_customer: Callable[..., Party], issue: Callable[..., Invoice], assistant: Any
) -> dict[str, Invoice]:
    martin = make_customer("Boulangerie Martin SARL")
    dupont = make_customer("Garage Dupont SAS")
    leroy = make_customer("Pharmacie Leroy")
    made = {
        "martin": issue(martin, "1000.00", date(2026, 2, 1)),  # FA-2026-000001, 1 200,00
        "dupont1": issue(dupont, "300.00", date(2026, 2, 2)),  # FA-2026-000002, 360,00
        "dupont2": issue(dupont, "200.00", date(2026, 2, 3)),  # FA-2026-000003, 240,00
        "leroy": issue(leroy, "500.00", date(2026, 2, 4)),  # FA-2026-000004, 600,00
    }
    # Martin paid this one, then sent the goods back: the credit note is his credit, refunded.
    made["returned"] = issue(martin, "100.00", date(2026, 2, 5))  # FA-2026-000005, 120,00
    actions.record_payment(
        party=martin,
        amount=Decimal("120.00"),
        method="cheque",
        date=date(2026, 2, 6),
        allocations=[(made["returned"], Decimal("120.00"))],
        by=assistant,
    )
    note = invoicing.create_credit_note(made["returned"], by=assistant)
    made["note"] = invoicing.issue_invoice(
        note, by=assistant, issue_date=date(2026, 2, 10), produce_documents=False
    )  # AV-2026-000001, 120,00
    return made


def test_cfonb_amounts_decode_sign_and_last_digit() -> None:
    assert bankfiles.cfonb_amount("0000000012345{", 2, 1) == Decimal("1234.50")
    assert bankfiles.cfonb_amount("0000000000459}", 2, 1) == Decimal("-45.90")
    assert bankfiles.cfonb_amount("0000000000001R", 2, 1) == Decimal("-0.19")
    assert bankfiles.cfonb_amount("0000000000001A", 0, 1) == Decimal("11.00")
    with pytest.raises(bankfiles.BankFileError):
        bankfiles.cfonb_amount("00000000000x1A", 2, 7)


def test_sample_files_are_read_with_their_balances() -> None:
    (cfonb,) = bankfiles.parse_bank_file(read("releve-cfonb120.txt"))
    assert cfonb.format == "cfonb120"
    assert (cfonb.opening_balance, cfonb.closing_balance) == (
        Decimal("15000.00"),
        Decimal("16514.10"),
    )
    assert [line.amount for line in cfonb.lines] == [
        Decimal("1200.00"),
        Decimal("360.00"),
        Decimal("-45.90"),
    ]
    assert cfonb.lines[0].counterparty_name == "BOULANGERIE MARTIN SARL"
    assert "FA-2026-000001" in cfonb.lines[0].label
    (camt,) = bankfiles.parse_bank_file(read("releve-camt053.xml"))
    assert camt.account == "FR7630004008230001234567843"
    assert [line.amount for line in camt.lines] == [
        Decimal("600.00"),
        Decimal("-120.00"),
        Decimal("20.00"),
    ]
    assert camt.lines[0].counterparty_iban == "FR1420041010050500013M02606"
    (ofx,) = bankfiles.parse_bank_file(read("releve.ofx"))
    assert ofx.account == "00012345678"
    assert [line.bank_id for line in ofx.lines] == ["0313A0001", "0316A0002"]
    assert ofx.closing_balance == Decimal("17725.10")


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (b"Date;Montant\n01/03/2026;12,00\n", 1, "unknown format"),
        (read("releve-cfonb120-truncated.txt"), 4, "87 characters"),
        (read("releve-cfonb120.txt").replace(b"\r\n07", b"\r\n99", 1), 7, "unknown record"),
        (read("releve-camt053-truncated.xml"), 43, "truncated"),
        (read("releve.ofx").replace(b"</OFX>", b""), 0, "truncated"),
        (read("releve.ofx").replace(b"</STMTTRN>", b"", 1), 34, "not closed"),
        (read("releve-cfonb120.txt").replace(b"0000000165141{", b"0000000165142{"), 7, "differs"),
    ],
)
def test_bad_files_name_the_line_and_import_nothing(
    content: bytes, line: int, words: str, accountant: Any
) -> None:
    with pytest.raises(bankfiles.BankFileError) as caught:
        actions.import_bank_file(content, filename="bad.txt", by=accountant)
    if line:
        assert caught.value.line == line
    assert words in str(caught.value)
    assert not BankStatement.objects.exists() and not StatementLine.objects.exists()


def test_a_second_import_is_refused_naming_the_line_and_adds_nothing(accountant: Any) -> None:
    actions.import_bank_file(read("releve-cfonb120.txt"), filename="mars.txt", by=accountant)
    with pytest.raises(bankfiles.BankFileError) as caught:
        actions.import_bank_file(read("releve-cfonb120.txt"), filename="again.txt", by=accountant)
    assert caught.value.line == 1
    assert "already imported" in str(caught.value)
    # The same movements inside another statement (another period's file) are refused too.
    (parsed,) = bankfiles.parse_bank_file(read("releve.ofx"))
    actions.import_bank_file(read("releve.ofx"), filename="ofx", by=accountant)
    renamed = read("releve.ofx").replace(b"<DTEND>20260316", b"<DTEND>20260317")
    with pytest.raises(bankfiles.BankFileError) as caught:
        actions.import_bank_file(renamed, filename="ofx2", by=accountant)
    assert caught.value.line == parsed.lines[0].file_line
    assert StatementLine.objects.count() == 3 + 2


def test_imported_lines_are_matched_by_number_name_amount_and_iban(
    invoices: dict[str, Invoice], accountant: Any, make_customer: Callable[..., Party]
) -> None:
    for name in ("releve-cfonb120.txt", "releve-camt053.xml", "releve.ofx"):
        actions.import_bank_file(read(name), filename=name, by=accountant)
    lines = {line.amount: line for line in StatementLine.objects.all()}
    proposals = selectors.proposals_for(list(StatementLine.objects.all()))
    martin = proposals[lines[Decimal("1200.00")].pk][0]
    assert [i.number for i in martin["invoices"]] == ["FA-2026-000001"]
    assert martin["score"] >= 80 and {"number", "amount", "name"} <= set(martin["reasons"])
    dupont = proposals[lines[Decimal("600.00")].pk if False else _line(lines, "GARAGE").pk][0]
    assert sorted(i.number for i in dupont["invoices"]) == ["FA-2026-000002", "FA-2026-000003"]
    leroy = proposals[_line(lines, "PHARMACIE").pk][0]
    assert [i.number for i in leroy["invoices"]] == ["FA-2026-000004"]
    assert set(leroy["reasons"]) == {"name", "amount"}
    assert leroy["reason_labels"] == ["the customer's name is in the label", "the same amount"]
    refund = proposals[lines[Decimal("-120.00")].pk][0]
    assert [i.number for i in refund["invoices"]] == ["AV-2026-000001"]
    assert proposals[lines[Decimal("-45.90")].pk] == []
    # One click confirms: the invoices are paid, the refund settles the credit note.
    for line, proposal in [
        (lines[Decimal("1200.00")], martin),
        (_line(lines, "GARAGE"), dupont),
        (lines[Decimal("-120.00")], refund),
    ]:
        actions.confirm_match(line, invoices=proposal["invoices"], by=accountant)
    states = dict(InvoiceSettlement.objects.values_list("number", "state"))
    assert states == {
        "FA-2026-000001": "paid",
        "FA-2026-000002": "paid",
        "FA-2026-000003": "paid",
        "FA-2026-000004": "issued",
        "FA-2026-000005": "paid",
        "AV-2026-000001": "paid",
    }
    assert Payment.objects.get(statement_line=_line(lines, "GARAGE")).payer_iban.startswith("FR14")
    unmatched = set(
        StatementLine.objects.filter(status=StatementLineStatus.UNMATCHED).values_list(
            "amount", flat=True
        )
    )
    assert unmatched == {
        Decimal("360.00"),
        Decimal("-45.90"),
        Decimal("20.00"),
        Decimal("600.00"),
        Decimal("-89.00"),
    }


def _line(lines: dict[Decimal, StatementLine], text: str) -> StatementLine:
    return next(
        line
        for line in StatementLine.objects.all()
        if text in line.counterparty_name or text in line.label
    )


def test_a_known_iban_is_a_matching_clue(invoices: dict[str, Invoice], accountant: Any) -> None:
    leroy = invoices["leroy"].party
    actions.create_mandate(
        party=leroy,
        reference="RUM-LEROY-1",
        signature_date=date(2025, 1, 10),
        iban="FR1420041010050500013M02606",
        by=accountant,
    )
    actions.import_bank_file(read("releve-camt053.xml"), filename="camt", by=accountant)
    line = StatementLine.objects.get(amount=Decimal("600.00"))
    proposals = selectors.proposals_for([line])[line.pk]
    by_party = {p["invoices"][0].party_id: p for p in proposals}
    assert "iban" in by_party[leroy.pk]["reasons"]


def test_screens_import_confirm_in_one_click_and_match_by_hand(
    invoices: dict[str, Invoice], accountant: Any, client_for: Callable[..., Client]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_for(accountant)
    upload = SimpleUploadedFile("releve.txt", read("releve-cfonb120.txt"))
    response = client.post(reverse("payments:statements"), {"file": upload})
    assert response.status_code == 302
    again = client.post(
        reverse("payments:statements"),
        {"file": SimpleUploadedFile("releve.txt", read("releve-cfonb120.txt"))},
    )
    assert "line 1: this statement was already imported" in again.content.decode()
    page = client.get(reverse("payments:unmatched")).content.decode()
    assert "FA-2026-000001" in page
    line = StatementLine.objects.get(amount=Decimal("1200.00"))
    response = client.post(
        reverse("payments:confirm", args=[line.pk]),
        {"invoices": str(invoices["martin"].pk)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "table-success" in response.content.decode()
    cheque = StatementLine.objects.get(amount=Decimal("360.00"))
    response = client.post(
        reverse("payments:manual_match", args=[cheque.pk]),
        {"party": invoices["dupont1"].party_id, "invoices": [invoices["dupont1"].pk]},
    )
    assert response.status_code == 302
    assert InvoiceSettlement.objects.get(invoice=invoices["dupont1"]).state == "paid"
    assert StatementLine.objects.get(pk=cheque.pk).status == StatementLineStatus.MATCHED


def test_the_api_imports_a_statement_and_matches_a_line(
    invoices: dict[str, Invoice], accountant: Any, rep: Any, api_client_for: Callable[..., Client]
) -> None:
    import base64

    client = api_client_for(accountant)
    body = {
        "filename": "camt.xml",
        "content_base64": base64.b64encode(read("releve-camt053.xml")).decode(),
    }
    response = client.post("/api/v1/bank-statements", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()[0]["lines"] == 3
    again = client.post("/api/v1/bank-statements", body, content_type="application/json")
    assert again.status_code == 422 and "already imported" in again.json()["detail"][0]["message"]
    line = StatementLine.objects.get(amount=Decimal("600.00"))
    proposals = client.get(f"/api/v1/bank-lines/{line.pk}/proposals").json()
    assert sorted(proposals[0]["invoice_ids"]) == sorted(
        [invoices["dupont1"].pk, invoices["dupont2"].pk]
    )
    matched = client.post(
        f"/api/v1/bank-lines/{line.pk}/match",
        {"invoice_ids": proposals[0]["invoice_ids"]},
        content_type="application/json",
    )
    assert matched.status_code == 201 and matched.json()["amount"] == "600.00"
    assert (
        api_client_for(rep)
        .post("/api/v1/bank-statements", body, content_type="application/json")
        .status_code
        == 403
    )


def test_a_bad_bank_file_is_told_in_the_user_s_language() -> None:
    from django.utils import translation

    from comptoir.payments.bankfiles import BankFileError, parse_bank_file

    with translation.override("fr"), pytest.raises(BankFileError) as raised:
        parse_bank_file(b"Date;Montant\n01/03/2026;12,00\n")
    assert (
        str(raised.value)
        == "ligne 1\u00a0: format inconnu\u00a0: CFONB 120, CAMT.053 ou OFX attendu"
    )
