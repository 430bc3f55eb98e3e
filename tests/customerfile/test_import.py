"""`comptoir customers import FILE`: the messy trade-show file, all-or-nothing, bad input."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from django.utils.formats import date_format

from comptoir.core.models import AuditEntry
from comptoir.customerfile import importing
from comptoir.customerfile.actions import commit_import, save_import_mapping
from comptoir.customerfile.models import Consent, ContactPrivacy, ImportMapping
from comptoir.customerfile.readers import open_sheet
from comptoir.parties import actions as party_actions
from comptoir.parties.models import Address, Contact, Party, Territory
from tests.factories import valid_siren

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    # Wording assertions read English, whatever the French catalogue holds.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


DATA = Path(__file__).resolve().parent.parent / "data"
SALON = DATA / "import-salon-2026.csv"
HEADER = ["Raison sociale", "SIREN", "Prénom", "Nom", "E-mail", "Tél", "Adresse", "CP", "Ville"]


@pytest.fixture(autouse=True)
def _data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path


def _import(path: Path, *extra: str) -> None:
    call_command("customers", "import", str(path), "--no-progress", *extra)


def _write(
    path: Path, rows: list[list[str]], encoding: str = "utf-8-sig", delimiter: str = ";"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return path


def _report(error: CommandError) -> list[list[str]]:
    path = Path(str(error).rsplit("Report: ", 1)[1].strip())
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def _generated(count: int) -> list[list[str]]:
    rows = [HEADER]
    for n in range(count):
        rows.append(
            [
                f"Société {n} Distribution",
                valid_siren(n + 10),
                "Jean",
                f"Martin{n}",
                f"jean.martin{n}@societe{n}.fr",
                f"01 {n % 100:02d} {(n // 100) % 100:02d} 00 00",
                f"{n % 90 + 1} rue de la Paix",
                "75002",
                "Paris",
            ]
        )
    return rows


def test_the_messy_salon_file_imports_whole_and_clean(rep: Any) -> None:
    existing = party_actions.create_party(
        by=None, name="Imprimerie Lambert", siren="812345676", is_customer=True
    )
    Territory.objects.create(code="corse", name="Corse", departments="20", sales_rep=rep)

    _import(SALON, "--tag", "Salon 2026")

    # 11 rows: one repeats Jean Dupont, one is an existing customer.
    assert Party.objects.count() == 9
    assert Party.objects.filter(name="Imprimerie Lambert").get() == existing
    dupont = Party.objects.get(siren="732829320")
    assert (dupont.name, dupont.legal_form, dupont.is_prospect) == (
        "Boulangerie Dupont",
        "SARL",
        True,
    )
    assert [t.name for t in dupont.tags.all()] == ["Salon 2026"]
    people = {c.first_name: c for c in dupont.contacts.all()}
    assert set(people) == {"Jean", "Marie"}  # the colleague joins the same party
    jean = people["Jean"]
    assert (jean.civility, jean.last_name, jean.job_title) == ("M.", "Dupont", "Gérant")
    assert (jean.phone, jean.mobile, jean.is_primary) == ("+33143556789", "+33611223344", True)
    address = Address.objects.get(party=dupont)
    assert (address.line1, address.postcode, address.city) == (
        "12 avenue de la République",
        "75011",
        "Paris",
    )
    assert (dupont.postcode, dupont.city) == ("75011", "Paris")

    # The date as the reader writes dates (11/27/2026 in English, 27/11/2026 in French).
    today = date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    source = f"Import import-salon-2026.csv, {today}"
    assert ContactPrivacy.objects.get(contact=jean).source == source
    assert Consent.objects.get(contact=jean, channel="email").status == "granted"
    assert Consent.objects.get(contact=people["Marie"], channel="email").status == "refused"
    assert Consent.objects.get(contact=jean).source == source

    leroy = Party.objects.get(siret="44306184100013")
    assert (leroy.name, leroy.siren, leroy.vat_number) == (
        "Ets Leroy et Cie",
        "443061841",
        "FR64443061841",
    )
    assert Address.objects.get(party=leroy).line1 == "1 rue Nationale"
    martin = Party.objects.get(name="Garage Martin et Fils")
    assert (martin.city, martin.contacts.get().last_name) == ("Lyon", "Martin")
    sophie = Party.objects.get(kind="person")
    assert (sophie.name, sophie.email) == ("BERNARD Sophie", "sophie.bernard@example.org")
    assert sophie.contacts.get().mobile == "+33612345678"  # 0033 6 12 34 56 78
    reunion = Party.objects.get(siren="380129866").contacts.get()
    assert (reunion.phone, reunion.mobile) == ("+262262410000", "+262692001122")
    santoni = Party.objects.get(name="Menuiserie Santoni")
    assert (santoni.territory.code, santoni.sales_rep) == ("corse", rep)  # 20090 is 2A
    # A formula is data: stored as typed, never evaluated.
    assert santoni.notes == '=HYPERLINK("http://example.com","clic")'
    assert AuditEntry.objects.filter(action="import_party").count() == 8
    assert AuditEntry.objects.filter(action="import_customers").get().changes["parties"] == 8


def test_dry_run_writes_nothing_and_reports(capsys: Any) -> None:
    _import(SALON, "--dry-run")
    captured = capsys.readouterr()
    assert Party.objects.count() == 0
    assert "10 contacts to create" in captured.err
    assert "Dry run" in captured.out
    # What the dry run announces is what the import does.
    _import(SALON)
    assert Contact.objects.count() == 10


def test_rows_naming_nobody_announce_no_contact(tmp_path: Path, capsys: Any) -> None:
    """Details without a person's name go to the party: no contact is announced, none made."""
    source = tmp_path / "companies.csv"
    source.write_text(
        "Raison sociale;SIREN;E-mail;Tél;CP;Ville\n"
        "Acme Test SARL;732829320;contact@acme-test.fr;01 42 68 53 00;75008;Paris\n"
        "Beta Conseil;;beta@example.fr;0612345678;69001;Lyon\n",
        encoding="utf-8",
    )
    _import(source, "--dry-run")
    assert "2 parties and 0 contacts to create" in capsys.readouterr().err
    _import(source)
    assert Party.objects.count() == 2 and not Contact.objects.exists()
    acme = Party.objects.get(name__startswith="Acme")
    assert acme.email == "contact@acme-test.fr"
    # No street, so no address: the postcode and town still go on the party (they were lost).
    assert (acme.postcode, acme.city) == ("75008", "Paris") and not Address.objects.exists()


def test_one_bad_row_among_many_imports_nothing_and_names_it(tmp_path: Path) -> None:
    rows = _generated(3000)
    rows[2001][4] = "jean.martin@@societe.fr"
    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path / "big.csv", rows))
    assert Party.objects.count() == 0 and Contact.objects.count() == 0
    assert "1 rows have errors" in str(error.value)
    report = _report(error.value)
    assert report[0] == ["row", "column", "value", "message", "level"]
    assert report[1][:3] == ["2002", "E-mail", "jean.martin@@societe.fr"]
    assert len(report) == 2


def test_commit_is_all_or_nothing_when_the_base_changed(tmp_path: Path) -> None:
    sheet = open_sheet(SALON)
    workdir = importing.workdir_for("salon")
    result = importing.check_file(sheet, importing.suggest_mapping(sheet.header), workdir)
    assert result.ok
    # Between check and commit someone creates a party with a SIRET of the file.
    party_actions.create_party(by=None, name="Leroy", siret="44306184100013", is_customer=True)
    with pytest.raises(Exception, match="nothing was imported"):
        commit_import(workdir, by=None, source="test")
    assert Party.objects.count() == 1
    assert Contact.objects.count() == 0


def test_cp1252_file_is_detected_and_read(tmp_path: Path, capsys: Any) -> None:
    rows = [
        HEADER,
        ["Café de l'Œuvre", "", "Hélène", "Bœuf", "", "", "1 r. d'Orléans", "45000", "Orléans"],
    ]
    _import(_write(tmp_path / "ansi.csv", rows, encoding="cp1252"))
    party = Party.objects.get()
    assert party.name == "Café de l'Œuvre"
    assert party.contacts.get().last_name == "Bœuf"
    assert Address.objects.get().line1 == "1 rue d'Orléans"
    assert "Windows-1252" in capsys.readouterr().err


def test_latin9_file_is_told_from_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "latin9.csv"
    path.write_bytes("Société;Ville\nŒuvres € Cœur;Nancy\n".encode("iso-8859-15"))
    sheet = open_sheet(path)
    assert sheet.encoding == "iso-8859-15"
    assert [row for _n, row in sheet.rows()] == [["Œuvres € Cœur", "Nancy"]]


def test_empty_file_fails_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(CommandError, match="empty"):
        _import(path)
    header_only = _write(tmp_path / "header.csv", [HEADER])
    with pytest.raises(CommandError, match="no data rows"):
        _import(header_only)


def test_shifted_columns_are_detected(tmp_path: Path) -> None:
    rows = _generated(20)
    for row in rows[1:]:
        row[4], row[5] = row[5], row[4]  # emails in the phone column and back
    with pytest.raises(CommandError, match="shifted") as error:
        _import(_write(tmp_path / "shifted.csv", rows))
    assert '"Tél" holds email values in 20 of 20 rows' in str(error.value)
    assert Party.objects.count() == 0


def test_a_row_with_extra_cells_is_reported_shifted(tmp_path: Path) -> None:
    rows = _generated(5)
    rows[3] = [*rows[3][:6], "12", "rue de la Paix", "75002", "Paris"]  # "12, rue" split in two
    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path / "extra.csv", rows))
    report = _report(error.value)
    assert report[1][0] == "4"
    assert "shifted" in report[1][3]


def test_formula_cells_are_neutralised_in_the_report(tmp_path: Path) -> None:
    rows = [HEADER, ["=1+2", "123", "", "", "", "", "", "", ""]]
    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path / "formula.csv", rows))
    report = _report(error.value)
    assert ["2", "Raison sociale", "'=1+2"] in [r[:3] for r in report]
    assert all(not cell.startswith(("=", "+", "@")) for r in report for cell in r)


def test_rows_already_in_the_base_are_not_created_twice(tmp_path: Path) -> None:
    _import(SALON)
    assert Party.objects.count() == 9
    _import(SALON)
    assert Party.objects.count() == 9


def test_saved_mapping_is_used_by_name(tmp_path: Path, assistant: Any) -> None:
    rows = [["Boîte", "Mail du contact", "Nom de famille"], ["Acme", "a@acme.fr", "Durand"]]
    save_import_mapping(
        name="crm-export",
        columns={
            "Boîte": "organisation",
            "Mail du contact": "email",
            "Nom de famille": "last_name",
        },
        by=assistant,
    )
    _import(_write(tmp_path / "crm.csv", rows), "--mapping", "crm-export")
    assert Contact.objects.get().email == "a@acme.fr"
    assert ImportMapping.objects.get().created_by == assistant
    with pytest.raises(CommandError, match="No saved mapping"):
        _import(tmp_path / "crm.csv", "--mapping", "nope")


def test_mapping_is_suggested_from_french_and_english_headers() -> None:
    header = [
        "Société",
        "Prénom",
        "Last name",
        "Courriel",
        "Tél.",
        "GSM",
        "Code postal",
        "City",
        "Fonction",
        "N° SIRET",
        "TVA intracom",
        "Pays",
    ]
    assert importing.suggest_mapping(header) == [
        "organisation",
        "first_name",
        "last_name",
        "email",
        "phone",
        "mobile",
        "postcode",
        "town",
        "job_title",
        "siret",
        "vat_number",
        "country",
    ]
    assert importing.check_mapping(["email", "email"]) != []


def test_a_colleague_row_brings_the_address_the_first_row_lacked(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["Cave Moreau", "493877625", "Lucie", "Moreau", "lucie@cave-moreau.fr", "", "", "", ""],
        [
            "Cave Moreau",
            "493877625",
            "Paul",
            "Roux",
            "paul@cave-moreau.fr",
            "",
            "10 rue de la Paix",
            "13001",
            "Marseille",
        ],
    ]
    _import(_write(tmp_path / "two.csv", rows))
    party = Party.objects.get()
    assert party.contacts.count() == 2
    assert (party.postcode, party.city) == ("13001", "Marseille")
    assert Address.objects.get(party=party).line1 == "10 rue de la Paix"
