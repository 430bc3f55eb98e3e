"""Normalisation of the fields of a customer file."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from comptoir.customerfile import normalise


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("S.A.R.L. Boulangerie Dupont", "BOULANGERIE DUPONT"),
        ("Boulangerie DUPONT SARL", "BOULANGERIE DUPONT"),
        ("Sté Générale des Eaux", "GENERALE EAUX"),
        ("Dupont & Fils S.A.S.", "DUPONT FILS"),
        ("L'Atelier d'Émilie", "ATELIER EMILIE"),
        ("SCI", "SCI"),
        ("Œuvres sociales", "OEUVRES SOCIALES"),
    ],
)
def test_organisation_key_drops_legal_forms_accents_and_punctuation(raw: str, key: str) -> None:
    assert normalise.organisation_key(raw) == key


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["S.A.R.L. Boulangerie Dupont", "Dupont SAS", "Les Établissements Martin", "ACME"]
)
def test_organisation_key_agrees_with_the_party_name_key(name: str) -> None:
    from comptoir.parties.models import name_key

    assert normalise.organisation_key(name) == name_key(name)


def test_legal_form_is_normalised() -> None:
    assert normalise.legal_form("Boulangerie Dupont S.A.R.L.") == "SARL"
    assert normalise.legal_form("Dupont s.a.s.") == "SAS"
    assert normalise.legal_form("Boulangerie Dupont") == ""


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("06.12.34.56.78", "+33612345678"),
        ("06-12-34-56-78", "+33612345678"),
        ("0612345678", "+33612345678"),
        ("612345678", "+33612345678"),  # the spreadsheet ate the leading zero
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "+33612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("33612345678", "+33612345678"),
        ("01 43 55 67 89", "+33143556789"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+32 2 555 12 12", "+3225551212"),
        ("", ""),
        ("n/a", ""),
        ("0012", ""),
        ("00 12 34 56 78", ""),
    ],
)
def test_phone_to_e164(raw: str, e164: str) -> None:
    assert normalise.phone(raw) == e164


@given(st.integers(min_value=100_000_000, max_value=999_999_999), st.sampled_from([" ", ".", ""]))
def test_french_fast_path_agrees_with_phonenumbers(national: int, separator: str) -> None:
    digits = f"0{national}"
    written = separator.join(digits[i : i + 2] for i in range(0, 10, 2))
    parsed = phonenumbers.parse(digits, "FR")
    expected = (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if phonenumbers.is_valid_number(parsed)
        else ""
    )
    fast = normalise.phone(written)
    # The fast path accepts every well-formed French number; phonenumbers may refuse ranges
    # that are not allocated yet, which is no reason to stop comparing two rows.
    assert fast == f"+33{national}"
    if expected:
        assert fast == expected


def test_mobile_numbers() -> None:
    assert normalise.is_mobile("+33612345678")
    assert normalise.is_mobile("+33712345678")
    assert not normalise.is_mobile("+33143556789")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Jean.Dupont@Example.FR ", "jean.dupont@example.fr"),
        ("mailto:jean@example.fr", "jean@example.fr"),
        ("Jean Dupont <jean@example.fr>", "jean@example.fr"),
        ("jean@", ""),
        ("not an email", ""),
        ("", ""),
    ],
)
def test_email(raw: str, clean: str) -> None:
    assert normalise.email(raw) == clean


def test_generic_mailboxes_are_recognised() -> None:
    assert normalise.is_generic_mailbox("contact@acme.fr")
    assert normalise.is_generic_mailbox("compta@acme.fr")
    assert not normalise.is_generic_mailbox("jean.dupont@acme.fr")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("75011", "75011"),
        ("1000", "01000"),
        ("75 011", "75011"),
        ("F-75011", "75011"),
        ("75011.0", "75011"),
        ("750", ""),
        ("", ""),
    ],
)
def test_postcode(raw: str, clean: str) -> None:
    assert normalise.postcode(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("St-Étienne Cedex 2", "SAINT ETIENNE"),
        ("SAINT ETIENNE", "SAINT ETIENNE"),
        ("Ste-Foy-lès-Lyon", "SAINTE FOY LES LYON"),
        ("Paris 15e", "PARIS"),
        ("PARIS CEDEX 11", "PARIS"),
        ("Lyon 3e Arrondissement", "LYON"),
        ("L'Haÿ-les-Roses", "L HAY LES ROSES"),
    ],
)
def test_town(raw: str, clean: str) -> None:
    assert normalise.town(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("12 av. de la République", "12 AVENUE DE LA REPUBLIQUE"),
        ("12, AVENUE de la Republique", "12 AVENUE DE LA REPUBLIQUE"),
        ("5 bd Jules Ferry", "5 BOULEVARD JULES FERRY"),
        ("3 R. Pasteur", "3 RUE PASTEUR"),
        ("8 ch. des Lilas", "8 CHEMIN DES LILAS"),
        ("1 Imp. du Moulin", "1 IMPASSE DU MOULIN"),
        ("4 pl. de la Mairie", "4 PLACE DE LA MAIRIE"),
    ],
)
def test_street_abbreviations(raw: str, clean: str) -> None:
    assert normalise.street(raw) == clean


def test_person_names_drop_civility_accents_and_hyphens() -> None:
    assert normalise.person_name("M. Jean-Pierre") == "JEAN PIERRE"
    assert normalise.person_name("Mme Hélène") == "HELENE"
    assert normalise.person_name("MADAME") == ""
    assert normalise.person_name("LE GOFF") == "LE GOFF"


def test_siren_and_siret() -> None:
    assert normalise.siren("732 829 320") == "732829320"
    assert normalise.siren("732 829 320 00074") == "732829320"
    assert normalise.siren("7328") == ""
    assert normalise.siret("732 829 320 00074") == "73282932000074"
    assert normalise.siret("732829320") == ""


def test_normalise_column_computes_each_value_once() -> None:
    calls: list[str] = []

    def spy(value: str) -> str:
        calls.append(value)
        return value.upper()

    assert normalise.normalise_column(["a", "b", "a", "a"], spy) == ["A", "B", "A", "A"]
    assert calls == ["a", "b"]


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@given(_TEXT)
def test_keys_are_idempotent(value: str) -> None:
    for function in (
        normalise.organisation_key,
        normalise.person_name,
        normalise.town,
        normalise.street,
    ):
        once = function(value)
        assert function(once) == once


@given(_TEXT)
def test_postcode_is_five_digits_or_missing(value: str) -> None:
    code = normalise.postcode(value)
    assert code == "" or (len(code) == 5 and code.isdigit())


@given(_TEXT)
def test_phone_never_raises_and_is_e164_or_missing(value: str) -> None:
    number = normalise.phone(value)
    assert number == "" or (number.startswith("+") and number[1:].isdigit())


_LATIN_TEXT = st.text(alphabet=st.characters(max_codepoint=0x2FF, exclude_categories=("Cs",)))


@given(st.one_of(_TEXT, _LATIN_TEXT))
def test_word_table_cuts_as_the_unicode_path(value: str) -> None:
    # One byte table does accents, case and punctuation at once for Latin-1 text: the words
    # must be those of decomposing, upper-casing and cutting on anything but A-Z and 0-9.
    fast = normalise._latin_words(value)
    assert fast is None or fast == normalise._alnum_words(normalise.plain_upper(value))
    fast = normalise._latin_words(value, b".")
    slow = normalise._alnum_words(normalise.plain_upper(value).replace(".", ""))
    assert fast is None or fast == slow
