"""Catalogue: VAT rates, product families, products and services, price lists and their rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0")
HUNDRED = Decimal("100")


class FieldCheckedModel(models.Model):
    """A model whose clean() repeats each CheckConstraint against the field it concerns.

    The constraints guard the database; skipping them in validation keeps a form from
    showing the same problem twice (once on the field, once as an anonymous message).
    None of these models has a UniqueConstraint, which this would also skip.
    """

    class Meta:
        abstract = True

    def validate_constraints(self, exclude: Any = None) -> None:
        return None


class VatCategory(models.TextChoices):
    """EN 16931 VAT category codes (UNTDID 5305 subset, BT-118/BT-151)."""

    STANDARD = "S", _("Standard rate")
    ZERO_RATED = "Z", _("Zero rated goods")
    EXEMPT = "E", _("Exempt from VAT")
    REVERSE_CHARGE = "AE", _("VAT reverse charge")
    INTRA_COMMUNITY = "K", _("Intra-community supply (VAT exempt)")
    EXPORT = "G", _("Export outside the EU (VAT exempt)")
    OUTSIDE_SCOPE = "O", _("Outside the scope of VAT")


# Categories whose invoices must carry an exemption reason (EN 16931 BR-E-10, BR-AE-10,
# BR-IC-10, BR-G-10, BR-O-10).
CATEGORIES_WITH_EXEMPTION = {
    VatCategory.EXEMPT,
    VatCategory.REVERSE_CHARGE,
    VatCategory.INTRA_COMMUNITY,
    VatCategory.EXPORT,
    VatCategory.OUTSIDE_SCOPE,
}


class VatRate(FieldCheckedModel):
    """A VAT rate as data: the rate, its EN 16931 category and, at 0 %, why."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    label = models.CharField(_("label"), max_length=100)
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    category = models.CharField(
        _("VAT category"), max_length=2, choices=VatCategory.choices, default=VatCategory.STANDARD
    )
    exemption_reason = models.CharField(
        _("exemption reason"),
        max_length=200,
        blank=True,
        help_text=_("Printed on invoices, e.g. “TVA non applicable, art. 293 B du CGI”."),
    )
    exemption_code = models.CharField(_("exemption reason code (VATEX)"), max_length=30, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("VAT rate")
        verbose_name_plural = _("VAT rates")
        ordering = ["-rate", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lte=100), name="vatrate_rate_0_100"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.category == VatCategory.STANDARD and self.rate is not None and self.rate <= 0:
            errors["rate"] = _("A standard-rate VAT rate must be above 0 %.")
        if self.category != VatCategory.STANDARD and self.rate not in (None, ZERO):
            errors["rate"] = _("Only the standard category carries a rate above 0 %.")
        if self.category in CATEGORIES_WITH_EXEMPTION and not self.exemption_reason:
            errors["exemption_reason"] = _("This VAT category needs an exemption reason.")
        if errors:
            raise ValidationError(errors)


class ProductFamily(models.Model):
    """A family of products (cables, services…) used to group the catalogue and price rules."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("product family")
        verbose_name_plural = _("product families")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProductKind(models.TextChoices):
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")


class Unit(models.TextChoices):
    """Units of measure as UN/ECE Recommendation 20 codes (EN 16931 BT-130).

    Packaging units come from Recommendation 21 and, as EN 16931 asks, carry an "X" prefix
    (box = XBX, pack = XPK) so they cannot clash with Recommendation 20 codes.
    """

    UNIT = "C62", _("unit")
    PIECE = "H87", _("piece")
    HOUR = "HUR", _("hour")
    DAY = "DAY", _("day")
    KILOGRAM = "KGM", _("kilogram")
    METRE = "MTR", _("metre")
    LITRE = "LTR", _("litre")
    SET = "SET", _("set")
    BOX = "XBX", _("box")
    PACK = "XPK", _("pack")


# "from 10 hours": the plural of each unit, for price rule descriptions.
UNIT_PLURALS = {
    Unit.UNIT: _("units"),
    Unit.PIECE: _("pieces"),
    Unit.HOUR: _("hours"),
    Unit.DAY: _("days"),
    Unit.KILOGRAM: _("kilograms"),
    Unit.METRE: _("metres"),
    Unit.LITRE: _("litres"),
    Unit.SET: _("sets"),
    Unit.BOX: _("boxes"),
    Unit.PACK: _("packs"),
}


class Product(FieldCheckedModel):
    """A product or service we sell, at a catalogue price excluding VAT."""

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=200, db_index=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=ProductKind.choices, default=ProductKind.GOODS
    )
    unit = models.CharField(_("unit"), max_length=3, choices=Unit.choices, default=Unit.UNIT)
    family = models.ForeignKey(
        ProductFamily,
        verbose_name=_("family"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
    )
    purchase_cost = models.DecimalField(
        _("purchase cost excl. VAT"),
        max_digits=14,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Empty when unknown; never shown to customers."),
    )
    sale_price = models.DecimalField(_("sale price excl. VAT"), max_digits=14, decimal_places=4)
    vat_rate = models.ForeignKey(
        VatRate, verbose_name=_("VAT rate"), on_delete=models.PROTECT, related_name="products"
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["reference"]
        indexes = [models.Index(fields=["family", "reference"], name="product_family_ref_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sale_price__gte=0), name="product_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(purchase_cost__isnull=True) | Q(purchase_cost__gte=0),
                name="product_cost_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} – {self.label}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.sale_price is not None and self.sale_price < 0:
            errors["sale_price"] = _("A sale price cannot be negative.")
        if self.purchase_cost is not None and self.purchase_cost < 0:
            errors["purchase_cost"] = _("A purchase cost cannot be negative.")
        if errors:
            raise ValidationError(errors)


class PriceListScope(models.TextChoices):
    GENERAL = "general", _("General (every customer)")
    CATEGORY = "category", _("A customer category")
    CUSTOMER = "customer", _("One customer")


class PriceList(FieldCheckedModel):
    """A set of price rules for everyone, a customer category or one customer, over a period."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(
        _("applies to"),
        max_length=10,
        choices=PriceListScope.choices,
        default=PriceListScope.GENERAL,
    )
    party = models.ForeignKey(
        "parties.Party",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_lists",
    )
    category = models.ForeignKey(
        "parties.CustomerCategory",
        verbose_name=_("customer category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_lists",
    )
    priority = models.IntegerField(
        _("priority"),
        default=0,
        help_text=_("When several lists give a price, the highest priority wins."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["-priority", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(scope="general", party__isnull=True, category__isnull=True)
                    | Q(scope="category", party__isnull=True, category__isnull=False)
                    | Q(scope="customer", party__isnull=False, category__isnull=True)
                ),
                name="pricelist_scope_target",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="pricelist_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.scope == PriceListScope.CUSTOMER and self.party_id is None:
            errors["party"] = _("Choose the customer this price list is for.")
        if self.scope == PriceListScope.CATEGORY and self.category_id is None:
            errors["category"] = _("Choose the customer category this price list is for.")
        if self.scope != PriceListScope.CUSTOMER and self.party_id is not None:
            errors["party"] = _("Only a customer price list names a customer.")
        if self.scope != PriceListScope.CATEGORY and self.category_id is not None:
            errors["category"] = _("Only a category price list names a customer category.")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("The end of validity cannot be before its start.")
        if self.currency != "EUR":
            errors["currency"] = _("Only euro price lists are supported.")
        if errors:
            raise ValidationError(errors)

    def scope_description(self) -> str:
        """Say whom the list applies to: "general", "category Resellers", "customer Dupont"."""
        if self.scope == PriceListScope.CATEGORY and self.category is not None:
            return str(_("category %(name)s") % {"name": self.category.name})
        if self.scope == PriceListScope.CUSTOMER and self.party is not None:
            return str(_("customer %(name)s") % {"name": self.party.name})
        return str(_("general"))


class PriceMethod(models.TextChoices):
    FIXED = "fixed", _("Fixed unit price")
    PERCENTAGE = "percentage", _("Discount off the catalogue price (%)")


class PriceRule(FieldCheckedModel):
    """One price in a list: for a product, a family or every product, from a quantity on."""

    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="rules"
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_rules",
    )
    family = models.ForeignKey(
        ProductFamily,
        verbose_name=_("family"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="price_rules",
        help_text=_("Leave product and family empty for a rule on every product."),
    )
    min_quantity = models.DecimalField(
        _("from quantity"), max_digits=14, decimal_places=3, default=Decimal("0")
    )
    method = models.CharField(
        _("method"), max_length=10, choices=PriceMethod.choices, default=PriceMethod.PERCENTAGE
    )
    value = models.DecimalField(
        _("value"),
        max_digits=14,
        decimal_places=4,
        help_text=_("The unit price excl. VAT, or the discount in percent."),
    )

    class Meta:
        verbose_name = _("price rule")
        verbose_name_plural = _("price rules")
        ordering = ["price_list", "product", "family", "min_quantity", "pk"]
        indexes = [
            models.Index(fields=["product", "price_list"], name="pricerule_product_idx"),
            models.Index(fields=["family", "price_list"], name="pricerule_family_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=True) | Q(family__isnull=True),
                name="pricerule_product_or_family",
            ),
            models.CheckConstraint(condition=Q(value__gte=0), name="pricerule_value_not_negative"),
            models.CheckConstraint(
                condition=~Q(method="percentage") | Q(value__lte=100),
                name="pricerule_percentage_max_100",
            ),
            models.CheckConstraint(
                condition=Q(min_quantity__gte=0), name="pricerule_min_quantity_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price_list} #{self.pk}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.product_id is not None and self.family_id is not None:
            errors["family"] = _("A rule targets a product or a family, not both.")
        if self.value is not None and self.value < 0:
            errors["value"] = (
                _("A discount cannot be negative.")
                if self.method == PriceMethod.PERCENTAGE
                else _("A price cannot be negative.")
            )
        elif self.method == PriceMethod.PERCENTAGE and self.value is not None and self.value > 100:
            errors["value"] = _("A discount is between 0 and 100 %.")
        if self.min_quantity is not None and self.min_quantity < 0:
            errors["min_quantity"] = _("The quantity cannot be negative.")
        elif (
            self.min_quantity is not None
            and self.price_list_id is not None
            and "family" not in errors
        ):
            # Two rules of one list for the same target from the same quantity: only the
            # lower price would ever apply, the other would sit there unused.
            twin = (
                PriceRule.objects.filter(
                    price_list_id=self.price_list_id,
                    product_id=self.product_id,
                    family_id=self.family_id,
                    min_quantity=self.min_quantity,
                )
                .exclude(pk=self.pk)
                .exists()
            )
            if twin:
                errors["min_quantity"] = _(
                    "This list already has a rule for the same products from this quantity: "
                    "change that rule instead."
                )
        if errors:
            raise ValidationError(errors)

    def target_kind(self) -> str:
        if self.product_id is not None:
            return "product"
        if self.family_id is not None:
            return "family"
        return "all"


class PriceListPublication(models.Model):
    """A public, unguessable link to a price list; revoking it makes the page 404."""

    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        on_delete=models.CASCADE,
        related_name="publications",
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("published at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("price list publication")
        verbose_name_plural = _("price list publications")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.price_list} ({self.token[:6]}…)"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
