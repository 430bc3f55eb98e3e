"""GDPR and quality screens: consent page, access export, erasure, unsubscribe, register, quality."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from comptoir.core.roles import Role
from comptoir.customerfile import gdpr
from comptoir.customerfile.models import Consent
from comptoir.parties import actions as party_actions
from comptoir.parties.models import Contact, Party, Territory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def assistant(make_user: Callable[..., Any]) -> Any:
    return make_user(Role.SALES_ASSISTANT, language="en")


@pytest.fixture
def rep(make_user: Callable[..., Any]) -> Any:
    return make_user(Role.SALES_REP, language="en")


def _contact(sales_rep: Any = None) -> Contact:
    party = party_actions.create_party(
        by=None, name="Garage Martin", is_prospect=True, sales_rep=sales_rep
    )
    return party_actions.add_contact(
        party, by=None, first_name="Paul", last_name="Martin", email="paul@garage-martin.fr"
    )


def test_contact_privacy_page_records_a_choice(
    client_for: Callable[..., Client], assistant: Any
) -> None:
    contact = _contact()
    client = client_for(assistant)
    url = reverse("customerfile:contact_privacy", args=[contact.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"B2B: allowed" in page.content
    response = client.post(
        url, {"channel": "phone", "status": "refused", "source": "Call of 26/11"}
    )
    assert response.status_code == 302
    consent = Consent.objects.get(contact=contact)
    assert (consent.channel, consent.status, consent.source) == (
        "phone",
        "refused",
        "Call of 26/11",
    )


def test_a_rep_sees_only_own_contacts_and_cannot_export_or_erase(
    client_for: Callable[..., Client], rep: Any
) -> None:
    mine, other = _contact(sales_rep=rep), _contact()
    client = client_for(rep)
    assert client.get(reverse("customerfile:contact_privacy", args=[mine.pk])).status_code == 200
    assert client.get(reverse("customerfile:contact_privacy", args=[other.pk])).status_code == 404
    assert (
        client.get(reverse("customerfile:contact_access", args=[mine.pk, "json"])).status_code
        == 403
    )
    erase = client.post(reverse("customerfile:contact_erase", args=[mine.pk]), {"reason": "x"})
    assert erase.status_code == 403
    assert client.get(reverse("customerfile:gdpr")).status_code == 403


def test_access_export_json_and_pdf(client_for: Callable[..., Client], assistant: Any) -> None:
    contact = _contact()
    client = client_for(assistant)
    response = client.get(reverse("customerfile:contact_access", args=[contact.pk, "json"]))
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["person"]["email"] == "paul@garage-martin.fr"
    pdf = client.get(reverse("customerfile:contact_access", args=[contact.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF")


def test_erasure_from_the_page(client_for: Callable[..., Client], assistant: Any) -> None:
    contact = _contact()
    client = client_for(assistant)
    # Erasure cannot be undone: the form asks first.
    page = client.get(reverse("customerfile:contact_privacy", args=[contact.pk])).content.decode()
    assert 'id="erase-form" data-confirm=' in page
    url = reverse("customerfile:contact_erase", args=[contact.pk])
    assert client.post(url, {"reason": ""}).status_code == 302
    contact.refresh_from_db()
    assert contact.email == "paul@garage-martin.fr"  # no reason, no erasure
    client.post(url, {"reason": "Request by email of 26/11/2026"})
    contact.refresh_from_db()
    assert (contact.last_name, contact.email) == ("Anonymised", "")


def test_unsubscribe_link_records_the_opt_out_without_login() -> None:
    contact = _contact()
    client = Client(enforce_csrf_checks=True)
    url = reverse("customerfile:unsubscribe", args=[gdpr.unsubscribe_token(contact)])
    page = client.get(url)
    assert page.status_code == 200 and b"paul@garage-martin.fr" in page.content
    assert not Consent.objects.exists()  # a mail scanner's GET changes nothing
    done = client.post(url)  # one-click, as mail clients post it (no CSRF token)
    assert b'id="unsubscribed"' in done.content
    consent = Consent.objects.get(contact=contact)
    assert (consent.channel, consent.status, consent.source) == (
        "email",
        "refused",
        "Unsubscribe link",
    )
    assert client.get(reverse("customerfile:unsubscribe", args=["forged"])).status_code == 404


def test_register_page_and_exports(client_for: Callable[..., Client], assistant: Any) -> None:
    client = client_for(assistant)
    page = client.get(reverse("customerfile:gdpr"))
    assert b"Prospecting" in page.content
    url = reverse("customerfile:gdpr")
    csv_text = b"".join(client.get(url + "?export=csv").streaming_content).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Processing;Purpose;Legal basis")
    workbook = load_workbook(io.BytesIO(client.get(url + "?export=xlsx").content))
    assert workbook.active.max_row == 6
    assert client.get(url + "?export=pdf").content.startswith(b"%PDF")


def test_quality_page_and_bulk_assignment(
    client_for: Callable[..., Client], assistant: Any, rep: Any
) -> None:
    Territory.objects.create(code="idf", name="Île-de-France", departments="75,92", sales_rep=rep)
    party = party_actions.create_party(
        by=None,
        name="Cave Moreau",
        is_prospect=True,
        billing_address={"line1": "10 rue de la Paix", "postcode": "75002", "city": "Paris"},
    )
    client = client_for(assistant)
    page = client.get(reverse("customerfile:quality"))
    html = page.content.decode()
    assert 'id="file-score"' in html and "Add the SIREN or SIRET" in html
    assert 'id="assign-unassigned"' in html
    client.post(reverse("customerfile:assign_unassigned"))
    party.refresh_from_db()
    assert party.sales_rep == rep
    assert Party.objects.filter(sales_rep__isnull=True).count() == 0


def test_register_entries_are_edited_and_audited(
    client_for: Callable[..., Client], assistant: Any, rep: Any
) -> None:
    from comptoir.core.models import AuditEntry
    from comptoir.customerfile.models import ProcessingActivity

    values = {
        "name": "Video surveillance",
        "purpose": "Security of the warehouse",
        "legal_basis": "legitimate_interest",
        "data_subjects": "Staff, visitors",
        "data_categories": "Images",
        "recipients": "Manager",
        "transfers": "None",
        "retention": "30 days",
        "security_measures": "Locked room",
    }
    url = reverse("customerfile:activity_create")
    assert client_for(rep).get(url).status_code == 403
    response = client_for(assistant).post(url, values)
    assert response.status_code == 302
    activity = ProcessingActivity.objects.get(name="Video surveillance")
    edit = reverse("customerfile:activity_edit", args=[activity.pk])
    client_for(assistant).post(edit, {**values, "retention": "1 month"})
    activity.refresh_from_db()
    assert activity.retention == "1 month"
    assert AuditEntry.objects.filter(action="update_processing").get().changes["retention"] == [
        "30 days",
        "1 month",
    ]
