"""The assistant imports a messy trade-show file through the wizard, in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from comptoir.core.models import User
from comptoir.parties.models import Contact, Party
from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)

MESSY = Path(__file__).resolve().parent.parent / "data" / "import-salon-2026.csv"


def test_assistant_imports_a_messy_french_file(page: Any, assistant: User) -> None:
    log_in(page, assistant.username)
    page.goto("/customer-file/import/")
    page.set_input_files("#import-file", str(MESSY))
    page.click("#import-upload")
    page.locator("#import-check").click()
    page.locator("#import-preview").wait_for()
    # Importing asks first: the rows go into the customer file for good.
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click("#import-commit")
    page.locator("#count-created").wait_for()
    assert asked and "Import these rows" in asked[0]
    created = int(page.locator("#count-created").inner_text())
    assert created == Party.objects.count()
    assert created > 0
    # The three Dupont rows (same SIREN, two spellings) are one bakery with its people.
    dupont = Party.objects.get(siren="732829320")
    assert dupont.legal_form == "SARL"
    assert Contact.objects.filter(party=dupont).count() >= 2
    phones = set(Contact.objects.filter(party=dupont).values_list("phone", flat=True))
    assert phones <= {"+33143556789", ""}
