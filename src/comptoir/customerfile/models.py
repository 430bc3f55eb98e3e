"""Customer file: imports and their mappings, consent per channel, privacy state, the GDPR register."""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    POST = "post", _("Post")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Consent given")
    REFUSED = "refused", _("Opted out")


class Consent(models.Model):
    """A contact's current choice for one channel; its history is in ConsentEvent."""

    contact = models.ForeignKey(
        "parties.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="consents",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=8, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=200)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["contact", "channel"], name="consent_one_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.get_status_display()}"


class ConsentEvent(models.Model):
    """One change of a contact's consent: never updated, so the history proves what was asked."""

    contact = models.ForeignKey(
        "parties.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="consent_events",
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=8, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=200)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.channel} {self.status}"


class ContactPrivacy(models.Model):
    """Where a contact's data came from, whether their email bounces, and whether it was erased."""

    contact = models.OneToOneField(
        "parties.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="privacy",
    )
    source = models.CharField(
        _("data source"),
        max_length=200,
        blank=True,
        help_text=_('Where the data came from, e.g. "Import salon-2026.csv, 2026-11-26".'),
    )
    collected_at = models.DateTimeField(_("collected at"), default=timezone.now)
    email_bounced_at = models.DateTimeField(_("email bounced at"), null=True, blank=True)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact privacy")
        verbose_name_plural = _("contact privacy")

    def __str__(self) -> str:
        return self.source


class PartyPrivacy(models.Model):
    """When the party last reached out to us, and where it stands in the retention cycle."""

    party = models.OneToOneField(
        "parties.Party",
        verbose_name=_("party"),
        on_delete=models.CASCADE,
        related_name="privacy",
    )
    # A reply, a call, a form, an order, a click in a mail (not an open): FACTS.md.
    last_inbound_at = models.DateTimeField(
        _("last contact from their side"), null=True, blank=True, db_index=True
    )
    retention_flagged_at = models.DateTimeField(
        _("flagged for retention at"), null=True, blank=True
    )
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)

    class Meta:
        verbose_name = _("party privacy")
        verbose_name_plural = _("party privacy")

    def __str__(self) -> str:
        return str(self.party_id)


class ImportMapping(models.Model):
    """A saved column mapping: the file's header → the field it feeds."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    columns = models.JSONField(_("columns"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed")


class ImportBatch(models.Model):
    """One uploaded file on its way through mapping, preview and commit."""

    file_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    kind = models.CharField(_("format"), max_length=8, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=2, blank=True)
    header = models.JSONField(_("header"), default=list, blank=True)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    error_rows = models.PositiveIntegerField(_("rows with errors"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("rows already known"), default=0)
    created_parties = models.PositiveIntegerField(_("parties created"), default=0)
    created_contacts = models.PositiveIntegerField(_("contacts created"), default=0)
    preview = models.JSONField(_("preview"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    consent_source = models.CharField(_("consent source"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, int(100 * self.processed_rows / self.total_rows))


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent")
    CONTRACT = "contract", _("Performance of a contract")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")


class ProcessingActivity(models.Model):
    """One line of the record of processing activities (GDPR Article 30)."""

    name = models.CharField(_("processing"), max_length=150, unique=True)
    purpose = models.TextField(_("purpose"))
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    data_subjects = models.TextField(_("categories of data subjects"))
    data_categories = models.TextField(_("categories of personal data"))
    recipients = models.TextField(_("recipients"), blank=True)
    transfers = models.TextField(_("transfers outside the EU"), blank=True, default="None")
    retention = models.TextField(_("retention period"))
    security_measures = models.TextField(_("security measures"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")


# The fields the duplicate scan compares (dedupe.CUSTOMER_SCHEMA's labels), in words.
REASON_FIELDS = {
    "name": _("name"),
    "SIREN": "SIREN",
    "SIRET": "SIRET",
    "first name": _("first name"),
    "last name": _("last name"),
    "email": _("email"),
    "mobile": _("mobile"),
    "phone": _("phone"),
    "address": _("address"),
    "postcode": _("postcode"),
    "town": _("town"),
}
# How dedupe.Reason writes a reason ("same SIREN", "name 0.93", "first name swapped"…).
_REASON_SHAPES = (
    (re.compile(r"same (?P<field>.+)"), _("same %(field)s")),
    (re.compile(r"different (?P<field>.+)"), _("different %(field)s")),
    (re.compile(r"(?P<field>.+) swapped"), _("%(field)s swapped")),
    (re.compile(r"(?P<field>.+) initial"), _("%(field)s initial")),
    (re.compile(r"(?P<field>.+) (?P<score>[01]\.\d\d)"), _("%(field)s %(score)s")),
)


def duplicate_reason_text(reason: str) -> str:
    """A stored reason of the duplicate scan in the reader's language ("même SIREN")."""
    for shape, text in _REASON_SHAPES:
        found = shape.fullmatch(reason)
        if found and found["field"] in REASON_FIELDS:
            values = {"field": REASON_FIELDS[found["field"]]}
            if "score" in shape.groupindex:
                values["score"] = number_format(Decimal(found["score"]), 2)
            return str(text) % values
    return reason


class DuplicateCandidate(models.Model):
    """Two parties of the base the duplicate scan thinks may be one; ``party_a`` has the lower pk."""

    party_a = models.ForeignKey(
        "parties.Party", verbose_name=_("party"), on_delete=models.CASCADE, related_name="+"
    )
    party_b = models.ForeignKey(
        "parties.Party", verbose_name=_("other party"), on_delete=models.CASCADE, related_name="+"
    )
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CandidateStatus.choices,
        default=CandidateStatus.OPEN,
        db_index=True,
    )
    found_at = models.DateTimeField(_("found at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        ordering = ["-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["party_a", "party_b"], name="duplicate_pair_once"),
            models.CheckConstraint(
                condition=models.Q(party_a__lt=models.F("party_b")),
                name="duplicate_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_status_score_idx")]

    def __str__(self) -> str:
        return f"{self.party_a_id} ~ {self.party_b_id} ({self.score:.1f})"

    def reasons_text(self) -> str:
        """Why the scan found the pair, in the reader's language, comma-separated."""
        return ", ".join(duplicate_reason_text(reason) for reason in self.reasons)


class PartyMerge(models.Model):
    """One merge of ``merged`` into ``survivor``, with everything it changed so it can be undone.

    ``snapshot`` holds the survivor's and the merged party's field values before the merge, the
    rows moved (model label → field → pks), the flags cleared on them, the tags added and the
    rows left on the merged party.
    """

    survivor = models.ForeignKey(
        "parties.Party", verbose_name=_("survivor"), on_delete=models.PROTECT, related_name="+"
    )
    merged = models.ForeignKey(
        "parties.Party", verbose_name=_("merged party"), on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.JSONField(_("changes"), default=dict)
    merged_at = models.DateTimeField(_("merged at"), default=timezone.now)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("party merge")
        verbose_name_plural = _("party merges")
        ordering = ["-merged_at", "-pk"]
        constraints = [
            # A party is merged away once at a time: undo first to merge it elsewhere.
            models.UniqueConstraint(
                fields=["merged"], condition=models.Q(undone_at=None), name="party_merged_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None
