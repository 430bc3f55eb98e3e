"""Roles and the predicates every view and endpoint uses to check access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rules
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_ASSISTANT = "sales_assistant", _("Sales assistant")
    SALES_REP = "sales_rep", _("Sales rep")
    ACCOUNTANT = "accountant", _("Accountant")


def role_of(user: Any) -> str | None:
    """Return the user's role, or None for anonymous or inactive users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMINISTRATOR
    return str(user.role)


def _has_role(role: str) -> Callable[[Any], bool]:
    def check(user: Any) -> bool:
        return role_of(user) == role

    check.__name__ = f"is_{role}"
    return check


def _has_any_role(user: Any) -> bool:
    return role_of(user) is not None


is_administrator = rules.predicate(_has_role(Role.ADMINISTRATOR))
is_sales_manager = rules.predicate(_has_role(Role.SALES_MANAGER))
is_sales_assistant = rules.predicate(_has_role(Role.SALES_ASSISTANT))
is_sales_rep = rules.predicate(_has_role(Role.SALES_REP))
is_accountant = rules.predicate(_has_role(Role.ACCOUNTANT))
is_any_role = rules.predicate(_has_any_role)

# Who may change the whole customer base, the catalogue and the price lists.
is_back_office = is_administrator | is_sales_manager | is_sales_assistant
# Who reads everything (the accountant reads, and records payments in later issues).
reads_everything = is_back_office | is_accountant

rules.add_perm("core.view_company", is_any_role)
rules.add_perm("core.change_company", is_administrator | is_sales_manager)
rules.add_perm("core.manage_users", is_administrator)
