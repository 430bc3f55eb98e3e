"""Error pages speak the user's language (French by default) in the app's look, DEBUG off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path, reverse

from comptoir.core.models import User
from comptoir.core.roles import Role
from comptoir.urls import urlpatterns as app_urlpatterns


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _bad(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("forged")


# The application's URLs and two views that fail, for the 500 and 400 pages.
urlpatterns = [path("crash/", _crash), path("bad/", _bad), *app_urlpatterns]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def _production_french(settings: Any) -> None:
    """An installation as shipped: DEBUG off, French by default."""
    settings.LANGUAGE_CODE = "fr"


@pytest.fixture
def french_user(make_user: Callable[..., User]) -> User:
    return make_user(Role.SALES_REP, language="fr")


@override_settings(DEBUG=False)
def test_unknown_address_shows_the_french_page_not_found() -> None:
    response = Client().get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="fr">' in html
    assert "Page introuvable" in html
    assert f'href="{reverse("home")}" id="error-home"' in html
    assert "Not Found" not in html


@override_settings(DEBUG=False)
def test_page_not_found_keeps_the_menu_of_a_logged_in_user(
    client_for: Callable[[User], Client], french_user: User
) -> None:
    response = client_for(french_user).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page introuvable" in html
    assert 'id="nav-account"' in html
    assert 'id="logout"' in html


@override_settings(DEBUG=False)
def test_permission_denied_shows_the_french_page_in_the_layout(
    client_for: Callable[[User], Client], french_user: User
) -> None:
    # A sales rep may not open the GDPR register: the view raises PermissionDenied.
    response = client_for(french_user).get(reverse("customerfile:gdpr"))
    html = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="fr">' in html
    assert "Accès refusé" in html
    assert "demandez à un administrateur" in html
    assert 'id="nav-account"' in html
    assert "403 Forbidden" not in html


@override_settings(DEBUG=False)
def test_server_error_page_needs_no_database(
    django_assert_num_queries: Callable[..., Any],
) -> None:
    client = Client(raise_request_exception=False)
    with django_assert_num_queries(0):
        response = client.get("/crash/")
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="fr">' in html
    assert "Erreur du serveur" in html
    assert "comptoir/comptoir.css" in html
    assert 'id="error-home"' in html


@override_settings(DEBUG=False)
def test_bad_request_page_is_french() -> None:
    response = Client().get("/bad/")
    assert response.status_code == 400
    assert "Requête incorrecte" in response.content.decode()


@override_settings(DEBUG=False)
def test_csrf_failure_page_is_french() -> None:
    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "x", "password": "y"}
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert "Le formulaire" in html and "pas pu être envoyé" in html
    assert "CSRF verification failed" not in html
