"""Parties: organisations and persons we sell to, prospect or buy from, with contacts and addresses."""

from __future__ import annotations

import re
import unicodedata

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.core import identifiers
from comptoir.core.models import PaymentTermsBase


class PartyKind(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation")
    PERSON = "person", _("Person")


class ContactFunction(models.TextChoices):
    BILLING = "billing", _("Billing")
    PURCHASING = "purchasing", _("Purchasing")
    DECISION_MAKER = "decision_maker", _("Decision maker")
    TECHNICAL = "technical", _("Technical")
    DELIVERY = "delivery", _("Delivery")
    MANAGEMENT = "management", _("Management")
    OTHER = "other", _("Other")


class AddressKind(models.TextChoices):
    BILLING = "billing", _("Billing")
    DELIVERY = "delivery", _("Delivery")
    OTHER = "other", _("Other")


# Legal forms and words that do not tell two organisations apart ("SARL Dupont" = "Dupont SAS").
_LEGAL_WORDS = {
    "SARL",
    "SAS",
    "SASU",
    "SA",
    "EURL",
    "SNC",
    "SCI",
    "SCOP",
    "SELARL",
    "SELAS",
    "EI",
    "EIRL",
    "GIE",
    "SCA",
    "SCS",
    "STE",
    "SOCIETE",
    "ETS",
    "ETABLISSEMENTS",
    "CIE",
    "ET",
    "LA",
    "LE",
    "LES",
    "DE",
    "DU",
    "DES",
    "L",
    "D",
}


def name_key(name: str) -> str:
    """Return the comparison key of a name: no accents, no punctuation, no legal form, upper case."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    text = re.sub(r"\b([A-Z])\.(?=[A-Z]\.)", r"\1", text)  # S.A.R.L. -> SARL.
    text = re.sub(r"[^A-Z0-9]+", " ", text.replace(".", ""))
    words = [w for w in text.split() if w not in _LEGAL_WORDS]
    return " ".join(words)


class CustomerCategory(models.Model):
    """A category of customers (retail, public sector, reseller…) that price lists can target."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("customer category")
        verbose_name_plural = _("customer categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Territory(models.Model):
    """A sales territory: a set of French departments, usually with its sales rep."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    departments = models.CharField(
        _("departments"),
        max_length=400,
        blank=True,
        help_text=_("Comma-separated, e.g. 75,92,93,94"),
    )
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="territories",
    )

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def department_codes(self) -> list[str]:
        return [code.strip() for code in self.departments.split(",") if code.strip()]


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartyQuerySet(models.QuerySet["Party"]):
    def customers(self) -> PartyQuerySet:
        return self.filter(is_customer=True)

    def prospects(self) -> PartyQuerySet:
        return self.filter(is_prospect=True)

    def suppliers(self) -> PartyQuerySet:
        return self.filter(is_supplier=True)

    def active(self) -> PartyQuerySet:
        return self.filter(is_active=True)


class Party(models.Model):
    """An organisation or a person: customer, prospect and/or supplier at once."""

    kind = models.CharField(
        _("kind"), max_length=16, choices=PartyKind.choices, default=PartyKind.ORGANISATION
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    # For persons: name is "LAST First"; these keep the parts.
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    legal_form = models.CharField(_("legal form"), max_length=40, blank=True)
    siren = models.CharField(
        _("SIREN"), max_length=9, blank=True, db_index=True, validators=[identifiers.validate_siren]
    )
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        blank=True,
        db_index=True,
        validators=[identifiers.validate_siret],
    )
    vat_number = models.CharField(
        _("VAT number"), max_length=20, blank=True, validators=[identifiers.validate_vat_number]
    )
    naf_code = models.CharField(_("NAF/APE code"), max_length=6, blank=True)
    is_customer = models.BooleanField(_("customer"), default=False)
    is_prospect = models.BooleanField(_("prospect"), default=False)
    is_supplier = models.BooleanField(_("supplier"), default=False)
    category = models.ForeignKey(
        CustomerCategory,
        verbose_name=_("customer category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="parties",
    )
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, help_text=_("Stored in E.164, e.g. +33123456789")
    )
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    website = models.URLField(_("website"), blank=True)
    # Denormalised from the default billing address so lists sort and filter on them cheaply.
    postcode = models.CharField(_("postcode"), max_length=10, blank=True, db_index=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portfolio",
    )
    territory = models.ForeignKey(
        Territory,
        verbose_name=_("territory"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="parties",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="parties")
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"),
        null=True,
        blank=True,
        help_text=_("Empty: the company's default terms."),
    )
    payment_terms_base = models.CharField(
        _("payment terms base"),
        max_length=16,
        choices=PaymentTermsBase.choices,
        default=PaymentTermsBase.NET,
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    name_key = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
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
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = PartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["sales_rep", "name"], name="party_rep_name_idx"),
            models.Index(fields=["is_customer", "name"], name="party_customer_name_idx"),
            models.Index(fields=["is_prospect", "name"], name="party_prospect_name_idx"),
            models.Index(fields=["is_supplier", "name"], name="party_supplier_name_idx"),
            models.Index(fields=["postcode", "name_key"], name="party_postcode_key_idx"),
            # The list sorts on (column, id): these keep a sorted page of 100,000 parties on
            # an index instead of sorting the table.
            models.Index(fields=["city", "id"], name="party_city_sort_idx"),
            models.Index(fields=["postcode", "id"], name="party_postcode_sort_idx"),
            models.Index(fields=["created_at", "id"], name="party_created_sort_idx"),
            # SQLite cannot use (is_supplier, name) for a bare boolean test; these partial
            # indexes keep a role's list in name order on an index on every database.
            models.Index(
                fields=["name", "id"],
                condition=models.Q(is_customer=True),
                name="party_customers_by_name",
            ),
            models.Index(
                fields=["name", "id"],
                condition=models.Q(is_prospect=True),
                name="party_prospects_by_name",
            ),
            models.Index(
                fields=["name", "id"],
                condition=models.Q(is_supplier=True),
                name="party_suppliers_by_name",
            ),
            # Most prospects have no SIREN or email: partial indexes keep the duplicate lookups
            # of every create on an index even when blanks make the plain index look useless.
            models.Index(
                fields=["siren"], condition=~models.Q(siren=""), name="party_siren_set_idx"
            ),
            models.Index(
                fields=["email"], condition=~models.Q(email=""), name="party_email_set_idx"
            ),
        ]
        constraints = [
            # Two parties may share a SIREN (two establishments) but never a SIRET.
            models.UniqueConstraint(
                fields=["siret"], condition=~models.Q(siret=""), name="party_unique_siret"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def roles(self) -> list[str]:
        labels = []
        if self.is_customer:
            labels.append(str(_("customer")))
        if self.is_prospect:
            labels.append(str(_("prospect")))
        if self.is_supplier:
            labels.append(str(_("supplier")))
        return labels


class Contact(models.Model):
    """A person at a party: who to call, who to bill, who decides."""

    party = models.ForeignKey(
        Party, verbose_name=_("party"), on_delete=models.CASCADE, related_name="contacts"
    )
    civility = models.CharField(
        _("civility"), max_length=8, blank=True, choices=[("M.", "M."), ("Mme", "Mme")]
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    functions = models.JSONField(
        _("functions"),
        default=list,
        blank=True,
        help_text=_("Billing, purchasing, decision maker…"),
    )
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def function_labels(self) -> list[str]:
        labels = dict(ContactFunction.choices)
        return [str(labels.get(code, code)) for code in self.functions]


class Address(models.Model):
    """A postal address of a party; one default billing address feeds the party's postcode and city."""

    party = models.ForeignKey(
        Party, verbose_name=_("party"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=AddressKind.choices, default=AddressKind.BILLING
    )
    label = models.CharField(
        _("label"), max_length=100, blank=True, help_text=_("e.g. Head office, Warehouse")
    )
    line1 = models.CharField(_("address"), max_length=200)
    line2 = models.CharField(_("address (continued)"), max_length=200, blank=True)
    line3 = models.CharField(_("address (continued)"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="FR")
    is_default = models.BooleanField(_("default for its kind"), default=False)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["kind", "-is_default", "pk"]
        constraints = [
            # Actions keep exactly one default per kind; this stops two concurrent saves.
            models.UniqueConstraint(
                fields=["party", "kind"],
                condition=models.Q(is_default=True),
                name="address_one_default_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.line1}, {self.postcode} {self.city}"

    def lines(self) -> list[str]:
        return [
            line
            for line in (self.line1, self.line2, self.line3, f"{self.postcode} {self.city}")
            if line
        ]
