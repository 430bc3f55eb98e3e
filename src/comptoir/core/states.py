"""Move a document from one status to another through its TRANSITIONS table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from comptoir.core.audit import record_audit


def transition(
    obj: models.Model,
    to: str,
    *,
    transitions: Mapping[str, set[str] | frozenset[str]],
    by: Any,
    field: str = "status",
    extra_fields: tuple[str, ...] = (),
) -> None:
    """Check that `obj` may go to status `to`, save it and record the move."""
    current = getattr(obj, field)
    if to not in transitions.get(current, ()):
        labels = dict(getattr(obj._meta.get_field(field), "flatchoices", ()))
        raise ValidationError(
            _("Cannot go from %(from)s to %(to)s.")
            % {"from": labels.get(current, current), "to": labels.get(to, to)},
            code="invalid_transition",
        )
    setattr(obj, field, to)
    obj.save(update_fields=[field, *extra_fields])
    record_audit(by, "transition", obj, **{field: [current, to]})
