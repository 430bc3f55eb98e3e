"""The seeded GDPR register reads in the user's language: screen, exports, PDF, edit form."""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from comptoir.core.models import AuditEntry, User
from comptoir.core.roles import Role
from comptoir.customerfile import actions, gdpr
from comptoir.customerfile.models import ProcessingActivity
from comptoir.parties import actions as party_actions

pytestmark = pytest.mark.django_db

SEED = importlib.import_module("comptoir.customerfile.migrations.0002_seed_processing_register")


@pytest.fixture
def french_admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMINISTRATOR, language="fr")


def _pdf_text(content: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def test_every_seeded_text_is_marked_for_translation() -> None:
    seeded = {"None", SEED.SECURITY}
    for activity in SEED.ACTIVITIES:
        seeded |= {text for key, text in activity.items() if key != "legal_basis"}
    assert seeded - gdpr.SEEDED_REGISTER_TEXTS == set()


def test_register_page_reads_french_for_a_french_user(
    client_for: Callable[[User], Client], french_admin: User
) -> None:
    html = client_for(french_admin).get(reverse("customerfile:gdpr")).content.decode()
    assert "Gestion de la clientèle" in html
    assert "Durée de la relation commerciale" in html
    assert "Customer management" not in html
    assert "Duration of the business relationship" not in html
    # Sorted as read: "Demandes…" before "Gestion…" (stored: "Requests…" after "Customer…").
    assert html.index("Demandes relatives") < html.index("Gestion de la clientèle")


def test_register_page_reads_english_for_an_english_user(
    client_for: Callable[[User], Client], make_user: Callable[..., User]
) -> None:
    english_admin = make_user(Role.ADMINISTRATOR, language="en")
    html = client_for(english_admin).get(reverse("customerfile:gdpr")).content.decode()
    assert "Customer management" in html


def test_a_text_typed_by_the_administrator_is_shown_as_typed(french_admin: User) -> None:
    activity = ProcessingActivity.objects.get(name="Prospecting")
    actions.save_processing_activity(
        activity, by=french_admin, retention="2 ans après le dernier échange"
    )
    with translation.override("fr"):
        (entry,) = [e for e in gdpr.register_entries() if e["pk"] == activity.pk]
    assert entry["name"] == "Prospection"
    assert entry["retention"] == "2 ans après le dernier échange"


def test_register_pdf_and_csv_are_french() -> None:
    with translation.override("fr"):
        text = _pdf_text(gdpr.register_pdf())
        header = gdpr.register_header()
    assert "Gestion de la clientèle" in text
    assert "Catégories de personnes concernées" in text
    assert "Customer management" not in text
    assert "Duration of the business relationship" not in text
    assert "Responsable du traitement : " in text
    assert f"Généré le {timezone.localdate():%d/%m/%Y}" in text
    assert header[:3] == ["Traitement", "Finalité", "Base légale"]
    assert "Catégories de personnes concernées" in header


def test_access_export_names_the_processing_in_french() -> None:
    party = party_actions.create_party(by=None, name="Garage Martin", is_prospect=True)
    contact = party_actions.add_contact(party, by=None, first_name="Paul", last_name="Martin")
    with translation.override("fr"):
        names = {p["name"] for p in gdpr.personal_data(contact)["processing"]}
    assert "Gestion de la clientèle" in names
    assert "Customer management" not in names


def test_edit_form_offers_french_and_keeps_the_key_when_unchanged(
    client_for: Callable[[User], Client], french_admin: User
) -> None:
    activity = ProcessingActivity.objects.get(name="Customer management")
    url = reverse("customerfile:activity_edit", args=[activity.pk])
    client = client_for(french_admin)
    form = client.get(url).context["form"]
    shown: dict[str, Any] = {
        name: form[name].value() for name in form.fields if form[name].value() is not None
    }
    assert shown["name"] == "Gestion de la clientèle"
    assert shown["transfers"] == "Aucun"
    # Sent back with only the retention rewritten: the rest keeps its English key.
    response = client.post(url, {**shown, "retention": "5 ans après la dernière commande"})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.name == "Customer management"
    assert activity.transfers == "None"
    assert activity.retention == "5 ans après la dernière commande"
    changes = AuditEntry.objects.get(action="update_processing").changes
    assert set(changes) == {"retention"}
