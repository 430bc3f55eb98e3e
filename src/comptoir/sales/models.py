"""Quotes (with revisions and online acceptance), orders, follow-up tasks and the email outbox."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.invoicing.models import OperationCategory
from comptoir.sales.states import OrderStatus, QuoteStatus

ZERO = Decimal("0.00")


def _amount(label: str) -> models.DecimalField:  # type: ignore[type-arg]
    return models.DecimalField(label, max_digits=14, decimal_places=2, default=ZERO)


class SalesDocument(models.Model):
    """What quotes and orders share: customer, discount and EN 16931 totals."""

    party = models.ForeignKey(
        "parties.Party", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    operation_category = models.CharField(
        _("operation category"),
        max_length=16,
        choices=OperationCategory.choices,
        default=OperationCategory.GOODS,
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    discount_rate = models.DecimalField(
        _("document discount (%)"), max_digits=5, decimal_places=2, default=ZERO
    )
    notes = models.TextField(_("notes"), blank=True)
    lines_net_amount = _amount(_("total of lines"))
    allowance_amount = _amount(_("document discount"))
    tax_basis_amount = _amount(_("total excl. VAT"))
    vat_amount = _amount(_("VAT"))
    total_amount = _amount(_("total incl. VAT"))
    vat_breakdown = models.JSONField(_("VAT breakdown"), default=list, blank=True)
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

    class Meta:
        abstract = True


class DocumentLine(models.Model):
    """A priced line: from the catalogue (with the price rule that gave its price) or free."""

    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        "catalogue.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    product_reference = models.CharField(_("product reference"), max_length=40, blank=True)
    label = models.CharField(_("label"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_code = models.CharField(_("unit"), max_length=3, default="C62")
    unit_price = models.DecimalField(_("unit price excl. VAT"), max_digits=14, decimal_places=4)
    price_rule = models.CharField(
        _("price rule"),
        max_length=300,
        blank=True,
        help_text=_("Why the catalogue gave this price."),
    )
    discount_rate = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=ZERO
    )
    vat_rate_code = models.CharField(_("VAT rate code"), max_length=30, blank=True)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2)
    vat_category = models.CharField(_("VAT category"), max_length=2, default="S")
    vat_exemption_reason = models.CharField(_("exemption reason"), max_length=200, blank=True)
    vat_exemption_code = models.CharField(_("exemption code"), max_length=30, blank=True)
    net_amount = models.DecimalField(_("net amount"), max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label


class Quote(SalesDocument):
    """A quote revision. Revisions share the number; only a draft changes."""

    number = models.CharField(_("number"), max_length=35)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    previous = models.OneToOneField(
        "self",
        verbose_name=_("previous revision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="next_revision",
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=QuoteStatus.choices,
        default=QuoteStatus.DRAFT,
        db_index=True,
    )
    issue_date = models.DateField(_("date"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"))
    email = models.EmailField(_("send to"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    accepted_by_name = models.CharField(_("accepted by"), max_length=200, blank=True)
    answer_ip = models.GenericIPAddressField(_("answer from IP"), null=True, blank=True)
    refusal_reason = models.TextField(_("refusal reason"), blank=True)
    # The acceptance link carries this nonce, signed; clearing it revokes every link sent.
    link_nonce = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        ordering = ["-issue_date", "-number", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="quote_unique_revision"),
        ]
        indexes = [
            models.Index(fields=["party", "-issue_date"], name="quote_party_date_idx"),
            models.Index(fields=["status", "sent_at"], name="quote_status_sent_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"{self.number}-V{self.revision}"

    @property
    def is_draft(self) -> bool:
        return self.status == QuoteStatus.DRAFT


class QuoteLine(DocumentLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["quote", "position", "pk"]


class Order(SalesDocument):
    """A customer order, from an accepted quote or taken directly."""

    number = models.CharField(_("number"), max_length=35, unique=True)
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=OrderStatus.choices,
        default=OrderStatus.CONFIRMED,
        db_index=True,
    )
    quote = models.OneToOneField(
        Quote,
        verbose_name=_("quote"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order",
    )
    order_date = models.DateField(_("order date"), default=timezone.localdate)
    customer_reference = models.CharField(_("customer PO reference"), max_length=100, blank=True)
    requested_date = models.DateField(_("requested delivery date"), null=True, blank=True)
    promised_date = models.DateField(_("promised delivery date"), null=True, blank=True)
    delivery_address = models.ForeignKey(
        "parties.Address",
        verbose_name=_("delivery address"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    email = models.EmailField(_("send to"), blank=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-number"]
        indexes = [models.Index(fields=["party", "-order_date"], name="order_party_date_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def reference(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.CONFIRMED, OrderStatus.PARTIALLY_DELIVERED)


class OrderLine(DocumentLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # Kept up to date by stock.actions (shipping) and sales.actions (cancelling the rest).
    delivered_quantity = models.DecimalField(
        _("delivered"), max_digits=14, decimal_places=3, default=Decimal("0")
    )
    cancelled_quantity = models.DecimalField(
        _("cancelled"), max_digits=14, decimal_places=3, default=Decimal("0")
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(delivered_quantity__gte=0)
                & Q(cancelled_quantity__gte=0)
                & Q(delivered_quantity__lte=F("quantity") - F("cancelled_quantity")),
                name="orderline_delivered_within_ordered",
            ),
        ]

    @property
    def remaining_quantity(self) -> Decimal:
        """What is still to deliver."""
        return self.quantity - self.cancelled_quantity - self.delivered_quantity


class FollowUpTask(models.Model):
    """Something the assistant must do: call back about a quote left unanswered."""

    title = models.CharField(_("title"), max_length=200)
    quote = models.OneToOneField(
        Quote,
        verbose_name=_("quote"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="follow_up",
    )
    party = models.ForeignKey(
        "parties.Party", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    due_date = models.DateField(_("due date"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        ordering = ["done_at", "due_date", "pk"]

    def __str__(self) -> str:
        return self.title


class EmailTemplate(models.Model):
    """An editable email text; ``$placeholders`` are filled in, nothing else is evaluated."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """One email to send, once: claimed (pending → sending) before it goes out."""

    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    # References of ArchivedDocument rows attached to the message.
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=OutboxStatus.choices,
        default=OutboxStatus.PENDING,
        db_index=True,
    )
    error = models.TextField(_("error"), blank=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    business_object = GenericForeignKey("content_type", "object_id")
    party = models.ForeignKey(
        "parties.Party",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"
