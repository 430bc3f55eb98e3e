"""SEPA files: direct debits (pain.008.001.08) and credit transfers (pain.001.001.09).

Written with lxml and validated against the ISO 20022 XSDs shipped in ``payments/data``
before anything is archived. Addresses are always structured (street, building number,
postcode, town, country): banks refuse unstructured addresses from November 2026.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

DATA_DIR = Path(__file__).resolve().parent / "data"
PAIN008 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"
PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")


@dataclass(frozen=True)
class SepaParty:
    name: str
    street: str
    building: str
    postcode: str
    town: str
    country: str
    iban: str
    bic: str = ""


@dataclass(frozen=True)
class DebitTransaction:
    end_to_end_id: str
    amount: Decimal
    mandate_reference: str
    signature_date: date
    sequence_type: str
    debtor: SepaParty
    remittance: str


@dataclass(frozen=True)
class CreditTransaction:
    end_to_end_id: str
    amount: Decimal
    creditor: SepaParty
    remittance: str


def sepa_text(text: str, length: int) -> str:
    """Return text in the SEPA Latin character set (no accents), cut to `length`."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text or "") if not unicodedata.combining(c)
    )
    plain = plain.replace("&", "+").replace("’", "'")
    return " ".join(_NOT_SEPA.sub(" ", plain).split())[:length]


def split_street(line: str) -> tuple[str, str]:
    """Split '12 bis rue de la Charité' into ('12 bis', 'rue de la Charité')."""
    match = re.match(r"^\s*(\d+\s*(?:bis|ter|quater|[A-Z])?)\b[\s,]+(.+)$", line or "", re.I)
    if match:
        return match.group(1).strip(), match.group(2).strip()
    return "", (line or "").strip()


# -- creditor identifier (ICS) -------------------------------------------------------------------


def _mod97(text: str) -> int:
    digits = "".join(str(int(c, 36)) for c in text)
    return int(digits) % 97


def normalise_creditor_identifier(value: str) -> str:
    """Return the ICS in compact upper case, or raise if its check digits are wrong.

    Layout: country (2), check digits (2), creditor business code (3, ignored by the check),
    national identifier. The check digits are ISO 7064 MOD 97-10 over national id + country + 00.
    """
    compact = re.sub(r"[\s-]", "", value or "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{3}[A-Z0-9]{1,28}", compact):
        raise ValidationError(
            {"creditor_identifier": _("A creditor identifier looks like FR12ZZZ123456.")}
        )
    country, check, national = compact[:2], compact[2:4], compact[7:]
    if compact[:2] == "FR" and len(national) != 6:
        raise ValidationError(
            {"creditor_identifier": _("A French creditor identifier has 13 characters.")}
        )
    expected = 98 - _mod97(national + country + "00")
    if int(check) != expected:
        raise ValidationError(
            {"creditor_identifier": _("The check digits of this creditor identifier are wrong.")}
        )
    return compact


def creditor_identifier() -> str:
    from comptoir.payments.models import SepaSettings

    row = SepaSettings.objects.filter(pk=1).first()
    if row is None or not row.creditor_identifier:
        raise ValidationError(
            _("Enter the company's SEPA creditor identifier (ICS) in the SEPA settings first.")
        )
    return row.creditor_identifier


# -- parties -----------------------------------------------------------------------------------


def _structured(
    name: str, line1: str, postcode: str, town: str, country: str, iban: str, bic: str
) -> SepaParty:
    building, street = split_street(line1)
    if not (street and postcode and town and country):
        raise ValidationError(
            _(
                "%(name)s needs a structured address (street, postcode, town, country): "
                "banks refuse unstructured addresses from November 2026."
            )
            % {"name": name}
        )
    if not iban:
        raise ValidationError(_("%(name)s has no IBAN.") % {"name": name})
    return SepaParty(
        name=sepa_text(name, 140),
        street=sepa_text(street, 70),
        building=sepa_text(building, 16),
        postcode=sepa_text(postcode, 16),
        town=sepa_text(town, 35),
        country=country.upper(),
        iban=iban,
        bic=bic,
    )


def party_of(party: Any, *, iban: str, bic: str = "") -> SepaParty:
    """Return a customer or supplier as a SEPA party, from its default billing address."""
    from comptoir.parties.models import AddressKind

    address = party.addresses.filter(kind=AddressKind.BILLING).order_by("-is_default", "pk").first()
    if address is None:
        return _structured(party.name, "", party.postcode, party.city, party.country, iban, bic)
    return _structured(
        party.name, address.line1, address.postcode, address.city, address.country, iban, bic
    )


def _company() -> Any:
    from comptoir.core.selectors import current_company

    return current_company()


def creditor_of_company() -> SepaParty:
    company = _company()
    return _structured(
        company.legal_name,
        company.address_line1,
        company.postcode,
        company.city,
        company.country,
        company.iban,
        company.bic,
    )


def debtor_of_company() -> SepaParty:
    return creditor_of_company()


# -- XML ---------------------------------------------------------------------------------------


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> Any:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _address(parent: etree._Element, party: SepaParty) -> None:
    address = _sub(parent, "PstlAdr")
    _sub(address, "StrtNm", party.street)
    if party.building:
        _sub(address, "BldgNb", party.building)
    _sub(address, "PstCd", party.postcode)
    _sub(address, "TwnNm", party.town)
    _sub(address, "Ctry", party.country)


def _agent(parent: etree._Element, tag: str, bic: str) -> None:
    institution = _sub(_sub(parent, tag), "FinInstnId")
    if bic:
        _sub(institution, "BICFI", bic)
    else:
        _sub(_sub(institution, "Othr"), "Id", "NOTPROVIDED")


def _account(parent: etree._Element, tag: str, iban: str) -> None:
    _sub(_sub(_sub(parent, tag), "Id"), "IBAN", iban)


def _header(
    root: etree._Element,
    message_id: str,
    created_at: datetime,
    count: int,
    total: Decimal,
    initiator: str,
) -> None:
    header = _sub(root, "GrpHdr")
    _sub(header, "MsgId", sepa_text(message_id, 35))
    _sub(header, "CreDtTm", timezone.localtime(created_at).replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", str(count))
    _sub(header, "CtrlSum", _money(total))
    _sub(_sub(header, "InitgPty"), "Nm", initiator)


def build_pain008(
    *,
    message_id: str,
    created_at: datetime,
    collection_date: date,
    creditor: SepaParty,
    creditor_identifier: str,
    transactions: list[DebitTransaction],
) -> bytes:
    """Return a validated pain.008.001.08 document, one payment block per sequence type."""
    root = etree.Element("Document", nsmap={None: PAIN008})
    body = _sub(root, "CstmrDrctDbtInitn")
    total = sum((t.amount for t in transactions), Decimal("0.00"))
    _header(body, message_id, created_at, len(transactions), total, creditor.name)
    groups: dict[str, list[DebitTransaction]] = {}
    for transaction in transactions:
        groups.setdefault(transaction.sequence_type, []).append(transaction)
    for sequence_type, group in sorted(groups.items()):
        info = _sub(body, "PmtInf")
        _sub(info, "PmtInfId", sepa_text(f"{message_id}-{sequence_type}", 35))
        _sub(info, "PmtMtd", "DD")
        _sub(info, "NbOfTxs", str(len(group)))
        _sub(info, "CtrlSum", _money(sum((t.amount for t in group), Decimal("0.00"))))
        kind = _sub(info, "PmtTpInf")
        _sub(_sub(kind, "SvcLvl"), "Cd", "SEPA")
        _sub(_sub(kind, "LclInstrm"), "Cd", "CORE")
        _sub(kind, "SeqTp", sequence_type)
        _sub(info, "ReqdColltnDt", collection_date.isoformat())
        creditor_element = _sub(info, "Cdtr")
        _sub(creditor_element, "Nm", creditor.name)
        _address(creditor_element, creditor)
        _account(info, "CdtrAcct", creditor.iban)
        _agent(info, "CdtrAgt", creditor.bic)
        _sub(info, "ChrgBr", "SLEV")
        other = _sub(_sub(_sub(_sub(info, "CdtrSchmeId"), "Id"), "PrvtId"), "Othr")
        _sub(other, "Id", creditor_identifier)
        _sub(_sub(other, "SchmeNm"), "Prtry", "SEPA")
        for t in group:
            tx = _sub(info, "DrctDbtTxInf")
            _sub(_sub(tx, "PmtId"), "EndToEndId", sepa_text(t.end_to_end_id, 35))
            _sub(tx, "InstdAmt", _money(t.amount), Ccy="EUR")
            mandate = _sub(_sub(tx, "DrctDbtTx"), "MndtRltdInf")
            _sub(mandate, "MndtId", sepa_text(t.mandate_reference, 35))
            _sub(mandate, "DtOfSgntr", t.signature_date.isoformat())
            _agent(tx, "DbtrAgt", t.debtor.bic)
            debtor = _sub(tx, "Dbtr")
            _sub(debtor, "Nm", t.debtor.name)
            _address(debtor, t.debtor)
            _account(tx, "DbtrAcct", t.debtor.iban)
            _sub(_sub(tx, "RmtInf"), "Ustrd", sepa_text(t.remittance, 140))
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate(xml, "pain.008.001.08.xsd")
    return xml


def build_pain001(
    *,
    message_id: str,
    created_at: datetime,
    execution_date: date,
    debtor: SepaParty,
    transactions: list[CreditTransaction],
) -> bytes:
    """Return a validated pain.001.001.09 document of SEPA credit transfers."""
    root = etree.Element("Document", nsmap={None: PAIN001})
    body = _sub(root, "CstmrCdtTrfInitn")
    total = sum((t.amount for t in transactions), Decimal("0.00"))
    _header(body, message_id, created_at, len(transactions), total, debtor.name)
    info = _sub(body, "PmtInf")
    _sub(info, "PmtInfId", sepa_text(f"{message_id}-1", 35))
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "NbOfTxs", str(len(transactions)))
    _sub(info, "CtrlSum", _money(total))
    _sub(_sub(_sub(info, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _sub(_sub(info, "ReqdExctnDt"), "Dt", execution_date.isoformat())
    debtor_element = _sub(info, "Dbtr")
    _sub(debtor_element, "Nm", debtor.name)
    _address(debtor_element, debtor)
    _account(info, "DbtrAcct", debtor.iban)
    _agent(info, "DbtrAgt", debtor.bic)
    _sub(info, "ChrgBr", "SLEV")
    for t in transactions:
        tx = _sub(info, "CdtTrfTxInf")
        _sub(_sub(tx, "PmtId"), "EndToEndId", sepa_text(t.end_to_end_id, 35))
        _sub(_sub(tx, "Amt"), "InstdAmt", _money(t.amount), Ccy="EUR")
        if t.creditor.bic:
            _agent(tx, "CdtrAgt", t.creditor.bic)
        creditor = _sub(tx, "Cdtr")
        _sub(creditor, "Nm", t.creditor.name)
        _address(creditor, t.creditor)
        _account(tx, "CdtrAcct", t.creditor.iban)
        if t.remittance:
            _sub(_sub(tx, "RmtInf"), "Ustrd", sepa_text(t.remittance, 140))
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    validate(xml, "pain.001.001.09.xsd")
    return xml


@cache
def schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(DATA_DIR / name), parser))


def validate(xml: bytes, xsd_name: str) -> None:
    """Raise ValidationError listing the XSD errors of a SEPA document."""
    document = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    checker = schema(xsd_name)
    if not checker.validate(document):
        errors = [f"line {e.line}: {e.message}" for e in list(checker.error_log)[:10]]
        raise ValidationError(
            _("The SEPA file does not pass the %(xsd)s schema: %(errors)s")
            % {"xsd": xsd_name, "errors": "; ".join(errors)}
        )
