"""The assistant's first customer, in a real browser: wrong SIRET, fix it, find it again."""

from __future__ import annotations

from typing import Any

import pytest

from comptoir.core.models import User
from comptoir.parties.models import Party
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_assistant_creates_a_customer_after_fixing_a_wrong_siret(
    page: Any, assistant: User
) -> None:
    log_in(page, assistant.username)
    page.goto("/parties/new/")
    page.fill("#id_name", "Papeterie Lumière")
    page.check("#id_is_customer")
    page.fill("#id_siret", "55210055400022")  # wrong check digit
    page.click("#save")
    error = page.locator("#errors-siret")
    error.wait_for()
    assert "Luhn" in error.inner_text()
    assert not Party.objects.filter(name="Papeterie Lumière").exists()

    page.fill("#id_siret", "55210055400021")
    page.click("#save")
    page.wait_for_url(lambda url: "/parties/new" not in url)
    assert page.locator("h1").inner_text().strip().startswith("Papeterie Lumière")
    party = Party.objects.get(name="Papeterie Lumière")
    assert party.siren == "552100554"

    page.goto("/parties/")
    page.fill("#search", "Lumière")
    page.wait_for_function(
        "document.querySelector('#list-table').innerText.includes('Papeterie Lumière')"
    )
    assert "Papeterie Lumière" in page.locator("#list-table").inner_text()


def test_inline_validation_shows_the_siret_message_before_submitting(
    page: Any, assistant: User
) -> None:
    log_in(page, assistant.username)
    page.goto("/parties/new/")
    page.fill("#id_siret", "5521005540002")  # 13 digits
    page.locator("#id_siret").blur()
    page.locator("#errors-siret").wait_for()
    assert (
        "14 digits" in page.locator("#errors-siret").inner_text()
        or "14 chiffres" in page.locator("#errors-siret").inner_text()
    )
