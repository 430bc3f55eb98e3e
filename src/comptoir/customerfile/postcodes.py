"""French postcodes: department of a postcode (Corsica and overseas included), postcode vs town.

The table in ``data/postcodes-fr.tsv`` (see ``data/README.md``) lists every metropolitan code
with its department and its main locality. It answers "does this code exist" and "is this town
in the code's department"; it cannot list every commune of a code.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

from django.utils.translation import gettext as _

from comptoir.customerfile import normalise

TABLE = Path(__file__).resolve().parent / "data" / "postcodes-fr.tsv"
_FIVE_DIGITS = re.compile(r"\d{5}")
# Overseas departments and collectivities with French postcodes (97x, 98x), by their prefix.
OVERSEAS = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon",
    "976": "Mayotte",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
}


@functools.cache
def _table() -> tuple[dict[str, tuple[str, str]], dict[str, frozenset[str]]]:
    by_code: dict[str, tuple[str, str]] = {}
    town_departments: dict[str, set[str]] = {}
    with TABLE.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            code, department, town = line.rstrip("\n").split("\t")
            by_code[code] = (department, town)
            town_departments.setdefault(normalise.town(town), set()).add(department)
    return by_code, {town: frozenset(d) for town, d in town_departments.items()}


def department_of(postcode: str) -> str:
    """Return the department of a French postcode: "75", "2A", "2B", "971"…, or "" if none.

    Corsica's codes start with 20: 200xx–201xx are Corse-du-Sud (2A), the rest Haute-Corse (2B).
    """
    if not _FIVE_DIGITS.fullmatch(postcode or ""):
        return ""
    known = _table()[0].get(postcode)
    if known:
        return known[0]
    prefix = postcode[:2]
    if prefix == "20":
        return "2A" if postcode < "20200" else "2B"
    if prefix in ("97", "98"):
        return postcode[:3] if postcode[:3] in OVERSEAS else ""
    if prefix == "00":
        return ""
    return prefix


def is_known_postcode(postcode: str) -> bool:
    """Tell whether the code is in La Poste's metropolitan list (overseas: by prefix)."""
    if postcode[:2] in ("97", "98"):
        return postcode[:3] in OVERSEAS
    return postcode in _table()[0]


def main_locality(postcode: str) -> str:
    found = _table()[0].get(postcode)
    return found[1] if found else ""


def postcode_town_problems(postcode: str, town: str) -> list[str]:
    """Return what is wrong between a French postcode and its town (empty when nothing is)."""
    if not postcode:
        return []
    if not _FIVE_DIGITS.fullmatch(postcode):
        return [_("A French postcode has 5 digits.")]
    department = department_of(postcode)
    if not department:
        return [_("No French department has the postcode %(code)s.") % {"code": postcode}]
    problems = []
    if not is_known_postcode(postcode) and not _is_cedex(town):
        problems.append(
            _("The postcode %(code)s is not in La Poste's list: check it.") % {"code": postcode}
        )
    key = normalise.town(town)
    if key and department not in OVERSEAS:
        departments = _table()[1].get(key)
        if departments and department not in departments:
            problems.append(
                _("%(town)s is in department %(found)s, not %(department)s (postcode %(code)s).")
                % {
                    "town": town,
                    "found": "/".join(sorted(departments)),
                    "department": department,
                    "code": postcode,
                }
            )
    return problems


def _is_cedex(town: str) -> bool:
    return "CEDEX" in normalise.plain_upper(town)


def department_matches(department: str, codes: list[str]) -> bool:
    """Tell whether a department is in a territory's list; "20" there stands for 2A and 2B."""
    if not department:
        return False
    wanted = {code.strip().upper() for code in codes}
    if department in wanted:
        return True
    return department in ("2A", "2B") and "20" in wanted


def build(source: Path) -> int:
    """Rewrite the table from countrystatecity-postal-codes' FR/postcodes.json."""
    records = json.loads(source.read_text(encoding="utf-8"))
    rows = sorted(
        {
            (
                r["code"],
                r["stateCode"][:2] if r["stateCode"][:2].isdigit() else r["stateCode"],
                r["localityName"].strip(),
            )
            for r in records
        }
    )
    with TABLE.open("w", encoding="utf-8") as handle:
        handle.write(
            "# French postcodes: code, department, main locality. Derived from "
            "countrystatecity-postal-codes 2.0.1 (ODbL 1.0); see data/README.md.\n"
        )
        for row in rows:
            handle.write("\t".join(row) + "\n")
    return len(rows)


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if len(sys.argv) == 3 and sys.argv[1] == "build":
        print(build(Path(sys.argv[2])), "postcodes written to", TABLE)  # noqa: T201
    else:
        sys.exit("usage: python -m comptoir.customerfile.postcodes build FR/postcodes.json")
