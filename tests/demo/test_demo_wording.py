"""The demo reads like real French data: civilities, "d'Amiens", notes numbered in their year."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest

from comptoir.core.models import NumberingCounter
from comptoir.demo.builder import build_demo, of_town
from comptoir.parties.models import Contact, Party
from comptoir.stock.models import Delivery
from tests.billing_fixtures import _archive_in_tmp  # noqa: F401 - autouse, found by name

FEMALE_FIRST_NAMES = {
    "Marie",
    "Camille",
    "Sophie",
    "Julie",
    "Claire",
    "Léa",
    "Manon",
    "Sarah",
    "Laura",
    "Émilie",
    "Chloé",
    "Pauline",
    "Inès",
    "Anaïs",
    "Nadia",
    "Yasmine",
    "Élodie",
    "Isabelle",
}
# "de" before a vowel or "Le": "Mairie de Amiens", "Lycée Jean-Moulin de Le Havre".
UNELIDED = re.compile(r"\bde (?:[AEIOUYÀÂÉÈÊÎÔ]|Le |Les )")


@pytest.mark.parametrize(
    ("town", "written"),
    [
        ("Lyon", "de Lyon"),
        ("Amiens", "d'Amiens"),
        ("Aix-en-Provence", "d'Aix-en-Provence"),
        ("Évry-Courcouronnes", "d'Évry-Courcouronnes"),
        ("Orléans", "d'Orléans"),
        ("Le Havre", "du Havre"),
        ("Le Mans", "du Mans"),
        ("La Rochelle", "de La Rochelle"),
    ],
)
def test_of_town_elides_and_contracts(town: str, written: str) -> None:
    assert of_town(town) == written


@pytest.mark.django_db
@pytest.mark.slow
def test_demo_wording_and_delivery_numbers(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    build_demo(seed=7)

    contacts = list(Contact.objects.values_list("civility", "first_name"))
    assert {civility for civility, _first in contacts} == {"M.", "Mme"}
    for civility, first in contacts:
        assert civility == ("Mme" if first in FEMALE_FIRST_NAMES else "M."), (civility, first)

    names = list(Party.objects.values_list("name", flat=True))
    assert [name for name in names if UNELIDED.search(name)] == []
    assert any(name.startswith("Mairie ") for name in names)

    deliveries = list(Delivery.objects.select_related("backorder_of"))
    numbers: dict[int, list[int]] = defaultdict(list)
    for delivery in deliveries:
        _series, year, sequence = delivery.number.split("-")
        numbers[int(year)].append(int(sequence))
        # A note is numbered the day it is prepared: a backorder when its delivery left.
        prepared = (delivery.backorder_of or delivery).shipped_date
        assert prepared is not None
        assert int(year) == prepared.year, (delivery.number, prepared)
        if delivery.shipped_date is not None:
            assert int(year) == delivery.shipped_date.year, (delivery.number, delivery.shipped_date)
    assert len(numbers) >= 2  # two years of history
    # No number lost: each year's series runs from 1 without a gap.
    counters = dict(NumberingCounter.objects.filter(series="BL").values_list("year", "last_number"))
    for year, sequences in numbers.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
        assert counters[year] == len(sequences)
