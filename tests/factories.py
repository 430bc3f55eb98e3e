"""factory_boy factories that build state through the real actions (one section per app)."""

from __future__ import annotations

from typing import Any

import factory
from stdnum import luhn

from comptoir.parties import actions as party_actions
from comptoir.parties.models import Address, AddressKind, Contact, Party

# -- parties ------------------------------------------------------------------------------


def valid_siren(n: int) -> str:
    """Return the n-th valid SIREN (8 digits from n, then the Luhn check digit)."""
    body = f"{(n * 7919) % 10**8:08d}"
    return body + luhn.calc_check_digit(body)


def valid_siret(siren: str, establishment: int = 1) -> str:
    """Return a valid SIRET of this SIREN: NIC of 4 digits then the Luhn check digit."""
    body = siren + f"{establishment:04d}"
    return body + luhn.calc_check_digit(body)


class PartyFactory(factory.Factory):
    """A customer organisation, created with `create_party` (pass `by=` to choose the author)."""

    class Meta:
        model = Party

    name = factory.Sequence(lambda n: f"Société {n} Distribution")
    is_customer = True
    siren = factory.Sequence(lambda n: valid_siren(n + 1))

    @classmethod
    def _create(cls, model_class: type[Party], *args: Any, **kwargs: Any) -> Party:
        by = kwargs.pop("by", None)
        return party_actions.create_party(by=by, **kwargs)


class ContactFactory(factory.Factory):
    class Meta:
        model = Contact

    party = factory.SubFactory(PartyFactory)
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    first_name = "Claire"
    email = factory.Sequence(lambda n: f"claire.martin{n}@example.com")

    @classmethod
    def _create(cls, model_class: type[Contact], *args: Any, **kwargs: Any) -> Contact:
        by = kwargs.pop("by", None)
        party = kwargs.pop("party")
        return party_actions.add_contact(party, by=by, **kwargs)


class AddressFactory(factory.Factory):
    class Meta:
        model = Address

    party = factory.SubFactory(PartyFactory)
    kind = AddressKind.BILLING
    line1 = factory.Sequence(lambda n: f"{n + 1} rue de la République")
    postcode = "69002"
    city = "Lyon"

    @classmethod
    def _create(cls, model_class: type[Address], *args: Any, **kwargs: Any) -> Address:
        by = kwargs.pop("by", None)
        party = kwargs.pop("party")
        return party_actions.add_address(party, by=by, **kwargs)
