"""Invoice statuses and the moves allowed between them.

Payment states (partly paid, paid, written off) arrive with the payments app; they will be a
separate field that may change on an issued invoice (``Invoice.MUTABLE_AFTER_ISSUE``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")


TRANSITIONS: dict[str, frozenset[str]] = {
    InvoiceStatus.DRAFT: frozenset({InvoiceStatus.ISSUED}),
    InvoiceStatus.ISSUED: frozenset(),
}
