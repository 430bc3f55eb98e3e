"""Parties reads: visibility per role, likely duplicates, effective payment terms."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comptoir.core.actions import update_company
from comptoir.core.models import User
from comptoir.parties import actions
from comptoir.parties.models import Party
from comptoir.parties.selectors import (
    addresses_visible_to,
    contacts_visible_to,
    effective_payment_terms,
    likely_duplicates,
    parties_visible_to,
    search_parties,
)
from tests.factories import AddressFactory, ContactFactory, PartyFactory, valid_siren, valid_siret

pytestmark = pytest.mark.django_db


def located(by: User, name: str, postcode: str, **fields: Any) -> Party:
    return actions.create_party(
        by=by,
        name=name,
        is_customer=True,
        billing_address={"line1": "1 rue Haute", "postcode": postcode, "city": "Paris"},
        **fields,
    )


class TestVisibility:
    def test_each_role_sees_its_share(
        self,
        assistant: User,
        manager: User,
        administrator: User,
        accountant: User,
        rep: User,
        other_rep: User,
    ) -> None:
        mine = PartyFactory(by=rep)
        theirs = PartyFactory(by=other_rep)
        ContactFactory(party=mine, by=rep)
        ContactFactory(party=theirs, by=other_rep)
        AddressFactory(party=mine, by=rep)
        AddressFactory(party=theirs, by=other_rep)
        for user in (assistant, manager, administrator, accountant):
            assert parties_visible_to(user).count() == 2
            assert contacts_visible_to(user).count() == 2
            assert addresses_visible_to(user).count() == 2
        assert list(parties_visible_to(rep)) == [mine]
        assert [c.party for c in contacts_visible_to(rep)] == [mine]
        assert [a.party for a in addresses_visible_to(rep)] == [mine]

    def test_nobody_sees_nothing(self, make_user: Any, rep: User) -> None:
        PartyFactory(by=rep)
        inactive = make_user("sales_manager", is_active=False)
        for user in (None, AnonymousUser(), inactive):
            assert not parties_visible_to(user).exists()
            assert not contacts_visible_to(user).exists()


class TestLikelyDuplicates:
    def test_same_siret_siren_and_email(self, assistant: User) -> None:
        siren = valid_siren(11)
        party = PartyFactory(
            by=assistant, siren=siren, siret=valid_siret(siren), email="achats@dupont.fr"
        )
        found = likely_duplicates(siret=valid_siret(siren), siren=siren, email="achats@dupont.fr")
        assert [c.party for c in found] == [party]
        assert found[0].reasons == ["same SIRET", "same SIREN", "same email"]

    def test_similar_name_in_the_same_postcode_with_its_score(self, assistant: User) -> None:
        dupont = located(assistant, "Boulangerie Dupont SARL", "75011")
        located(assistant, "Boulangerie Dupont", "69002")  # same name, elsewhere
        located(assistant, "Garage Martin", "75011")
        found = likely_duplicates(name="SAS Boulangerie Dupond", postcode="75011")
        assert [c.party for c in found] == [dupont]
        (reason,) = found[0].reasons
        assert reason.startswith("similar name in the same postcode 0.9")
        score = float(reason.rsplit(" ", 1)[1])
        assert 0.85 <= score < 1

    def test_word_order_does_not_matter(self, assistant: User) -> None:
        party = located(assistant, "Dupont Boulangerie", "75011")
        found = likely_duplicates(name="Boulangerie Dupont", postcode="75011")
        assert [c.party for c in found] == [party]
        assert found[0].reasons == ["similar name in the same postcode 1.00"]

    def test_different_names_are_not_duplicates(self, assistant: User) -> None:
        located(assistant, "Boulangerie Dupont", "75011")
        assert likely_duplicates(name="Pharmacie Centrale", postcode="75011") == []

    def test_exclude_pk_and_empty_input(self, assistant: User) -> None:
        party = located(assistant, "Boulangerie Dupont", "75011", email="a@b.fr")
        assert (
            likely_duplicates(name="Boulangerie Dupont", postcode="75011", exclude_pk=party.pk)
            == []
        )
        assert likely_duplicates() == []
        assert likely_duplicates(name="SARL", postcode="75011") == []  # nothing left to compare

    def test_same_name_without_postcode(self, assistant: User) -> None:
        party = PartyFactory(by=assistant, name="Boulangerie Dupont")
        found = likely_duplicates(name="boulangerie DUPONT")
        assert [c.party for c in found] == [party]
        assert found[0].reasons == ["same name"]

    def test_strongest_evidence_first(self, assistant: User) -> None:
        by_name = located(assistant, "Boulangerie Dupont", "75011")
        by_email = PartyFactory(by=assistant, name="Autre", email="contact@dupont.fr")
        found = likely_duplicates(
            name="Boulangerie Dupont", postcode="75011", email="contact@dupont.fr"
        )
        assert [c.party for c in found] == [by_email, by_name]

    def test_uses_a_bounded_number_of_queries(self, assistant: User) -> None:
        for n in range(15):
            located(assistant, f"Boulangerie Dupont {n}", "75011")
        with CaptureQueriesContext(connection) as queries:
            found = likely_duplicates(
                siren=valid_siren(1),
                siret="",
                email="x@y.fr",
                name="Boulangerie Dupont",
                postcode="75011",
            )
        assert len(found) == 15
        assert len(queries) <= 4

    def test_every_lookup_goes_through_an_index_even_among_blanks(self, assistant: User) -> None:
        # Prospects without SIREN, SIRET or email: a plain index on those columns looks useless
        # to SQLite's planner once ANALYZE has counted the blanks.
        for n in range(30):
            actions.create_party(by=assistant, name=f"Prospect {n}", is_prospect=True)
        located(assistant, "Boulangerie Dupont", "75011")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            if connection.vendor == "sqlite":
                # What ANALYZE says of 100,000 parties of which almost none has these set.
                cursor.execute(
                    "UPDATE sqlite_stat1 SET stat = '100000 100000' WHERE tbl = 'parties_party'"
                    " AND (idx LIKE 'parties_party_siren%' OR idx LIKE 'parties_party_siret%'"
                    " OR idx LIKE 'parties_party_email%')"
                )
                assert cursor.rowcount == 3
                cursor.execute("ANALYZE sqlite_schema")  # reload the statistics
        with CaptureQueriesContext(connection) as queries:
            likely_duplicates(
                siren=valid_siren(5),
                siret=valid_siret(valid_siren(5)),
                email="achats@dupont.fr",
                name="Boulangerie Dupond",
                postcode="75011",
            )
        assert len(queries) == 5
        with connection.cursor() as cursor:
            for query in queries:
                if connection.vendor == "sqlite":
                    cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
                    plan = " ".join(str(row[-1]) for row in cursor.fetchall())
                    assert "INDEX" in plan or "PRIMARY KEY" in plan, query["sql"]
                    assert "SCAN" not in plan, query["sql"]
                    assert "TEMP B-TREE" not in plan
                else:
                    # A tiny table is cheaper to scan: ask what the planner does when it is not.
                    cursor.execute("SET LOCAL enable_seqscan = off")
                    cursor.execute("EXPLAIN " + query["sql"])
                    plan = " ".join(str(row[0]) for row in cursor.fetchall())
                    assert "Index" in plan and "Sort" not in plan, query["sql"]
            postcode_sql = next(q["sql"] for q in queries if '"name_key" FROM' in q["sql"])
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + postcode_sql)
                plan = " ".join(str(row[-1]) for row in cursor.fetchall())
                assert "COVERING INDEX party_postcode_key_idx" in plan


class TestPaymentTerms:
    def test_party_terms_or_company_default(self, assistant: User) -> None:
        update_company(by=assistant, payment_terms_days=45, payment_terms_base="end_of_month")
        party = PartyFactory(by=assistant)
        assert effective_payment_terms(party) == (45, "end_of_month")
        actions.update_party(party, by=assistant, payment_terms_days=30, payment_terms_base="net")
        assert effective_payment_terms(party) == (30, "net")
        assert effective_payment_terms(party).days == 30


def test_search_parties_matches_every_word(assistant: User) -> None:
    PartyFactory(by=assistant, name="Électricité Générale de Lyon")
    PartyFactory(by=assistant, name="Électricité du Nord")
    names = [p.name for p in search_parties(Party.objects.order_by("name"), "electricite lyon")]
    assert names == ["Électricité Générale de Lyon"]


@pytest.mark.django_db
def test_home_tile_counts_only_the_reps_portfolio(
    client_for: Any, rep: Any, other_rep: Any, assistant: Any
) -> None:
    from tests.factories import PartyFactory

    PartyFactory(by=assistant, name="Mine", sales_rep=rep, is_customer=True)
    PartyFactory(by=assistant, name="Theirs", sales_rep=other_rep, is_customer=True)
    PartyFactory(by=assistant, name="Lead", sales_rep=rep, is_customer=False, is_prospect=True)
    body = client_for(rep).get("/").content.decode()
    assert "My portfolio" in body
    assert "Customers: 1 · Prospects: 1" in body
    assert "Customers: 2 · Prospects: 1" in client_for(assistant).get("/").content.decode()
