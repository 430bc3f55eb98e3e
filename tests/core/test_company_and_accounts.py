"""Company profile, users and roles, login protection and per-user language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from comptoir.core import actions
from comptoir.core.models import AuditEntry, User
from comptoir.core.roles import Role
from comptoir.core.selectors import current_company

pytestmark = pytest.mark.django_db


def test_an_empty_company_lists_every_missing_legal_field() -> None:
    missing = current_company().missing_legal_fields()
    assert "SIREN" in missing
    assert "VAT number" in missing
    assert "RCS city" in missing


def test_share_capital_is_required_for_a_company_with_capital(administrator: User) -> None:
    actions.update_company(by=administrator, legal_form="SAS")
    assert "share capital" in current_company().missing_legal_fields()
    actions.update_company(by=administrator, legal_form="EI")
    assert "share capital" not in current_company().missing_legal_fields()


def test_home_page_tells_which_legal_fields_are_missing(client_for, assistant: User) -> None:
    response = client_for(assistant).get(reverse("home"))
    assert response.status_code == 200
    assert 'id="legal-missing"' in response.content.decode()


def test_company_form_puts_a_precise_message_next_to_a_wrong_siret(
    client_for, manager: User
) -> None:
    response = client_for(manager).post(
        reverse("core:company_edit"),
        {
            "legal_name": "Bureau & Cie",
            "siren": "552100554",
            "siret": "55210055400022",
            "country": "FR",
            "payment_terms_days": "30",
            "payment_terms_base": "net",
        },
    )
    assert response.status_code == 200
    assert "fails its check digit" in response.content.decode()
    assert current_company().legal_name == ""  # nothing half-saved


def test_company_form_refuses_terms_over_the_legal_cap(client_for, manager: User) -> None:
    response = client_for(manager).post(
        reverse("core:company_edit"),
        {
            "legal_name": "X",
            "country": "FR",
            "payment_terms_days": "50",
            "payment_terms_base": "end_of_month",
        },
    )
    assert "45 days end of month" in response.content.decode()


def test_company_profile_saves_normalised_identifiers_and_audits(client_for, manager: User) -> None:
    response = client_for(manager).post(
        reverse("core:company_edit"),
        {
            "legal_name": "Bureau & Cie",
            "legal_form": "SAS",
            "share_capital_amount": "150000",
            "siren": "552 100 554",
            "siret": "552 100 554 00021",
            "vat_number": "FR 96 552100554",
            "rcs_city": "Lyon",
            "address_line1": "12 rue de la Charité",
            "postcode": "69002",
            "city": "Lyon",
            "country": "FR",
            "payment_terms_days": "30",
            "payment_terms_base": "net",
            "late_penalty_text": "x",
            "recovery_indemnity_text": "y",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    company = current_company()
    assert company.siren == "552100554"
    assert company.vat_number == "FR96552100554"
    assert company.share_capital_amount == Decimal("150000")
    assert company.missing_legal_fields() == []
    assert AuditEntry.objects.filter(action="update_company", actor=manager).exists()


@pytest.mark.parametrize("role", [Role.SALES_ASSISTANT, Role.SALES_REP, Role.ACCOUNTANT])
def test_only_administrators_and_managers_change_the_company(
    client_for, make_user, role: str
) -> None:
    response = client_for(make_user(role)).get(reverse("core:company_edit"))
    assert response.status_code == 403


def test_only_administrators_manage_users(client_for, manager: User, administrator: User) -> None:
    assert client_for(manager).get(reverse("core:users")).status_code == 403
    response = client_for(administrator).get(reverse("core:users"))
    assert response.status_code == 200
    assert administrator.username in response.content.decode()


def test_administrator_creates_a_user_with_a_role(client_for, administrator: User) -> None:
    response = client_for(administrator).post(
        reverse("core:user_create"),
        {
            "username": "paul",
            "first_name": "Paul",
            "last_name": "Henry",
            "email": "paul@example.com",
            "role": Role.SALES_REP,
            "language": "en",
            "password1": "Un-mot-de-passe-solide-42",
            "password2": "Un-mot-de-passe-solide-42",
        },
    )
    assert response.status_code == 302
    paul = User.objects.get(username="paul")
    assert paul.role == Role.SALES_REP
    assert paul.check_password("Un-mot-de-passe-solide-42")


def test_the_last_administrator_cannot_stop_being_one(client_for, administrator: User) -> None:
    client = client_for(administrator)
    values = {
        "username": administrator.username,
        "first_name": "A",
        "last_name": "B",
        "email": "a@example.com",
        "language": "en",
        "is_active": "on",
    }
    url = reverse("core:user_edit", args=[administrator.pk])
    response = client.post(url, {**values, "role": Role.ACCOUNTANT})
    assert (
        response.status_code == 200 and "needs an active administrator" in response.content.decode()
    )
    administrator.refresh_from_db()
    assert administrator.role == Role.ADMINISTRATOR
    # With a second administrator, the first may change role.
    User.objects.create_user("second", role=Role.ADMINISTRATOR, password="x-Y-z-123456789")
    assert client.post(url, {**values, "role": Role.ACCOUNTANT}).status_code == 302


def test_no_field_of_a_form_takes_the_focus_back(client_for, administrator: User) -> None:
    """Inline validation sends the username field back after each change: with Django's
    autofocus on it, typing on in the next fields went into the username ("urandarcmarc")."""
    client = client_for(administrator)
    response = client.post(
        reverse("core:user_create"), {"username": "marc"}, HTTP_X_VALIDATE_FIELD="username"
    )
    assert "autofocus" not in response.content.decode()


def test_the_login_form_keeps_the_username_after_a_wrong_password(assistant: User) -> None:
    response = Client().post(reverse("login"), {"username": assistant.username, "password": "no"})
    assert f'value="{assistant.username}"' in response.content.decode()


def test_passwords_are_hashed_with_argon2(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    encoded = make_password("secret-passphrase")
    assert encoded.startswith("argon2$")
    assert check_password("secret-passphrase", encoded)


def test_login_page_logs_in_and_logout_logs_out(assistant: User) -> None:
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": assistant.username, "password": "correct horse battery staple"},
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_the_account(assistant: User) -> None:
    client = Client()
    for _ in range(3):
        client.post(reverse("login"), {"username": assistant.username, "password": "wrong"})
    response = client.post(
        reverse("login"),
        {"username": assistant.username, "password": "correct horse battery staple"},
    )
    assert response.status_code == 429
    assert "locked" in response.content.decode()


def test_password_reset_sends_a_working_link(assistant: User) -> None:
    client = Client()
    client.post(reverse("password_reset"), {"email": assistant.email})
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Nouveau-mot-de-passe-99", "new_password2": "Nouveau-mot-de-passe-99"},
    )
    assert response.status_code == 302
    assistant.refresh_from_db()
    assert assistant.check_password("Nouveau-mot-de-passe-99")


def test_password_change(client_for, assistant: User) -> None:
    client = client_for(assistant)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery staple",
            "new_password1": "Autre-mot-de-passe-77",
            "new_password2": "Autre-mot-de-passe-77",
        },
    )
    assert response.status_code == 302
    assistant.refresh_from_db()
    assert assistant.check_password("Autre-mot-de-passe-77")


def test_the_ui_speaks_the_users_language(client_for, make_user) -> None:
    french = make_user(Role.SALES_ASSISTANT, language="fr")
    english = make_user(Role.SALES_ASSISTANT, language="en")
    assert "Déconnexion" in client_for(french).get(reverse("home")).content.decode()
    assert "Log out" in client_for(english).get(reverse("home")).content.decode()


def test_pages_send_a_content_security_policy(client_for, assistant: User) -> None:
    response = client_for(assistant).get(reverse("home"))
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_anonymous_users_are_sent_to_the_login_page() -> None:
    response = Client().get(reverse("core:company"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_switching_language_confirms_in_the_new_language(client_for, make_user) -> None:
    french = make_user(Role.SALES_ASSISTANT, language="fr")
    client = client_for(french)
    response = client.post(
        reverse("core:profile"),
        {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.fr", "language": "en"},
        follow=True,
    )
    page = response.content.decode()
    assert "Profile saved." in page and "Profil enregistré." not in page


def test_user_and_dunning_forms_have_a_way_back(client_for, administrator: User) -> None:
    client = client_for(administrator)
    users = reverse("core:users")
    for url in (reverse("core:user_create"), reverse("core:user_edit", args=[administrator.pk])):
        assert f'<a class="btn btn-link" href="{users}">' in client.get(url).content.decode()
    policies = reverse("dunning:policies")
    page = client.get(reverse("dunning:policy_create")).content.decode()
    assert f'<a class="btn btn-link" href="{policies}">' in page
