"""SEPA: pain.008.001.08 and pain.001.001.09 files validate against the ISO 20022 XSDs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from lxml import etree

from comptoir.documents.actions import read_archived
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Address, AddressKind, Party
from comptoir.payments import actions, sepa
from comptoir.payments.models import InvoiceSettlement, SepaMandate

pytestmark = pytest.mark.django_db
NS8 = {"p": sepa.PAIN008}
NS1 = {"p": sepa.PAIN001}
ICS = "FR72ZZZ123456"  # check digits computed with ISO 7064 MOD 97-10 over 123456FR00


def test_creditor_identifier_check_digits() -> None:
    assert sepa.normalise_creditor_identifier("fr72 zzz 123456") == ICS
    for wrong in ("FR73ZZZ123456", "FR72ZZZ12345", "12ZZZ123456", ""):
        with pytest.raises(ValidationError):
            sepa.normalise_creditor_identifier(wrong)


def test_street_and_building_number_are_split() -> None:
    assert sepa.split_street("12 bis rue de la Charité") == ("12 bis", "rue de la Charité")
    assert sepa.split_street("Place Bellecour") == ("", "Place Bellecour")
    assert sepa.sepa_text("Société Générale & Fils — Lyon", 70) == "Societe Generale + Fils Lyon"


@pytest.fixture
def mandated(
    make_customer: Callable[..., Party], issue: Callable[..., Invoice], accountant: Any
) -> list[Invoice]:
    actions.update_sepa_settings(creditor_identifier=ICS, by=accountant)
    first = make_customer("Crèmerie Dupré")
    second = make_customer("Fleurs & Cie")
    actions.create_mandate(
        party=first,
        reference="RUM-2026-0001",
        signature_date=date(2026, 1, 2),
        iban="FR76 3000 6000 0112 3456 7890 189",
        bic="AGRIFRPP",
        by=accountant,
    )
    actions.create_mandate(
        party=second,
        reference="RUM-2026-0002",
        signature_date=date(2026, 1, 3),
        iban="DE89370400440532013000",
        by=accountant,
    )
    return [
        issue(first, "100.00", date(2026, 2, 1)),
        issue(first, "50.00", date(2026, 2, 2)),
        issue(second, "10.00", date(2026, 2, 3)),
    ]


def test_direct_debit_batch_validates_and_switches_frst_to_rcur(
    mandated: list[Invoice],
    accountant: Any,
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
) -> None:
    stranger = make_customer("Sans Mandat SARL")
    issue(stranger, "999.00", date(2026, 2, 4))
    batch = actions.create_direct_debit_batch(collection_date=date(2026, 3, 5), by=accountant)
    xml = read_archived(batch.document)
    sepa.validate(xml, "pain.008.001.08.xsd")  # again, independently of the action
    root = etree.fromstring(xml)
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS8) == "3"
    assert root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS8) == "192.00"
    assert root.findtext(".//p:SeqTp", namespaces=NS8) == "FRST"
    assert root.findtext(".//p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS8) == ICS
    assert root.findtext(".//p:MndtId", namespaces=NS8) == "RUM-2026-0001"
    debtor = root.find(".//p:Dbtr/p:PstlAdr", namespaces=NS8)
    assert [child.tag.split("}")[1] for child in debtor] == [
        "StrtNm",
        "BldgNb",
        "PstCd",
        "TwnNm",
        "Ctry",
    ]
    assert root.find(".//p:AdrLine", namespaces=NS8) is None  # structured addresses only
    assert "Sans Mandat" not in xml.decode()
    assert batch.count == 3 and batch.total_amount == Decimal("192.00")
    # The next collection of the same mandates is recurring.
    assert {m.last_collection_date for m in SepaMandate.objects.all()} == {date(2026, 3, 5)}
    assert actions.sequence_type_for(SepaMandate.objects.first()) == "RCUR"
    # Marked as ending, the next collection is FNAL and the mandate is then closed.
    mandate = SepaMandate.objects.get(reference="RUM-2026-0001")
    actions.end_mandate(mandate, by=accountant)
    assert actions.sequence_type_for(mandate) == "FNAL"
    payments = actions.record_direct_debit_collection(batch, by=accountant)
    assert len(payments) == 3
    assert set(
        InvoiceSettlement.objects.filter(invoice__in=mandated).values_list("state", flat=True)
    ) == {"paid"}
    with pytest.raises(ValidationError):
        actions.record_direct_debit_collection(batch, by=accountant)


def test_a_tampered_file_fails_the_xsd() -> None:
    creditor = sepa.SepaParty(
        "A", "rue X", "1", "69002", "Lyon", "FR", "FR7630006000011234567890189", "AGRIFRPP"
    )
    xml = sepa.build_pain008(
        message_id="M1",
        created_at=__import__("django.utils.timezone", fromlist=["now"]).now(),
        collection_date=date(2026, 3, 5),
        creditor=creditor,
        creditor_identifier=ICS,
        transactions=[
            sepa.DebitTransaction(
                "E1", Decimal("1.00"), "RUM1", date(2026, 1, 1), "OOFF", creditor, "x"
            )
        ],
    )
    broken = xml.replace(b"<SeqTp>OOFF</SeqTp>", b"<SeqTp>LAST</SeqTp>")
    with pytest.raises(ValidationError, match="pain.008.001.08.xsd"):
        sepa.validate(broken, "pain.008.001.08.xsd")


def test_unstructured_or_missing_address_is_refused(
    make_customer: Callable[..., Party], accountant: Any, issue: Callable[..., Invoice]
) -> None:
    actions.update_sepa_settings(creditor_identifier=ICS, by=accountant)
    party = make_customer("Adresse Floue")
    Address.objects.filter(party=party).delete()
    Party.objects.filter(pk=party.pk).update(postcode="", city="")
    actions.create_mandate(
        party=party,
        reference="RUM-X",
        signature_date=date(2026, 1, 2),
        iban="FR7630006000011234567890189",
        by=accountant,
    )
    issue(party, "10.00", date(2026, 2, 1))
    with pytest.raises(ValidationError, match="structured address"):
        actions.create_direct_debit_batch(collection_date=date(2026, 3, 5), by=accountant)


def test_direct_debit_needs_the_creditor_identifier(
    mandated: list[Invoice], accountant: Any
) -> None:
    actions.update_sepa_settings(creditor_identifier="", by=accountant)
    with pytest.raises(ValidationError, match="creditor identifier"):
        actions.create_direct_debit_batch(collection_date=date(2026, 3, 5), by=accountant)


def test_supplier_transfer_batch_validates(accountant: Any, company: Any) -> None:
    supplier = Party.objects.create(
        name="Papeteries Réunies SA", is_supplier=True, postcode="38000", city="Grenoble"
    )
    Address.objects.create(
        party=supplier,
        kind=AddressKind.BILLING,
        line1="4 cours Berriat",
        postcode="38000",
        city="Grenoble",
        is_default=True,
    )
    batch = actions.create_credit_transfer_batch(
        execution_date=date(2026, 3, 2),
        transfers=[
            {
                "party": supplier,
                "iban": "FR76 1010 7001 0112 3456 7890 129",
                "bic": "BREDFRPP",
                "amount": Decimal("1234.56"),
                "remittance": "Facture F-889 du 12/02/2026",
            },
            {
                "party": supplier,
                "iban": "FR7610107001011234567890129",
                "amount": Decimal("0.44"),
                "remittance": "Solde",
            },
        ],
        by=accountant,
    )
    xml = read_archived(batch.document)
    sepa.validate(xml, "pain.001.001.09.xsd")
    root = etree.fromstring(xml)
    assert root.findtext(".//p:CtrlSum", namespaces=NS1) == "1235.00"
    assert root.findtext(".//p:ReqdExctnDt/p:Dt", namespaces=NS1) == "2026-03-02"
    assert root.findtext(".//p:Cdtr/p:Nm", namespaces=NS1) == "Papeteries Reunies SA"
    assert root.findtext(".//p:Cdtr/p:PstlAdr/p:BldgNb", namespaces=NS1) == "4"
    customer = Party.objects.create(name="Pas Fournisseur", is_customer=True)
    with pytest.raises(ValidationError, match="not a supplier"):
        actions.create_credit_transfer_batch(
            execution_date=date(2026, 3, 2),
            transfers=[
                {
                    "party": customer,
                    "iban": "FR7610107001011234567890129",
                    "amount": Decimal("1"),
                    "remittance": "x",
                }
            ],
            by=accountant,
        )


def test_a_one_off_mandate_is_closed_after_its_collection(
    make_customer: Callable[..., Party], issue: Callable[..., Invoice], accountant: Any
) -> None:
    actions.update_sepa_settings(creditor_identifier=ICS, by=accountant)
    party = make_customer("Une Fois SARL")
    actions.create_mandate(
        party=party,
        reference="RUM-OOFF",
        signature_date=date(2026, 1, 2),
        iban="FR7630006000011234567890189",
        recurring=False,
        by=accountant,
    )
    issue(party, "10.00", date(2026, 2, 1))
    batch = actions.create_direct_debit_batch(collection_date=date(2026, 3, 5), by=accountant)
    assert b"<SeqTp>OOFF</SeqTp>" in read_archived(batch.document)
    assert not SepaMandate.objects.get(reference="RUM-OOFF").is_active
