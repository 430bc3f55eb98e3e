"""Stream the rows of a customer spreadsheet: CSV (any of ; , tab), XLSX or ODS.

Nothing here holds a whole file: CSV is decoded as it is read, XLSX goes through openpyxl's
read-only mode, and ODS through lxml's ``iterparse`` on the zipped ``content.xml``, each parsed
row dropped once yielded. A 200 MB file costs a few megabytes of memory.

Encodings: UTF-8 (BOM or not) is tried strictly over the whole file; when it fails, Windows-1252
and ISO-8859-15 are both decoded and the one giving fewer implausible characters wins (C1
control codes for Latin-9, ``¤ ¼ ½ ¾`` for Windows-1252 where Latin-9 has ``€ Œ œ Ÿ``). Which
encoding was used is reported, so a user who sees odd letters knows why.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.utils.translation import gettext as _

_CHUNK = 1 << 20
_SAMPLE = 64 * 1024
DELIMITERS = (";", ",", "\t")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Characters a French customer file does not contain, per candidate 8-bit encoding.
_IMPLAUSIBLE = {
    "cp1252": set("¤¦¨´¸¼½¾"),
    "iso-8859-15": {chr(c) for c in range(0x80, 0xA0)},
}
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
    "iso-8859-15": "ISO-8859-15",
}


class ReadError(Exception):
    """A file that cannot be read as a table; the message is one line for the user."""


class _CountingReader(io.RawIOBase):
    """A binary stream that counts the bytes read through it (CSV progress)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass
class Sheet:
    """An opened file: its header and a way to walk its data rows, as often as needed."""

    path: Path
    kind: str  # csv | xlsx | ods
    header: list[str]
    encoding: str = ""
    delimiter: str = ""
    size: int = 0
    bytes_read: int = field(default=0, repr=False)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (spreadsheet row number, cells as text) for every non-blank data row.

        Row numbers are those a spreadsheet shows: the header is row 1.
        """
        if self.kind == "xlsx":
            yield from _numbered(_xlsx_rows(self.path))
        elif self.kind == "ods":
            yield from _numbered(_ods_rows(self.path))
        else:
            yield from self._csv_rows()

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        counter = _CountingReader(self.path.open("rb"))
        with io.TextIOWrapper(
            io.BufferedReader(counter, _CHUNK), encoding=self.encoding, newline=""
        ) as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            next(reader, None)
            number = 1
            for row in reader:
                number += 1
                self.bytes_read = counter.count
                if any(cell.strip() for cell in row):
                    yield number, row
        self.bytes_read = self.size

    def fraction_read(self) -> float:
        return self.bytes_read / self.size if self.size and self.kind == "csv" else 0.0


def _numbered(rows: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    next(rows, None)  # header
    for number, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row):
            yield number, row


def open_sheet(path: Path, *, name: str = "") -> Sheet:
    """Open a customer file, or raise ReadError saying in one line what is wrong."""
    label = name or path.name
    if not path.is_file():
        raise ReadError(_("No such file: %(name)s") % {"name": label})
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
    if not head.strip(b"\xef\xbb\xbf\xff\xfe \r\n\t\x00"):
        raise ReadError(_("The file %(name)s is empty.") % {"name": label})
    if head.startswith(b"PK\x03\x04"):
        return _open_zipped(path, label, size)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(
            _("%(name)s is an old Excel .xls file: save it as .xlsx, .ods or CSV first.")
            % {"name": label}
        )
    encoding = detect_encoding(path, head)
    if b"\x00" in head and encoding != "utf-16":
        raise ReadError(_("%(name)s is not a CSV, XLSX or ODS file.") % {"name": label})
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(_SAMPLE)
    delimiter = sniff_delimiter(sample)
    header = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if not any(header):
        raise ReadError(_("The first line of %(name)s is blank: no header.") % {"name": label})
    return Sheet(path, "csv", header, encoding, delimiter, size)


def detect_encoding(path: Path, head: bytes) -> str:
    """Return the encoding of a text file: UTF-8 (strictly, whole file) or the likelier 8-bit."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(path, "utf-8"):
        return "utf-8"
    scores = {}
    for encoding, implausible in _IMPLAUSIBLE.items():
        text = head.decode(encoding, errors="replace")
        scores[encoding] = text.count("\ufffd") * 100 + sum(text.count(c) for c in implausible)
    best = min(scores, key=lambda e: (scores[e], e != "cp1252"))
    if best == "cp1252" and not _decodes(path, "cp1252"):
        # Windows-1252 leaves five bytes undefined; ISO-8859-15 reads every byte.
        return "iso-8859-15"
    return best


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter that splits the first lines into the same number of columns."""
    lines = [line for line in sample.splitlines()[:20] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line short
    best, best_score = ";", (-1, -1)
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not widths or widths[0] < 2:
            continue
        consistent = sum(1 for w in widths if w == widths[0])
        score = (consistent, widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _open_zipped(path: Path, label: str, size: int) -> Sheet:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            is_ods = "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE
    except zipfile.BadZipFile as exc:
        raise ReadError(_("%(name)s is a damaged zip file.") % {"name": label}) from exc
    kind = "ods" if is_ods else "xlsx"
    if kind == "xlsx" and "xl/workbook.xml" not in names:
        raise ReadError(_("%(name)s is a zip file, not a spreadsheet.") % {"name": label})
    rows = _ods_rows(path) if is_ods else _xlsx_rows(path)
    try:
        header = next(rows, None)
    finally:
        rows.close()
    if not header or not any(h.strip() for h in header):
        raise ReadError(_("The first sheet of %(name)s is empty.") % {"name": label})
    while header and not header[-1].strip():
        header.pop()
    return Sheet(path, kind, [h.strip() for h in header], size=size)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(
            _("%(name)s is not a readable XLSX file (%(reason)s).")
            % {"name": path.name, "reason": exc}
        ) from exc
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [cell_text(v) for v in values]
    finally:
        workbook.close()


def cell_text(value: object) -> str:
    """Return a spreadsheet value as the text a person reads in the cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a SIREN or postcode typed as a number
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TX = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_O = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
# A repeated blank row or cell is expanded at most this far: LibreOffice writes the blank rest
# of a sheet as one row repeated a million times.
_MAX_REPEAT = 1000


def _ods_rows(path: Path) -> Iterator[list[str]]:
    """Yield the rows of the first sheet of an ODS file, parsing content.xml as a stream."""
    from lxml import etree

    try:
        archive = zipfile.ZipFile(path)
        stream = archive.open("content.xml")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise ReadError(_("%(name)s is not a readable ODS file.") % {"name": path.name}) from exc
    try:
        events = etree.iterparse(
            stream, events=("start", "end"), tag=(f"{_T}table", f"{_T}table-row"), huge_tree=True
        )
        depth = 0
        pending_blank = 0
        for event, element in events:
            if element.tag == f"{_T}table":
                if event == "end":
                    return  # first sheet only
                depth += 1
                continue
            if event != "end":
                continue
            row = _ods_cells(element)
            repeat = int(element.get(f"{_T}number-rows-repeated", "1"))
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del element.getparent()[0]
            if not any(cell.strip() for cell in row):
                pending_blank += min(repeat, _MAX_REPEAT)
                continue
            # Blank rows between data rows keep row numbers right; trailing ones never show.
            for _blank in range(pending_blank):
                yield []
            pending_blank = 0
            for _copy in range(min(repeat, _MAX_REPEAT)):
                yield list(row)
    except etree.XMLSyntaxError as exc:
        raise ReadError(
            _("%(name)s is not a readable ODS file (%(reason)s).")
            % {"name": path.name, "reason": exc}
        ) from exc
    finally:
        stream.close()
        archive.close()


def _ods_cells(row: Any) -> list[str]:
    cells: list[str] = []
    pending_blank = 0
    for cell in row:
        if cell.tag not in (f"{_T}table-cell", f"{_T}covered-table-cell"):
            continue
        repeat = int(cell.get(f"{_T}number-columns-repeated", "1"))
        text = _ods_cell_text(cell)
        if not text:
            pending_blank += min(repeat, _MAX_REPEAT)
            continue
        cells.extend([""] * pending_blank)
        pending_blank = 0
        cells.extend([text] * min(repeat, _MAX_REPEAT))
    return cells


def _ods_cell_text(cell: Any) -> str:
    kind = cell.get(f"{_O}value-type")
    if kind in ("float", "percentage", "currency"):
        raw = cell.get(f"{_O}value", "")
        try:
            number = float(raw)
        except ValueError:
            return raw
        return str(int(number)) if number.is_integer() else raw
    if kind == "date":
        raw = cell.get(f"{_O}date-value", "")
        try:
            return cell_text(datetime.fromisoformat(raw))
        except ValueError:
            return raw
    if kind == "boolean":
        return "1" if cell.get(f"{_O}boolean-value") == "true" else "0"
    paragraphs = [_ods_paragraph(p) for p in cell.iter(f"{_TX}p")]
    return "\n".join(paragraphs)


def _ods_paragraph(paragraph: Any) -> str:
    parts = [paragraph.text or ""]
    for child in paragraph:
        if child.tag == f"{_TX}s":
            parts.append(" " * int(child.get(f"{_TX}c", "1")))
        elif child.tag == f"{_TX}tab":
            parts.append("\t")
        elif child.tag == f"{_TX}line-break":
            parts.append("\n")
        else:
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts)
