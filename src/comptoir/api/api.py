"""The REST API object: token auth, error shapes, and the apps' routers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from comptoir.core.models import ApiToken, IdempotencyRecord


class TokenAuth(HttpBearer):
    """Authenticate `Authorization: Bearer cpt_…` against the stored token digests."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            record = ApiToken.objects.select_related("user").get(
                digest=ApiToken.digest_of(token), revoked_at__isnull=True
            )
        except ApiToken.DoesNotExist:
            return None
        if not record.user.is_active:
            return None
        now = timezone.now()
        if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        request.user = record.user
        return record.user


api = NinjaAPI(
    title="Comptoir API",
    version="1",
    description="Customers, contacts, addresses, products and price lists of Comptoir.",
    auth=TokenAuth(),
    urls_namespace="api",
)


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": message}
            for field, errors in exc.message_dict.items()
            for message in errors
        ]
    return [{"field": None, "message": message} for message in exc.messages]


@api.exception_handler(ValidationError)
def django_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": _field_errors(exc)}, status=422)


@api.exception_handler(NinjaValidationError)
def schema_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = []
    for error in exc.errors:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query")
        ]
        details.append({"field": ".".join(location) or None, "message": error.get("msg", "")})
    return api.create_response(request, {"detail": details}, status=422)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": "You may not do this."}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "A valid API token is required."}, status=401)


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Replay the first response of a creating POST that carries the same Idempotency-Key.

    The view must return ``(status, body)``; the body is stored as JSON with the key.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(request, *args, **kwargs)
        previous = IdempotencyRecord.objects.filter(
            user=request.user, key=key, path=request.path
        ).first()
        if previous is not None:
            # Replay the stored JSON as is: it is already the serialised response.
            return api.create_response(request, previous.body, status=previous.status_code)
        with transaction.atomic():
            status, body = view(request, *args, **kwargs)
            payload = body.model_dump(mode="json") if hasattr(body, "model_dump") else body
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        path=request.path,
                        status_code=status,
                        body=payload,
                    )
            except IntegrityError:
                # A concurrent retry stored first: undo our write and replay theirs.
                transaction.set_rollback(True)
                previous = IdempotencyRecord.objects.get(
                    user=request.user, key=key, path=request.path
                )
                return api.create_response(request, previous.body, status=previous.status_code)
        return api.create_response(request, payload, status=status)

    return wrapper


def _register_routers() -> None:
    from comptoir.catalogue.api import router as catalogue_router
    from comptoir.parties.api import router as parties_router

    api.add_router("/", parties_router)
    api.add_router("/", catalogue_router)
    api.add_router("/", __import__("comptoir.invoicing.api", fromlist=["router"]).router)
    api.add_router("/", __import__("comptoir.sales.api", fromlist=["router"]).router)
    api.add_router("/", __import__("comptoir.stock.api", fromlist=["router"]).router)
    api.add_router("/", __import__("comptoir.payments.api", fromlist=["router"]).router)
    api.add_router("/", __import__("comptoir.dunning.api", fromlist=["router"]).router)
    api.add_router("/", __import__("comptoir.customerfile.api", fromlist=["router"]).router)


_register_routers()
