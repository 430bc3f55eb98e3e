"""Check a customer file before anything is written: mapping, normalisation, duplicates, report.

The check streams the file once. Every row is normalised (case, legal form, street
abbreviations, phones to E.164, identifiers, postcode against town) and validated by the same
functions the parties actions use; what is wrong goes to an error report (row, column, value,
message), and the clean rows go to a spool file, one JSON line each, that the commit
(:func:`comptoir.customerfile.actions.commit_import`) reads back. In memory stay only the few
comparison keys the duplicate search needs.

Duplicates are looked for twice: inside the file, with the deduplication engine (rows of one
cluster describe one person at one organisation: the first row is kept, the blanks it has are
filled from the others), and against the parties already in the base (same SIRET, SIREN or
email, or a similar name in the same postcode): such rows are reported and not created again.
Rows of one organisation (same SIREN, or same name in the same postcode) become one party with
one contact per person.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz, process

from comptoir.core import identifiers
from comptoir.core.exports import neutralise
from comptoir.customerfile import normalise, postcodes
from comptoir.customerfile.readers import ReadError, Sheet
from comptoir.customerfile.spreadsheets import HEADER_SYNONYMS, header_key
from comptoir.parties.actions import check_contact_values, check_party_values
from comptoir.parties.models import Address, Contact, Party, name_key
from comptoir.parties.selectors import SIMILAR_NAME_THRESHOLD

# The fields a column can feed, in the order the mapping screen lists them.
FIELDS: dict[str, Any] = {
    "organisation": gettext_lazy("Organisation name"),
    "siren": gettext_lazy("SIREN"),
    "siret": gettext_lazy("SIRET"),
    "vat_number": gettext_lazy("VAT number"),
    "naf_code": gettext_lazy("NAF/APE code"),
    "civility": gettext_lazy("Civility"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "job_title": gettext_lazy("Job title"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "mobile": gettext_lazy("Mobile"),
    "street": gettext_lazy("Address"),
    "street2": gettext_lazy("Address (continued)"),
    "postcode": gettext_lazy("Postcode"),
    "town": gettext_lazy("Town"),
    "country": gettext_lazy("Country"),
    "website": gettext_lazy("Website"),
    "notes": gettext_lazy("Notes"),
    "tags": gettext_lazy("Tags"),
    "consent_email": gettext_lazy("Email consent"),
    "consent_phone": gettext_lazy("Phone consent"),
    "consent_post": gettext_lazy("Post consent"),
}
EXTRA_SYNONYMS: dict[str, tuple[str, ...]] = {
    "naf_code": ("NAF", "APE", "CODE NAF", "CODE APE", "NAF APE", "CODE NAF APE", "NAF CODE"),
    "civility": ("CIVILITE", "CIV", "TITRE", "TITLE", "SALUTATION"),
    "job_title": ("FONCTION", "POSTE", "TITRE DU POSTE", "JOB TITLE", "POSITION", "ROLE"),
    "street2": (
        "ADRESSE 2",
        "ADRESSE2",
        "COMPLEMENT",
        "COMPLEMENT ADRESSE",
        "COMPLEMENT D ADRESSE",
        "ADDRESS 2",
        "ADDRESS LINE 2",
    ),
    "country": ("PAYS", "COUNTRY"),
    "website": ("SITE", "SITE WEB", "SITE INTERNET", "WEB", "WEBSITE", "URL"),
    "notes": ("NOTES", "NOTE", "COMMENTAIRE", "COMMENTAIRES", "REMARQUES", "COMMENTS"),
    "tags": ("TAGS", "TAG", "SEGMENT", "SEGMENTS", "ETIQUETTES", "CATEGORIES"),
    "consent_email": (
        "OPT IN",
        "OPTIN",
        "OPT IN EMAIL",
        "CONSENTEMENT EMAIL",
        "ACCEPTE EMAILS",
        "ACCEPTE LES EMAILS",
        "NEWSLETTER",
        "EMAIL CONSENT",
    ),
    "consent_phone": ("OPT IN TELEPHONE", "CONSENTEMENT TELEPHONE", "PHONE CONSENT"),
    "consent_post": ("OPT IN COURRIER", "CONSENTEMENT COURRIER", "POST CONSENT"),
    "siret": ("SIREN SIRET", "SIRET SIREN"),
}
_LOOKUP: dict[str, str] = {}
for _field, _spellings in (*HEADER_SYNONYMS.items(), *EXTRA_SYNONYMS.items()):
    for _spelling in _spellings:
        _LOOKUP.setdefault(_spelling, _field)
# Without one of these a row cannot become a party.
NAME_FIELDS = ("organisation", "last_name")
PREVIEW_ROWS = 100
# Past this many rows the in-file duplicate search uses exact keys instead of the engine, to
# keep memory bounded on very large files.
ENGINE_MAX_ROWS = 300_000
# A column is "shifted" when this share of its filled cells holds another field's kind of value.
SHIFT_SHARE = 0.3
SHIFT_MIN_ROWS = 3

_YES = {"1", "OUI", "O", "YES", "Y", "X", "VRAI", "TRUE", "OK"}
_NO = {"0", "NON", "N", "NO", "FAUX", "FALSE"}
_CIVILITY = {
    "M": "M.",
    "MR": "M.",
    "MONSIEUR": "M.",
    "MME": "Mme",
    "MADAME": "Mme",
    "MLLE": "Mme",
    "MADEMOISELLE": "Mme",
}
_COUNTRIES = {"FRANCE": "FR", "FRA": "FR", "BELGIQUE": "BE", "SUISSE": "CH", "LUXEMBOURG": "LU"}
# Short words of company names that are abbreviations, not acronyms: "ETS" → "Ets".
_ABBREVIATIONS = {"ets", "cie", "ste", "sté"}
_LOWER_WORDS = {"de", "du", "des", "la", "le", "les", "et", "en", "au", "aux", "sur", "sous"}
# Abbreviations spelt out in a stored street line (kept lower-case, as French addresses write them).
_STREET_DISPLAY = {
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "bvd": "boulevard",
    "boul": "boulevard",
    "pl": "place",
    "ch": "chemin",
    "chem": "chemin",
    "rte": "route",
    "imp": "impasse",
    "all": "allée",
    "fg": "faubourg",
    "fbg": "faubourg",
    "sq": "square",
    "crs": "cours",
    "pas": "passage",
    "lot": "lotissement",
    "res": "résidence",
    "rdpt": "rond-point",
    "prom": "promenade",
    "qu": "quai",
    "za": "ZA",
    "zi": "ZI",
    "st": "Saint",
    "ste": "Sainte",
    "gal": "Général",
    "mal": "Maréchal",
    "pdt": "Président",
    "dr": "Docteur",
}
_STREET_TOKEN = re.compile(r"[A-Za-zÀ-ÿ]+\.?|[^A-Za-zÀ-ÿ]+")
_FORMULA = re.compile(r"^\s*(?:=.|[+\-@]\s*[A-Za-z(])")
_EMAIL_LIKE = re.compile(r"\S+@\S+\.\S+")
_DIGITS = re.compile(r"\D")


def suggest_mapping(header: Sequence[str]) -> list[str]:
    """Return the field each column feeds ("" to ignore), from French and English headers."""
    mapping: list[str] = []
    used: set[str] = set()
    for title in header:
        target = _LOOKUP.get(header_key(title), "")
        if target in used:
            target = ""
        if target:
            used.add(target)
        mapping.append(target)
    return mapping


def mapping_from_saved(header: Sequence[str], columns: Mapping[str, str]) -> list[str]:
    """Apply a saved mapping ({header: field}) to a file's header; unknown columns are ignored."""
    keyed = {header_key(title): target for title, target in columns.items()}
    return [
        keyed.get(header_key(title), "") if keyed.get(header_key(title)) in FIELDS else ""
        for title in header
    ]


def mapping_to_saved(header: Sequence[str], mapping: Sequence[str]) -> dict[str, str]:
    return {title: target for title, target in zip(header, mapping, strict=False) if target}


def check_mapping(mapping: Sequence[str]) -> list[str]:
    """Return what makes a mapping unusable (empty when it can be used)."""
    problems = []
    unknown = sorted({t for t in mapping if t and t not in FIELDS})
    if unknown:
        problems.append(_("Unknown field(s): %(fields)s.") % {"fields": ", ".join(unknown)})
    targets = [t for t in mapping if t]
    doubles = sorted({t for t in targets if targets.count(t) > 1})
    if doubles:
        problems.append(
            _("Each field takes one column at most: %(fields)s.")
            % {"fields": ", ".join(str(FIELDS.get(t, t)) for t in doubles)}
        )
    if not any(t in NAME_FIELDS for t in targets):
        problems.append(
            _("Map at least the organisation name or the last name: a party needs a name.")
        )
    return problems


# -- one value --------------------------------------------------------------------------


def tidy(value: str) -> str:
    """Collapse spaces and strip; keep everything else as typed."""
    return " ".join(value.split())


def person_case(value: str) -> str:
    """Write a first or last name typed all upper or all lower in the usual case (Jean-Pierre)."""
    text = tidy(value)
    if not text or (not text.isupper() and not text.islower()):
        return text
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), text.lower())


def organisation_case(value: str) -> str:
    """Title-case an organisation name typed all lower; all-caps names keep short acronyms."""
    text = tidy(value)
    if not text:
        return text
    if text.islower():
        return _title_words(text, keep_short_upper=False)
    if text.isupper() and len(text.split()) > 1:
        return _title_words(text, keep_short_upper=True)
    return text


def _title_words(text: str, *, keep_short_upper: bool) -> str:
    words = []
    for index, word in enumerate(text.split()):
        lower = word.lower()
        if lower in _LOWER_WORDS:
            words.append(lower if index else lower.capitalize())
        elif keep_short_upper and len(word) <= 3 and word.isalpha() and lower not in _ABBREVIATIONS:
            words.append(word)
        else:
            words.append(re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), lower))
    return " ".join(words)


def split_legal_form(name: str) -> tuple[str, str]:
    """Return (name without its legal form, legal form): "S.A.R.L. Dupont" → ("Dupont", "SARL")."""
    form = normalise.legal_form(name)
    if not form:
        return tidy(name), ""
    dotted = r"\.?".join(form) + r"\.?"
    pattern = re.compile(rf"(?<![\w.])(?:{dotted}|{form})(?![\w])", re.IGNORECASE)
    stripped = tidy(pattern.sub(" ", name, count=1)).strip(" -,")
    return (stripped or tidy(name)), form


def street_line(value: str) -> str:
    """Spell out street abbreviations: "12, av. du Gal Leclerc" → "12 avenue du Général Leclerc"."""
    text = tidy(value)
    if not text:
        return text
    text = re.sub(r"^(\d+\s*(?:bis|ter|b|t)?)\s*,\s*", r"\1 ", text, flags=re.IGNORECASE)
    if text.isupper() or text.islower():
        text = _title_words(text.lower(), keep_short_upper=False)
        text = re.sub(
            r"\b(Rue|Avenue|Boulevard|Place|Chemin|Route|Impasse|Allée|Quai)\b",
            lambda m: m.group(0).lower(),
            text,
        )
    out = []
    tokens = _STREET_TOKEN.findall(text)
    for index, token in enumerate(tokens):
        word = token.rstrip(".")
        full = _STREET_DISPLAY.get(word.lower())
        after_number = index > 0 and bool(re.fullmatch(r".*\d[\s,]*", tokens[index - 1]))
        if word.lower() == "r" and after_number:
            full = "rue"
        if full and (token.endswith(".") or word.isalpha()):
            out.append(full)
        else:
            out.append(token)
    return tidy("".join(out))


def town_name(value: str) -> str:
    """Write a town the usual way: ST/STE spelt out, case tidied, CEDEX kept."""
    text = tidy(value)
    if not text:
        return text
    if text.isupper() or text.islower():
        text = _title_words(text.lower(), keep_short_upper=False)
        text = re.sub(r"\bCedex\b", "CEDEX", text)
    text = re.sub(r"\bSt\b\.?", "Saint", text, flags=re.IGNORECASE)
    return re.sub(r"\bSte\b\.?", "Sainte", text, flags=re.IGNORECASE)


def consent_value(value: str) -> bool | None:
    key = normalise.plain_upper(value).strip(" .")
    if key in _YES:
        return True
    if key in _NO:
        return False
    return None


def looks_like_formula(value: str) -> bool:
    return bool(_FORMULA.match(value))


# -- one row ----------------------------------------------------------------------------


@dataclass
class Problem:
    row: int
    column: str
    value: str
    message: str
    level: str = "error"  # error | warning


@dataclass
class CheckedRow:
    """A row normalised: the values for the party, its contact and address, and its problems."""

    number: int
    party: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, Any] = field(default_factory=dict)
    address: dict[str, Any] = field(default_factory=dict)
    consents: dict[str, bool] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Field → the column its value came from, when not its own (a SIRET in the SIREN column).
    sources: dict[str, str] = field(default_factory=dict)
    phones: tuple[str, str, str] = ("", "", "FR")

    @property
    def has_errors(self) -> bool:
        return any(p.level == "error" for p in self.problems)

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.number,
            "party": self.party,
            "contact": self.contact,
            "address": self.address,
            "consents": self.consents,
            "tags": self.tags,
        }


class _RowChecker:
    """Normalise and validate rows with one mapping; columns named as in the file."""

    def __init__(
        self,
        header: Sequence[str],
        mapping: Sequence[str],
        role: str,
        known_sirets: Mapping[str, int] | None = None,
    ) -> None:
        self.known_sirets = known_sirets or {}
        self.header = list(header)
        self.columns = {target: index for index, target in enumerate(mapping) if target}
        self.role = role

    def column_title(self, target: str) -> str:
        index = self.columns.get(target)
        return self.header[index] if index is not None and index < len(self.header) else target

    def check(self, number: int, cells: Sequence[str]) -> CheckedRow:
        raw = {
            target: (cells[index] if index < len(cells) else "")
            for target, index in self.columns.items()
        }
        row = CheckedRow(number)

        def problem(target: str, message: str, level: str = "error") -> None:
            target = row.sources.get(target, target)
            row.problems.append(
                Problem(number, self.column_title(target), raw.get(target, ""), message, level)
            )

        if len(cells) > len(self.header) and any(c.strip() for c in cells[len(self.header) :]):
            row.problems.append(
                Problem(
                    number,
                    "",
                    " | ".join(cells[len(self.header) :])[:200],
                    _(
                        "This row has %(cells)d cells for %(columns)d columns: a separator "
                        "inside a value has shifted the columns."
                    )
                    % {"cells": len(cells), "columns": len(self.header)},
                )
            )
        for target, value in raw.items():
            if looks_like_formula(value):
                problem(
                    target,
                    _("This cell looks like a spreadsheet formula; it is kept as plain text."),
                    "warning",
                )
        row.phones = self._phones(raw, row)
        self._identity(raw, row, problem)
        self._contact(raw, row, problem)
        self._address(raw, row, problem)
        for channel in ("email", "phone", "post"):
            value = raw.get(f"consent_{channel}", "")
            if value.strip():
                choice = consent_value(value)
                if choice is None:
                    problem(f"consent_{channel}", _("Write yes or no (oui/non, 1/0)."))
                else:
                    row.consents[channel] = choice
        if raw.get("tags", "").strip():
            row.tags = [tidy(t) for t in re.split(r"[,;|]", raw["tags"]) if t.strip()]
        return row

    def _identity(self, raw: dict[str, str], row: CheckedRow, problem: Callable[..., None]) -> None:
        organisation = tidy(raw.get("organisation", ""))
        last_name = person_case(raw.get("last_name", ""))
        values: dict[str, Any] = {
            "is_prospect": self.role == "prospect",
            "is_customer": self.role == "customer",
        }
        if organisation:
            name, form = split_legal_form(organisation)
            values.update(kind="organisation", name=organisation_case(name), legal_form=form)
        elif last_name:
            values.update(
                kind="person",
                last_name=last_name,
                first_name=person_case(_without_civility(raw.get("first_name", ""))),
            )
        else:
            problem(
                "organisation" if "organisation" in self.columns else "last_name",
                _("Neither an organisation name nor a last name: this row cannot become a party."),
            )
        siren_cell = raw.get("siren", "").strip()
        siret_cell = raw.get("siret", "").strip()
        # A "SIREN" column often holds SIRETs, and the other way round: go by the digit count.
        for target, cell in (("siren", siren_cell), ("siret", siret_cell)):
            digits = _DIGITS.sub("", cell)
            if not cell:
                continue
            if len(digits) == 14 and not values.get("siret"):
                values["siret"] = digits
                row.sources["siret"] = target
            elif len(digits) == 9 and not values.get("siren"):
                values["siren"] = digits
                row.sources["siren"] = target
            else:
                problem(
                    target,
                    _("A SIREN has 9 digits and a SIRET 14; this value has %(count)d.")
                    % {"count": len(digits)},
                )
        for target in ("vat_number", "naf_code", "website"):
            if raw.get(target, "").strip():
                values[target] = tidy(raw[target])
        if raw.get("country", "").strip():
            country = normalise.plain_upper(raw["country"])
            values["country"] = _COUNTRIES.get(country, country)
        if values.get("website") and not re.match(r"https?://", values["website"]):
            values["website"] = "https://" + values["website"]
        if raw.get("notes", "").strip():
            values["notes"] = raw["notes"].strip()
        if values.get("kind") == "person":
            # A private customer's own details are the party's.
            email = raw.get("email", "").strip()
            if email:
                values["email"] = normalise.email(email) or email
            phone, mobile, _region = row.phones
            values.update({k: v for k, v in (("phone", phone), ("mobile", mobile)) if v})
        # A SIRET already in the base makes the row a known party, not an error: checked apart.
        known_siret = values.get("siret", "") if values.get("siret") in self.known_sirets else ""
        try:
            if known_siret:
                values.pop("siret")
                identifiers.normalise_siret(known_siret)
            row.party = check_party_values(values)
            if known_siret:
                row.party["siret"] = known_siret
        except ValidationError as exc:
            row.party = {k: v for k, v in values.items()}
            for target, messages in exc.message_dict.items():
                column = {"name": "organisation", "is_customer": "organisation"}.get(target, target)
                for message in messages:
                    problem(column if column != NON_FIELD_ERRORS else "organisation", message)
            return
        self._full_clean(Party(**_model_values(row.party, Party)), row, problem, skip={"name_key"})

    def _contact(self, raw: dict[str, str], row: CheckedRow, problem: Callable[..., None]) -> None:
        first = raw.get("first_name", "")
        civility = _civility(raw.get("civility", "")) or _civility(
            first.split(" ")[0] if " " in first.strip() else ""
        )
        values: dict[str, Any] = {
            "civility": civility,
            "first_name": person_case(_without_civility(first)),
            "last_name": person_case(raw.get("last_name", "")),
            "job_title": tidy(raw.get("job_title", "")),
        }
        email = raw.get("email", "").strip()
        if email:
            found = normalise.email(email)
            values["email"] = found or email
        phone, mobile, region = row.phones
        values["phone"], values["mobile"] = phone, mobile
        if not values["last_name"]:
            has_details = any(
                values.get(k) for k in ("first_name", "email", "phone", "mobile", "job_title")
            )
            if has_details and row.party.get("kind") == "organisation":
                # Someone at the organisation without a name: the details go to the party.
                for target in ("email", "phone", "mobile"):
                    if values.get(target) and not row.party.get(target):
                        row.party[target] = values[target]
                self._check_party_channels(row, problem)
            row.contact = {}
            return
        try:
            row.contact = check_contact_values(
                {k: v for k, v in values.items() if v != ""}, region=region
            )
        except ValidationError as exc:
            row.contact = values
            for target, messages in exc.message_dict.items():
                for message in messages:
                    problem(target, message)
            return
        self._full_clean(
            Contact(**_model_values(row.contact, Contact)), row, problem, skip={"party"}
        )

    def _phones(self, raw: dict[str, str], row: CheckedRow) -> tuple[str, str, str]:
        """Return (phone, mobile, region), in E.164 when readable; a mobile typed as phone moves."""
        phone_cell, mobile_cell = raw.get("phone", "").strip(), raw.get("mobile", "").strip()
        region = phone_region(normalise.postcode(raw.get("postcode", "")))
        if region == "FR":
            phone = normalise.phone(phone_cell) or phone_cell
            mobile = normalise.phone(mobile_cell) or mobile_cell
        else:
            # 0262… at a 97400 address is a Réunion number, not a metropolitan one.
            phone = _phone_in(phone_cell, region)
            mobile = _phone_in(mobile_cell, region)
        if phone and normalise.is_mobile(phone) and not mobile:
            phone, mobile = "", phone
            row.sources["mobile"] = "phone"
        return phone, mobile, region

    def _check_party_channels(self, row: CheckedRow, problem: Callable[..., None]) -> None:
        for target, normaliser in (
            ("email", identifiers.normalise_email),
            ("phone", identifiers.normalise_phone),
            ("mobile", identifiers.normalise_phone),
        ):
            if row.party.get(target):
                try:
                    row.party[target] = normaliser(row.party[target])
                except ValidationError as exc:
                    for message in exc.messages:
                        problem(target, message)

    def _address(self, raw: dict[str, str], row: CheckedRow, problem: Callable[..., None]) -> None:
        street = street_line(raw.get("street", ""))
        postcode_cell = raw.get("postcode", "").strip()
        town = town_name(raw.get("town", ""))
        country = row.party.get("country") or "FR"
        if not (street or postcode_cell or town):
            return
        postcode = normalise.postcode(postcode_cell) if country == "FR" else tidy(postcode_cell)
        if country == "FR" and postcode_cell and not postcode:
            problem("postcode", _("A French postcode has 5 digits."))
            postcode = postcode_cell
        values = {
            "line1": street,
            "line2": tidy(raw.get("street2", "")),
            "postcode": postcode,
            "city": town,
            "country": country,
        }
        missing = [
            t for t, v in (("street", street), ("postcode", postcode), ("town", town)) if not v
        ]
        if missing:
            # No address without its street, but the postcode and town still say where the
            # party is (the list, the territory, the duplicate checks read them): they go on it.
            kept = False
            for field_name, value in (("postcode", postcode), ("city", town)):
                if value and not row.party.get(field_name):
                    row.party[field_name] = value
                    kept = True
            for target in missing:
                problem(
                    target,
                    _(
                        "The address is incomplete (street, postcode and town are all needed): "
                        "no address is created; the postcode and town go on the party."
                    )
                    if kept
                    else _(
                        "The address is incomplete: street, postcode and town are all needed; it will not be imported."
                    ),
                    "warning",
                )
            row.address = {}
            return
        if country == "FR" and postcode:
            for message in postcodes.postcode_town_problems(postcode, town):
                problem("postcode", message, "warning")
        row.address = values
        self._full_clean(
            Address(**values),
            row,
            problem,
            skip={"party"},
            columns={"line1": "street", "line2": "street2", "city": "town"},
        )

    def _full_clean(
        self,
        instance: Any,
        row: CheckedRow,
        problem: Callable[..., None],
        *,
        skip: set[str],
        columns: Mapping[str, str] | None = None,
    ) -> None:
        already = {p.column for p in row.problems}
        try:
            instance.full_clean(
                exclude=list(skip), validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for target, messages in exc.message_dict.items():
                column = (columns or {}).get(target, target)
                if column == "name":
                    column = "organisation"
                if self.column_title(column) in already:
                    continue
                for message in messages:
                    problem(column, message)


def _model_values(values: Mapping[str, Any], model: type[Any]) -> dict[str, Any]:
    names = {f.name for f in model._meta.get_fields() if getattr(f, "concrete", False)}
    return {
        k: v
        for k, v in values.items()
        if k in names and k not in ("category", "sales_rep", "territory")
    }


# Overseas departments dial with their own country codes (+590, +596, +594, +262…).
_OVERSEAS_REGIONS = {
    "971": "GP",
    "972": "MQ",
    "973": "GF",
    "974": "RE",
    "975": "PM",
    "976": "YT",
    "977": "BL",
    "978": "MF",
}


def phone_region(postcode: str) -> str:
    """Return the phone region of a French address: FR, or an overseas one (RE for 974…)."""
    return _OVERSEAS_REGIONS.get(postcode[:3], "FR") if postcode.startswith("97") else "FR"


def _phone_in(cell: str, region: str) -> str:
    if not cell:
        return ""
    for attempt in (region, "FR"):  # a mainland number at an overseas address is still valid
        try:
            return identifiers.normalise_phone(cell, attempt)
        except ValidationError:
            continue
    return cell


def _civility(word: str) -> str:
    return _CIVILITY.get(normalise.plain_upper(word).strip(" ."), "")


def _without_civility(value: str) -> str:
    words = value.split()
    if len(words) > 1 and _civility(words[0]):
        return " ".join(words[1:])
    return value


# -- shifted columns ----------------------------------------------------------------------

_KINDS: dict[str, Callable[[str], bool]] = {
    "email": lambda v: bool(_EMAIL_LIKE.fullmatch(v.strip())),
    "phone": lambda v: (
        sum(c.isdigit() for c in v) >= 9 and bool(normalise.phone(v)) and "@" not in v
    ),
    "postcode": lambda v: bool(re.fullmatch(r"\d{5}", v.strip())),
}
# Which kinds of value are foreign in which column.
_FOREIGN: dict[str, tuple[str, ...]] = {
    "phone": ("email",),
    "mobile": ("email",),
    "email": ("phone",),
    "postcode": ("email",),
    "town": ("email", "phone", "postcode"),
    "organisation": ("email", "phone"),
    "last_name": ("email", "phone", "postcode"),
    "first_name": ("email", "phone", "postcode"),
    "street": ("email", "phone"),
}


class _ShiftDetector:
    """Count, per mapped column, the cells that hold another field's kind of value."""

    def __init__(self, mapping: Sequence[str]) -> None:
        self.checks = [
            (index, target, _FOREIGN[target])
            for index, target in enumerate(mapping)
            if target in _FOREIGN
        ]
        self.filled = [0] * len(mapping)
        self.foreign: dict[tuple[int, str], int] = {}

    def add(self, cells: Sequence[str]) -> None:
        for index, _target, kinds in self.checks:
            value = cells[index] if index < len(cells) else ""
            if not value.strip():
                continue
            self.filled[index] += 1
            for kind in kinds:
                if _KINDS[kind](value):
                    self.foreign[(index, kind)] = self.foreign.get((index, kind), 0) + 1
                    break

    def problems(self, header: Sequence[str]) -> list[str]:
        out = []
        for (index, kind), count in sorted(self.foreign.items()):
            filled = self.filled[index]
            if count >= SHIFT_MIN_ROWS and count >= SHIFT_SHARE * filled:
                out.append(
                    _(
                        'Column "%(column)s" holds %(kind)s values in %(count)d of %(filled)d rows: '
                        "the columns look shifted. Check the mapping or the file."
                    )
                    % {
                        "column": header[index] if index < len(header) else index + 1,
                        "kind": {
                            "email": _("email"),
                            "phone": _("phone"),
                            "postcode": _("postcode"),
                        }[kind],
                        "count": count,
                        "filled": filled,
                    }
                )
        return out


# -- against the base ----------------------------------------------------------------------


@dataclass
class KnownParty:
    pk: int
    name: str
    reasons: list[str]


class BaseIndex:
    """The parties already in the base, indexed by SIRET, SIREN, email and postcode + name.

    Built once per check (one query), so each row is looked up in memory: the same evidence
    as :func:`comptoir.parties.selectors.likely_duplicates`, for 100,000 rows at once.
    """

    def __init__(self) -> None:
        self.by_siret: dict[str, int] = {}
        self.by_siren: dict[str, int] = {}
        self.by_email: dict[str, int] = {}
        self.by_postcode: dict[str, dict[int, str]] = {}
        self.names: dict[int, str] = {}
        rows = Party.objects.order_by("pk").values_list(
            "pk", "name", "siret", "siren", "email", "postcode", "name_key"
        )
        for pk, name, siret, siren, email, postcode, key in rows.iterator(chunk_size=5000):
            self.names[pk] = name
            if siret:
                self.by_siret.setdefault(siret, pk)
            if siren:
                self.by_siren.setdefault(siren, pk)
            if email:
                self.by_email.setdefault(email.lower(), pk)
            if postcode and key:
                self.by_postcode.setdefault(postcode, {})[pk] = key
        for pk, email in (
            Contact.objects.exclude(email="")
            .values_list("party_id", "email")
            .iterator(chunk_size=5000)
        ):
            self.by_email.setdefault(email.lower(), pk)

    def match(self, row: CheckedRow) -> KnownParty | None:
        found: dict[int, list[str]] = {}
        party = row.party
        if party.get("siret") and party["siret"] in self.by_siret:
            found.setdefault(self.by_siret[party["siret"]], []).append(_("same SIRET"))
        if party.get("siren") and party["siren"] in self.by_siren:
            found.setdefault(self.by_siren[party["siren"]], []).append(_("same SIREN"))
        for email in (row.contact.get("email"), party.get("email")):
            if email and email.lower() in self.by_email:
                found.setdefault(self.by_email[email.lower()], []).append(_("same email"))
                break
        postcode = row.address.get("postcode") or ""
        key = (
            name_key(party.get("name", ""))
            if party.get("kind") != "person"
            else name_key(f"{party.get('last_name', '')} {party.get('first_name', '')}")
        )
        candidates = self.by_postcode.get(postcode)
        if key and candidates:
            best = process.extractOne(
                key, candidates, scorer=fuzz.token_sort_ratio, score_cutoff=SIMILAR_NAME_THRESHOLD
            )
            if best is not None:
                _key, score, pk = best
                found.setdefault(pk, []).append(
                    _("similar name in the same postcode %(score)s")
                    % {"score": f"{score / 100:.2f}"}
                )
        if not found:
            return None
        pk = max(found, key=lambda p: len(found[p]))
        return KnownParty(pk, self.names[pk], found[pk])


# -- the whole file ----------------------------------------------------------------------


@dataclass
class CheckResult:
    """What the check found; the spool and the report are files in ``workdir``."""

    workdir: Path
    total_rows: int = 0
    error_rows: int = 0
    error_count: int = 0
    warning_count: int = 0
    duplicate_rows: int = 0
    known_rows: int = 0
    parties: int = 0
    contacts: int = 0
    file_errors: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def spool(self) -> Path:
        return self.workdir / "rows.jsonl"

    @property
    def report(self) -> Path:
        return self.workdir / "errors.csv"

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.error_rows and self.total_rows > 0


def workdir_for(name: str) -> Path:
    """Return a fresh folder for one import's files (outside the web root)."""
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60] or "import"
    folder = Path(settings.DATA_DIR) / "imports" / f"{stamp}-{safe}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


REPORT_HEADER = ("row", "column", "value", "message", "level")


def check_file(
    sheet: Sheet,
    mapping: Sequence[str],
    workdir: Path,
    *,
    role: str = "prospect",
    progress: Callable[[int, float], None] | None = None,
) -> CheckResult:
    """Check every row of the file; write the spool of clean rows and the error report."""
    started = time.perf_counter()
    result = CheckResult(workdir)
    problems_in_mapping = check_mapping(mapping)
    if problems_in_mapping:
        result.file_errors.extend(problems_in_mapping)
        _write_report(result.report, [])
        return result
    base = BaseIndex()
    checker = _RowChecker(sheet.header, mapping, role, base.by_siret)
    shifts = _ShiftDetector(mapping)
    keys: dict[str, list[str]] = {
        k: []
        for k in (
            "organisation",
            "siren",
            "siret",
            "first_name",
            "last_name",
            "email",
            "phone",
            "mobile",
            "street",
            "postcode",
            "town",
            "person",
        )
    }
    numbers: list[int] = []
    known: dict[int, KnownParty] = {}
    error_preview: list[dict[str, Any]] = []
    first_preview: list[dict[str, Any]] = []
    with (
        result.spool.open("w", encoding="utf-8") as spool,
        result.report.open("w", encoding="utf-8-sig", newline="") as report_handle,
    ):
        report = csv.writer(report_handle, delimiter=";")
        report.writerow(REPORT_HEADER)
        try:
            for number, cells in sheet.rows():
                shifts.add(cells)
                row = checker.check(number, cells)
                result.total_rows += 1
                if row.has_errors:
                    result.error_rows += 1
                for p in row.problems:
                    if p.level == "error":
                        result.error_count += 1
                    else:
                        result.warning_count += 1
                    report.writerow(
                        [
                            p.row,
                            neutralise(p.column),
                            neutralise(p.value),
                            neutralise(p.message),
                            p.level,
                        ]
                    )
                match = None if row.has_errors else base.match(row)
                if match is not None:
                    known[number] = match
                view = _preview_row(row, match)
                if len(first_preview) < PREVIEW_ROWS:
                    first_preview.append(view)
                if row.problems and len(error_preview) < PREVIEW_ROWS and row.has_errors:
                    error_preview.append(view)
                if not row.has_errors:
                    spool.write(json.dumps(row.as_json(), ensure_ascii=False) + "\n")
                    numbers.append(number)
                    _collect_keys(keys, row)
                if progress and result.total_rows % 1000 == 0:
                    progress(result.total_rows, sheet.fraction_read())
        except ReadError as exc:
            result.file_errors.append(str(exc))
        except (csv.Error, UnicodeDecodeError) as exc:
            result.file_errors.append(
                _("The file cannot be read as CSV: %(reason)s") % {"reason": exc}
            )
    if result.total_rows == 0 and not result.file_errors:
        result.file_errors.append(_("The file has a header but no data rows."))
    result.file_errors.extend(shifts.problems(sheet.header))
    result.known_rows = len(known)
    plan = plan_entities(numbers, keys, known)
    result.duplicate_rows = plan.duplicate_rows
    result.parties = plan.parties
    result.contacts = plan.contacts
    (workdir / "plan.json").write_text(json.dumps(plan.as_json()), encoding="utf-8")
    for view in first_preview:
        note = plan.notes.get(view["row"])
        if note:
            view["duplicate"] = note
    result.preview = (error_preview + [v for v in first_preview if v not in error_preview])[
        :PREVIEW_ROWS
    ]
    result.seconds = time.perf_counter() - started
    if progress:
        progress(result.total_rows, 1.0)
    return result


def _write_report(path: Path, problems: list[Problem]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(REPORT_HEADER)
        for p in problems:
            writer.writerow(
                [p.row, neutralise(p.column), neutralise(p.value), neutralise(p.message), p.level]
            )


def _preview_row(row: CheckedRow, match: KnownParty | None) -> dict[str, Any]:
    party, contact, address = row.party, row.contact, row.address
    return {
        "row": row.number,
        "name": party.get("name", ""),
        "legal_form": party.get("legal_form", ""),
        "siren": party.get("siren", ""),
        "siret": party.get("siret", ""),
        "person": " ".join(
            x
            for x in (
                contact.get("civility", ""),
                contact.get("first_name", ""),
                contact.get("last_name", ""),
            )
            if x
        ),
        "job_title": contact.get("job_title", ""),
        "email": contact.get("email") or party.get("email", ""),
        "phone": contact.get("phone") or party.get("phone", ""),
        "mobile": contact.get("mobile") or party.get("mobile", ""),
        "address": " ".join(
            x
            for x in (
                address.get("line1", ""),
                address.get("postcode", ""),
                address.get("city", ""),
            )
            if x
        ),
        "errors": [
            {"column": p.column, "value": p.value, "message": p.message}
            for p in row.problems
            if p.level == "error"
        ],
        "warnings": [
            {"column": p.column, "message": p.message} for p in row.problems if p.level == "warning"
        ],
        "known": {"pk": match.pk, "name": match.name, "reasons": match.reasons} if match else None,
    }


def _collect_keys(keys: dict[str, list[str]], row: CheckedRow) -> None:
    party, contact, address = row.party, row.contact, row.address
    keys["organisation"].append(
        party.get("name", "") if party.get("kind") == "organisation" else ""
    )
    keys["siren"].append(party.get("siren", ""))
    keys["siret"].append(party.get("siret", ""))
    keys["first_name"].append(contact.get("first_name") or party.get("first_name", ""))
    keys["last_name"].append(contact.get("last_name") or party.get("last_name", ""))
    keys["email"].append(contact.get("email") or party.get("email", ""))
    keys["phone"].append(contact.get("phone") or party.get("phone", ""))
    keys["mobile"].append(contact.get("mobile") or party.get("mobile", ""))
    keys["street"].append(address.get("line1", ""))
    keys["postcode"].append(address.get("postcode") or party.get("postcode", ""))
    keys["town"].append(address.get("city") or party.get("city", ""))
    # Whether the row names someone: a row without a name gives its details to the party.
    keys["person"].append("1" if contact else "")


# -- entities and parties -------------------------------------------------------------------


@dataclass
class Plan:
    """Which clean row creates what: ``entity[row]`` is the first row of its person cluster,
    ``group[row]`` the first row of its organisation; ``known[row]`` an existing party's pk."""

    entity: dict[int, int]
    group: dict[int, int]
    known: dict[int, int]
    notes: dict[int, str]
    duplicate_rows: int = 0
    parties: int = 0
    contacts: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "entity": {str(k): v for k, v in self.entity.items() if k != v},
            "group": {str(k): v for k, v in self.group.items() if k != v},
            "known": {str(k): v for k, v in self.known.items()},
        }

    @classmethod
    def load(cls, path: Path) -> Plan:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            entity={int(k): v for k, v in data["entity"].items()},
            group={int(k): v for k, v in data["group"].items()},
            known={int(k): v for k, v in data["known"].items()},
            notes={},
        )


def cluster_rows(keys: dict[str, list[str]], n: int) -> list[int]:
    """Return a cluster label per clean row (rows sharing one are one person at one organisation)."""
    if n == 0:
        return []
    if n <= ENGINE_MAX_ROWS and n > 1:
        from comptoir.customerfile.dedupe import deduplicate_customers

        return [int(c) for c in deduplicate_customers(keys, n).cluster.tolist()]
    labels: list[int] = []
    seen: dict[tuple[str, ...], int] = {}
    for i in range(n):
        person = (
            normalise.person_name(keys["first_name"][i]),
            normalise.person_name(keys["last_name"][i]),
        )
        org = normalise.siren(keys["siren"][i]) or normalise.organisation_key(
            keys["organisation"][i]
        )
        email = normalise.email(keys["email"][i])
        key = (org, *person, email) if email or any(person) else (org, str(i))
        labels.append(seen.setdefault(key, len(seen) + 1))
    return labels


def plan_entities(
    numbers: list[int], keys: dict[str, list[str]], known: dict[int, KnownParty]
) -> Plan:
    """Decide which rows are one person, which persons are one organisation, which exist."""
    n = len(numbers)
    labels = cluster_rows(keys, n)
    entity: dict[int, int] = {}
    notes: dict[int, str] = {}
    heads: dict[int, list[int]] = {}
    sirens = normalise.normalise_column(
        [a or b for a, b in zip(keys["siren"], keys["siret"], strict=True)], normalise.siren
    )
    emails = normalise.normalise_column(keys["email"], normalise.email)

    def conflict(i: int, j: int) -> bool:
        # Never fold rows that name two companies or two mailboxes, whatever the score said:
        # an import that loses a row is worse than one that leaves a duplicate to merge.
        return bool(
            (sirens[i] and sirens[j] and sirens[i] != sirens[j])
            or (emails[i] and emails[j] and emails[i] != emails[j])
        )

    for i, label in enumerate(labels):
        candidates = heads.setdefault(label, [])
        head = next((h for h in candidates if not conflict(i, h)), None)
        if head is None:
            candidates.append(i)
            head = i
        entity[numbers[i]] = numbers[head]
        if head != i:
            notes[numbers[i]] = _("same person as row %(row)d") % {"row": numbers[head]}
    # Organisations: rows that share a SIREN, or an organisation name in one postcode.
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    owner: dict[tuple[str, str], int] = {}
    for i, number in enumerate(numbers):
        union(number, entity[number])
        organisation = (
            normalise.organisation_key(keys["organisation"][i]) if keys["organisation"][i] else ""
        )
        if not organisation:
            continue  # a private person is their own party
        siren = normalise.siren(keys["siren"][i]) or normalise.siren(keys["siret"][i])
        for key in (
            ("siren", siren),
            ("name", f"{organisation}|{normalise.postcode(keys['postcode'][i])}"),
        ):
            if key[1] and key[1] != "|":
                other = owner.setdefault(key, number)
                union(number, other)
    group = {number: find(number) for number in numbers}
    known_pk: dict[int, int] = {}
    for number in numbers:
        match = known.get(number) or known.get(entity[number])
        if match is not None:
            known_pk[number] = match.pk
            notes[number] = _("already in the base: %(name)s (%(reasons)s)") % {
                "name": match.name,
                "reasons": ", ".join(match.reasons),
            }
    # A group where any row is known is entirely known: its persons are not created either.
    known_groups = {group[number]: pk for number, pk in known_pk.items()}
    for number in numbers:
        if group[number] in known_groups and number not in known_pk:
            known_pk[number] = known_groups[group[number]]
            notes.setdefault(number, _("organisation already in the base"))
    plan = Plan(entity, group, known_pk, notes)
    plan.duplicate_rows = sum(1 for number in numbers if entity[number] != number)
    plan.parties = len({group[n] for n in numbers if n not in known_pk})
    # A contact for each person named on a new row; unnamed details go to the party.
    plan.contacts = len(
        {
            entity[number]
            for number, person in zip(numbers, keys["person"], strict=True)
            if person and number not in known_pk
        }
    )
    return plan


def read_spool(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)
