"""Core writes: the company profile, users and API tokens. Each is atomic and audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.core.audit import changed_fields, record_audit
from comptoir.core.models import ApiToken, Company, User
from comptoir.core.roles import Role
from comptoir.core.selectors import current_company


@transaction.atomic
def update_company(*, by: Any, **values: Any) -> Company:
    """Change the seller's profile fields."""
    company = current_company()
    diff = changed_fields(company, {k: v for k, v in values.items() if k != "logo"})
    for name, value in values.items():
        setattr(company, name, value)
    company.full_clean()
    company.save()
    record_audit(by, "update_company", company, **diff)
    return company


@transaction.atomic
def create_user(*, by: Any, username: str, password: str | None, role: str, **fields: Any) -> User:
    """Create a user with a role; `password=None` makes an account that must reset it."""
    user = User(username=username, role=role, **fields)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    record_audit(by, "create_user", user, role=role)
    return user


@transaction.atomic
def update_user(user: User, *, by: Any, **values: Any) -> User:
    """Change a user's profile, role, language or active flag.

    The last active administrator keeps that role: without one, nobody could manage users.
    """
    stays_admin = values.get("role", user.role) == Role.ADMINISTRATOR and values.get(
        "is_active", user.is_active
    )
    if user.role == Role.ADMINISTRATOR and user.is_active and not stays_admin:
        others = User.objects.filter(role=Role.ADMINISTRATOR, is_active=True).exclude(pk=user.pk)
        if not others.exists():
            raise ValidationError(
                {"role": _("Comptoir needs an active administrator: name another one first.")}
            )
    diff = changed_fields(user, values)
    for name, value in values.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(values) or None)
    record_audit(by, "update_user", user, **diff)
    return user


@transaction.atomic
def create_api_token(user: User, *, name: str, by: Any) -> tuple[ApiToken, str]:
    """Create a personal API token; return it with the only copy of its secret."""
    raw = ApiToken.new_raw_token()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[4:10], digest=ApiToken.digest_of(raw)
    )
    record_audit(by, "create_api_token", token)
    return token, raw


@transaction.atomic
def revoke_api_token(token: ApiToken, *, by: Any) -> ApiToken:
    """Revoke a token at once; requests that carry it get 401 from then on."""
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_audit(by, "revoke_api_token", token)
    return token
