"""Template context shared by every page: the navigation and the user's role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from comptoir.core.roles import role_of


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {"user_role": role_of(user)}
