"""Quality score, RFM (property-tested), fit score, territory assignment, segment tags."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from comptoir.customerfile import actions, quality
from comptoir.customerfile.postcodes import (
    department_matches,
    department_of,
    postcode_town_problems,
)
from comptoir.customerfile.scoring import (
    Check,
    FitFactors,
    Purchases,
    Rfm,
    fit_score,
    quality_score,
    quintile_scores,
    rfm_scores,
)
from comptoir.customerfile.selectors import prospect_fit, rfm_of_customers
from comptoir.parties import actions as party_actions
from comptoir.parties.models import Party, Territory
from tests.factories import valid_siren

TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    # Wording assertions read English, whatever the French catalogue holds.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


purchases = st.builds(
    Purchases,
    last_invoice=st.dates(min_value=date(2020, 1, 1), max_value=TODAY),
    invoices=st.integers(min_value=1, max_value=200),
    net_amount=st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False),
)


@given(st.dictionaries(st.integers(), purchases, min_size=1, max_size=60))
def test_rfm_scores_are_quintiles_and_monotonic(customers: dict[int, Purchases]) -> None:
    scores = rfm_scores(customers, TODAY)
    assert set(scores) == set(customers)
    for a, pa in customers.items():
        sa = scores[a]
        assert all(1 <= s <= 5 for s in (sa.recency, sa.frequency, sa.monetary))
        for b, pb in customers.items():
            sb = scores[b]
            if pa.last_invoice > pb.last_invoice:
                assert sa.recency >= sb.recency
            if pa.last_invoice == pb.last_invoice:
                assert sa.recency == sb.recency
            if pa.invoices >= pb.invoices:
                assert sa.frequency >= sb.frequency
            if pa.net_amount >= pb.net_amount:
                assert sa.monetary >= sb.monetary


@given(
    st.lists(st.integers(min_value=-1000, max_value=1000), min_size=5, max_size=100, unique=True)
)
def test_quintiles_use_the_whole_scale_on_distinct_values(values: list[int]) -> None:
    scores = quintile_scores(dict(enumerate(values)))
    assert scores[values.index(min(values))] == 1
    assert scores[values.index(max(values))] == 5
    counts = [list(scores.values()).count(s) for s in range(1, 6)]
    assert max(counts) - min(counts) <= 1  # equal-sized bands


@given(st.dictionaries(st.text(min_size=1), purchases, min_size=1, max_size=30), st.randoms())
def test_rfm_does_not_depend_on_the_order_of_customers(
    customers: dict[str, Purchases], rnd: Any
) -> None:
    items = list(customers.items())
    rnd.shuffle(items)
    assert rfm_scores(dict(items), TODAY) == rfm_scores(customers, TODAY)


def test_rfm_segments() -> None:
    assert Rfm(5, 5, 5).segment == "champions"
    assert Rfm(5, 1, 1).segment == "new"
    assert Rfm(1, 5, 5).segment == "at_risk"
    assert Rfm(1, 1, 1).segment == "lost"


@given(
    st.lists(st.builds(Check, st.text(max_size=3), st.booleans(), st.integers(1, 20)), max_size=12)
)
def test_quality_score_is_the_weighted_share_passed(checks: list[Check]) -> None:
    score = quality_score(checks)
    assert 0 <= score <= 100
    if all(c.passed for c in checks):
        assert score == 100
    elif not any(c.passed for c in checks):
        assert score == 0


@given(
    st.builds(
        FitFactors,
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.integers(0, 10),
        st.integers(0, 100),
        st.booleans(),
    )
)
def test_fit_score_grows_with_each_factor(factors: FitFactors) -> None:
    score = fit_score(factors)
    assert 0 <= score <= 100
    better = FitFactors(True, True, True, max(factors.contacts, 3), 100, True)
    assert fit_score(better) == 100 >= score


def test_departments_of_corsica_overseas_and_paris() -> None:
    assert department_of("20090") == "2A"
    assert department_of("20200") == "2B"
    assert department_of("20600") == "2B"
    assert department_of("97400") == "974"
    assert department_of("97133") == "971"
    assert department_of("75011") == "75"
    assert department_of("1000") == ""
    assert department_matches("2B", ["20"]) and department_matches("2A", ["2A"])
    assert not department_matches("2A", ["2B"])
    assert department_matches("974", ["971", "974"])


def test_postcode_against_town() -> None:
    assert postcode_town_problems("75011", "Paris") == []
    assert postcode_town_problems("69006", "Lyon") == []
    assert "department 69" in postcode_town_problems("13001", "Lyon")[0]
    assert "not in La Poste's list" in postcode_town_problems("75099", "Paris")[0]
    assert postcode_town_problems("75099", "Paris Cedex 99") == []
    assert postcode_town_problems("97400", "Saint-Denis") == []


@pytest.mark.django_db
def test_territory_assignment_one_and_in_bulk(rep: Any, other_rep: Any, assistant: Any) -> None:
    corse = Territory.objects.create(code="corse", name="Corse", departments="2A,2B", sales_rep=rep)
    Territory.objects.create(
        code="dom", name="DOM", departments="971,972,973,974,976", sales_rep=other_rep
    )
    ajaccio = party_actions.create_party(
        by=assistant,
        name="Menuiserie Santoni",
        is_prospect=True,
        billing_address={"line1": "Route de Mezzavia", "postcode": "20090", "city": "Ajaccio"},
    )
    reunion = party_actions.create_party(
        by=assistant,
        name="Pêcherie du Port",
        is_prospect=True,
        billing_address={"line1": "8 rue du Port", "postcode": "97400", "city": "Saint-Denis"},
    )
    lyon = party_actions.create_party(
        by=assistant,
        name="Garage Martin",
        is_prospect=True,
        billing_address={"line1": "3 boulevard des Belges", "postcode": "69006", "city": "Lyon"},
    )
    # A supplier has no sales rep: the bulk assignment leaves it alone.
    supplier = party_actions.create_party(
        by=assistant,
        name="Bois de Corse",
        is_supplier=True,
        billing_address={"line1": "Zone du Vazzio", "postcode": "20090", "city": "Ajaccio"},
    )
    actions.assign_by_territory(ajaccio, by=assistant)
    ajaccio.refresh_from_db()
    assert (ajaccio.territory, ajaccio.sales_rep) == (corse, rep)
    with pytest.raises(Exception, match="No territory"):
        actions.assign_by_territory(lyon, by=assistant)
    assert actions.assign_unassigned(by=assistant) == 1
    supplier.refresh_from_db()
    assert supplier.sales_rep is None
    reunion.refresh_from_db()
    lyon.refresh_from_db()
    assert reunion.sales_rep == other_rep
    assert lyon.sales_rep is None


@pytest.mark.django_db
def test_quality_of_a_party_and_of_the_file(assistant: Any) -> None:
    good = party_actions.create_party(
        by=assistant,
        name="Boulangerie Dupont",
        siren="732829320",
        email="contact@dupont.fr",
        phone="01 43 55 67 89",
        is_customer=True,
        billing_address={
            "line1": "12 avenue de la République",
            "postcode": "75011",
            "city": "Paris",
        },
    )
    party_actions.add_contact(good, by=assistant, last_name="Dupont")
    poor = party_actions.create_party(by=assistant, name="Cave Moreau", is_prospect=True)
    twin = party_actions.create_party(by=assistant, name="Cave Moreau", is_prospect=True)
    assert quality.party_quality(good).failed == ["sales_rep", "category"]
    low = quality.party_quality(poor)
    assert low.score < 50
    assert {"identifier", "email", "phone", "address", "contact"} <= set(low.failed)
    file = quality.file_quality(quality.active_parties())
    assert file.parties == 3
    assert file.worst[0].party_id in (poor.pk, twin.pk)
    codes = [line["code"] for line in file.to_fix()]
    assert codes[0] in ("identifier", "email", "address")
    assert file.failed["sales_rep"] == 3
    assert file.distribution["80–100"] == 1


@pytest.mark.django_db
def test_rfm_from_a_pluggable_source_and_segment_tags(assistant: Any) -> None:
    parties = [
        party_actions.create_party(by=assistant, name=f"Client {n}", is_customer=True)
        for n in range(5)
    ]

    def source(on: date) -> dict[int, Purchases]:
        return {
            p.pk: Purchases(on - timedelta(days=30 * n), 10 - n, Decimal(1000 - 100 * n))
            for n, p in enumerate(parties)
        }

    scores = rfm_of_customers(on=TODAY, source=source)
    assert scores[parties[0].pk] == Rfm(5, 5, 5)
    assert scores[parties[4].pk] == Rfm(1, 1, 1)
    assert actions.apply_segment_tags(by=assistant, scores=scores) == 5
    assert [t.name for t in parties[0].tags.all()] == ["RFM: Champions"]
    assert actions.apply_segment_tags(by=assistant, scores={parties[0].pk: Rfm(1, 1, 1)}) == 1
    assert [t.name for t in Party.objects.get(pk=parties[0].pk).tags.all()] == ["RFM: Lost"]


@pytest.mark.django_db
def test_prospect_fit_prefers_the_complete_registered_company(assistant: Any, rep: Any) -> None:
    strong = party_actions.create_party(
        by=assistant,
        name="Imprimerie Lambert",
        legal_form="SAS",
        siren="812345676",
        email="contact@lambert.fr",
        is_prospect=True,
        sales_rep=rep,
        billing_address={
            "line1": "45 chemin de la Gravière",
            "postcode": "31000",
            "city": "Toulouse",
        },
    )
    weak = party_actions.create_party(by=assistant, name="Inconnu", is_prospect=True)
    scores = prospect_fit(Party.objects.filter(is_prospect=True))
    assert scores[strong.pk] > scores[weak.pk]


@pytest.mark.django_db
def test_rfm_from_issued_invoices_on_the_quality_page(
    client_for: Any, make_user: Any, settings: Any, tmp_path: Any
) -> None:
    from django.urls import reverse

    from comptoir.core.roles import Role
    from comptoir.core.selectors import current_company
    from comptoir.invoicing import actions as invoicing

    settings.DATA_DIR = tmp_path
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    company = current_company()
    company.legal_name, company.siren, company.vat_number = (
        "Comptoir SAS",
        "732829320",
        "FR44732829320",
    )
    company.address_line1, company.postcode, company.city = "1 rue de la Paix", "69002", "Lyon"
    company.legal_form, company.siret, company.rcs_city = "SAS", "73282932000074", "Lyon"
    company.share_capital_amount = Decimal("10000.00")
    company.save()
    assistant = make_user(Role.SALES_ASSISTANT, language="en")
    line = {
        "label": "Vase",
        "quantity": Decimal("1"),
        "unit_price": Decimal("100.00"),
        "vat_rate": Decimal("20.00"),
        "vat_category": "S",
        "vat_rate_code": "normal",
    }
    buyers = [
        party_actions.create_party(
            by=assistant, name=f"Client {n}", siren=valid_siren(n + 1), is_customer=True
        )
        for n in range(3)
    ]
    issues = sorted(
        (TODAY - timedelta(days=100 * n + k), party.pk, party)
        for n, party in enumerate(buyers)
        for k in range(3 - n)
    )
    for issue_date, _pk, party in issues:  # legal numbers follow the dates
        invoicing.issue_invoice(
            invoicing.create_invoice(party=party, by=assistant, lines=[line]),
            by=assistant,
            issue_date=issue_date,
            produce_documents=False,
        )
    scores = rfm_of_customers(on=TODAY)
    assert set(scores) == {p.pk for p in buyers}
    assert scores[buyers[0].pk].frequency > scores[buyers[2].pk].frequency
    assert scores[buyers[0].pk].monetary > scores[buyers[2].pk].monetary
    client = client_for(assistant)
    with translation.override("en"):
        page = client.get(reverse("customerfile:quality"))
        assert b'id="rfm-segments"' in page.content and b'id="tag-segments"' in page.content
        client.post(reverse("customerfile:tag_segments"))
    assert Party.objects.get(pk=buyers[0].pk).tags.get().name.startswith("RFM: ")
