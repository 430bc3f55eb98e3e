"""Write the audit trail: one entry per user-visible change, from actions only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from comptoir.core.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def record_audit(
    actor: Any, action: str, obj: models.Model | None = None, **changes: Any
) -> AuditEntry:
    """Record that `actor` did `action` to `obj`, with the changed values."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes={key: _jsonable(value) for key, value in changes.items()},
    )


def changed_fields(instance: models.Model, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Return {field: [old, new]} for the values that differ from the instance's."""
    diff: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(instance, name)
        if old != new:
            diff[name] = [_jsonable(old), _jsonable(new)]
    return diff


def history_for(obj: models.Model) -> models.QuerySet[AuditEntry]:
    """Return the audit entries of one row, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("actor")
