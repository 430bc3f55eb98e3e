"""The archive: every generated document, stored once, with its checksum and business object."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What each kind of archived document is called on screen; an unknown kind shows as stored.
KIND_LABELS = {
    "invoice_pdf": _("Invoice"),
    "credit_note_pdf": _("Credit note"),
    "down_payment_pdf": _("Down-payment invoice"),
    "quote_pdf": _("Quote"),
    "order_acknowledgement_pdf": _("Order acknowledgement"),
    "delivery_note_pdf": _("Delivery note"),
    "reminder_pdf": _("Payment reminder"),
    "formal_notice_pdf": _("Formal notice"),
    "statement_of_account_pdf": _("Statement of account"),
}


class ArchivedDocument(models.Model):
    """A file we produced (invoice PDF, XML…), kept unchanged for the legal retention period."""

    reference = models.CharField(_("reference"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    filename = models.CharField(_("file name"), max_length=200)
    mime_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    checksum = models.CharField(_("SHA-256"), max_length=64)
    # Path under ARCHIVE_ROOT, generated: never derived from user input.
    path = models.CharField(max_length=200, unique=True, editable=False)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    business_object = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("archived document")
        verbose_name_plural = _("archived documents")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="archive_object_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError(_("An archived document is never changed."))
        super().save(*args, **kwargs)

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.kind, self.kind))
