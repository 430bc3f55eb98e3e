"""Parties screens: list, exports, party page, forms with inline validation and duplicates."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from comptoir.core.models import AuditEntry, User
from comptoir.parties import actions
from comptoir.parties.models import Address, Contact, CustomerCategory, Party, Territory
from tests.factories import AddressFactory, ContactFactory, PartyFactory

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
LIST = "/parties/"


def rows_of(response: Any) -> list[str]:
    return [row["obj"].name for row in response.context["page"].rows]


class TestPartyList:
    def test_lists_sorted_by_name_with_roles_and_city(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        PartyFactory(by=assistant, name="Zèbre SARL", is_prospect=True, is_customer=False)
        party = PartyFactory(by=assistant, name="Abeille")
        AddressFactory(party=party, by=assistant, postcode="69002", city="Lyon")
        response = client_for(assistant).get(LIST)
        assert response.status_code == 200
        assert rows_of(response) == ["Abeille", "Zèbre SARL"]
        html = response.content.decode()
        assert "Lyon" in html and "69002" in html
        assert f'href="/parties/{party.pk}/"' in html

    def test_role_filter_search_and_sort(self, client_for: ClientFor, assistant: User) -> None:
        PartyFactory(by=assistant, name="Alpha client", email="alpha@example.com")
        PartyFactory(by=assistant, name="Beta fournisseur", is_customer=False, is_supplier=True)
        PartyFactory(by=assistant, name="Gamma prospect", is_customer=False, is_prospect=True)
        client = client_for(assistant)
        assert rows_of(client.get(LIST, {"role": "supplier"})) == ["Beta fournisseur"]
        assert client.get(LIST, {"role": "supplier"}).context["title"] == "Suppliers"
        assert rows_of(client.get(LIST, {"q": "alpha@"})) == ["Alpha client"]
        assert rows_of(client.get(LIST, {"sort": "-name"})) == [
            "Gamma prospect",
            "Beta fournisseur",
            "Alpha client",
        ]

    def test_search_finds_siren_and_name_without_accents(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        party = PartyFactory(by=assistant, name="Électricité Générale")
        PartyFactory(by=assistant, name="Other")
        client = client_for(assistant)
        assert rows_of(client.get(LIST, {"q": "electricite"})) == ["Électricité Générale"]
        assert rows_of(client.get(LIST, {"q": party.siren})) == ["Électricité Générale"]

    def test_filters_rep_territory_category_tag_active(
        self, client_for: ClientFor, assistant: User, rep: User
    ) -> None:
        territory = Territory.objects.create(code="ouest", name="Ouest")
        category = CustomerCategory.objects.create(code="retail", name="Retail")
        a = PartyFactory(by=assistant, name="A", sales_rep=rep, territory=territory)
        b = PartyFactory(by=assistant, name="B", category=category, tags=["VIP"])
        c = PartyFactory(by=assistant, name="C")
        actions.archive_party(c, by=assistant)
        client = client_for(assistant)
        assert rows_of(client.get(LIST, {"sales_rep": rep.pk})) == [a.name]
        assert rows_of(client.get(LIST, {"sales_rep": "none"})) == [b.name, c.name]
        assert rows_of(client.get(LIST, {"territory": territory.pk})) == [a.name]
        assert rows_of(client.get(LIST, {"category": category.pk})) == [b.name]
        tag = b.tags.get()
        assert rows_of(client.get(LIST, {"tag": tag.pk})) == [b.name]
        assert rows_of(client.get(LIST, {"active": "no"})) == [c.name]
        assert rows_of(client.get(LIST, {"territory": "abc"})) == []

    def test_sales_rep_sees_only_their_portfolio(
        self, client_for: ClientFor, assistant: User, rep: User, other_rep: User
    ) -> None:
        PartyFactory(by=rep, name="Mine")
        PartyFactory(by=other_rep, name="Theirs")
        PartyFactory(by=assistant, name="Nobody's")
        response = client_for(rep).get(LIST)
        assert rows_of(response) == ["Mine"]
        assert "sales_rep" not in [flt.name for flt, _c, _v in response.context["filters"]]

    def test_htmx_refresh_returns_the_table_only(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        PartyFactory(by=assistant, name="Abeille")
        response = client_for(assistant).get(LIST, {"q": "abe"}, headers={"HX-Request": "true"})
        html = response.content.decode()
        assert "Abeille" in html and "<nav" not in html

    def test_anonymous_is_sent_to_login(self, client: Client) -> None:
        response = client.get(LIST)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_query_count_is_bounded_and_does_not_grow_with_rows(
        self, client_for: ClientFor, assistant: User, rep: User
    ) -> None:
        territory = Territory.objects.create(code="est", name="Est")
        category = CustomerCategory.objects.create(code="pro", name="Pro")
        client = client_for(assistant)
        client.get(LIST)  # warm the session and content types

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(LIST).status_code == 200
            return len(queries)

        for _n in range(3):
            PartyFactory(by=assistant, sales_rep=rep, territory=territory, category=category)
        few = count()
        for _n in range(30):
            PartyFactory(
                by=assistant,
                sales_rep=rep,
                territory=territory,
                category=category,
                phone="01 23 45 67 89",
            )
        many = count()
        assert many == few
        # session, user, count, page, and one per filter's choices (rep, territory, category, tag)
        assert many <= 10


class TestExports:
    def make_parties(self, assistant: User) -> Party:
        party = PartyFactory(by=assistant, name="Abeille", phone="01 23 45 67 89")
        actions.update_party(party, by=assistant, payment_terms_days=30)
        PartyFactory(by=assistant, name='=HYPERLINK("http://evil.example","x")')
        return party

    def test_the_file_is_named_in_the_reader_s_language(
        self, client_for: ClientFor, make_user: Any
    ) -> None:
        french = make_user("sales_assistant", language="fr")
        response = client_for(french).get(LIST, {"export": "csv"})
        assert 'filename="tiers.csv"' in response["Content-Disposition"]

    def test_csv_for_french_excel(self, client_for: ClientFor, assistant: User) -> None:
        party = self.make_parties(assistant)
        response = client_for(assistant).get(LIST, {"export": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        assert 'filename="parties.csv"' in response["Content-Disposition"]
        text = b"".join(response.streaming_content).decode("utf-8")
        assert text.startswith("\ufeff")
        lines = text.lstrip("\ufeff").splitlines()
        assert lines[0].split(";")[:3] == ["Name", "Roles", "City"]
        abeille = next(line for line in lines if line.startswith("Abeille;"))
        assert "01 23 45 67 89" in abeille  # French display, no apostrophe
        assert party.created_at.astimezone().strftime("%d/%m/%Y") in abeille
        evil = next(line for line in lines if "HYPERLINK" in line)
        assert evil.startswith("\"'=HYPERLINK(") or evil.startswith("'=HYPERLINK(")

    def test_xlsx_neutralises_formulas(self, client_for: ClientFor, assistant: User) -> None:
        self.make_parties(assistant)
        response = client_for(assistant).get(LIST, {"export": "xlsx", "sort": "name"})
        sheet = load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0] == "Name"
        names = [row[0] for row in rows[1:]]
        assert names == ['\'=HYPERLINK("http://evil.example","x")', "Abeille"]
        cell = next(c for c in sheet["A"] if str(c.value).startswith("'="))
        assert cell.data_type == "s"

    def test_export_is_the_filtered_list(self, client_for: ClientFor, assistant: User) -> None:
        self.make_parties(assistant)
        response = client_for(assistant).get(LIST, {"export": "csv", "q": "abeille"})
        text = b"".join(response.streaming_content).decode("utf-8")
        assert len(text.strip().splitlines()) == 2


class TestPartyPage:
    def test_shows_identity_contacts_addresses_terms_and_history(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        party = PartyFactory(by=assistant, name="Abeille", tags=["VIP"], notes="Calls on Mondays")
        ContactFactory(party=party, by=assistant, last_name="Martin", phone="06 12 34 56 78")
        AddressFactory(party=party, by=assistant, line1="1 place Bellecour", city="Lyon")
        response = client_for(assistant).get(f"/parties/{party.pk}/")
        html = response.content.decode()
        assert '<h1 class="h3 mb-0 me-auto" id="party-name">Abeille</h1>' in html
        assert party.siren in html
        assert "Martin" in html and "06 12 34 56 78" in html
        assert "1 place Bellecour" in html
        assert "30 net days from invoice date" in html and "company default" in html
        assert "VIP" in html and "Calls on Mondays" in html
        assert "Contact added" in html and "Address added" in html and "Created" in html

    def test_history_speaks_in_names_and_labels(
        self, client_for: ClientFor, assistant: User, rep: User
    ) -> None:
        party = PartyFactory(by=assistant, sales_rep=rep)
        ContactFactory(party=party, by=assistant, functions=["decision_maker"])
        actions.update_party(party, by=assistant, payment_terms_days=30, payment_terms_base="net")
        actions.update_party(party, by=assistant, payment_terms_base="end_of_month")
        history = client_for(assistant).get(f"/parties/{party.pk}/").context["history"]
        texts = {label: text for row in history for label, text in row["changes"]}
        assert texts["Sales rep"] == str(rep)
        assert texts["Functions"] == "Decision maker"
        assert texts["Payment terms base"] == "net days from invoice date → days end of month"

    def test_history_shows_the_address_kind_label_not_its_code(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        # An address's "kind" once read through the party's own "kind" field: "kind : delivery".
        party = PartyFactory(by=assistant)
        AddressFactory(party=party, by=assistant, kind="delivery", line1="2 quai", city="Lyon")
        history = client_for(assistant).get(f"/parties/{party.pk}/").context["history"]
        added = next(row for row in history if row["action"] == "Address added")
        texts = dict(added["changes"])
        assert texts["Kind"] == "Delivery"
        assert all(label[:1].isupper() for row in history for label, _text in row["changes"])

    def test_history_names_what_other_apps_record_on_the_party(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        # Payments audit the party with keys that are reverse relations of it ("invoices"):
        # the page once crashed on them.
        party = PartyFactory(by=assistant)
        AuditEntry.objects.create(
            actor=assistant,
            action="record_payment",
            content_type_id=AuditEntry.objects.filter(object_id=str(party.pk))
            .values_list("content_type_id", flat=True)
            .first(),
            object_id=str(party.pk),
            object_repr=party.name,
            changes={
                "payment": 1,
                "amount": "1218.80",
                "method": "transfer",
                "invoices": ["FA-2026-000003"],
                "credit": "0.00",
            },
        )
        response = client_for(assistant).get(f"/parties/{party.pk}/")
        assert response.status_code == 200
        texts = {
            label: text for row in response.context["history"] for label, text in row["changes"]
        }
        assert texts["Invoices"] == "FA-2026-000003"
        assert texts["Amount"] == "1\u202f218,80 €"
        assert texts["Method"] == "Transfer"
        assert "Payment recorded" in response.content.decode()

    def test_accountant_reads_but_cannot_edit(
        self, client_for: ClientFor, assistant: User, accountant: User
    ) -> None:
        party = PartyFactory(by=assistant)
        client = client_for(accountant)
        response = client.get(f"/parties/{party.pk}/")
        assert response.status_code == 200
        assert 'id="edit"' not in response.content.decode()
        assert client.get(f"/parties/{party.pk}/edit/").status_code == 403
        assert client.get("/parties/new/").status_code == 403
        assert client.post(f"/parties/{party.pk}/archive/").status_code == 403

    def test_archive_and_restore(self, client_for: ClientFor, manager: User) -> None:
        party = PartyFactory(by=manager)
        client = client_for(manager)
        assert client.post(f"/parties/{party.pk}/archive/").status_code == 302
        party.refresh_from_db()
        assert not party.is_active
        assert client.get(f"/parties/{party.pk}/archive/").status_code == 405
        client.post(f"/parties/{party.pk}/restore/")
        party.refresh_from_db()
        assert party.is_active


VALID = {
    "kind": "organisation",
    "name": "Papeterie Lumière",
    "is_customer": "on",
    "siret": "552 100 554 00021",
    "payment_terms_base": "net",
    "address_country": "FR",
}


class TestPartyCreate:
    def test_create_redirects_to_the_party_page(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        client = client_for(assistant)
        form = client.get("/parties/new/").content.decode()
        for element in ('id="id_name"', 'id="id_siret"', 'id="id_is_customer"', 'id="save"'):
            assert element in form
        response = client.post(
            "/parties/new/",
            {
                **VALID,
                "tags": "salon, VIP",
                "address_line1": "3 rue de Rivoli",
                "address_postcode": "75004",
                "address_city": "Paris",
            },
        )
        party = Party.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/parties/{party.pk}/"
        assert party.siret == "55210055400021" and party.siren == "552100554"
        assert party.city == "Paris" and party.addresses.count() == 1
        assert sorted(t.name for t in party.tags.all()) == ["VIP", "salon"]
        page = client.get(response["Location"]).content.decode()
        assert ">Papeterie Lumière</h1>" in page

    def test_role_in_the_url_ticks_the_box(self, client_for: ClientFor, assistant: User) -> None:
        html = client_for(assistant).get("/parties/new/?role=supplier").content.decode()
        assert 'id="id_is_supplier" class="form-check-input" checked' in html
        assert 'id="id_is_customer" class="form-check-input" checked' not in html

    def test_wrong_siret_shows_next_to_the_field_on_submit(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        response = client_for(assistant).post("/parties/new/", {**VALID, "siret": "55210055400022"})
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="errors-siret"' in html and "Luhn" in html
        assert not Party.objects.exists()

    def test_siret_of_another_siren_shows_next_to_the_siret(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        response = client_for(assistant).post("/parties/new/", {**VALID, "siren": "552032534"})
        errors = response.context["form"].errors
        assert "siret" in errors and "552032534" in errors["siret"][0]

    def test_inline_validation_renders_errors_and_saves_nothing(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        response = client_for(assistant).post(
            "/parties/new/",
            {"siret": "5521005540002", "payment_terms_days": "90", "payment_terms_base": "net"},
            headers={"HX-Request": "true", "X-Validate-Field": "siret"},
        )
        assert response.status_code == 200
        html = response.content.decode()
        start = html.index('id="field-siret"')
        assert 'id="errors-siret"' in html[start : start + 2000]
        assert "14 digits" in html
        assert "L441-10" in html
        assert not Party.objects.exists()

    def test_inline_validation_of_a_good_siret_shows_no_error(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        response = client_for(assistant).post(
            "/parties/new/",
            {"siret": "55210055400021"},
            headers={"HX-Request": "true", "X-Validate-Field": "siret"},
        )
        assert 'id="errors-siret"' not in response.content.decode()

    def test_bad_billing_postcode_is_shown_on_its_field(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        response = client_for(assistant).post(
            "/parties/new/",
            {**VALID, "address_line1": "1 rue", "address_postcode": "750", "address_city": "Paris"},
        )
        assert "address_postcode" in response.context["form"].errors
        assert not Party.objects.exists()

    def test_duplicate_warning_needs_confirmation(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        existing = PartyFactory(by=assistant, name="Boulangerie Dupont SARL")
        AddressFactory(party=existing, by=assistant, postcode="75011", city="Paris")
        client = client_for(assistant)
        data = {
            **VALID,
            "name": "Boulangerie Dupond",
            "siret": "",
            "address_line1": "10 rue Oberkampf",
            "address_postcode": "75011",
            "address_city": "Paris",
        }
        response = client.post("/parties/new/", data)
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="id_confirm_warnings"' in html
        assert f'href="/parties/{existing.pk}/"' in html
        assert "similar name in the same postcode 0.9" in html
        assert Party.objects.count() == 1

        response = client.post("/parties/new/", {**data, "confirm_warnings": "1"})
        assert response.status_code == 302
        assert Party.objects.count() == 2

    def test_no_confirmation_box_without_duplicates(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        html = client_for(assistant).get("/parties/new/").content.decode()
        assert "confirm_warnings" not in html

    def test_rep_does_not_choose_the_rep_and_gets_the_party(
        self, client_for: ClientFor, rep: User
    ) -> None:
        client = client_for(rep)
        assert 'id="id_sales_rep"' not in client.get("/parties/new/").content.decode()
        assert client.post("/parties/new/", VALID).status_code == 302
        assert Party.objects.get().sales_rep == rep


class TestPartyEdit:
    def test_edit_changes_the_party_and_audits(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        party = PartyFactory(by=assistant, name="Old", tags=["A"])
        client = client_for(assistant)
        form = client.get(f"/parties/{party.pk}/edit/")
        assert form.context["form"]["tags"].value() == "A"
        response = client.post(
            f"/parties/{party.pk}/edit/",
            {
                "kind": "organisation",
                "name": "New",
                "is_customer": "on",
                "siren": party.siren,
                "payment_terms_days": "45",
                "payment_terms_base": "end_of_month",
                "tags": "A, B",
            },
        )
        assert response.status_code == 302
        party.refresh_from_db()
        assert party.name == "New" and party.payment_terms_days == 45
        entry = AuditEntry.objects.get(action="update_party")
        assert entry.changes["name"] == ["Old", "New"]
        assert entry.changes["tags"] == [["A"], ["A", "B"]]

    def test_over_long_terms_are_refused_on_their_field(
        self, client_for: ClientFor, assistant: User
    ) -> None:
        party = PartyFactory(by=assistant)
        response = client_for(assistant).post(
            f"/parties/{party.pk}/edit/",
            {
                "kind": "organisation",
                "name": party.name,
                "is_customer": "on",
                "payment_terms_days": "50",
                "payment_terms_base": "end_of_month",
            },
        )
        assert response.status_code == 200
        assert "payment_terms_days" in response.context["form"].errors
        party.refresh_from_db()
        assert party.payment_terms_days is None


class TestContactsAndAddresses:
    def test_add_edit_remove_contact(self, client_for: ClientFor, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        client = client_for(assistant)
        response = client.post(
            f"/parties/{party.pk}/contacts/new/",
            {"last_name": "Martin", "phone": "0140000000", "functions": ["billing"]},
        )
        assert response.status_code == 302
        contact = Contact.objects.get()
        assert contact.phone == "+33140000000" and contact.functions == ["billing"]
        response = client.post(
            f"/parties/contacts/{contact.pk}/edit/",
            {"last_name": "Martin", "phone": "12", "is_active": "on"},
        )
        assert "phone" in response.context["form"].errors
        client.post(
            f"/parties/contacts/{contact.pk}/edit/",
            {"last_name": "Martin-Durand", "is_active": "on", "is_primary": "on"},
        )
        contact.refresh_from_db()
        assert contact.last_name == "Martin-Durand"
        assert client.post(f"/parties/contacts/{contact.pk}/remove/").status_code == 302
        assert not Contact.objects.exists()

    def test_add_edit_remove_address(self, client_for: ClientFor, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        client = client_for(assistant)
        base = {"kind": "billing", "line1": "1 rue", "postcode": "69002", "city": "Lyon"}
        assert (
            client.post(
                f"/parties/{party.pk}/addresses/new/", {**base, "country": "FR"}
            ).status_code
            == 302
        )
        first = Address.objects.get()
        assert first.is_default
        client.post(
            f"/parties/{party.pk}/addresses/new/",
            {**base, "city": "Paris", "postcode": "75001", "country": "FR", "is_default": "on"},
        )
        party.refresh_from_db()
        assert party.city == "Paris"
        response = client.post(
            f"/parties/addresses/{first.pk}/edit/", {**base, "postcode": "6900", "country": "FR"}
        )
        assert "postcode" in response.context["form"].errors
        assert client.post(f"/parties/addresses/{first.pk}/remove/").status_code == 302
        assert Address.objects.count() == 1


class TestContactList:
    def test_lists_visible_contacts_with_their_party(
        self, client_for: ClientFor, rep: User, other_rep: User
    ) -> None:
        mine = PartyFactory(by=rep, name="Mine")
        ContactFactory(party=mine, by=rep, last_name="Alpha", functions=["billing"])
        ContactFactory(party=PartyFactory(by=other_rep), by=other_rep, last_name="Beta")
        client = client_for(rep)
        response = client.get("/parties/contacts/")
        rows = response.context["page"].rows
        assert [r["obj"].last_name for r in rows] == ["Alpha"]
        assert "Mine" in response.content.decode()
        assert (
            len(client.get("/parties/contacts/", {"function": "billing"}).context["page"].rows) == 1
        )
        assert (
            len(client.get("/parties/contacts/", {"function": "delivery"}).context["page"].rows)
            == 0
        )
