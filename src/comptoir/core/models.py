"""Core rows: users, the company (seller) profile, API tokens and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.core import identifiers
from comptoir.core.roles import Role


class User(AbstractUser):
    role = models.CharField(
        _("role"), max_length=32, choices=Role.choices, default=Role.SALES_ASSISTANT
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="fr"
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class PaymentTermsBase(models.TextChoices):
    NET = "net", _("net days from invoice date")
    END_OF_MONTH = "end_of_month", _("days end of month")


class Company(models.Model):
    """The seller: one row, whose legal fields go on every document."""

    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    trade_name = models.CharField(_("trade name"), max_length=200, blank=True)
    legal_form = models.CharField(_("legal form"), max_length=40, blank=True)
    share_capital_amount = models.DecimalField(
        _("share capital"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    siren = models.CharField(
        _("SIREN"), max_length=9, blank=True, validators=[identifiers.validate_siren]
    )
    siret = models.CharField(
        _("SIRET"), max_length=14, blank=True, validators=[identifiers.validate_siret]
    )
    rcs_city = models.CharField(_("RCS city"), max_length=80, blank=True)
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, validators=[identifiers.validate_vat_number]
    )
    naf_code = models.CharField(
        _("NAF/APE code"), max_length=6, blank=True, validators=[identifiers.validate_naf]
    )
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address (continued)"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    website = models.URLField(_("website"), blank=True)
    iban = models.CharField(
        _("IBAN"), max_length=34, blank=True, validators=[identifiers.validate_iban]
    )
    bic = models.CharField(
        _("BIC"), max_length=11, blank=True, validators=[identifiers.validate_bic]
    )
    logo = models.ImageField(_("logo"), upload_to="company/", blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days)"), default=30)
    payment_terms_base = models.CharField(
        _("payment terms base"),
        max_length=16,
        choices=PaymentTermsBase.choices,
        default=PaymentTermsBase.NET,
    )
    late_penalty_text = models.TextField(
        _("late-penalty wording"),
        blank=True,
        default=_(
            "En cas de retard de paiement, des pénalités égales au taux de refinancement de la "
            "BCE majoré de 10 points seront exigibles, sans qu'un rappel soit nécessaire."
        ),
    )
    recovery_indemnity_text = models.TextField(
        _("recovery indemnity wording"),
        blank=True,
        default=_(
            "Indemnité forfaitaire pour frais de recouvrement en cas de retard de paiement : "
            "40 € (art. L441-10 et D441-5 du Code de commerce)."
        ),
    )
    vat_on_debits = models.BooleanField(
        _("VAT on debits"),
        default=False,
        help_text=_('Print "Option pour le paiement de la taxe d\'après les débits".'),
    )
    document_footer = models.TextField(_("document footer"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("company")

    def __str__(self) -> str:
        return self.legal_name or str(_("(company not set up)"))

    def missing_legal_fields(self) -> list[str]:
        """Return the labels of the fields French law wants before a first invoice."""
        required = [
            "legal_name",
            "legal_form",
            "siren",
            "siret",
            "rcs_city",
            "vat_number",
            "address_line1",
            "postcode",
            "city",
            "late_penalty_text",
            "recovery_indemnity_text",
        ]
        missing = [
            str(getattr(self._meta.get_field(name), "verbose_name", name))
            for name in required
            if not getattr(self, name)
        ]
        if self.share_capital_amount is None and self.legal_form.upper() in SHARE_CAPITAL_FORMS:
            missing.append(
                str(getattr(self._meta.get_field("share_capital_amount"), "verbose_name", ""))
            )
        return missing


# Forms whose documents must show the share capital (Code de commerce R123-238).
SHARE_CAPITAL_FORMS = {"SA", "SAS", "SASU", "SARL", "EURL", "SCA", "SELARL", "SELAS"}
ZERO = Decimal("0.00")


class ApiToken(models.Model):
    """A personal API token; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=8, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def new_raw_token() -> str:
        return "cpt_" + secrets.token_urlsafe(32)


class AuditEntry(models.Model):
    """One user-visible change: who did what to which row, and when."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("action"), max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx")
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def describe(self) -> dict[str, Any]:
        return {"action": self.action, "object": self.object_repr, "changes": self.changes}


class IdempotencyRecord(models.Model):
    """The first response to a creating POST sent with an Idempotency-Key, replayed on retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    path = models.CharField(max_length=300)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key", "path"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.path}"


class NumberingCounter(models.Model):
    """The last legal number taken in one series (company, document type, year).

    Only ``core.numbering.next_number`` touches it, inside the transaction that uses the
    number, so a rolled-back transaction gives its number back and no gap ever appears.
    """

    company = models.ForeignKey(Company, on_delete=models.PROTECT, related_name="+")
    series = models.CharField(_("series"), max_length=16)
    year = models.PositiveSmallIntegerField(_("year"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("numbering counter")
        verbose_name_plural = _("numbering counters")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "series", "year"], name="numbering_counter_unique_series"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last_number}"


class WorkerHeartbeat(models.Model):
    """The last sign of life of one background worker, so screens can tell none is running."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process"), default=0)
    seen_at = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("background worker")
        verbose_name_plural = _("background workers")

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"
