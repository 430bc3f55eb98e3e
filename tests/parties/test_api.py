"""Parties API: CRUD through the actions, field errors as 422, tokens, idempotency."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from comptoir.core.models import AuditEntry, User
from comptoir.parties.models import Address, Contact, Party
from tests.factories import AddressFactory, ContactFactory, PartyFactory

pytestmark = pytest.mark.django_db

ApiClientFor = Callable[[User], Client]
API = "/api/v1"


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(
        API + path, json.dumps(body), content_type="application/json", headers=headers
    )


def patch(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.patch(API + path, json.dumps(body), content_type="application/json")


def fields_in(response: Any) -> set[str]:
    return {item["field"] for item in response.json()["detail"]}


class TestParties:
    def test_create_normalises_and_returns_201(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        client = api_client_for(assistant)
        response = post(
            client,
            "/parties",
            {
                "name": "Danone",
                "is_customer": True,
                "siret": "552 032 534 00646",
                "phone": "01 23 45 67 89",
                "tags": ["VIP"],
                "billing_address": {
                    "line1": "17 bd Haussmann",
                    "postcode": "75009",
                    "city": "Paris",
                },
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["siren"] == "552032534"
        assert body["phone"] == "+33123456789"
        assert body["tags"] == ["VIP"]
        assert body["city"] == "Paris"
        party = Party.objects.get(pk=body["id"])
        assert party.created_by == assistant
        assert AuditEntry.objects.filter(action="create_party", object_id=str(party.pk)).exists()

    def test_bad_siret_is_422_naming_the_field(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        response = post(
            api_client_for(assistant),
            "/parties",
            {"name": "X", "is_customer": True, "siret": "55203253400647"},
        )
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert detail[0]["field"] == "siret" and "Luhn" in detail[0]["message"]
        assert not Party.objects.exists()

    def test_nested_address_error_is_named(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        response = post(
            api_client_for(assistant),
            "/parties",
            {
                "name": "X",
                "is_customer": True,
                "billing_address": {"line1": "1 rue", "postcode": "750", "city": "Paris"},
            },
        )
        assert response.status_code == 422
        assert fields_in(response) == {"billing_address.postcode"}

    def test_unknown_sales_rep_is_422_on_sales_rep_id(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        response = post(
            api_client_for(assistant),
            "/parties",
            {"name": "X", "is_customer": True, "sales_rep_id": 999999},
        )
        assert response.status_code == 422
        assert fields_in(response) == {"sales_rep_id"}

    def test_schema_error_is_422(self, api_client_for: ApiClientFor, assistant: User) -> None:
        response = post(api_client_for(assistant), "/parties", {"name": "X", "kind": "robot"})
        assert response.status_code == 422
        assert fields_in(response) == {"kind"}

    def test_without_token_is_401(self, client: Client) -> None:
        assert client.get(API + "/parties").status_code == 401
        assert post(client, "/parties", {"name": "X"}).status_code == 401
        assert (
            Client(headers={"Authorization": "Bearer cpt_wrong"}).get(API + "/parties").status_code
            == 401
        )

    def test_idempotency_key_replays_the_first_response(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        client = api_client_for(assistant)
        body = {"name": "Once", "is_customer": True}
        first = post(client, "/parties", body, **{"Idempotency-Key": "abc-123"})
        second = post(client, "/parties", body, **{"Idempotency-Key": "abc-123"})
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert Party.objects.count() == 1
        post(client, "/parties", body, **{"Idempotency-Key": "other"})
        assert Party.objects.count() == 2

    def test_list_paginates_filters_and_searches(
        self, api_client_for: ApiClientFor, assistant: User, rep: User
    ) -> None:
        PartyFactory(by=assistant, name="Alpha", sales_rep=rep)
        PartyFactory(by=assistant, name="Beta", is_customer=False, is_supplier=True)
        PartyFactory(by=assistant, name="Électricité Gamma")
        client = api_client_for(assistant)
        body = client.get(API + "/parties", {"page_size": 2}).json()
        assert body["count"] == 3 and [p["name"] for p in body["items"]] == ["Alpha", "Beta"]
        page2 = client.get(API + "/parties", {"page_size": 2, "page": 2}).json()
        assert [p["name"] for p in page2["items"]] == ["Électricité Gamma"]
        names = lambda **q: [p["name"] for p in client.get(API + "/parties", q).json()["items"]]  # noqa: E731
        assert names(role="supplier") == ["Beta"]
        assert names(q="electricite") == ["Électricité Gamma"]
        assert names(sales_rep=rep.pk) == ["Alpha"]
        assert client.get(API + "/parties", {"role": "friend"}).status_code == 422

    def test_list_does_not_query_per_row(
        self, api_client_for: ApiClientFor, assistant: User, django_assert_max_num_queries: Any
    ) -> None:
        for _n in range(20):
            PartyFactory(by=assistant, tags=["A", "B"])
        client = api_client_for(assistant)
        with django_assert_max_num_queries(6):
            assert len(client.get(API + "/parties").json()["items"]) == 20

    def test_get_patch_archive(self, api_client_for: ApiClientFor, assistant: User) -> None:
        party = PartyFactory(by=assistant, name="Old", email="old@example.com")
        client = api_client_for(assistant)
        assert client.get(f"{API}/parties/{party.pk}").json()["name"] == "Old"
        response = patch(client, f"/parties/{party.pk}", {"name": "New", "payment_terms_days": 45})
        assert response.status_code == 200, response.content
        assert response.json()["name"] == "New"
        assert response.json()["email"] == "old@example.com"  # untouched
        party.refresh_from_db()
        assert party.payment_terms_days == 45
        response = patch(client, f"/parties/{party.pk}", {"payment_terms_days": 61})
        assert response.status_code == 422 and fields_in(response) == {"payment_terms_days"}
        response = patch(client, f"/parties/{party.pk}", {"payment_terms_days": None})
        assert response.json()["payment_terms_days"] is None
        assert client.delete(f"{API}/parties/{party.pk}").status_code == 204
        party.refresh_from_db()
        assert not party.is_active

    def test_rep_creates_into_own_portfolio_and_cannot_archive(
        self, api_client_for: ApiClientFor, rep: User, other_rep: User
    ) -> None:
        client = api_client_for(rep)
        # Naming another rep is refused, as on a change (it was silently replaced).
        response = post(
            client, "/parties", {"name": "His", "is_prospect": True, "sales_rep_id": other_rep.pk}
        )
        assert response.status_code == 422 and fields_in(response) == {"sales_rep_id"}
        response = post(client, "/parties", {"name": "Mine", "is_prospect": True})
        assert response.json()["sales_rep_id"] == rep.pk
        party_id = response.json()["id"]
        assert client.delete(f"{API}/parties/{party_id}").status_code == 403
        response = patch(client, f"/parties/{party_id}", {"sales_rep_id": None})
        assert response.status_code == 422 and fields_in(response) == {"sales_rep_id"}

    def test_accountant_reads_only(
        self, api_client_for: ApiClientFor, assistant: User, accountant: User
    ) -> None:
        party = PartyFactory(by=assistant)
        client = api_client_for(accountant)
        assert client.get(f"{API}/parties/{party.pk}").status_code == 200
        assert patch(client, f"/parties/{party.pk}", {"name": "X"}).status_code == 403
        assert post(client, "/parties", {"name": "X", "is_customer": True}).status_code == 403


class TestContactsAndAddresses:
    def test_contact_crud(self, api_client_for: ApiClientFor, assistant: User) -> None:
        party = PartyFactory(by=assistant)
        client = api_client_for(assistant)
        response = post(
            client,
            f"/parties/{party.pk}/contacts",
            {"last_name": "Martin", "email": "c.martin@EXAMPLE.com", "functions": ["billing"]},
        )
        assert response.status_code == 201, response.content
        contact_id = response.json()["id"]
        assert response.json()["email"] == "c.martin@example.com"
        assert response.json()["is_primary"] is True
        listed = client.get(f"{API}/parties/{party.pk}/contacts").json()
        assert [c["id"] for c in listed["items"]] == [contact_id]
        response = patch(client, f"/contacts/{contact_id}", {"phone": "12"})
        assert response.status_code == 422 and fields_in(response) == {"phone"}
        response = patch(client, f"/contacts/{contact_id}", {"job_title": "Buyer"})
        assert response.json()["job_title"] == "Buyer"
        assert client.get(f"{API}/contacts/{contact_id}").json()["job_title"] == "Buyer"
        assert client.delete(f"{API}/contacts/{contact_id}").status_code == 204
        assert not Contact.objects.exists()

    def test_address_crud_keeps_one_default(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        party = PartyFactory(by=assistant)
        client = api_client_for(assistant)
        first = post(
            client,
            f"/parties/{party.pk}/addresses",
            {"line1": "1 rue", "postcode": "69002", "city": "Lyon"},
        ).json()
        second = post(
            client,
            f"/parties/{party.pk}/addresses",
            {"line1": "2 rue", "postcode": "75001", "city": "Paris", "is_default": True},
        ).json()
        assert first["is_default"] is True and second["is_default"] is True
        assert client.get(f"{API}/addresses/{first['id']}").json()["is_default"] is False
        assert client.get(f"{API}/parties/{party.pk}").json()["city"] == "Paris"
        response = patch(client, f"/addresses/{second['id']}", {"postcode": "7500"})
        assert response.status_code == 422 and fields_in(response) == {"postcode"}
        assert client.delete(f"{API}/addresses/{second['id']}").status_code == 204
        assert Address.objects.get().is_default
        listed = client.get(f"{API}/parties/{party.pk}/addresses").json()
        assert listed["count"] == 1

    def test_idempotent_contact_creation(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        party = PartyFactory(by=assistant)
        client = api_client_for(assistant)
        for _n in range(2):
            response = post(
                client,
                f"/parties/{party.pk}/contacts",
                {"last_name": "Once"},
                **{"Idempotency-Key": "k1"},
            )
            assert response.status_code == 201
        assert Contact.objects.count() == 1

    def test_factories_work_with_api_reads(
        self, api_client_for: ApiClientFor, assistant: User
    ) -> None:
        contact = ContactFactory(by=assistant)
        address = AddressFactory(party=contact.party, by=assistant)
        client = api_client_for(assistant)
        assert client.get(f"{API}/contacts/{contact.pk}").json()["party_id"] == contact.party_id
        assert client.get(f"{API}/addresses/{address.pk}").json()["party_id"] == contact.party_id


def test_openapi_documents_every_parties_endpoint(client: Client) -> None:
    paths = client.get(API + "/openapi.json").json()["paths"]
    for path in (
        "/parties",
        "/parties/{party_id}",
        "/parties/{party_id}/contacts",
        "/parties/{party_id}/addresses",
        "/contacts/{contact_id}",
        "/addresses/{address_id}",
    ):
        assert API + path in paths
    assert set(paths[API + "/parties/{party_id}"]) == {"get", "patch", "delete"}
