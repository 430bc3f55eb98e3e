"""Normalise the fields of a customer file into comparison keys.

Pure functions of one value each, shared by the deduplication engine and the import. They never
raise on bad input: a value that cannot be read becomes ``""`` (missing), because a messy file is
the normal case and the caller decides what an empty key means. Each function is cheap; callers
that see the same value many times (towns, first names) memoise through :func:`normalise_column`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

import phonenumbers

# Legal forms and filler words that do not tell two organisations apart ("SARL Dupont" is
# "Dupont SAS"). A superset of comptoir.parties.models._LEGAL_WORDS.
LEGAL_WORDS = frozenset(
    [
        "SARL",
        "SAS",
        "SASU",
        "SA",
        "EURL",
        "SNC",
        "SCI",
        "SCOP",
        "SELARL",
        "SELAS",
        "SELARLU",
        "SELAFA",
        "SELCA",
        "SCP",
        "SCM",
        "SEM",
        "SPL",
        "EI",
        "EIRL",
        "GIE",
        "SCA",
        "SCS",
        "STE",
        "SOCIETE",
        "ETS",
        "ETABLISSEMENT",
        "ETABLISSEMENTS",
        "CIE",
        "COMPAGNIE",
        "ET",
        "LA",
        "LE",
        "LES",
        "DE",
        "DU",
        "DES",
        "L",
        "D",
        "AU",
        "AUX",
        "EN",
        "GROUPE",
        "HOLDING",
        "ASSOCIATION",
        "ASSO",
    ]
)
# Civilities written in front of a person's name.
CIVILITIES = frozenset(
    [
        "M",
        "MR",
        "MM",
        "MME",
        "MMES",
        "MLLE",
        "MLLES",
        "MONSIEUR",
        "MADAME",
        "MADEMOISELLE",
        "DR",
        "DOCTEUR",
        "ME",
        "MAITRE",
        "PR",
    ]
)
# French street-type abbreviations (La Poste's list, the frequent ones).
STREET_WORDS = {
    "AV": "AVENUE",
    "AVE": "AVENUE",
    "AVN": "AVENUE",
    "BD": "BOULEVARD",
    "BLD": "BOULEVARD",
    "BVD": "BOULEVARD",
    "BOUL": "BOULEVARD",
    "R": "RUE",
    "RU": "RUE",
    "PL": "PLACE",
    "CH": "CHEMIN",
    "CHE": "CHEMIN",
    "CHEM": "CHEMIN",
    "RTE": "ROUTE",
    "RT": "ROUTE",
    "IMP": "IMPASSE",
    "ALL": "ALLEE",
    "FG": "FAUBOURG",
    "FBG": "FAUBOURG",
    "QU": "QUAI",
    "QAI": "QUAI",
    "SQ": "SQUARE",
    "CRS": "COURS",
    "PAS": "PASSAGE",
    "PASS": "PASSAGE",
    "LOT": "LOTISSEMENT",
    "RES": "RESIDENCE",
    "RDPT": "ROND POINT",
    "PRV": "PARVIS",
    "PROM": "PROMENADE",
    "HAM": "HAMEAU",
    "LD": "LIEU DIT",
    "ZI": "ZONE INDUSTRIELLE",
    "ZA": "ZONE ARTISANALE",
    "ZAC": "ZONE AMENAGEMENT CONCERTE",
    "ST": "SAINT",
    "STE": "SAINTE",
    "GD": "GRAND",
    "GDE": "GRANDE",
    "PT": "PETIT",
    "PTE": "PETITE",
    "DR": "DOCTEUR",
    "GAL": "GENERAL",
    "MAL": "MARECHAL",
    "PDT": "PRESIDENT",
}
TOWN_WORDS = {"ST": "SAINT", "STE": "SAINTE", "S": "SAINT", "GD": "GRAND", "GDE": "GRANDE"}
# Words that say nothing about the place: "PARIS CEDEX 08", "LYON 3E ARRONDISSEMENT".
_TOWN_NOISE = re.compile(r"\b(CEDEX|CEDEX\s*\d+|ARRONDISSEMENT|ARR|\d+\s*(?:E|ER|EME)?)\b")
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_UPPER_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NOT_DIGIT = re.compile(r"\D+")
# The same cuts as byte tables, for the usual all-ASCII value: bytes.translate is one C loop over
# a 256-byte table, several times faster than the regexes (or str.translate's dict look-ups).
_ASCII = bytes(range(256))
_ASCII_NOT_ALNUM = bytes(c if chr(c) in _UPPER_ALNUM else 32 for c in _ASCII)
_ASCII_NON_DIGITS = bytes(c for c in range(128) if not 48 <= c <= 57)
# Wrapper put round emails by mail clients and exports: "Jean <jean@x.fr>", "mailto:jean@x.fr".
_EMAIL_IN_TEXT = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+\.[^\s<>\"'(),;:]+")
# Shared mailboxes: the same address for every colleague, so it identifies the organisation.
GENERIC_MAILBOXES = frozenset(
    """CONTACT INFO INFOS ACCUEIL BONJOUR HELLO ADMIN ADMINISTRATION COMPTA COMPTABILITE
    FACTURATION FACTURES COMMANDES COMMERCIAL VENTES SALES SECRETARIAT DIRECTION RH OFFICE
    SERVICE SUPPORT MAIRIE NOREPLY""".lower().split()
)


def _without_marks(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("Œ", "OE").replace("œ", "oe"))
    return "".join(c for c in text if not unicodedata.combining(c))


# The same, character by character, for the Latin letters of French names (é → e, Ç → C): one
# str.translate instead of decomposing the whole value. Decomposition works per character and the
# marks it separates are dropped, so the table gives the same text as _without_marks.
_LATIN_PLAIN = {code: _without_marks(chr(code)) for code in range(0x80, 0x250)}


def _latin_word_byte(code: int) -> int:
    """Map a Latin-1 character to the byte it is in a word key: upper-case letter, digit, space.

    128 for a character that is not one ASCII character without its accent (ß, Æ, ½…).
    """
    plain = _without_marks(chr(code))
    # Only "." itself may become a dot: the dots to drop are dropped before this table applies.
    if len(plain) != 1 or not plain.isascii() or (plain == "." and code != ord(".")):
        return 128
    upper = plain.upper()
    return ord(upper) if upper in _UPPER_ALNUM else 32


# Accents off, upper-cased and cut in one table: the words of a Latin-1 value in a single pass.
_LATIN_WORDS = bytes(_latin_word_byte(code) for code in range(256))


def _latin_words(value: str, drop: bytes = b"") -> list[str] | None:
    """Return the words of a value written in Latin-1 (French without œ), else None.

    The same words as cutting plain_upper(value) on anything but A-Z and 0-9, with the
    characters of ``drop`` removed first.
    """
    try:
        text = value.encode("latin-1")
    except UnicodeEncodeError:
        return None
    cut = text.translate(_LATIN_WORDS, drop)
    return cut.decode("ascii").split() if cut.isascii() else None


def plain_upper(value: str) -> str:
    """Return the value upper-cased, without accents, ligatures or surrounding spaces."""
    if value.isascii():
        return value.strip().upper()
    text = value.translate(_LATIN_PLAIN)
    if not text.isascii():
        text = _without_marks(value)
    return text.strip().upper()


def _alnum_words(text: str) -> list[str]:
    """Split text on every run of characters other than A-Z and 0-9."""
    if text.isascii():
        return text.encode().translate(_ASCII_NOT_ALNUM).decode().split()
    return _NOT_ALNUM.sub(" ", text).split()


def _digits(text: str) -> str:
    """Return the digits of the text."""
    if text.isascii():
        return text.encode().translate(None, _ASCII_NON_DIGITS).decode()
    return _NOT_DIGIT.sub("", text)


def _words(value: str) -> list[str]:
    words = _latin_words(value)
    return _alnum_words(plain_upper(value)) if words is None else words


def organisation_key(value: str) -> str:
    """Return the comparison key of an organisation name: no accents, punctuation or legal form.

    >>> organisation_key("S.A.R.L. Boulangerie Dupont & Fils")
    'BOULANGERIE DUPONT FILS'
    """
    # Dots go without leaving a space, so that S.A.R.L. is SARL (and J.-P. is JP).
    words = _latin_words(value, b".")
    if words is None:
        words = _alnum_words(plain_upper(value).replace(".", ""))
    kept = [w for w in words if w not in LEGAL_WORDS]
    # A name made only of legal words ("SCI", "Les Établissements") is its own key.
    return " ".join(kept or words)


def legal_form(value: str) -> str:
    """Return the legal form written in an organisation name, normalised ("S.A.R.L." → SARL)."""
    text = plain_upper(value).replace(".", "")
    for word in _NOT_ALNUM.sub(" ", text).split():
        if word in {"SARL", "SAS", "SASU", "SA", "EURL", "SNC", "SCI", "SCOP", "SELARL", "SELAS"}:
            return word
    return ""


def person_name(value: str) -> str:
    """Return a first or last name upper-cased without accents, civility or punctuation.

    >>> person_name("M. Jean-Pierre")
    'JEAN PIERRE'
    """
    words = _words(value)
    while len(words) > 1 and words[0] in CIVILITIES:
        words.pop(0)
    if len(words) == 1 and words[0] in CIVILITIES:
        return ""
    return " ".join(words)


def email(value: str) -> str:
    """Return the email address lower-cased and trimmed, or "" when there is none in the value."""
    text = value.strip().lower()
    if not text:
        return ""
    if text.startswith("mailto:"):
        text = text[7:]
    if " " in text or "<" in text or text.count("@") != 1:
        found = _EMAIL_IN_TEXT.search(text)
        if not found:
            return ""
        text = found.group(0)
    local, _, domain = text.partition("@")
    if not local or "." not in domain:
        return ""
    return text


def is_generic_mailbox(address: str) -> bool:
    """Tell whether a normalised email is a shared mailbox (contact@, compta@…)."""
    local = address.partition("@")[0]
    return local.replace("-", "").replace(".", "").replace("_", "") in GENERIC_MAILBOXES


def phone(value: str, region: str = "FR") -> str:
    """Return the phone number in E.164 (+33612345678), or "" if it is not a valid number.

    French layouts (06 12 34 56 78, 06.12.34.56.78, +33 (0)6…, 0033…, and the 9 digits left when
    a spreadsheet drops the leading zero) take a fast path; anything else goes to phonenumbers.
    """
    text = value.strip()
    if not text:
        return ""
    digits = _digits(text)
    international = text.startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if region == "FR":
        national = ""
        if len(digits) == 10 and digits[0] == "0" and not international:
            national = digits[1:]
        elif len(digits) == 9 and not international:
            national = digits
        elif digits.startswith("33") and len(digits) == 11:
            national = digits[2:]
        elif digits.startswith("330") and len(digits) == 12:  # +33 (0)6 12 34 56 78
            national = digits[3:]
        if national:
            return "+33" + national if national[0] in "123456789" else ""
    try:
        parsed = phonenumbers.parse(("+" + digits) if international else text, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def is_mobile(e164: str) -> bool:
    """Tell whether a French E.164 number is a mobile (06, 07): it reaches one person."""
    return e164.startswith(("+336", "+337"))


def postcode(value: str) -> str:
    """Return a French postcode as 5 digits ("1000" → "01000" after a spreadsheet ate the 0)."""
    text = value.strip().upper()
    if text.startswith(("F-", "FR-", "F ")):
        text = text.split(maxsplit=1)[-1].lstrip("-R ")
    digits = _digits(text)
    if text.endswith(".0") and len(digits) in (5, 6):  # 75001.0 from a float cell
        digits = digits[:-1]
    if len(digits) == 4:
        return "0" + digits
    if len(digits) == 5:
        return digits
    return ""


def town(value: str) -> str:
    """Return a town name for comparison: ST → SAINT, no CEDEX, arrondissement or hyphen.

    >>> town("St-Étienne Cedex 2")
    'SAINT ETIENNE'
    """
    text = " ".join(_words(value))
    if any(c.isdigit() for c in text) or "CEDEX" in text or "ARR" in text:
        text = _TOWN_NOISE.sub(" ", text)
    words = text.split()
    return " ".join(map(TOWN_WORDS.get, words, words))


def street(value: str) -> str:
    """Return a street line for comparison, abbreviations spelt out (AV → AVENUE, R → RUE).

    >>> street("12 bis, av. du Gal de Gaulle")
    '12 BIS AVENUE DU GENERAL DE GAULLE'
    """
    words = _words(value)
    return " ".join(map(STREET_WORDS.get, words, words))


def siren(value: str) -> str:
    """Return the 9 digits of a SIREN, also when given a SIRET; "" when there are not 9 or 14."""
    digits = _digits(value)
    if len(digits) in (9, 14):
        return digits[:9]
    return ""


def siret(value: str) -> str:
    """Return the 14 digits of a SIRET, or ""."""
    digits = _digits(value)
    return digits if len(digits) == 14 else ""


def normalise_column(values: Iterable[str], normalise: Callable[[str], str]) -> list[str]:
    """Normalise a column, computing each distinct value once (a town appears thousands of times)."""
    cache: dict[str, str] = {}
    out = []
    for value in values:
        key = cache.get(value)
        if key is None:
            key = cache[value] = normalise(value)
        out.append(key)
    return out
