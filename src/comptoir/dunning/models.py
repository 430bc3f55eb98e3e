"""Dunning: policies and their levels, per-party settings, runs, the outbox and call outcomes.

``DunningMessage`` is the outbox: one row per (party, level, run date), UNIQUE, created before
anything is sent. Delivery claims a row (pending → sending) before handing it to the mail
server and marks it sent after, so a run killed half-way and run again never sends a message
twice: a row left in "sending" is reported, not resent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter (PDF)")
    PHONE = "phone", _("Phone call")
    FORMAL_NOTICE = "formal_notice", _("Formal notice (mise en demeure)")


class DunningPolicy(models.Model):
    """How a customer is chased: ordered levels, and the interest rate to claim."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default policy"), default=False)
    interest_rate = models.DecimalField(
        _("contractual late-interest rate (%)"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("Empty: the ECB main refinancing rate of the half-year + 10 points."),
    )
    pause_after_payment_days = models.PositiveSmallIntegerField(
        _("days without escalation after a payment"), default=10
    )

    class Meta:
        verbose_name = _("dunning policy")
        verbose_name_plural = _("dunning policies")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="dunning_one_default_policy",
            )
        ]

    def __str__(self) -> str:
        return self.name


class DunningLevel(models.Model):
    """One step: how many days after the due date, by which channel, saying what."""

    policy = models.ForeignKey(DunningPolicy, on_delete=models.CASCADE, related_name="levels")
    rank = models.PositiveSmallIntegerField(_("rank"))
    name = models.CharField(_("name"), max_length=100)
    delay_days = models.PositiveSmallIntegerField(_("days after the due date"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(
        _("template"),
        help_text=_(
            "Django template: {{ customer }}, {{ items }} (number, due_date, open, days_late), "
            "{{ total_due }}, {{ interest }}, {{ indemnity }}, {{ company }}, {{ today }}."
        ),
    )
    call_script = models.TextField(_("call script"), blank=True)
    claim_interest = models.BooleanField(_("claim late interest"), default=False)
    claim_indemnity = models.BooleanField(_("claim the 40 € indemnity"), default=False)

    class Meta:
        verbose_name = _("dunning level")
        verbose_name_plural = _("dunning levels")
        ordering = ["policy", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "rank"], name="dunning_level_unique_rank")
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.name}"


class PartyDunning(models.Model):
    """A party's dunning settings: policy, exclusion, dispute, promise to pay."""

    party = models.OneToOneField(
        "parties.Party", primary_key=True, on_delete=models.CASCADE, related_name="dunning"
    )
    policy = models.ForeignKey(
        DunningPolicy,
        verbose_name=_("policy"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text=_("Empty: the default policy."),
    )
    excluded = models.BooleanField(_("never chase"), default=False)
    disputed = models.BooleanField(_("dispute in progress"), default=False)
    dispute_note = models.CharField(_("dispute"), max_length=300, blank=True)
    promise_until = models.DateField(_("promised to pay by"), null=True, blank=True)
    promise_amount = models.DecimalField(
        _("promised amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("party dunning settings")
        verbose_name_plural = _("party dunning settings")

    def __str__(self) -> str:
        return str(self.party_id)


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")


class DunningRun(models.Model):
    """One run for one date; running the same date again resumes it."""

    run_date = models.DateField(_("date"), unique=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("dunning run")
        verbose_name_plural = _("dunning runs")
        ordering = ["-run_date"]

    def __str__(self) -> str:
        return f"{self.run_date}"


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("To send")
    SENDING = "sending", _("Sending (check)")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    TO_CALL = "to_call", _("To call")
    CALLED = "called", _("Called")
    CANCELLED = "cancelled", _("Cancelled")


class DunningMessage(models.Model):
    """The outbox: one reminder (email, letter, formal notice or call task) to a party."""

    run = models.ForeignKey(DunningRun, on_delete=models.PROTECT, related_name="messages")
    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="+")
    level = models.ForeignKey(DunningLevel, on_delete=models.PROTECT, related_name="+")
    run_date = models.DateField(_("date"))
    source = models.CharField(max_length=20, default="customer")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=MessageStatus.choices, db_index=True
    )
    recipient = models.CharField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), blank=True)
    items = models.JSONField(_("items"), default=list)
    total_due = models.DecimalField(_("overdue"), max_digits=14, decimal_places=2)
    interest_amount = models.DecimalField(_("interest"), max_digits=14, decimal_places=2)
    indemnity_amount = models.DecimalField(_("indemnity"), max_digits=14, decimal_places=2)
    document = models.ForeignKey(
        "documents.ArchivedDocument",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # The delivery batch that claimed this email (see actions.deliver_outbox).
    claim = models.CharField(max_length=16, blank=True, editable=False)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        ordering = ["-run_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "level", "run_date"], name="dunning_message_once_per_day"
            )
        ]
        indexes = [models.Index(fields=["party", "-run_date"], name="dunning_msg_party_idx")]

    def __str__(self) -> str:
        return f"{self.run_date} {self.party_id} {self.level_id}"

    @property
    def message_id(self) -> str:
        return f"<dunning-{self.pk}-{self.run_date:%Y%m%d}@comptoir>"

    @property
    def error_text(self) -> str:
        """The error in the reader's language when it is one of ours (a mail server's own
        message stays as it came)."""
        return str(ERROR_TEXTS.get(self.error, self.error))


# The errors Comptoir stores on a reminder (the stored text stays English, like a code).
ERROR_TEXTS = {
    "no email address": _("no email address"),
    "amounts changed since the reminder was written": _(
        "amounts changed since the reminder was written"
    ),
}


class CallOutcomeKind(models.TextChoices):
    PROMISE = "promise", _("Promise to pay")
    DISPUTE = "dispute", _("Dispute")
    WRONG_CONTACT = "wrong_contact", _("Wrong contact")
    NO_ANSWER = "no_answer", _("No answer")
    CALL_BACK = "call_back", _("Call back")


class CallOutcome(models.Model):
    """What came of a dunning call; it feeds the next run (promise, dispute, call back)."""

    message = models.ForeignKey(
        DunningMessage, on_delete=models.PROTECT, null=True, blank=True, related_name="outcomes"
    )
    party = models.ForeignKey("parties.Party", on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcomeKind.choices)
    promise_date = models.DateField(_("promised date"), null=True, blank=True)
    promise_amount = models.DecimalField(
        _("promised amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    call_back_on = models.DateField(_("call back on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("call outcome")
        verbose_name_plural = _("call outcomes")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.party_id} {self.outcome}"
