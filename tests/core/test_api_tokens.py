"""API tokens: only the digest is stored, revocation is immediate."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from comptoir.core import actions
from comptoir.core.models import ApiToken, User

pytestmark = pytest.mark.django_db


def test_only_the_digest_is_stored(assistant: User) -> None:
    token, raw = actions.create_api_token(assistant, name="ERP", by=assistant)
    assert raw not in {token.digest, token.prefix}
    assert ApiToken.objects.get(digest=ApiToken.digest_of(raw)) == token


def test_a_revoked_token_gets_401(assistant: User) -> None:
    token, raw = actions.create_api_token(assistant, name="ERP", by=assistant)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/v1/openapi.json").status_code == 200
    actions.revoke_api_token(token, by=assistant)
    assert (
        Client().get("/api/v1/parties", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 401
    )


def test_tokens_page_shows_the_secret_once(client_for, assistant: User) -> None:
    client = client_for(assistant)
    response = client.post(reverse("core:api_tokens"), {"name": "Tableur"})
    assert 'id="raw-token"' in response.content.decode()
    assert 'id="raw-token"' not in client.get(reverse("core:api_tokens")).content.decode()


def test_api_docs_page_is_served_without_a_cdn(client_for, assistant: User) -> None:
    response = client_for(assistant).get("/api/v1/docs")
    assert response.status_code == 200
    body = response.content.decode()
    assert "cdn." not in body
    assert "unpkg" not in body
