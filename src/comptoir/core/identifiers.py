"""Check and normalise French and European identifiers, phones and emails.

Each ``validate_*`` raises ``ValidationError`` with a message precise enough to show next to
the field; each ``normalise_*`` returns the canonical stored form (or raises the same error).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors
from schwifty.exceptions import SchwiftyException
from stdnum import luhn
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.fr import siret as fr_siret

_SPACES = re.compile(r"[\s.\-]")
# La Poste's establishments share SIREN 356000000 and break the SIRET Luhn rule; INSEE checks
# them by "sum of digits is a multiple of 5" instead.
LA_POSTE_SIREN = "356000000"


def _compact(value: str) -> str:
    return _SPACES.sub("", value or "").upper()


def normalise_siren(value: str) -> str:
    number = _compact(value)
    if not number.isdigit():
        raise ValidationError(_("A SIREN has only digits."), code="siren_format")
    if len(number) != 9:
        raise ValidationError(
            _("A SIREN has 9 digits; this one has %(count)d.") % {"count": len(number)},
            code="siren_length",
        )
    if not luhn.is_valid(number):
        raise ValidationError(
            _("This SIREN fails its check digit (Luhn): check for a typo."), code="siren_checksum"
        )
    return number


def normalise_siret(value: str) -> str:
    number = _compact(value)
    if not number.isdigit():
        raise ValidationError(_("A SIRET has only digits."), code="siret_format")
    if len(number) != 14:
        raise ValidationError(
            _("A SIRET has 14 digits (SIREN + 5-digit NIC); this one has %(count)d.")
            % {"count": len(number)},
            code="siret_length",
        )
    try:
        normalise_siren(number[:9])
    except ValidationError as exc:
        raise ValidationError(
            _("The first 9 digits of this SIRET are not a valid SIREN."), code="siret_siren"
        ) from exc
    if number.startswith(LA_POSTE_SIREN):
        valid = sum(int(d) for d in number) % 5 == 0
    else:
        valid = luhn.is_valid(number)
    if not valid:
        raise ValidationError(
            _("This SIRET fails its check digit (Luhn): check for a typo."), code="siret_checksum"
        )
    return number


def siret_is_valid(value: str) -> bool:
    """Tell whether the value is a valid SIRET (stdnum also knows the La Poste rule)."""
    return bool(fr_siret.is_valid(value))


def normalise_vat_number(value: str) -> str:
    number = _compact(value)
    if len(number) < 4 or not number[:2].isalpha():
        raise ValidationError(
            _("An intra-EU VAT number starts with a two-letter country code, e.g. FR."),
            code="vat_format",
        )
    try:
        number = eu_vat.validate(number)
    except InvalidChecksum as exc:
        if number.startswith("FR"):
            raise ValidationError(
                _("The key of this French VAT number does not match its SIREN."),
                code="vat_key",
            ) from exc
        raise ValidationError(
            _("This VAT number fails its check digits."), code="vat_checksum"
        ) from exc
    except InvalidComponent as exc:
        raise ValidationError(
            _("Unknown country code %(code)s for an intra-EU VAT number.") % {"code": number[:2]},
            code="vat_country",
        ) from exc
    except (InvalidLength, InvalidFormat) as exc:
        raise ValidationError(
            _("This VAT number does not have the format of %(code)s numbers.")
            % {"code": number[:2]},
            code="vat_format",
        ) from exc
    if number.startswith("FR"):
        # stdnum accepts the old alphabetic keys; the SIREN part must itself be valid.
        normalise_siren(number[4:])
    return str(number)


def vat_siren(vat_number: str) -> str | None:
    """Return the SIREN inside a French VAT number, else None."""
    number = _compact(vat_number)
    return number[4:] if number.startswith("FR") and len(number) == 13 else None


def french_vat_number_for(siren: str) -> str:
    """Return the French intra-EU VAT number of a SIREN (key = (12 + 3 × (SIREN mod 97)) mod 97)."""
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def normalise_naf(value: str) -> str:
    code = _compact(value)
    if not re.fullmatch(r"\d{4}[A-Z]", code):
        raise ValidationError(_("A NAF/APE code looks like 4669A."), code="naf_format")
    return code


# Why schwifty refused an IBAN or a BIC, in the user's words (its own messages are English).
IBAN_REASONS: dict[type[Exception], Any] = {
    schwifty_errors.InvalidChecksumDigits: gettext_lazy(
        "its check digits (3rd and 4th characters) do not match: a character was mistyped"
    ),
    schwifty_errors.InvalidLength: gettext_lazy("it is too long or too short for its country"),
    schwifty_errors.InvalidCountryCode: gettext_lazy(
        "it must start with a country code (FR for France)"
    ),
    schwifty_errors.InvalidStructure: gettext_lazy(
        "letters or digits are not where its country expects them"
    ),
    schwifty_errors.InvalidBBANChecksum: gettext_lazy("its account key (clé RIB) is wrong"),
    schwifty_errors.NationalChecksumNotVerified: gettext_lazy("its account key (clé RIB) is wrong"),
    schwifty_errors.InvalidBankCode: gettext_lazy("its bank code is not valid"),
    schwifty_errors.InvalidBranchCode: gettext_lazy("its branch code is not valid"),
    schwifty_errors.InvalidAccountCode: gettext_lazy("its account number is not valid"),
}
BIC_REASONS: dict[type[Exception], Any] = {
    schwifty_errors.InvalidLength: gettext_lazy("a BIC has 8 or 11 characters"),
    schwifty_errors.InvalidStructure: gettext_lazy(
        "a BIC is 4 letters (the bank), 2 letters (the country), 2 letters or digits (the "
        "place) and, for a branch, 3 more"
    ),
    schwifty_errors.InvalidCountryCode: gettext_lazy(
        "its 5th and 6th letters are not a country code (FR for France)"
    ),
    schwifty_errors.InvalidBankCode: gettext_lazy("its bank code is not valid"),
}


def _reason(exc: SchwiftyException, reasons: Mapping[type[Exception], Any]) -> str:
    for kind in type(exc).__mro__:
        if kind in reasons:
            return str(reasons[kind])
    return str(_("it is not valid"))


def normalise_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise ValidationError(
            _("Invalid IBAN: %(reason)s") % {"reason": _reason(exc, IBAN_REASONS)}, code="iban"
        ) from exc


def normalise_bic(value: str) -> str:
    try:
        return str(BIC(value).compact)
    except SchwiftyException as exc:
        raise ValidationError(
            _("Invalid BIC: %(reason)s") % {"reason": _reason(exc, BIC_REASONS)}, code="bic"
        ) from exc


def normalise_phone(value: str, region: str = "FR") -> str:
    """Return the phone number in E.164 (+33612345678)."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("This does not look like a phone number."), code="phone_format"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            _("This phone number is not valid for its country (%(region)s).")
            % {"region": phonenumbers.region_code_for_number(parsed) or region},
            code="phone_invalid",
        )
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


@functools.lru_cache(maxsize=1024)
def display_phone(e164: str) -> str:
    """Show a stored phone French style: 01 23 45 67 89 at home, +44 20 … abroad."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, "FR")
    except phonenumbers.NumberParseException:
        return e164
    if parsed.country_code == 33:
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL))
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))


def normalise_email(value: str) -> str:
    """Check an email's syntax (no DNS lookup) and return it with the domain lower-cased."""
    try:
        info = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(
            _("Invalid email: %(reason)s") % {"reason": exc}, code="email"
        ) from exc
    return str(info.normalized)


def validate_siren(value: str) -> None:
    if value:
        normalise_siren(value)


def validate_siret(value: str) -> None:
    if value:
        normalise_siret(value)


def validate_vat_number(value: str) -> None:
    if value:
        normalise_vat_number(value)


def validate_naf(value: str) -> None:
    if value:
        normalise_naf(value)


def validate_iban(value: str) -> None:
    if value:
        normalise_iban(value)


def validate_bic(value: str) -> None:
    if value:
        normalise_bic(value)


def validate_phone(value: str) -> None:
    if value:
        normalise_phone(value)


def validate_email_address(value: str) -> None:
    if value:
        normalise_email(value)
