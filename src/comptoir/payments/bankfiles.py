"""Read bank statement files: CFONB 120, CAMT.053 and OFX, written from their specifications.

Each reader turns a file into ``ParsedStatement`` rows, checking what the format lets us check
(record lengths, balances, closing tags). Any problem raises ``BankFileError`` naming the line,
and the caller imports nothing. No reader opens the network: XML is parsed with entity
resolution and network access off.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree

CFONB = "cfonb120"
CAMT = "camt053"
OFX = "ofx"


class BankFileError(ValueError):
    """The file cannot be imported; ``line`` is the 1-based line at fault (0: whole file)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(
            _("line %(line)s: %(message)s") % {"line": line, "message": message}
            if line
            else message
        )


@dataclass
class ParsedLine:
    file_line: int
    booking_date: date
    amount: Decimal
    label: str = ""
    reference: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    value_date: date | None = None
    bank_id: str = ""  # the bank's own id for the movement (OFX FITID, CAMT AcctSvcrRef)


@dataclass
class ParsedStatement:
    format: str
    account: str
    currency: str
    start_date: date
    end_date: date
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    first_line: int
    lines: list[ParsedLine] = field(default_factory=list)

    def fingerprint(self) -> str:
        """Identify the statement: account, period, balances and movements."""
        parts = [
            self.format,
            self.account,
            self.start_date.isoformat(),
            self.end_date.isoformat(),
            str(self.opening_balance),
            str(self.closing_balance),
            str(len(self.lines)),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def line_fingerprints(statement: ParsedStatement) -> list[str]:
    """Return one fingerprint per movement; identical movements get their rank appended."""
    seen: dict[str, int] = {}
    result = []
    for line in statement.lines:
        if line.bank_id:
            base = f"{statement.account}|id|{line.bank_id}"
        else:
            base = "|".join(
                [
                    statement.account,
                    line.booking_date.isoformat(),
                    str(line.amount),
                    line.label,
                    line.reference,
                    line.counterparty_iban,
                ]
            )
        rank = seen.get(base, 0)
        seen[base] = rank + 1
        result.append(hashlib.sha256(f"{base}|{rank}".encode()).hexdigest())
    return result


def detect_format(content: bytes) -> str:
    """Return the format of a bank file, or raise naming line 1."""
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"OFXHEADER" in head[:200] or head.upper().startswith(b"<OFX") or b"<OFX>" in head:
        return OFX
    if head.startswith(b"<?xml") or head.startswith(b"<Document"):
        if b"camt.053" in content[:4096]:
            return CAMT
        raise BankFileError(1, _("XML file that is not a CAMT.053 bank statement"))
    if head[:2] == b"01" and re.match(rb"^01[0-9 ]{5}", head):
        return CFONB
    raise BankFileError(1, _("unknown format: expected CFONB 120, CAMT.053 or OFX"))


def parse_bank_file(content: bytes) -> list[ParsedStatement]:
    """Detect the format and read every statement of the file."""
    fmt = detect_format(content)
    if fmt == CFONB:
        return parse_cfonb120(content)
    if fmt == CAMT:
        return parse_camt053(content)
    return parse_ofx(content)


# -- CFONB 120 ---------------------------------------------------------------------------------
# Relevé de compte sur support informatique, 120 caractères (CFONB). Records: 01 old balance,
# 04 movement, 05 movement complement, 07 new balance. Positions below are 1-based as in the
# specification. Amounts: 14 characters, the last one carries the sign and the last digit.

_POSITIVE = {"{": 0, **{chr(ord("A") + i): i + 1 for i in range(9)}}
_NEGATIVE = {"}": 0, **{chr(ord("J") + i): i + 1 for i in range(9)}}


def cfonb_amount(field_text: str, decimals: int, line: int) -> Decimal:
    """Decode a CFONB signed amount ('0000000012345{' with 2 decimals = 1234.50)."""
    digits, last = field_text[:-1], field_text[-1:]
    if not digits.isdigit():
        raise BankFileError(line, _("amount %(value)r is not numeric") % {"value": field_text})
    if last in _POSITIVE:
        sign, unit = 1, _POSITIVE[last]
    elif last in _NEGATIVE:
        sign, unit = -1, _NEGATIVE[last]
    elif last.isdigit():
        sign, unit = 1, int(last)
    else:
        raise BankFileError(
            line, _("amount %(value)r has no valid sign character") % {"value": field_text}
        )
    value = Decimal(int(digits + str(unit))).scaleb(-decimals)
    return sign * value.quantize(Decimal("0.01"))


def _cfonb_date(text: str, line: int) -> date:
    try:
        return datetime.strptime(text, "%d%m%y").date()
    except ValueError as exc:
        raise BankFileError(line, _("date %(value)r is not DDMMYY") % {"value": text}) from exc


def _cfonb_records(content: bytes) -> list[tuple[int, str]]:
    try:
        text = content.decode("latin-1")
    except UnicodeDecodeError as exc:  # latin-1 decodes any byte; kept for clarity
        raise BankFileError(0, _("unreadable file")) from exc
    raw_lines = text.splitlines()
    if len(raw_lines) == 1 and len(text) > 120 and len(text.rstrip("\r\n")) % 120 == 0:
        flat = text.rstrip("\r\n")
        raw_lines = [flat[i : i + 120] for i in range(0, len(flat), 120)]
    records = []
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        if len(raw) != 120:
            raise BankFileError(
                number,
                _("%(count)s characters where a CFONB 120 record has 120 (truncated?)")
                % {"count": len(raw)},
            )
        records.append((number, raw))
    return records


def parse_cfonb120(content: bytes) -> list[ParsedStatement]:
    """Read a CFONB 120 file: one statement per 01 … 07 block."""
    statements: list[ParsedStatement] = []
    current: ParsedStatement | None = None
    running = Decimal("0.00")
    last_movement: ParsedLine | None = None
    for number, record in _cfonb_records(content):
        code = record[0:2]
        decimals_text = record[19]
        if code in {"01", "04", "05", "07"} and not decimals_text.isdigit():
            raise BankFileError(number, _("number of decimals (position 20) is not a digit"))
        account = record[21:32].strip()
        currency = record[16:19]
        if code == "01":
            if current is not None:
                raise BankFileError(number, _("new statement (01) before the closing balance (07)"))
            opening = cfonb_amount(record[90:104], int(decimals_text), number)
            day = _cfonb_date(record[34:40], number)
            current = ParsedStatement(
                format=CFONB,
                account=f"{record[2:7]}{record[11:16]}{account}",
                currency=currency,
                start_date=day,
                end_date=day,
                opening_balance=opening,
                closing_balance=None,
                first_line=number,
            )
            running = opening
            last_movement = None
        elif code == "04":
            if current is None:
                raise BankFileError(number, _("movement (04) outside a statement (no 01 before)"))
            amount = cfonb_amount(record[90:104], int(decimals_text), number)
            value = record[42:48].strip()
            last_movement = ParsedLine(
                file_line=number,
                booking_date=_cfonb_date(record[34:40], number),
                value_date=_cfonb_date(value, number) if value else None,
                amount=amount,
                label=record[48:79].strip(),
                reference=record[104:120].strip(),
            )
            current.lines.append(last_movement)
            running += amount
        elif code == "05":
            if current is None or last_movement is None:
                raise BankFileError(number, _("complement (05) without its movement (04)"))
            qualifier = record[45:48]
            info = record[48:118].strip()
            if qualifier in {"NPY", "NBE"}:  # name of the payer / of the beneficiary
                last_movement.counterparty_name = info
            elif qualifier in {"RCN", "REF"}:  # the customer's reference
                last_movement.reference = (last_movement.reference + " " + info).strip()
            else:  # LIB, LCC… more label
                last_movement.label = (last_movement.label + " " + info).strip()
        elif code == "07":
            if current is None:
                raise BankFileError(number, _("closing balance (07) without its opening (01)"))
            closing = cfonb_amount(record[90:104], int(decimals_text), number)
            current.closing_balance = closing
            current.end_date = _cfonb_date(record[34:40], number)
            if running != closing:
                raise BankFileError(
                    number,
                    _("closing balance %(closing)s differs from opening + movements %(expected)s")
                    % {"closing": closing, "expected": running},
                )
            statements.append(current)
            current = None
        else:
            raise BankFileError(number, _("unknown record code %(code)r") % {"code": code})
    if current is not None:
        raise BankFileError(
            current.first_line, _("statement has no closing balance (07): the file is truncated")
        )
    if not statements:
        raise BankFileError(0, _("no statement in the file"))
    return statements


# -- CAMT.053 ----------------------------------------------------------------------------------


def _xml_root(content: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or (exc.position[0] if exc.position else 0)
        raise BankFileError(
            line, _("invalid XML (%(reason)s): truncated or damaged file") % {"reason": exc.msg}
        ) from exc


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _xml_amount(element: etree._Element, path: str, line: int) -> Decimal:
    text = _text(element, path)
    try:
        return Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise BankFileError(line, _("amount %(value)r is not a number") % {"value": text}) from exc


def _xml_date(text: str, line: int) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise BankFileError(line, _("date %(value)r is not YYYY-MM-DD") % {"value": text}) from exc


def _signed(element: etree._Element, amount: Decimal) -> Decimal:
    return -amount if _text(element, "{*}CdtDbtInd") == "DBIT" else amount


def parse_camt053(content: bytes) -> list[ParsedStatement]:
    """Read a CAMT.053 (bank-to-customer statement), any 001.0x version."""
    root = _xml_root(content)
    statements = []
    for stmt in root.iterfind(".//{*}BkToCstmrStmt/{*}Stmt"):
        line = stmt.sourceline or 0
        account = _text(stmt, "{*}Acct/{*}Id/{*}IBAN") or _text(stmt, "{*}Acct/{*}Id/{*}Othr/{*}Id")
        if not account:
            raise BankFileError(line, _("statement without an account (Acct/Id)"))
        balances: dict[str, tuple[Decimal, date]] = {}
        for bal in stmt.iterfind("{*}Bal"):
            code = _text(bal, "{*}Tp/{*}CdOrPrtry/{*}Cd")
            amount = _signed(bal, _xml_amount(bal, "{*}Amt", bal.sourceline or line))
            when = _text(bal, "{*}Dt/{*}Dt") or _text(bal, "{*}Dt/{*}DtTm")
            balances[code] = (amount, _xml_date(when, bal.sourceline or line))
        lines = []
        for entry in stmt.iterfind("{*}Ntry"):
            eline = entry.sourceline or line
            amount = _signed(entry, _xml_amount(entry, "{*}Amt", eline))
            booked = _text(entry, "{*}BookgDt/{*}Dt") or _text(entry, "{*}BookgDt/{*}DtTm")
            if not booked:
                raise BankFileError(eline, _("entry without a booking date (BookgDt)"))
            value = _text(entry, "{*}ValDt/{*}Dt")
            tx = entry.find("{*}NtryDtls/{*}TxDtls")
            unstructured = (
                [(u.text or "").strip() for u in tx.iterfind("{*}RmtInf/{*}Ustrd")]
                if tx is not None
                else []
            )
            label = " ".join(
                part for part in [*unstructured, _text(entry, "{*}AddtlNtryInf")] if part
            )
            reference = _text(tx, "{*}RmtInf/{*}Strd/{*}CdtrRefInf/{*}Ref") or _text(
                tx, "{*}Refs/{*}EndToEndId"
            )
            if reference == "NOTPROVIDED":
                reference = ""
            credit = _text(entry, "{*}CdtDbtInd") == "CRDT"
            party_tag = "Dbtr" if credit else "Cdtr"
            name = _text(tx, f"{{*}}RltdPties/{{*}}{party_tag}/{{*}}Nm") or _text(
                tx, f"{{*}}RltdPties/{{*}}{party_tag}/{{*}}Pty/{{*}}Nm"
            )
            iban = _text(tx, f"{{*}}RltdPties/{{*}}{party_tag}Acct/{{*}}Id/{{*}}IBAN")
            lines.append(
                ParsedLine(
                    file_line=eline,
                    booking_date=_xml_date(booked, eline),
                    value_date=_xml_date(value, eline) if value else None,
                    amount=amount,
                    label=label[:500],
                    reference=reference[:140],
                    counterparty_name=name[:140],
                    counterparty_iban=iban.replace(" ", ""),
                    bank_id=_text(entry, "{*}AcctSvcrRef"),
                )
            )
        opening = balances.get("OPBD") or balances.get("PRCD")
        closing = balances.get("CLBD")
        dates = [ln.booking_date for ln in lines]
        start = _text(stmt, "{*}FrToDt/{*}FrDtTm")
        end = _text(stmt, "{*}FrToDt/{*}ToDtTm")
        first_amount = stmt.find("{*}Bal/{*}Amt")
        if first_amount is None:
            first_amount = stmt.find("{*}Ntry/{*}Amt")
        currency = first_amount.get("Ccy", "EUR") if first_amount is not None else "EUR"
        statement = ParsedStatement(
            format=CAMT,
            account=account.replace(" ", ""),
            currency=currency or "EUR",
            start_date=_xml_date(start, line) if start else min(dates, default=date.min),
            end_date=_xml_date(end, line) if end else max(dates, default=date.min),
            opening_balance=opening[0] if opening else None,
            closing_balance=closing[0] if closing else None,
            first_line=line,
            lines=lines,
        )
        if opening and closing:
            expected = opening[0] + sum((ln.amount for ln in lines), Decimal("0.00"))
            if expected != closing[0]:
                raise BankFileError(
                    line,
                    _("closing balance %(closing)s differs from opening + entries %(expected)s")
                    % {"closing": closing[0], "expected": expected},
                )
        if statement.start_date == date.min:
            # No entry and no period: the statement is dated by its balances.
            balance = closing or opening
            if balance is None:
                raise BankFileError(line, _("statement without entries, period or balance"))
            statement.start_date = statement.end_date = balance[1]
        statements.append(statement)
    if not statements:
        raise BankFileError(
            root.sourceline or 1, _("no statement (BkToCstmrStmt/Stmt) in the file")
        )
    return statements


# -- OFX ---------------------------------------------------------------------------------------
# OFX 1.x is SGML (leaf elements are not closed), OFX 2.x is XML: one tokenizer reads both.

_TOKEN = re.compile(r"<(/?)([A-Za-z0-9.]+)>([^<]*)")


def _ofx_date(text: str, line: int) -> date:
    try:
        return datetime.strptime(text.strip()[:8], "%Y%m%d").date()
    except ValueError as exc:
        raise BankFileError(line, _("date %(value)r is not YYYYMMDD") % {"value": text}) from exc


def parse_ofx(content: bytes) -> list[ParsedStatement]:
    """Read the bank statements (STMTRS) of an OFX 1.x or 2.x file."""
    text = content.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        text = content.decode("latin-1")
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(offset: int) -> int:
        low, high = 0, len(line_starts)
        while low + 1 < high:
            mid = (low + high) // 2
            if line_starts[mid] <= offset:
                low = mid
            else:
                high = mid
        return low + 1

    if "</OFX>" not in text.upper():
        raise BankFileError(
            line_of(len(text.rstrip())), _("no closing </OFX> tag: the file is truncated")
        )
    statements: list[ParsedStatement] = []
    current: dict[str, str] = {}
    transaction: dict[str, str] | None = None
    transaction_line = 0
    stmt: ParsedStatement | None = None
    section: list[str] = []
    for match in _TOKEN.finditer(text):
        closing, tag, value = match.group(1), match.group(2).upper(), match.group(3).strip()
        line = line_of(match.start())
        if closing:
            if tag == "STMTTRN" and transaction is not None and stmt is not None:
                stmt.lines.append(_ofx_line(transaction, transaction_line))
                transaction = None
            elif tag == "STMTRS" and stmt is not None:
                if transaction is not None:
                    raise BankFileError(transaction_line, _("transaction (STMTTRN) is not closed"))
                statements.append(stmt)
                stmt = None
            if section and section[-1] == tag:
                section.pop()
            continue
        if value == "" and tag not in {"NAME", "MEMO"}:
            section.append(tag)
        if tag == "STMTRS":
            stmt = ParsedStatement(
                format=OFX,
                account="",
                currency="EUR",
                start_date=date.min,
                end_date=date.min,
                opening_balance=None,
                closing_balance=None,
                first_line=line,
            )
            current = {}
        elif tag == "STMTTRN":
            if transaction is not None:
                raise BankFileError(transaction_line, _("transaction (STMTTRN) is not closed"))
            transaction, transaction_line = {}, line
        elif stmt is None:
            continue
        elif transaction is not None:
            transaction[tag] = value
        elif tag == "ACCTID":
            stmt.account = value
        elif tag == "CURDEF":
            stmt.currency = value or "EUR"
        elif tag == "DTSTART":
            stmt.start_date = _ofx_date(value, line)
        elif tag == "DTEND":
            stmt.end_date = _ofx_date(value, line)
        elif tag == "BALAMT" and "LEDGERBAL" in section:
            stmt.closing_balance = _ofx_amount(value, line)
        current[tag] = value
    if stmt is not None:
        raise BankFileError(stmt.first_line, _("statement (STMTRS) is not closed: truncated file"))
    if not statements:
        raise BankFileError(0, _("no bank statement (STMTRS) in the OFX file"))
    for statement in statements:
        if not statement.account:
            raise BankFileError(statement.first_line, _("statement without ACCTID"))
        dates = [ln.booking_date for ln in statement.lines]
        if statement.start_date == date.min:
            statement.start_date = min(dates, default=date.today())
        if statement.end_date == date.min:
            statement.end_date = max(dates, default=statement.start_date)
    return statements


def _ofx_amount(text: str, line: int) -> Decimal:
    try:
        return Decimal(text.replace(",", ".")).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise BankFileError(line, _("amount %(value)r is not a number") % {"value": text}) from exc


def _ofx_line(values: dict[str, str], line: int) -> ParsedLine:
    if "DTPOSTED" not in values or "TRNAMT" not in values:
        raise BankFileError(line, _("transaction without DTPOSTED or TRNAMT"))
    name = values.get("NAME", "")
    memo = values.get("MEMO", "")
    return ParsedLine(
        file_line=line,
        booking_date=_ofx_date(values["DTPOSTED"], line),
        value_date=_ofx_date(values["DTUSER"], line) if values.get("DTUSER") else None,
        amount=_ofx_amount(values["TRNAMT"], line),
        label=" ".join(part for part in (name, memo) if part)[:500],
        reference=(values.get("REFNUM") or values.get("CHECKNUM") or "")[:140],
        counterparty_name=name[:140],
        bank_id=values.get("FITID", ""),
    )
