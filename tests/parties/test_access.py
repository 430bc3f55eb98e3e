"""Every parties URL and API endpoint that takes an object id keeps a rep out of others' portfolios.

The tests walk the URL patterns and the API router themselves, so a new screen or endpoint
that takes an id fails here until its expected answers are written down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from comptoir.core.models import User
from comptoir.parties import urls as party_urls
from comptoir.parties.api import router
from comptoir.parties.models import Address, Contact, Party
from tests.factories import AddressFactory, ContactFactory, PartyFactory

pytestmark = pytest.mark.django_db

# URL name -> (method, status for the rep's own object). Someone else's object: always 404.
PAGE_EXPECTATIONS: dict[str, tuple[str, int]] = {
    "detail": ("get", 200),
    "edit": ("get", 200),
    "archive": ("post", 403),  # archiving is for the back office
    "restore": ("post", 403),
    "contact_create": ("get", 200),
    "contact_edit": ("get", 200),
    "contact_remove": ("post", 302),
    "address_create": ("get", 200),
    "address_edit": ("get", 200),
    "address_remove": ("post", 302),
}
# Form pages also refuse a POST on someone else's object.
FORM_PAGES = {"edit", "contact_create", "contact_edit", "address_create", "address_edit"}

# (method, path template) -> (body, status for the rep's own object).
API_EXPECTATIONS: dict[tuple[str, str], tuple[dict[str, Any] | None, int]] = {
    ("GET", "/parties/{party_id}"): (None, 200),
    ("PATCH", "/parties/{party_id}"): ({"notes": "Seen"}, 200),
    ("DELETE", "/parties/{party_id}"): (None, 403),
    ("GET", "/parties/{party_id}/contacts"): (None, 200),
    ("POST", "/parties/{party_id}/contacts"): ({"last_name": "New"}, 201),
    ("GET", "/parties/{party_id}/addresses"): (None, 200),
    (
        "POST",
        "/parties/{party_id}/addresses",
    ): ({"line1": "1 rue", "postcode": "75001", "city": "Paris"}, 201),
    ("GET", "/contacts/{contact_id}"): (None, 200),
    ("PATCH", "/contacts/{contact_id}"): ({"job_title": "Buyer"}, 200),
    ("DELETE", "/contacts/{contact_id}"): (None, 204),
    ("GET", "/addresses/{address_id}"): (None, 200),
    ("PATCH", "/addresses/{address_id}"): ({"label": "HQ"}, 200),
    ("DELETE", "/addresses/{address_id}"): (None, 204),
}


def portfolio(rep: User) -> dict[str, int]:
    """A party of the rep's, with a contact and an address; return the ids by URL kwarg."""
    party = PartyFactory(by=rep)
    contact = ContactFactory(party=party, by=rep)
    address = AddressFactory(party=party, by=rep)
    ids = {"pk": party.pk, "party_id": party.pk}
    ids.update(contact_pk=contact.pk, contact_id=contact.pk)
    ids.update(address_pk=address.pk, address_id=address.pk)
    return ids


def patterns_with_ids() -> dict[str, URLPattern]:
    return {
        p.name: p
        for p in party_urls.urlpatterns
        if isinstance(p, URLPattern) and p.pattern.regex.groupindex and p.name
    }


def api_operations_with_ids() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, view in router.path_operations.items()
        if "{" in path
        for operation in view.operations
        for method in operation.methods
    }


def test_every_page_and_endpoint_with_an_id_has_expectations() -> None:
    assert set(patterns_with_ids()) == set(PAGE_EXPECTATIONS)
    assert api_operations_with_ids() == set(API_EXPECTATIONS)


def page_url(name: str, ids: dict[str, int]) -> str:
    pattern = patterns_with_ids()[name]
    kwargs = {key: ids[key] for key in pattern.pattern.regex.groupindex}
    return reverse(f"parties:{name}", kwargs=kwargs)


def snapshot() -> tuple[Any, ...]:
    return (
        list(Party.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(Address.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize("name", sorted(PAGE_EXPECTATIONS))
def test_pages_refuse_another_reps_objects(
    name: str, rep: User, other_rep: User, client_for: Callable[[User], Client]
) -> None:
    theirs = portfolio(other_rep)
    mine = portfolio(rep)
    client = client_for(rep)
    method, own_status = PAGE_EXPECTATIONS[name]
    before = snapshot()
    response = getattr(client, method)(page_url(name, theirs))
    assert response.status_code in (403, 404), name
    if name in FORM_PAGES:
        response = client.post(page_url(name, theirs), {"last_name": "Hacked", "name": "Hacked"})
        assert response.status_code in (403, 404), name
    assert snapshot() == before, f"{name} changed someone else's data"
    response = getattr(client, method)(page_url(name, mine))
    assert response.status_code == own_status, name


@pytest.mark.parametrize(("method", "path"), sorted(API_EXPECTATIONS))
def test_api_refuses_another_reps_objects(
    method: str,
    path: str,
    rep: User,
    other_rep: User,
    api_client_for: Callable[[User], Client],
) -> None:
    theirs = portfolio(other_rep)
    mine = portfolio(rep)
    client = api_client_for(rep)
    body, own_status = API_EXPECTATIONS[(method, path)]

    def call(ids: dict[str, int]) -> Any:
        url = "/api/v1" + re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        data = json.dumps(body) if body is not None else None
        return client.generic(method, url, data or "", content_type="application/json")

    before = snapshot()
    assert call(theirs).status_code == 404
    assert snapshot() == before
    assert call(mine).status_code == own_status


def test_list_endpoints_show_only_the_reps_portfolio(
    rep: User, other_rep: User, api_client_for: Callable[[User], Client]
) -> None:
    mine = portfolio(rep)
    portfolio(other_rep)
    client = api_client_for(rep)
    items = client.get("/api/v1/parties").json()["items"]
    assert [item["id"] for item in items] == [mine["pk"]]
    assert client.get("/api/v1/parties", {"sales_rep": other_rep.pk}).json()["count"] == 0


def test_accountant_and_back_office_reach_everything(
    accountant: User, manager: User, rep: User, client_for: Callable[[User], Client]
) -> None:
    ids = portfolio(rep)
    for user, edit_status in ((accountant, 403), (manager, 200)):
        client = client_for(user)
        assert client.get(page_url("detail", ids)).status_code == 200
        assert client.get(page_url("edit", ids)).status_code == edit_status
        assert client.get(page_url("contact_edit", ids)).status_code == edit_status
        assert client.get(page_url("address_edit", ids)).status_code == edit_status
