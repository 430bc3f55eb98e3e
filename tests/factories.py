"""factory_boy factories that build state through the real actions (one section per app)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory
from stdnum import luhn

from comptoir.catalogue import actions as catalogue_actions
from comptoir.catalogue.models import PriceList, PriceRule, Product, ProductFamily, VatRate
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

    by = None
    name = factory.Sequence(lambda n: f"Société {n} Distribution")
    is_customer = True
    siren = factory.Sequence(lambda n: valid_siren(n + 1))

    @classmethod
    def _create(cls, model_class: type[Party], *args: Any, **kwargs: Any) -> Party:
        by = kwargs.pop("by", None)
        return party_actions.create_party(by=by, **kwargs)


class ContactFactory(factory.Factory):
    """Made with the parties actions; `by=` is the author, and the new party's too."""

    class Meta:
        model = Contact

    by = None
    party = factory.SubFactory(PartyFactory, by=factory.SelfAttribute("..by"))
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    first_name = "Claire"
    email = factory.Sequence(lambda n: f"claire.martin{n}@example.com")

    @classmethod
    def _create(cls, model_class: type[Contact], *args: Any, **kwargs: Any) -> Contact:
        by = kwargs.pop("by", None)
        party = kwargs.pop("party")
        return party_actions.add_contact(party, by=by, **kwargs)


class AddressFactory(factory.Factory):
    """Made with the parties actions; `by=` is the author, and the new party's too."""

    class Meta:
        model = Address

    by = None
    party = factory.SubFactory(PartyFactory, by=factory.SelfAttribute("..by"))
    kind = AddressKind.BILLING
    line1 = factory.Sequence(lambda n: f"{n + 1} rue de la République")
    postcode = "69002"
    city = "Lyon"

    @classmethod
    def _create(cls, model_class: type[Address], *args: Any, **kwargs: Any) -> Address:
        by = kwargs.pop("by", None)
        party = kwargs.pop("party")
        return party_actions.add_address(party, by=by, **kwargs)


# -- catalogue ----------------------------------------------------------------------------


def vat_rate(code: str = "tva-20") -> VatRate:
    """Return a VAT rate seeded by the catalogue's data migration (tva-20, tva-5-5, …)."""
    return VatRate.objects.get(code=code)


class ProductFamilyFactory(factory.Factory):
    class Meta:
        model = ProductFamily

    code = factory.Sequence(lambda n: f"family-{n}")
    name = factory.Sequence(lambda n: f"Famille {n}")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        by = kwargs.pop("by", None)
        return catalogue_actions.create_product_family(by=by, **kwargs)


class ProductFactory(factory.Factory):
    """A product at 10 € excl. VAT and 20 % VAT, created with `create_product`."""

    class Meta:
        model = Product

    reference = factory.Sequence(lambda n: f"REF-{n:05d}")
    label = factory.Sequence(lambda n: f"Ramette papier A4 n°{n}")
    sale_price = factory.LazyFunction(lambda: Decimal("10.0000"))
    purchase_cost = factory.LazyFunction(lambda: Decimal("6.0000"))
    vat_rate = factory.LazyFunction(vat_rate)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        by = kwargs.pop("by", None)
        return catalogue_actions.create_product(by=by, **kwargs)


class PriceListFactory(factory.Factory):
    """A general price list valid forever, created with `create_price_list`."""

    class Meta:
        model = PriceList

    code = factory.Sequence(lambda n: f"list-{n}")
    name = factory.Sequence(lambda n: f"Tarif {n}")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        by = kwargs.pop("by", None)
        return catalogue_actions.create_price_list(by=by, **kwargs)


class PriceRuleFactory(factory.Factory):
    """A 10 % discount on every product of a new general list, added with `add_price_rule`."""

    class Meta:
        model = PriceRule

    price_list = factory.SubFactory(PriceListFactory)
    method = "percentage"
    value = factory.LazyFunction(lambda: Decimal("10"))

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        by = kwargs.pop("by", None)
        price_list = kwargs.pop("price_list")
        return catalogue_actions.add_price_rule(price_list, by=by, **kwargs)
