"""Parties actions: normalisation, cross-field rules, nothing half-saved, audit written."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from comptoir.core.models import AuditEntry, User
from comptoir.parties import actions
from comptoir.parties.models import Address, AddressKind, Contact, Party, Tag, Territory
from tests.factories import AddressFactory, ContactFactory, PartyFactory, valid_siren, valid_siret

pytestmark = pytest.mark.django_db

# Real, valid identifiers (Danone SA and its head office).
SIREN = "552032534"
SIRET = "55203253400646"
VAT = "FR27552032534"


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def audit_of(party: Party, action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action, object_id=str(party.pk))


class TestCreateParty:
    def test_normalises_identifiers_phone_and_email(self, assistant: User) -> None:
        party = actions.create_party(
            by=assistant,
            name="  Danone  ",
            is_customer=True,
            siret="552 032 534 00646",
            vat_number="fr 27 552032534",
            naf_code="10.51a",
            phone="01 23 45 67 89",
            mobile="06.12.34.56.78",
            email="Achats@DANONE.FR",
        )
        party.refresh_from_db()
        assert party.name == "Danone"
        assert party.siret == SIRET
        assert party.siren == SIREN  # filled from the SIRET
        assert party.vat_number == VAT
        assert party.naf_code == "1051A"
        assert party.phone == "+33123456789"
        assert party.mobile == "+33612345678"
        assert party.email == "Achats@danone.fr"
        assert party.name_key == "DANONE"
        assert party.created_by == assistant
        assert party.updated_by == assistant

    def test_foreign_phone_uses_the_party_country(self, assistant: User) -> None:
        party = actions.create_party(
            by=assistant,
            name="Brussels Trade",
            is_supplier=True,
            country="be",
            phone="02 555 12 12",
        )
        assert party.country == "BE"
        assert party.phone == "+3225551212"

    def test_siren_is_filled_from_a_french_vat_number(self, assistant: User) -> None:
        party = actions.create_party(by=assistant, name="Danone", is_customer=True, vat_number=VAT)
        assert party.siren == SIREN

    def test_name_key_ignores_legal_form_and_accents(self, assistant: User) -> None:
        party = actions.create_party(
            by=assistant, name="S.A.R.L. Électricité Dupont", is_prospect=True
        )
        assert party.name_key == "ELECTRICITE DUPONT"

    def test_person_gets_name_from_last_and_first_name(self, assistant: User) -> None:
        party = actions.create_party(
            by=assistant, kind="person", last_name="Durand", first_name="Léa", is_customer=True
        )
        assert party.name == "DURAND Léa"

    def test_person_needs_a_last_name(self, assistant: User) -> None:
        with pytest.raises(ValidationError) as exc:
            actions.create_party(by=assistant, kind="person", first_name="Léa", is_customer=True)
        assert "last_name" in errors_of(exc)

    def test_siret_must_start_with_the_siren(self, assistant: User) -> None:
        other = valid_siret(valid_siren(42))
        with pytest.raises(ValidationError) as exc:
            actions.create_party(
                by=assistant, name="Mismatch", is_customer=True, siren=SIREN, siret=other
            )
        assert list(errors_of(exc)) == ["siret"]
        assert SIREN in errors_of(exc)["siret"][0]

    def test_wrong_siret_check_digit_is_named(self, assistant: User) -> None:
        with pytest.raises(ValidationError) as exc:
            actions.create_party(by=assistant, name="X", is_customer=True, siret="55203253400647")
        assert "Luhn" in errors_of(exc)["siret"][0]

    def test_french_vat_must_match_the_siren(self, assistant: User) -> None:
        other_siren = valid_siren(7)
        with pytest.raises(ValidationError) as exc:
            actions.create_party(
                by=assistant, name="X", is_customer=True, siren=other_siren, vat_number=VAT
            )
        assert list(errors_of(exc)) == ["vat_number"]

    @pytest.mark.parametrize(
        ("days", "base", "ok"),
        [
            (60, "net", True),
            (61, "net", False),
            (45, "end_of_month", True),
            (46, "end_of_month", False),
        ],
    )
    def test_payment_terms_follow_l441_10(
        self, assistant: User, days: int, base: str, ok: bool
    ) -> None:
        values: dict[str, Any] = {"payment_terms_days": days, "payment_terms_base": base}
        if ok:
            party = actions.create_party(by=assistant, name="Terms", is_customer=True, **values)
            assert party.payment_terms_days == days
        else:
            with pytest.raises(ValidationError) as exc:
                actions.create_party(by=assistant, name="Terms", is_customer=True, **values)
            assert "L441-10" in errors_of(exc)["payment_terms_days"][0]

    def test_needs_at_least_one_role(self, assistant: User) -> None:
        with pytest.raises(ValidationError) as exc:
            actions.create_party(by=assistant, name="Nobody")
        assert "is_customer" in errors_of(exc)

    def test_every_error_is_reported_at_once_and_nothing_is_saved(self, assistant: User) -> None:
        with pytest.raises(ValidationError) as exc:
            actions.create_party(
                by=assistant,
                name="Broken",
                siret="123",
                email="not-an-email",
                phone="12",
                payment_terms_days=90,
                billing_address={"line1": "", "postcode": "750", "city": "Paris"},
            )
        assert set(errors_of(exc)) >= {
            "siret",
            "email",
            "phone",
            "payment_terms_days",
            "is_customer",
            "billing_address.postcode",
            "billing_address.line1",
        }
        assert not Party.objects.exists()
        assert not Address.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_duplicate_siret_is_refused_on_the_field(self, assistant: User) -> None:
        actions.create_party(by=assistant, name="Danone", is_customer=True, siret=SIRET)
        with pytest.raises(ValidationError) as exc:
            actions.create_party(by=assistant, name="Danone bis", is_customer=True, siret=SIRET)
        assert "Danone" in errors_of(exc)["siret"][0]
        assert Party.objects.count() == 1

    def test_database_refuses_a_duplicate_siret_behind_the_action(self, assistant: User) -> None:
        actions.create_party(by=assistant, name="Danone", is_customer=True, siret=SIRET)
        with pytest.raises(IntegrityError), transaction.atomic():
            Party.objects.create(name="Raw", siret=SIRET)

    def test_audit_names_the_values(self, assistant: User) -> None:
        party = actions.create_party(by=assistant, name="Danone", is_customer=True, siret=SIRET)
        entry = audit_of(party, "create_party")
        assert entry.actor == assistant
        assert entry.changes["siret"] == SIRET
        assert entry.changes["name"] == "Danone"

    def test_sales_rep_creating_gets_the_party(self, rep: User, other_rep: User) -> None:
        party = actions.create_party(by=rep, name="Mine", is_prospect=True)
        assert party.sales_rep == rep
        # Naming another rep is refused, not silently replaced.
        with pytest.raises(ValidationError):
            actions.create_party(by=rep, name="His", is_prospect=True, sales_rep=other_rep)

    def test_territory_gives_its_rep(self, assistant: User, rep: User) -> None:
        territory = Territory.objects.create(code="idf", name="Île-de-France", sales_rep=rep)
        party = actions.create_party(
            by=assistant, name="Paris Co", is_customer=True, territory=territory
        )
        assert party.sales_rep == rep

    def test_billing_address_feeds_the_party_city(self, assistant: User) -> None:
        party = actions.create_party(
            by=assistant,
            name="Lyon Co",
            is_customer=True,
            billing_address={"line1": "1 place Bellecour", "postcode": "69002", "city": "Lyon"},
        )
        assert (party.postcode, party.city, party.country) == ("69002", "Lyon", "FR")
        address = party.addresses.get()
        assert address.is_default and address.kind == AddressKind.BILLING

    def test_tags_are_created_once_case_insensitively(self, assistant: User) -> None:
        Tag.objects.create(name="Salon 2026")
        party = actions.create_party(
            by=assistant, name="Tagged", is_customer=True, tags=["salon 2026", " VIP ", "vip"]
        )
        assert sorted(t.name for t in party.tags.all()) == ["Salon 2026", "VIP"]
        assert Tag.objects.count() == 2


class TestUpdateParty:
    def test_records_only_changed_fields(self, assistant: User, manager: User) -> None:
        party = PartyFactory(by=assistant, name="Old name")
        actions.update_party(party, by=manager, name="New name", email="", is_customer=True)
        entry = audit_of(party, "update_party")
        assert entry.actor == manager
        assert entry.changes == {"name": ["Old name", "New name"]}
        party.refresh_from_db()
        assert party.name_key == "NEW NAME"
        assert party.updated_by == manager

    def test_no_change_writes_no_audit(self, assistant: User) -> None:
        party = PartyFactory(by=assistant, name="Same")
        actions.update_party(party, by=assistant, name="Same")
        assert not AuditEntry.objects.filter(action="update_party").exists()

    def test_partial_update_is_checked_against_the_stored_siren(self, assistant: User) -> None:
        party = PartyFactory(by=assistant, siren=SIREN)
        with pytest.raises(ValidationError) as exc:
            actions.update_party(party, by=assistant, siret=valid_siret(valid_siren(3)))
        assert "siret" in errors_of(exc)

    def test_failed_update_leaves_object_and_row_untouched(self, assistant: User) -> None:
        party = PartyFactory(by=assistant, name="Kept", email="kept@example.com")
        with pytest.raises(ValidationError):
            actions.update_party(
                party, by=assistant, name="Changed", email="bad", payment_terms_days=75
            )
        assert party.name == "Kept"
        assert party.email == "kept@example.com"
        party.refresh_from_db()
        assert party.name == "Kept"
        assert party.payment_terms_days is None

    def test_removing_every_role_is_refused(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        with pytest.raises(ValidationError) as exc:
            actions.update_party(party, by=assistant, is_customer=False)
        assert "is_customer" in errors_of(exc)

    def test_rep_cannot_hand_a_party_over(self, rep: User, other_rep: User) -> None:
        party = PartyFactory(by=rep)
        with pytest.raises(ValidationError) as exc:
            actions.update_party(party, by=rep, sales_rep=other_rep)
        assert "sales_rep" in errors_of(exc)
        party.refresh_from_db()
        assert party.sales_rep == rep

    def test_city_comes_from_the_billing_address(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        AddressFactory(party=party, by=assistant, postcode="69002", city="Lyon")
        with pytest.raises(ValidationError) as exc:
            actions.update_party(party, by=assistant, city="Paris")
        assert "city" in errors_of(exc)

    def test_tags_change_is_audited(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        actions.set_party_tags(party, by=assistant, tags=["A", "B"])
        actions.update_party(party, by=assistant, tags=["B"])
        entries = AuditEntry.objects.filter(object_id=str(party.pk)).order_by("pk")
        assert entries[1].changes == {"tags": [[], ["A", "B"]]}
        assert entries[2].changes == {"tags": [["A", "B"], ["B"]]}

    def test_archive_and_restore(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        actions.archive_party(party, by=assistant)
        party.refresh_from_db()
        assert not party.is_active
        actions.archive_party(party, by=assistant)  # twice: one entry only
        actions.restore_party(party, by=assistant)
        party.refresh_from_db()
        assert party.is_active
        assert list(
            AuditEntry.objects.filter(object_id=str(party.pk))
            .exclude(action="create_party")
            .order_by("pk")
            .values_list("action", flat=True)
        ) == ["archive_party", "restore_party"]


class TestContacts:
    def test_normalises_and_first_contact_is_primary(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        contact = actions.add_contact(
            party,
            by=assistant,
            last_name="Martin",
            first_name="Claire",
            email="Claire@Example.COM",
            phone="01 40 00 00 00",
            functions=["purchasing", "billing", "billing"],
        )
        assert contact.email == "Claire@example.com"
        assert contact.phone == "+33140000000"
        assert contact.functions == ["billing", "purchasing"]
        assert contact.is_primary
        entry = audit_of(party, "add_contact")
        assert entry.changes["contact"] == contact.pk

    def test_one_primary_contact_at_most(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        first = ContactFactory(party=party, by=assistant)
        second = ContactFactory(party=party, by=assistant)
        assert not second.is_primary
        actions.update_contact(second, by=assistant, is_primary=True)
        first.refresh_from_db()
        assert not first.is_primary
        assert party.contacts.filter(is_primary=True).get() == second

    def test_unknown_function_and_bad_phone_are_refused(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        with pytest.raises(ValidationError) as exc:
            actions.add_contact(party, by=assistant, last_name="X", functions=["boss"], phone="1")
        assert set(errors_of(exc)) == {"functions", "phone"}
        assert not Contact.objects.exists()

    def test_contact_needs_a_last_name(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        with pytest.raises(ValidationError) as exc:
            actions.add_contact(party, by=assistant, first_name="Claire")
        assert "last_name" in errors_of(exc)

    def test_update_and_remove_are_audited_on_the_party(self, assistant: User) -> None:
        contact = ContactFactory(by=assistant, job_title="Buyer")
        actions.update_contact(contact, by=assistant, job_title="Head buyer")
        actions.remove_contact(contact, by=assistant)
        assert not Contact.objects.exists()
        party = contact.party
        assert audit_of(party, "update_contact").changes["job_title"] == ["Buyer", "Head buyer"]
        assert audit_of(party, "remove_contact").changes["name"] == str(contact)


class TestAddresses:
    def test_first_address_of_a_kind_is_the_default(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        billing = AddressFactory(party=party, by=assistant, postcode="75002", city="Paris")
        delivery = AddressFactory(party=party, by=assistant, kind=AddressKind.DELIVERY)
        second = AddressFactory(party=party, by=assistant, postcode="13001", city="Marseille")
        assert billing.is_default and delivery.is_default and not second.is_default
        party.refresh_from_db()
        assert (party.postcode, party.city) == ("75002", "Paris")

    def test_new_default_replaces_the_old_and_moves_the_city(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        old = AddressFactory(party=party, by=assistant, postcode="75002", city="Paris")
        new = AddressFactory(
            party=party, by=assistant, postcode="13001", city="Marseille", is_default=True
        )
        old.refresh_from_db()
        assert new.is_default and not old.is_default
        party.refresh_from_db()
        assert party.city == "Marseille"

    def test_unticking_the_default_promotes_another(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        first = AddressFactory(party=party, by=assistant, postcode="75002", city="Paris")
        second = AddressFactory(party=party, by=assistant, postcode="13001", city="Marseille")
        actions.update_address(first, by=assistant, is_default=False)
        second.refresh_from_db()
        assert second.is_default and not first.is_default
        party.refresh_from_db()
        assert party.city == "Marseille"

    def test_the_only_address_stays_default(self, assistant: User) -> None:
        address = AddressFactory(by=assistant)
        actions.update_address(address, by=assistant, is_default=False)
        address.refresh_from_db()
        assert address.is_default

    def test_changing_kind_keeps_one_default_on_each_side(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        billing = AddressFactory(party=party, by=assistant, postcode="75002", city="Paris")
        other_billing = AddressFactory(party=party, by=assistant, postcode="69002", city="Lyon")
        delivery = AddressFactory(party=party, by=assistant, kind=AddressKind.DELIVERY)
        actions.update_address(billing, by=assistant, kind=AddressKind.DELIVERY)
        defaults = set(party.addresses.filter(is_default=True).values_list("pk", flat=True))
        assert defaults == {other_billing.pk, delivery.pk}
        party.refresh_from_db()
        assert party.city == "Lyon"

    def test_removing_the_default_promotes_the_next(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        first = AddressFactory(party=party, by=assistant, postcode="75002", city="Paris")
        second = AddressFactory(party=party, by=assistant, postcode="69002", city="Lyon")
        first_pk = first.pk
        actions.remove_address(first, by=assistant)
        second.refresh_from_db()
        assert second.is_default
        party.refresh_from_db()
        assert party.city == "Lyon"
        assert audit_of(party, "remove_address").changes["address"] == first_pk

    def test_french_postcode_has_five_digits(self, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        with pytest.raises(ValidationError) as exc:
            actions.add_address(party, by=assistant, line1="1 rue", postcode="7500", city="Paris")
        assert "postcode" in errors_of(exc)
        actions.add_address(
            party, by=assistant, line1="1 Main St", postcode="SW1A 1AA", city="London", country="GB"
        )

    def test_database_refuses_two_defaults_of_a_kind(self, assistant: User) -> None:
        address = AddressFactory(by=assistant)
        with pytest.raises(IntegrityError), transaction.atomic():
            Address.objects.create(
                party=address.party, line1="x", postcode="75001", city="Paris", is_default=True
            )


def test_unknown_field_is_a_programming_error(assistant: User) -> None:
    with pytest.raises(TypeError):
        actions.create_party(by=assistant, name="X", is_customer=True, colour="blue")
