"""Customer-file API: consent read/update, access export, erasure (back office), import status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from comptoir.parties import actions as party_actions
from comptoir.parties.models import Contact

pytestmark = pytest.mark.django_db


def _contact(sales_rep: Any = None) -> Contact:
    party = party_actions.create_party(
        by=None, name="Garage Martin", is_prospect=True, sales_rep=sales_rep
    )
    return party_actions.add_contact(
        party, by=None, last_name="Martin", email="paul@garage-martin.fr"
    )


def test_consents_read_and_update(api_client_for: Callable[..., Client], rep: Any) -> None:
    contact = _contact(sales_rep=rep)
    client = api_client_for(rep)
    url = f"/api/v1/contacts/{contact.pk}/consents"
    lines = client.get(url).json()
    assert [line["channel"] for line in lines] == ["email", "phone", "post"]
    assert lines[0]["allowed"] is True and lines[0]["status"] == ""
    response = client.put(
        url,
        {"channel": "email", "status": "refused", "source": "Phone call"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()[0]["status"] == "refused" and response.json()[0]["allowed"] is False
    bad = client.put(
        url, {"channel": "fax", "status": "refused", "source": "x"}, content_type="application/json"
    )
    assert bad.status_code == 422
    empty = client.put(
        url,
        {"channel": "post", "status": "refused", "source": " "},
        content_type="application/json",
    )
    assert empty.status_code == 422 and empty.json()["detail"][0]["field"] == "source"


def test_other_reps_contacts_are_not_found(api_client_for: Callable[..., Client], rep: Any) -> None:
    contact = _contact()
    assert api_client_for(rep).get(f"/api/v1/contacts/{contact.pk}/consents").status_code == 404


def test_access_and_erasure_are_back_office_only(
    api_client_for: Callable[..., Client], rep: Any, assistant: Any
) -> None:
    contact = _contact(sales_rep=rep)
    rep_client = api_client_for(rep)
    assert rep_client.get(f"/api/v1/contacts/{contact.pk}/personal-data").status_code == 403
    assert (
        rep_client.post(
            f"/api/v1/contacts/{contact.pk}/erase", {"reason": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    client = api_client_for(assistant)
    data = client.get(f"/api/v1/contacts/{contact.pk}/personal-data").json()
    assert data["person"]["email"] == "paul@garage-martin.fr"
    response = client.post(
        f"/api/v1/contacts/{contact.pk}/erase",
        {"reason": "Request of 26/11"},
        content_type="application/json",
    )
    assert response.json() == {"contact_id": contact.pk, "anonymised": True}
    contact.refresh_from_db()
    assert contact.email == "" and contact.last_name == "Anonymised"
