"""Invoices, credit notes and down-payment invoices, with their lines.

A draft can change freely. Once issued (legal number, snapshot of both parties, totals, hash
chained to the previous document), a row and its lines refuse every change through the ORM:
``save()``, ``delete()`` and queryset ``update()``/``delete()`` raise ``IssuedDocumentError``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.core.models import PaymentTermsBase
from comptoir.invoicing.states import InvoiceStatus

ZERO = Decimal("0.00")


class IssuedDocumentError(ValidationError):
    """An issued invoice or credit note was about to change."""

    def __init__(self, message: Any = None) -> None:
        super().__init__(
            message
            or _("An issued invoice or credit note cannot be changed; issue a credit note."),
            code="issued_document",
        )


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    DOWN_PAYMENT = "down_payment", _("Down-payment invoice")


# UNTDID 1001 document type codes (BT-3).
TYPE_CODES = {
    InvoiceKind.INVOICE: "380",
    InvoiceKind.CREDIT_NOTE: "381",
    InvoiceKind.DOWN_PAYMENT: "386",
}
# Number series per kind: down-payment invoices are invoices and share their series.
SERIES = {
    InvoiceKind.INVOICE: "FA",
    InvoiceKind.DOWN_PAYMENT: "FA",
    InvoiceKind.CREDIT_NOTE: "AV",
}


class OperationCategory(models.TextChoices):
    """Nature of the operation, a mandatory mention since the 2026 reform (BT-23 first letter)."""

    GOODS = "goods", _("Delivery of goods")
    SERVICES = "services", _("Provision of services")
    MIXED = "mixed", _("Mixed (goods and services)")


class InvoiceQuerySet(models.QuerySet["Invoice"]):
    def issued(self) -> InvoiceQuerySet:
        return self.filter(status=InvoiceStatus.ISSUED)

    def drafts(self) -> InvoiceQuerySet:
        return self.filter(status=InvoiceStatus.DRAFT)

    def update(self, **kwargs: Any) -> int:
        if set(kwargs) - Invoice.MUTABLE_AFTER_ISSUE and self.issued().exists():
            raise IssuedDocumentError()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.issued().exists():
            raise IssuedDocumentError()
        return super().delete()


class Invoice(models.Model):
    """An invoice, a down-payment invoice or a credit note (``kind``)."""

    # Fields a later app may change on an issued document (payment state); none yet.
    MUTABLE_AFTER_ISSUE: frozenset[str] = frozenset()

    kind = models.CharField(
        _("kind"), max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InvoiceStatus.choices,
        default=InvoiceStatus.DRAFT,
        db_index=True,
    )
    number = models.CharField(_("number"), max_length=35, null=True, blank=True, unique=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True, db_index=True)
    supply_date = models.DateField(
        _("delivery or service date"),
        null=True,
        blank=True,
        help_text=_("Empty: the issue date."),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    party = models.ForeignKey(
        "parties.Party",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    billing_address = models.ForeignKey(
        "parties.Address",
        verbose_name=_("billing address"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    delivery_address = models.ForeignKey(
        "parties.Address",
        verbose_name=_("delivery address"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Legal data of both parties as they were at issue: later edits of the company profile or
    # of the customer never change an issued document.
    seller = models.JSONField(_("seller"), default=dict, blank=True)
    buyer = models.JSONField(_("buyer"), default=dict, blank=True)
    buyer_name = models.CharField(_("customer name"), max_length=200, blank=True, db_index=True)
    operation_category = models.CharField(
        _("operation category"),
        max_length=16,
        choices=OperationCategory.choices,
        default=OperationCategory.GOODS,
    )
    vat_on_debits = models.BooleanField(_("VAT on debits"), default=False)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), null=True, blank=True
    )
    payment_terms_base = models.CharField(
        _("payment terms base"),
        max_length=16,
        choices=PaymentTermsBase.choices,
        blank=True,
    )
    discount_rate = models.DecimalField(
        _("document discount (%)"), max_digits=5, decimal_places=2, default=ZERO
    )
    buyer_reference = models.CharField(_("customer reference"), max_length=100, blank=True)
    purchase_order_reference = models.CharField(
        _("purchase order reference"), max_length=100, blank=True
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrected invoice"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
    )
    notes = models.TextField(_("notes"), blank=True)
    # Totals (EN 16931 BT-106 … BT-115), computed by calculations.invoice_totals.
    lines_net_amount = models.DecimalField(
        _("total of lines"), max_digits=14, decimal_places=2, default=ZERO
    )
    allowance_amount = models.DecimalField(
        _("document discount"), max_digits=14, decimal_places=2, default=ZERO
    )
    tax_basis_amount = models.DecimalField(
        _("total excl. VAT"), max_digits=14, decimal_places=2, default=ZERO
    )
    vat_amount = models.DecimalField(_("VAT"), max_digits=14, decimal_places=2, default=ZERO)
    total_amount = models.DecimalField(
        _("total incl. VAT"), max_digits=14, decimal_places=2, default=ZERO
    )
    prepaid_amount = models.DecimalField(
        _("already paid"), max_digits=14, decimal_places=2, default=ZERO
    )
    due_amount = models.DecimalField(_("amount due"), max_digits=14, decimal_places=2, default=ZERO)
    vat_breakdown = models.JSONField(_("VAT breakdown"), default=list, blank=True)
    # Hash chain: every issued document, whatever its series, takes the next chain index.
    chain_index = models.PositiveIntegerField(null=True, blank=True, unique=True, editable=False)
    previous_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True, editable=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-number", "-pk"]
        indexes = [
            models.Index(fields=["party", "-issue_date"], name="invoice_party_date_idx"),
            models.Index(fields=["status", "-created_at"], name="invoice_status_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=InvoiceStatus.DRAFT, number__isnull=True)
                | models.Q(
                    status=InvoiceStatus.ISSUED,
                    number__isnull=False,
                    issue_date__isnull=False,
                    chain_index__isnull=False,
                ),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InvoiceKind.CREDIT_NOTE)
                | models.Q(corrects__isnull=False),
                name="credit_note_corrects_invoice",
            ),
        ]

    def __str__(self) -> str:
        if self.number:
            return self.number
        return str(_("Draft %(kind)s #%(pk)s") % {"kind": self.get_kind_display(), "pk": self.pk})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "_loaded_status", None) == InvoiceStatus.ISSUED:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or set(update_fields) - self.MUTABLE_AFTER_ISSUE:
                raise IssuedDocumentError()
        super().save(*args, **kwargs)
        self._loaded_status = self.status

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.is_issued or getattr(self, "_loaded_status", None) == InvoiceStatus.ISSUED:
            raise IssuedDocumentError()
        return super().delete(*args, **kwargs)

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Invoice:
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    @property
    def is_issued(self) -> bool:
        return self.status == InvoiceStatus.ISSUED

    @property
    def allowance_basis_amount(self) -> Decimal:
        """What the document discount is a percentage of (the BT-93 of every VAT group).

        The total of lines, except on a final invoice: the lines that deduct a down payment
        stay out of the base (the down payment was taken on the discounted amount).
        """
        return sum(
            (
                Decimal(group.get("allowance_basis_amount", group["lines_net_amount"]))
                for group in self.vat_breakdown
            ),
            ZERO,
        )

    @property
    def discount_base_differs(self) -> bool:
        """Whether the discount is not a percentage of the total of lines, so print its base."""
        return bool(self.discount_rate) and self.allowance_basis_amount != self.lines_net_amount

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def type_code(self) -> str:
        return TYPE_CODES[InvoiceKind(self.kind)]


class InvoiceLineQuerySet(models.QuerySet["InvoiceLine"]):
    def update(self, **kwargs: Any) -> int:
        if self.filter(invoice__status=InvoiceStatus.ISSUED).exists():
            raise IssuedDocumentError()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(invoice__status=InvoiceStatus.ISSUED).exists():
            raise IssuedDocumentError()
        return super().delete()


class InvoiceLine(models.Model):
    """One line: what, how many, at what price, and its VAT as it was when written."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    # PROTECT: a product that was invoiced is deactivated, never deleted.
    product = models.ForeignKey(
        "catalogue.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoice_lines",
    )
    product_reference = models.CharField(_("product reference"), max_length=40, blank=True)
    label = models.CharField(_("label"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_code = models.CharField(
        _("unit"), max_length=3, default="C62", help_text=_("UN/ECE Rec. 20 code")
    )
    unit_price = models.DecimalField(_("unit price excl. VAT"), max_digits=14, decimal_places=4)
    discount_rate = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=ZERO
    )
    allowance_amount = models.DecimalField(
        _("discount amount"), max_digits=14, decimal_places=2, default=ZERO
    )
    vat_rate_code = models.CharField(_("VAT rate code"), max_length=30, blank=True)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    vat_category = models.CharField(_("VAT category"), max_length=2, default="S")
    vat_exemption_reason = models.CharField(_("exemption reason"), max_length=200, blank=True)
    vat_exemption_code = models.CharField(_("exemption code"), max_length=30, blank=True)
    net_amount = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2, default=ZERO)
    # A credit-note line points at the line it credits; a final invoice's deduction line
    # points at the down-payment invoice it deducts.
    credited_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_lines"
    )
    deducted_invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="deductions"
    )

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._invoice_is_issued():
            raise IssuedDocumentError()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._invoice_is_issued():
            raise IssuedDocumentError()
        return super().delete(*args, **kwargs)

    def _invoice_is_issued(self) -> bool:
        # Read the status from the database: the in-memory invoice may be stale on purpose.
        return Invoice.objects.filter(pk=self.invoice_id, status=InvoiceStatus.ISSUED).exists()


from comptoir.invoicing.order_links import InvoicingRun, OrderInvoiceLink  # noqa: E402, F401
