"""Payments, allocations, settlements, payment schedules, bank statements and SEPA rows.

Issued invoices are immutable (invoicing refuses any change), so what was paid on each lives
here: one ``InvoiceSettlement`` row per issued invoice or credit note, kept by the actions of
this app in the same transaction as the allocation that changes it. It is a cache of the
allocations with the columns dunning and the aged balance filter on (open amount, state, due
date, party), indexed so that a run over 100,000 invoices reads one index range instead of
summing allocations per invoice.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.core import identifiers

ZERO = Decimal("0.00")


def _amount(label: str, **kwargs: object) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(label, max_digits=14, decimal_places=2, **kwargs)  # type: ignore[arg-type]


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Transfer")
    CHEQUE = "cheque", _("Cheque")
    CARD = "card", _("Card")
    CASH = "cash", _("Cash")
    DIRECT_DEBIT = "direct_debit", _("Direct debit")


class PaymentDirection(models.TextChoices):
    RECEIPT = "receipt", _("Received from the customer")
    REFUND = "refund", _("Refunded to the customer")


class PaymentState(models.TextChoices):
    ISSUED = "issued", _("Issued")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")


class Payment(models.Model):
    """Money received from (or refunded to) a party; the part not allocated is its credit."""

    party = models.ForeignKey(
        "parties.Party", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    direction = models.CharField(
        _("direction"),
        max_length=8,
        choices=PaymentDirection.choices,
        default=PaymentDirection.RECEIPT,
    )
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    date = models.DateField(_("date"), db_index=True)
    amount = _amount(_("amount"))
    allocated_amount = _amount(_("allocated"), default=ZERO)
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    payer_iban = models.CharField(_("payer IBAN"), max_length=34, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    statement_line = models.OneToOneField(
        "payments.StatementLine",
        verbose_name=_("bank statement line"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-date", "-pk"]
        indexes = [models.Index(fields=["party", "-date"], name="payment_party_date_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=models.Q(allocated_amount__gte=0)
                & models.Q(allocated_amount__lte=models.F("amount")),
                name="payment_allocated_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.date:%d/%m/%Y} {self.amount} €"

    @property
    def unallocated_amount(self) -> Decimal:
        return self.amount - self.allocated_amount


class Allocation(models.Model):
    """Part of a payment (or of a credit note, as an offset) settling one invoice."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="allocations"
    )
    credit_note = models.ForeignKey(
        "invoicing.Invoice",
        verbose_name=_("credit note"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    invoice = models.ForeignKey(
        "invoicing.Invoice", verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="+"
    )
    amount = _amount(_("amount"))
    date = models.DateField(_("date"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_positive"),
            models.CheckConstraint(
                condition=models.Q(payment__isnull=False, credit_note__isnull=True)
                | models.Q(payment__isnull=True, credit_note__isnull=False),
                name="allocation_one_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} € → {self.invoice_id}"


class InvoiceSettlement(models.Model):
    """What was paid on one issued invoice or credit note, and its payment state."""

    invoice = models.OneToOneField(
        "invoicing.Invoice",
        primary_key=True,
        on_delete=models.PROTECT,
        related_name="settlement",
    )
    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16)
    number = models.CharField(_("number"), max_length=35)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    total_amount = _amount(_("total incl. VAT"))
    paid_amount = _amount(_("paid"), default=ZERO)
    open_amount = _amount(_("open"))
    state = models.CharField(
        _("payment state"), max_length=16, choices=PaymentState.choices, default=PaymentState.ISSUED
    )
    last_payment_date = models.DateField(_("last payment"), null=True, blank=True)
    has_schedule = models.BooleanField(_("payment schedule"), default=False)

    class Meta:
        verbose_name = _("invoice settlement")
        verbose_name_plural = _("invoice settlements")
        ordering = ["due_date", "number"]
        indexes = [
            models.Index(fields=["state", "due_date"], name="settlement_state_due_idx"),
            models.Index(fields=["party", "state"], name="settlement_party_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.get_state_display()}"


class Instalment(models.Model):
    """One instalment of an invoice's payment schedule, with its own due date."""

    invoice = models.ForeignKey(
        "invoicing.Invoice", on_delete=models.PROTECT, related_name="instalments"
    )
    position = models.PositiveSmallIntegerField(_("position"))
    due_date = models.DateField(_("due date"))
    amount = _amount(_("amount"))

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "position"], name="instalment_unique_position"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="instalment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.due_date} {self.amount} €"


# -- bank statements --------------------------------------------------------------------------


class BankFileFormat(models.TextChoices):
    CAMT053 = "camt053", "CAMT.053"
    OFX = "ofx", "OFX"
    CFONB120 = "cfonb120", "CFONB 120"


class StatementLineStatus(models.TextChoices):
    UNMATCHED = "unmatched", _("Unmatched")
    MATCHED = "matched", _("Matched")
    IGNORED = "ignored", _("Ignored")


class BankStatement(models.Model):
    """One imported bank file's statement: an account over a period, with its lines."""

    format = models.CharField(_("format"), max_length=10, choices=BankFileFormat.choices)
    account = models.CharField(_("account"), max_length=40)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("to"))
    opening_balance = _amount(_("opening balance"), null=True, blank=True)
    closing_balance = _amount(_("closing balance"), null=True, blank=True)
    filename = models.CharField(_("file name"), max_length=200)
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now, editable=False)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-end_date", "-pk"]

    def __str__(self) -> str:
        return f"{self.account} {self.start_date:%d/%m/%Y}–{self.end_date:%d/%m/%Y}"


class StatementLine(models.Model):
    """One movement on a statement; credits are matched to invoices and become payments."""

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    file_line = models.PositiveIntegerField(_("line in file"))
    booking_date = models.DateField(_("date"), db_index=True)
    value_date = models.DateField(_("value date"), null=True, blank=True)
    amount = _amount(_("amount"))
    label = models.CharField(_("label"), max_length=500, blank=True)
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    counterparty_name = models.CharField(_("counterparty"), max_length=140, blank=True)
    counterparty_iban = models.CharField(_("counterparty IBAN"), max_length=34, blank=True)
    # SHA-256 of the account, dates, amount, texts and rank among identical movements: the
    # same movement imported twice (in the same file or another) hits this UNIQUE index.
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=StatementLineStatus.choices,
        default=StatementLineStatus.UNMATCHED,
        db_index=True,
    )

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["booking_date", "pk"]

    def __str__(self) -> str:
        return f"{self.booking_date:%d/%m/%Y} {self.amount} {self.label[:40]}"


# -- SEPA ----------------------------------------------------------------------------------------


class SequenceType(models.TextChoices):
    FIRST = "FRST", _("First of a series")
    RECURRING = "RCUR", _("Recurring")
    ONE_OFF = "OOFF", _("One-off")
    FINAL = "FNAL", _("Final")


class SepaSettings(models.Model):
    """The creditor's SEPA data the company profile does not hold (one row)."""

    creditor_identifier = models.CharField(
        _("SEPA creditor identifier (ICS)"),
        max_length=35,
        blank=True,
        help_text=_("Given by your bank, e.g. FR12ZZZ123456."),
    )

    class Meta:
        verbose_name = _("SEPA settings")
        verbose_name_plural = _("SEPA settings")

    def __str__(self) -> str:
        return self.creditor_identifier or "—"


class SepaMandate(models.Model):
    """A customer's signed direct-debit mandate (RUM) on one account."""

    party = models.ForeignKey(
        "parties.Party", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(_("mandate reference (RUM)"), max_length=35, unique=True)
    signature_date = models.DateField(_("signature date"))
    iban = models.CharField(_("IBAN"), max_length=34, validators=[identifiers.validate_iban])
    bic = models.CharField(
        _("BIC"), max_length=11, blank=True, validators=[identifiers.validate_bic]
    )
    recurring = models.BooleanField(
        _("recurring"), default=True, help_text=_("Unticked: a one-off mandate (OOFF).")
    )
    last_collection_date = models.DateField(_("last collection"), null=True, blank=True)
    final_next = models.BooleanField(
        _("next collection is the last (FNAL)"),
        default=False,
        help_text=_("The mandate ends after its next collection."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("SEPA mandate")
        verbose_name_plural = _("SEPA mandates")
        ordering = ["reference"]

    def __str__(self) -> str:
        return self.reference


class DirectDebitBatch(models.Model):
    """A pain.008.001.08 file: collections of open invoices from customers with a mandate."""

    reference = models.CharField(_("reference"), max_length=35, unique=True)
    collection_date = models.DateField(_("collection date"))
    total_amount = _amount(_("total"))
    count = models.PositiveIntegerField(_("transactions"))
    document = models.ForeignKey(
        "documents.ArchivedDocument", on_delete=models.PROTECT, related_name="+"
    )
    collected = models.BooleanField(_("payments recorded"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("direct-debit batch")
        verbose_name_plural = _("direct-debit batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference


class DirectDebitItem(models.Model):
    batch = models.ForeignKey(DirectDebitBatch, on_delete=models.CASCADE, related_name="items")
    mandate = models.ForeignKey(SepaMandate, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("invoicing.Invoice", on_delete=models.PROTECT, related_name="+")
    amount = _amount(_("amount"))
    sequence_type = models.CharField(max_length=4, choices=SequenceType.choices)
    end_to_end_id = models.CharField(max_length=35)

    class Meta:
        verbose_name = _("direct debit")
        verbose_name_plural = _("direct debits")
        constraints = [
            models.UniqueConstraint(fields=["batch", "invoice"], name="debit_item_once_per_batch")
        ]

    def __str__(self) -> str:
        return self.end_to_end_id


class CreditTransferBatch(models.Model):
    """A pain.001.001.09 file: transfers to suppliers."""

    reference = models.CharField(_("reference"), max_length=35, unique=True)
    execution_date = models.DateField(_("execution date"))
    total_amount = _amount(_("total"))
    count = models.PositiveIntegerField(_("transactions"))
    document = models.ForeignKey(
        "documents.ArchivedDocument", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("transfer batch")
        verbose_name_plural = _("transfer batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference


class CreditTransferItem(models.Model):
    batch = models.ForeignKey(CreditTransferBatch, on_delete=models.CASCADE, related_name="items")
    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="+")
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    amount = _amount(_("amount"))
    remittance = models.CharField(_("remittance information"), max_length=140)
    end_to_end_id = models.CharField(max_length=35)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")

    def __str__(self) -> str:
        return self.end_to_end_id
