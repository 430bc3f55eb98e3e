"""Property tests of core.identifiers: SIREN, SIRET (La Poste too), French VAT keys, phones."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from comptoir.core import identifiers

settings.register_profile("identifiers", max_examples=150, deadline=None)
PROFILE = settings.get_profile("identifiers")

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def with_check_digit(body: str) -> str:
    return body + luhn.calc_check_digit(body)


sirens = st.text(alphabet="0123456789", min_size=8, max_size=8).map(with_check_digit)
nics = st.text(alphabet="0123456789", min_size=4, max_size=4)


@st.composite
def sirets(draw: st.DrawFn) -> str:
    siren = draw(sirens)
    assume(siren != identifiers.LA_POSTE_SIREN)
    return with_check_digit(siren + draw(nics))


def spaced(number: str, sizes: tuple[int, ...]) -> str:
    parts, start = [], 0
    for size in sizes:
        parts.append(number[start : start + size])
        start += size
    return " ".join(parts)


def change_one_digit(number: str, position: int, new_digit: str) -> str:
    return number[:position] + new_digit + number[position + 1 :]


# -- SIREN --------------------------------------------------------------------------------


@PROFILE
@given(sirens)
@example("552032534")
def test_valid_siren_passes_and_round_trips(siren: str) -> None:
    assert identifiers.normalise_siren(siren) == siren
    assert identifiers.normalise_siren(spaced(siren, (3, 3, 3))) == siren
    assert identifiers.normalise_siren(identifiers.normalise_siren(siren)) == siren


@PROFILE
@given(sirens, st.integers(0, 8), digits)
def test_any_single_digit_change_breaks_a_siren(siren: str, position: int, digit: str) -> None:
    assume(siren[position] != digit)
    with pytest.raises(ValidationError) as exc:
        identifiers.normalise_siren(change_one_digit(siren, position, digit))
    assert exc.value.code == "siren_checksum"


@pytest.mark.parametrize(
    ("value", "code"), [("55203253", "siren_length"), ("55203253A", "siren_format")]
)
def test_siren_shape_errors(value: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        identifiers.normalise_siren(value)
    assert exc.value.code == code


# -- SIRET --------------------------------------------------------------------------------


@PROFILE
@given(sirets())
@example("55203253400646")
def test_valid_siret_passes_and_round_trips(siret: str) -> None:
    assert identifiers.normalise_siret(siret) == siret
    assert identifiers.normalise_siret(spaced(siret, (3, 3, 3, 5))) == siret
    assert identifiers.normalise_siret(siret.replace("", ".")[1:-1]) == siret
    assert identifiers.siret_is_valid(siret)


@PROFILE
@given(sirets(), st.integers(0, 13), digits)
def test_any_single_digit_change_breaks_a_siret(siret: str, position: int, digit: str) -> None:
    changed = change_one_digit(siret, position, digit)
    assume(siret[position] != digit and not changed.startswith(identifiers.LA_POSTE_SIREN))
    with pytest.raises(ValidationError):
        identifiers.normalise_siret(changed)


@PROFILE
@given(nics, digits)
def test_la_poste_sirets_use_the_sum_of_digits_rule(nic: str, last: str) -> None:
    siret = identifiers.LA_POSTE_SIREN + nic + last
    sum_rule = sum(int(d) for d in siret) % 5 == 0
    if sum_rule:
        assert identifiers.normalise_siret(siret) == siret
    else:
        with pytest.raises(ValidationError):
            identifiers.normalise_siret(siret)
    # stdnum knows the same rule: the two agree on every La Poste establishment.
    assert identifiers.siret_is_valid(siret) == sum_rule


def test_la_poste_siret_that_fails_luhn_is_still_valid() -> None:
    siret = "35600000012341"  # digit sum 25: a La Poste establishment, though Luhn refuses it
    assert not luhn.is_valid(siret)
    assert identifiers.normalise_siret(siret) == siret


# -- French VAT numbers -------------------------------------------------------------------


@PROFILE
@given(sirens)
@example("552032534")
def test_french_vat_key_matches_its_siren(siren: str) -> None:
    vat = identifiers.french_vat_number_for(siren)
    assert vat == f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"
    assert identifiers.normalise_vat_number(vat) == vat
    assert identifiers.normalise_vat_number(spaced(vat.lower(), (4, 3, 3, 3))) == vat
    assert identifiers.vat_siren(vat) == siren


@PROFILE
@given(sirens, st.integers(0, 99))
def test_any_other_key_is_refused(siren: str, key: int) -> None:
    right = identifiers.french_vat_number_for(siren)
    assume(int(right[2:4]) != key)
    with pytest.raises(ValidationError) as exc:
        identifiers.normalise_vat_number(f"FR{key:02d}{siren}")
    assert exc.value.code == "vat_key"


def test_vat_siren_is_none_for_foreign_numbers() -> None:
    assert identifiers.vat_siren("DE136695976") is None
    assert identifiers.normalise_vat_number("de 136 695 976") == "DE136695976"


# -- phones -------------------------------------------------------------------------------

# French numbers that are valid in every numbering block we draw from (checked by hand against
# phonenumbers' metadata: 01, 03, 09 in full, mobiles 06 except 063 and 069, 075 to 078).
french_prefixes = st.sampled_from(
    ["1", "3", "9", "60", "61", "62", "64", "65", "66", "67", "68", "75", "76", "77", "78"]
)


@st.composite
def french_numbers(draw: st.DrawFn) -> str:
    prefix = draw(french_prefixes)
    rest = draw(st.text(alphabet="0123456789", min_size=9 - len(prefix), max_size=9 - len(prefix)))
    return "0" + prefix + rest


@PROFILE
@given(french_numbers(), st.sampled_from(["plain", "spaces", "dots", "plus33", "0033"]))
def test_french_phones_become_e164_however_typed(national: str, style: str) -> None:
    significant = national[1:]
    typed = {
        "plain": national,
        "spaces": " ".join(national[i : i + 2] for i in range(0, 10, 2)),
        "dots": ".".join(national[i : i + 2] for i in range(0, 10, 2)),
        "plus33": "+33 " + significant,
        "0033": "0033" + significant,
    }[style]
    e164 = identifiers.normalise_phone(typed)
    assert e164 == "+33" + significant
    assert identifiers.normalise_phone(e164) == e164
    assert identifiers.display_phone(e164).replace(" ", "") == national
    assert identifiers.normalise_phone(identifiers.display_phone(e164)) == e164


@PROFILE
@given(st.text(alphabet="0123456789", min_size=1, max_size=6))
def test_short_numbers_are_refused(number: str) -> None:
    with pytest.raises(ValidationError):
        identifiers.normalise_phone(number)


def test_foreign_number_keeps_its_country() -> None:
    assert identifiers.normalise_phone("+44 20 7946 0018") == "+442079460018"
    assert identifiers.normalise_phone("030 1234567", region="DE") == "+49301234567"
    assert identifiers.display_phone("+442079460018") == "+44 20 7946 0018"


def test_email_is_checked_without_dns() -> None:
    # A domain that does not exist: only the syntax is checked, nothing is looked up.
    domain = "comptoir-no-such-domain-7f3a.fr"
    assert identifiers.normalise_email(f"Claire@{domain.upper()}") == f"Claire@{domain}"
    with pytest.raises(ValidationError):
        identifiers.normalise_email("claire@")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("FR7630006000011234567890188", "a character was mistyped"),
        ("FR76300060000112345678901", "too long or too short for its country"),
        ("XX7630006000011234567890189", "must start with a country code"),
        ("FR76 3000 6000 0112 3456 7890 1AB", "not where its country expects them"),
    ],
)
def test_a_refused_iban_says_why_in_the_users_words(value: str, reason: str) -> None:
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        identifiers.normalise_iban(value)
    assert exc.value.messages[0].startswith("Invalid IBAN: ")
    assert reason in exc.value.messages[0]
    with translation.override("fr"), pytest.raises(ValidationError) as exc:
        identifiers.normalise_iban(value)
    assert exc.value.messages[0].startswith("IBAN invalide")
    assert "Invalid" not in exc.value.messages[0] and reason not in exc.value.messages[0]
    assert identifiers.normalise_iban("FR76 3000 6000 0112 3456 7890 189") == (
        "FR7630006000011234567890189"
    )


def test_a_refused_bic_says_why_in_the_users_words() -> None:
    for value, reason in (("BNPAFRPP1", "8 or 11 characters"), ("BNPAXXPP", "country code")):
        with pytest.raises(ValidationError) as exc:
            identifiers.normalise_bic(value)
        assert reason in exc.value.messages[0]
    assert identifiers.normalise_bic("bnpa fr pp") == "BNPAFRPP"
