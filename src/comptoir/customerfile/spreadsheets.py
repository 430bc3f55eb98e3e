"""Read a customer spreadsheet whatever Excel or a CRM made of it, and recognise its columns.

CSV with ``;``, ``,`` or tab, in UTF-8 with or without BOM or in Windows-1252 / ISO-8859-15
(detected), or XLSX. Rows stream: a file is read as many times as needed, never held whole.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.utils.translation import gettext as _

from comptoir.customerfile.normalise import plain_upper

_CHUNK = 1 << 20

# Header spellings seen in French and English files, compared upper-case, without accents or
# punctuation. The first matching column wins.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "organisation": (
        "RAISON SOCIALE",
        "SOCIETE",
        "ENTREPRISE",
        "ORGANISATION",
        "ORGANISME",
        "ETABLISSEMENT",
        "DENOMINATION",
        "ENSEIGNE",
        "NOM SOCIETE",
        "NOM ENTREPRISE",
        "NOM DE LA SOCIETE",
        "CLIENT",
        "COMPANY",
        "COMPANY NAME",
        "ORGANIZATION",
        "ACCOUNT",
        "ACCOUNT NAME",
    ),
    "siren": ("SIREN", "N SIREN", "NO SIREN", "NUMERO SIREN", "SIREN NUMBER", "SIREN SIRET"),
    "siret": ("SIRET", "N SIRET", "NO SIRET", "NUMERO SIRET", "SIRET NUMBER"),
    "vat_number": (
        "TVA",
        "TVA INTRACOM",
        "TVA INTRACOMMUNAUTAIRE",
        "N TVA",
        "NUMERO TVA",
        "N TVA INTRACOMMUNAUTAIRE",
        "VAT",
        "VAT NUMBER",
        "VAT ID",
    ),
    "first_name": ("PRENOM", "PRENOM CONTACT", "FIRST NAME", "FIRSTNAME", "GIVEN NAME"),
    "last_name": (
        "NOM",
        "NOM CONTACT",
        "NOM DE FAMILLE",
        "LAST NAME",
        "LASTNAME",
        "SURNAME",
        "FAMILY NAME",
    ),
    "email": (
        "EMAIL",
        "E MAIL",
        "MAIL",
        "COURRIEL",
        "ADRESSE EMAIL",
        "ADRESSE E MAIL",
        "ADRESSE MAIL",
        "EMAIL ADDRESS",
        "E MAIL ADDRESS",
    ),
    "phone": (
        "TEL",
        "TELEPHONE",
        "TEL FIXE",
        "TELEPHONE FIXE",
        "FIXE",
        "STANDARD",
        "TEL BUREAU",
        "LIGNE DIRECTE",
        "PHONE",
        "PHONE NUMBER",
        "TELEPHONE NUMBER",
        "WORK PHONE",
    ),
    "mobile": (
        "PORTABLE",
        "MOBILE",
        "TEL PORTABLE",
        "TEL MOBILE",
        "TELEPHONE PORTABLE",
        "TELEPHONE MOBILE",
        "GSM",
        "CELLULAIRE",
        "MOBILE PHONE",
        "CELL",
        "CELL PHONE",
    ),
    "street": (
        "ADRESSE",
        "ADRESSE 1",
        "ADRESSE1",
        "ADRESSE LIGNE 1",
        "RUE",
        "VOIE",
        "ADDRESS",
        "ADDRESS 1",
        "ADDRESS LINE 1",
        "STREET",
    ),
    "postcode": (
        "CP",
        "C P",
        "CODE POSTAL",
        "POSTCODE",
        "POST CODE",
        "POSTAL CODE",
        "ZIP",
        "ZIP CODE",
    ),
    "town": ("VILLE", "COMMUNE", "LOCALITE", "CITY", "TOWN"),
}
_LOOKUP = {spelling: name for name, spellings in HEADER_SYNONYMS.items() for spelling in spellings}
# Fields that can tell one customer from another; a file with none of them cannot be deduplicated.
IDENTIFYING_FIELDS = ("organisation", "last_name", "email", "phone", "mobile", "siren", "siret")


class SpreadsheetError(Exception):
    """A file that cannot be read as a customer table; the message is one line for the user."""


def header_key(header: str) -> str:
    """Return a header as compared: "Code Postal :" → "CODE POSTAL", "E-mail" → "E MAIL"."""
    text = plain_upper(header).replace("°", " ")
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", text).split())


def suggest_mapping(header: list[str]) -> dict[str, int]:
    """Map each recognised field to the index of its column."""
    mapping: dict[str, int] = {}
    for index, title in enumerate(header):
        field = _LOOKUP.get(header_key(title))
        if field and field not in mapping:
            mapping[field] = index
    return mapping


@dataclass
class Spreadsheet:
    """An opened CSV or XLSX file: its header and a way to walk its data rows again and again."""

    path: Path
    kind: str  # csv | xlsx
    header: list[str]
    encoding: str = ""
    delimiter: str = ""

    def rows(self) -> Iterator[list[str]]:
        """Yield every data row, as text, in file order (blank lines skipped)."""
        if self.kind == "xlsx":
            yield from _xlsx_rows(self.path, skip_header=True)
            return
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield row


def open_spreadsheet(path: Path) -> Spreadsheet:
    """Open a customer file, or raise SpreadsheetError saying in one line what is wrong."""
    if not path.is_file():
        raise SpreadsheetError(_("No such file: %(path)s") % {"path": path})
    with path.open("rb") as handle:
        head = handle.read(_CHUNK)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise SpreadsheetError(_("The file %(path)s is empty.") % {"path": path.name})
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetError(
            _("%(path)s is an old Excel .xls file: save it as .xlsx or CSV first.")
            % {"path": path.name}
        )
    if b"\x00" in head:
        raise SpreadsheetError(
            _("%(path)s is neither a CSV nor an XLSX file.") % {"path": path.name}
        )
    encoding = _detect_encoding(path, head)
    with path.open(encoding=encoding, newline="") as handle:
        first_line = handle.readline()
    delimiter = max(";,\t", key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ";"
    header = next(csv.reader([first_line], delimiter=delimiter), [])
    return Spreadsheet(path, "csv", [h.strip() for h in header], encoding, delimiter)


def _detect_encoding(path: Path, head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    # Bytes that Windows-1252 leaves undefined: ISO-8859-15 reads every byte.
    return "iso-8859-15"


def _open_xlsx(path: Path) -> Spreadsheet:
    rows = _xlsx_rows(path, skip_header=False)
    header = next(rows, None)
    rows.close()
    if not header or not any(header):
        raise SpreadsheetError(_("The first sheet of %(path)s is empty.") % {"path": path.name})
    return Spreadsheet(path, "xlsx", [h.strip() for h in header])


def _xlsx_rows(path: Path, *, skip_header: bool) -> Iterator[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SpreadsheetError(
            _("%(path)s is not a readable XLSX file (%(reason)s).")
            % {"path": path.name, "reason": exc}
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        if skip_header:
            next(rows, None)
        for values in rows:
            row = [_cell_text(v) for v in values]
            if skip_header and not any(cell.strip() for cell in row):
                continue
            yield row
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a SIREN or postcode typed as a number
    if isinstance(value, datetime):
        return (
            value.strftime("%d/%m/%Y %H:%M")
            if value.time() != datetime.min.time()
            else value.strftime("%d/%m/%Y")
        )
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)
