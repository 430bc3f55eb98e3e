"""Dunning writes: runs (plan → outbox → delivery), call outcomes, settings, policies.

A run has two phases. Planning writes the outbox in one transaction: one ``DunningMessage``
per party reaching a level, UNIQUE on (party, level, date), so planning the same date again
adds nothing. Delivery then works through the outbox: emails are claimed a batch at a time
(pending → sending, committed) before they go to the mail server and marked sent ten at a
time after; a letter is rendered, archived and marked in one transaction. Killed anywhere,
the run resumes where it stopped and sends nothing twice.
"""

from __future__ import annotations

import fcntl
import secrets
import smtplib
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from comptoir.core.audit import changed_fields, record_audit
from comptoir.core.identifiers import display_phone
from comptoir.core.mail import PlainTextEmail
from comptoir.core.models import AuditEntry
from comptoir.core.money import format_amount
from comptoir.core.selectors import current_company
from comptoir.dunning import calculations, templating
from comptoir.dunning.engine import (
    OverdueItem,
    OverdueSource,
    PartyPlan,
    Plan,
    describe_items,
    plan_run,
)
from comptoir.dunning.models import (
    CallOutcome,
    CallOutcomeKind,
    Channel,
    DunningLevel,
    DunningMessage,
    DunningPolicy,
    DunningRun,
    MessageStatus,
    PartyDunning,
    RunStatus,
)
from comptoir.dunning.rates import ecb_rates, override_file
from comptoir.parties.models import Party

ZERO = Decimal("0.00")
PAPER = (Channel.LETTER, Channel.FORMAL_NOTICE)


def _user(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


@dataclass
class RunReport:
    run_date: date
    dry_run: bool
    decisions: dict[str, int] = field(default_factory=dict)
    planned: list[dict[str, Any]] = field(default_factory=list)
    created: int = 0
    emails_sent: int = 0
    letters: int = 0
    calls: int = 0
    failed: int = 0
    uncertain: int = 0
    outdated: int = 0


# -- interest ----------------------------------------------------------------------------------


def interest_of(
    items: list[OverdueItem], *, on: date, policy: DunningPolicy | None, level: DunningLevel | None
) -> tuple[Decimal, Decimal]:
    """Return (late interest, indemnity) a reminder claims for these items on `on`."""
    interest = ZERO
    if level is not None and level.claim_interest:
        rate = policy.interest_rate if policy is not None else None
        table = None if rate is not None else ecb_rates()
        for item in items:
            try:
                computed = calculations.late_interest(
                    amount=item.open_amount,
                    due=item.due_date,
                    until=on,
                    rate=rate,
                    ecb_rates=table,
                    indemnity=False,
                )
            except KeyError as exc:
                # No reminder claims an interest nobody can check: the run stops, saying why.
                raise ValidationError(missing_rate_message(exc)) from exc
            interest += computed.interest
    indemnity = ZERO
    if level is not None and level.claim_indemnity:
        invoices = {item.key.split(":")[1] if ":" in item.key else item.key for item in items}
        indemnity = calculations.RECOVERY_INDEMNITY * len(invoices)
    return interest, indemnity


def missing_rate_message(exc: KeyError) -> str:
    """Say which ECB rate is missing and where the administrator adds it."""
    return _("%(reason)s: add the rate to %(file)s (columns half_year_start,rate).") % {
        "reason": exc.args[0],
        "file": override_file(),
    }


# -- running -----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _day(value: date) -> str:
    """Return a date as 31/12/2026 (cached: a run formats the same few hundred dates again
    and again, and strftime was a tenth of the time writing the outbox)."""
    return value.strftime("%d/%m/%Y")


def _context(
    plan: PartyPlan, name: str, on: date, interest: Decimal, indemnity: Decimal, company: Any
) -> dict[str, Any]:
    items = [
        {
            "number": item.reference,
            "issue_date": _day(item.issue_date) if item.issue_date else "",
            "due_date": _day(item.due_date),
            "total": format_amount(item.total_amount),
            "open": format_amount(item.open_amount),
            "days_late": (on - item.due_date).days,
        }
        for item in plan.items
    ]
    return {
        "customer": name,
        "items": items,
        "count": len(items),
        "total_due": format_amount(plan.total_due),
        "interest": format_amount(interest),
        "indemnity": format_amount(indemnity),
        "total_claimed": format_amount(plan.total_due + interest + indemnity),
        "company": company.legal_name,
        "company_iban": company.iban,
        "today": _day(on),
        "level": plan.level.name if plan.level else "",
    }


def _audit_rows(
    by: Any, action: str, party_ids_changes: list[tuple[int, str, dict[str, Any]]]
) -> None:
    """Write one party-history entry per reminder, in bulk (the shape of record_audit)."""
    content_type_id = ContentType.objects.get_for_model(Party).pk
    actor = _user(by)
    actor_id = actor.pk if actor is not None else None
    at = timezone.now()
    _insert_rows(
        AuditEntry,
        ["at", "actor", "action", "content_type", "object_id", "object_repr", "changes"],
        [
            (at, actor_id, action, content_type_id, str(party_id), name[:200], changes)
            for party_id, name, changes in party_ids_changes
        ],
    )


def _insert_rows(model: type[Model], names: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows of plain values (foreign keys as ids) into a model's table in one stream.

    bulk_create built and adapted a model instance per row and, on PostgreSQL, quoted every
    value into arrays in Python: most of the time the outbox took to write. Here only dates,
    amounts and JSON are adapted; PostgreSQL takes the rows by COPY, SQLite runs one
    prepared INSERT per row. Table and column names come from the model; values are data.
    """
    fields = [model._meta.get_field(name) for name in names]
    adapted = [
        (index, column)
        for index, column in enumerate(fields)
        if column.get_internal_type() in ("DateField", "DateTimeField", "DecimalField", "JSONField")
    ]

    def values(row: tuple[Any, ...]) -> list[Any]:
        prepared = list(row)
        for index, column in adapted:
            prepared[index] = column.get_db_prep_save(prepared[index], connection)
        return prepared

    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column.column) for column in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                [values(row) for row in rows],
            )


@transaction.atomic
def start_dunning_run(on: date, *, by: Any) -> DunningRun:
    """Open (or reopen) the run of a date and hand it to a background worker."""
    from comptoir.dunning.tasks import run_dunning_in_background

    run = _open_run(on, by)
    DunningRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, finished_at=None)
    record_audit(by, "start_dunning_run", run, run_date=on)
    user_id = by.pk if getattr(by, "pk", None) else None
    transaction.on_commit(lambda: run_dunning_in_background.enqueue(on.isoformat(), user_id))
    run.refresh_from_db()
    return run


def _open_run(on: date, by: Any) -> DunningRun:
    run, _created = DunningRun.objects.get_or_create(
        run_date=on, defaults={"started_by": _user(by)}
    )
    return run


def outbox_lock_key(on: date) -> int:
    """Return the PostgreSQL advisory-lock key of writing a run date's outbox."""
    return 0x44554E4F0000 + on.toordinal()


@transaction.atomic
def write_outbox(run: DunningRun, plan: Plan, source: OverdueSource, *, by: Any) -> int:
    """Create the reminders of a plan (once: those already there for the date are skipped)."""
    to_send = plan.to_send()
    if not to_send:
        return 0
    if connection.vendor == "postgresql":
        # One writer of a date's outbox at a time, so that what it reads as already there is
        # all there is (SQLite's transactions already take the write lock as they begin).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [outbox_lock_key(plan.on)])
    ids = [p.party_id for p in to_send]
    already = set(
        DunningMessage.objects.filter(run_date=plan.on).values_list("party_id", "level_id")
    )
    to_send = [p for p in to_send if (p.party_id, p.level.pk) not in already]  # type: ignore[union-attr]
    names = source.names(ids)
    recipients = source.recipients(ids)
    company = current_company()
    rows = []
    history = []
    for party_plan in to_send:
        level = party_plan.level
        assert level is not None
        interest, indemnity = interest_of(
            party_plan.items, on=plan.on, policy=party_plan.policy, level=level
        )
        name = names.get(party_plan.party_id, "")
        context = _context(party_plan, name, plan.on, interest, indemnity, company)
        recipient = (
            recipients.get(party_plan.party_id, "") if level.channel == Channel.EMAIL else ""
        )
        status = MessageStatus.PENDING
        error = ""
        if level.channel == Channel.PHONE:
            status = MessageStatus.TO_CALL
        elif level.channel == Channel.EMAIL and not recipient:
            status, error = MessageStatus.FAILED, "no email address"
        rows.append(
            (
                run.pk,
                party_plan.party_id,
                level.pk,
                plan.on,
                source.name,
                level.channel,
                status,
                recipient,
                templating.render(level.subject, context)[:200] if level.subject else "",
                templating.render(level.body, context),
                describe_items(party_plan.items, plan.on),
                party_plan.total_due,
                interest,
                indemnity,
                error,
                "",
            )
        )
        history.append(
            (
                party_plan.party_id,
                name,
                {
                    "level": level.name,
                    "channel": level.channel,
                    "run_date": plan.on.isoformat(),
                    "items": [item.reference for item in party_plan.items],
                    "total_due": str(party_plan.total_due),
                },
            )
        )
    _insert_rows(
        DunningMessage,
        [
            "run",
            "party",
            "level",
            "run_date",
            "source",
            "channel",
            "status",
            "recipient",
            "subject",
            "body",
            "items",
            "total_due",
            "interest_amount",
            "indemnity_amount",
            "error",
            "claim",
        ],
        rows,
    )
    _audit_rows(by, "dunning_reminder", history)
    return len(rows)


def run_dunning(
    on: date,
    *,
    by: Any,
    dry_run: bool = False,
    source: OverdueSource | None = None,
    deliver: bool = True,
    mail_connection: Any = None,
    progress: Callable[[int], None] | None = None,
) -> RunReport:
    """Run the dunning of `on`: decide levels, write the outbox, deliver it.

    With ``dry_run`` nothing is written: the report lists what would be sent.
    """
    from comptoir.dunning.sources import CustomerReceivables

    source = source or CustomerReceivables()
    plan = plan_run(on, source)
    report = RunReport(run_date=on, dry_run=dry_run, decisions=plan.counts())
    names = source.names([p.party_id for p in plan.to_send()]) if dry_run else {}
    for party_plan in plan.to_send():
        assert party_plan.level is not None
        report.planned.append(
            {
                "party_id": party_plan.party_id,
                "party": names.get(party_plan.party_id, ""),
                "level": party_plan.level.name,
                "channel": party_plan.level.channel,
                "channel_label": party_plan.level.get_channel_display(),
                "items": len(party_plan.items),
                "total_due": party_plan.total_due,
            }
        )
    if dry_run:
        return report
    run = _open_run(on, by)
    # Reminders an earlier, interrupted attempt wrote may quote amounts paid since: they are
    # checked again before anything leaves (those this call writes are up to date).
    written_before = set(
        DunningMessage.objects.filter(run_date=on, status=MessageStatus.PENDING).values_list(
            "pk", flat=True
        )
    )
    report.created = write_outbox(run, plan, source, by=by)
    if deliver:
        delivered = deliver_outbox(
            on,
            by=by,
            mail_connection=mail_connection,
            progress=progress,
            recheck=written_before,
        )
        report.emails_sent = delivered["sent"]
        report.letters = delivered["letters"]
        report.failed = delivered["failed"]
        report.uncertain = delivered["uncertain"]
        report.outdated = delivered["outdated"]
    report.calls = DunningMessage.objects.filter(
        run_date=on, channel=Channel.PHONE, status=MessageStatus.TO_CALL
    ).count()
    summary = {
        "decisions": report.decisions,
        "created": report.created,
        "emails_sent": report.emails_sent,
        "letters": report.letters,
        "calls": report.calls,
        "failed": report.failed,
        "uncertain": report.uncertain,
        "outdated": report.outdated,
    }
    DunningRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, finished_at=timezone.now(), summary=summary
    )
    return report


# Emails claimed per durable commit: a process killed mid-batch leaves the batch "sending";
# on resume only the emails that may have reached the mail server stay so (see
# _release_interrupted) and the rest of the batch, never attempted, goes back to pending.
# Each batch costs four round trips to the database (claim, read, and the switches of
# synchronous_commit around its marks).
EMAIL_BATCH = 500
# Emails the mail server took are marked sent this many at a time, in one statement: one
# UPDATE per email was the largest part of a run on PostgreSQL (a round trip each). It
# bounds what a killed process leaves uncertain: the emails taken since the last mark and
# the one in flight.
EMAIL_MARK_EVERY = 10


def deliver_outbox(
    on: date,
    *,
    by: Any,
    mail_connection: Any = None,
    progress: Callable[[int], None] | None = None,
    recheck: Collection[int] | None = None,
) -> dict[str, int]:
    """Send the pending emails and produce the pending letters of a run date.

    Pending reminders whose overdue amounts changed since they were written (a payment, a
    credit note) are cancelled first rather than sent with the old figures: all of the
    date's, or only those of ``recheck`` (ids) when the caller wrote the others just now.
    """
    counts = {"sent": 0, "letters": 0, "failed": 0, "uncertain": 0, "outdated": 0}
    with _delivery_lock(on):
        counts["uncertain"] = _release_interrupted(on)
        if recheck is None or recheck:
            counts["outdated"] = _cancel_outdated(on, recheck)
        pending = DunningMessage.objects.filter(run_date=on, status=MessageStatus.PENDING)
        ids = list(
            pending.filter(channel=Channel.EMAIL).order_by("pk").values_list("pk", flat=True)
        )
        if ids:
            outbox = _EmailOutbox()
            mail_connection = mail_connection or get_connection()
            mail_connection.open()
            try:
                for start in range(0, len(ids), EMAIL_BATCH):
                    for outcome in outbox.send_batch(
                        ids[start : start + EMAIL_BATCH], mail_connection
                    ):
                        counts[outcome] += 1
                        if progress:
                            progress(1)
            finally:
                mail_connection.close()
        for message in (
            pending.filter(channel__in=PAPER).select_related("party", "level").order_by("pk")
        ):
            _produce_letter(message, by=by)
            counts["letters"] += 1
            if progress:
                progress(1)
    return counts


# Why an outdated reminder was not sent (stored on it, shown on the run's page).
OUTDATED_ERROR = "amounts changed since the reminder was written"


def _cancel_outdated(on: date, only: Collection[int] | None = None) -> int:
    """Cancel the pending reminders of a date whose invoices no longer owe what they quote.

    A run interrupted before its emails left and resumed later would otherwise send the
    amounts of the first attempt, even for an invoice paid in between. The customer's next
    run reminds them with the amounts of its day. Return how many were cancelled.
    """
    from comptoir.dunning.sources import CustomerReceivables

    source = CustomerReceivables()
    pending = DunningMessage.objects.filter(
        run_date=on, status=MessageStatus.PENDING, source=source.name
    )
    messages = [
        message
        for message in pending.only("pk", "items")
        if only is None or message.pk in only  # in Python: `only` may hold thousands of ids
    ]
    if not messages:
        return 0
    owed = {item.key: item.open_amount for item in source.overdue_items(on)}
    outdated = [
        message.pk
        for message in messages
        if any(
            Decimal(item["open"]) != owed.get(item["key"], Decimal("0.00"))
            for item in message.items
        )
    ]
    for start in range(0, len(outdated), 5000):  # SQLite binds at most 32,766 values
        DunningMessage.objects.filter(
            pk__in=outdated[start : start + 5000], status=MessageStatus.PENDING
        ).update(status=MessageStatus.CANCELLED, error=OUTDATED_ERROR)
    return len(outdated)


def delivery_lock_key(on: date) -> int:
    """Return the PostgreSQL advisory-lock key of a run date's delivery."""
    return 0x44554E4E0000 + on.toordinal()


@contextmanager
def _delivery_lock(on: date) -> Iterator[None]:
    """Let one process at a time deliver a run date; the lock dies with its process."""
    if connection.vendor == "postgresql":
        key = delivery_lock_key(on)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
        if not acquired:
            raise ValidationError(_("Another delivery of this run is in progress."))
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    lock_path = Path(settings.DATA_DIR) / f"dunning-{on.isoformat()}.lock"
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise ValidationError(_("Another delivery of this run is in progress.")) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _release_interrupted(on: date) -> int:
    """After an interruption, put back the emails a killed process claimed but never tried.

    Emails of a batch go out in id order and are marked sent EMAIL_MARK_EVERY at a time, so
    in a batch left "sending" only its EMAIL_MARK_EVERY lowest ids still "sending" may have
    reached the server (those taken since the last mark and the one in flight): they stay
    "sending" (reported, never resent); the others go back to pending. Return how many stay
    uncertain.
    """
    rows = list(
        DunningMessage.objects.filter(run_date=on, status=MessageStatus.SENDING)
        .order_by("pk")
        .values_list("pk", "claim")
    )
    seen: dict[str, int] = {}
    uncertain = 0
    untried = []
    for pk, claim in rows:
        seen[claim] = seen.get(claim, 0) + 1
        if seen[claim] <= EMAIL_MARK_EVERY:
            uncertain += 1
        else:
            untried.append(pk)
    if untried:
        DunningMessage.objects.filter(pk__in=untried).update(status=MessageStatus.PENDING, claim="")
    return uncertain


class _EmailOutbox:
    """Deliver outbox emails at most once each.

    A batch is claimed (pending → sending, with a claim token) in one durable commit before
    any of it goes to the mail server; the emails the server took are then marked sent
    EMAIL_MARK_EVERY at a time, in one statement. On PostgreSQL those marks commit
    asynchronously (no disk flush; the next batch's durable claim flushes them): a process
    killed at any point loses nothing, and only a crash of the database server itself could
    forget the marks of the current batch. A stop the process sees (Ctrl-C, an error) marks
    what the server took and puts back what was never tried before it goes on, so that only
    the email in flight stays uncertain. The party's history got its entry when the
    reminder was written to the outbox.
    """

    def send_batch(self, ids: list[int], mail_connection: Any) -> list[str]:
        """Claim and send a batch of pending emails; return each one's outcome."""
        token = secrets.token_hex(8)
        # One statement, committed (durably) on its own before any email of the batch leaves.
        DunningMessage.objects.filter(pk__in=ids, status=MessageStatus.PENDING).update(
            status=MessageStatus.SENDING, claim=token
        )
        messages = list(
            DunningMessage.objects.filter(claim=token, status=MessageStatus.SENDING)
            .only("pk", "recipient", "subject", "body", "run_date")
            .order_by("pk")
        )
        outcomes: list[str] = []
        taken: list[int] = []  # taken by the mail server, not marked sent yet
        with _relaxed_commits():
            try:
                for message in messages:
                    if self.send(message, mail_connection):
                        taken.append(message.pk)
                        outcomes.append("sent")
                    else:
                        outcomes.append("failed")
                    if len(taken) == EMAIL_MARK_EVERY:
                        _mark_sent(taken)
                        taken = []
                _mark_sent(taken)
            except BaseException:
                _mark_sent(taken)
                in_flight = len(outcomes)
                untried = [message.pk for message in messages[in_flight + 1 :]]
                DunningMessage.objects.filter(pk__in=untried, status=MessageStatus.SENDING).update(
                    status=MessageStatus.PENDING, claim=""
                )
                raise
        return outcomes

    def send(self, message: DunningMessage, mail_connection: Any) -> bool:
        """Hand one email to the mail server; mark it failed if refused, return whether taken."""
        # Plain text, no attachment: PlainTextEmail writes it without Django's per-message
        # header encoding (0.7 ms an email, most of sending 20,000 reminders).
        email = PlainTextEmail(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            connection=mail_connection,
            headers={"Message-ID": message.message_id},
        )
        try:
            email.send()
        except (smtplib.SMTPException, OSError) as exc:
            DunningMessage.objects.filter(pk=message.pk).update(
                status=MessageStatus.FAILED, error=str(exc)[:300]
            )
            return False
        return True


def _mark_sent(ids: list[int]) -> None:
    """Mark emails the mail server took as sent, in one plain statement.

    Building the same UPDATE through the ORM took as long as the database took to run it.
    The table name comes from the model and is quoted; every value is a parameter.
    """
    if not ids:
        return
    table = connection.ops.quote_name(DunningMessage._meta.db_table)
    placeholders = ", ".join(["%s"] * len(ids))
    sent_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, sent_at = %s WHERE id IN ({placeholders})",  # noqa: S608
            [MessageStatus.SENT, sent_at, *ids],
        )


@contextmanager
def _relaxed_commits() -> Iterator[None]:
    """On PostgreSQL, commit without waiting for the disk (the next durable commit flushes)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def letter_data(message: DunningMessage) -> dict[str, Any]:
    """Return what the letter template prints (figures formatted from the stored values)."""
    from comptoir.parties.models import AddressKind

    company = current_company()
    party = message.party
    address = party.addresses.filter(kind=AddressKind.BILLING).order_by("-is_default", "pk").first()
    return {
        "formal_notice": message.channel == Channel.FORMAL_NOTICE,
        "reference": f"REL-{message.run_date:%Y%m%d}-{message.pk}",
        "date": message.run_date.strftime("%d/%m/%Y"),
        "seller": {
            "name": company.legal_name,
            "address": [
                line
                for line in (
                    company.address_line1,
                    company.address_line2,
                    f"{company.postcode} {company.city}".strip(),
                )
                if line
            ],
            "siret": company.siret,
            "email": company.email,
            "phone": display_phone(company.phone),
            "iban": company.iban,
            "bic": company.bic,
        },
        "customer": {
            "name": party.name,
            "address": address.lines() if address else [f"{party.postcode} {party.city}".strip()],
        },
        "subject": message.subject,
        "body": message.body,
        "items": [
            {
                "number": item["number"],
                "due_date": date.fromisoformat(item["due_date"]).strftime("%d/%m/%Y"),
                "days_late": str(item["days_late"]),
                "open": format_amount(Decimal(item["open"])).replace("\u202f", "\u00a0"),
            }
            for item in message.items
        ],
        "total_due": format_amount(message.total_due).replace("\u202f", "\u00a0"),
        "interest": format_amount(message.interest_amount).replace("\u202f", "\u00a0"),
        "indemnity": format_amount(message.indemnity_amount).replace("\u202f", "\u00a0"),
        "total": format_amount(
            message.total_due + message.interest_amount + message.indemnity_amount
        ).replace("\u202f", "\u00a0"),
        "claims": bool(message.interest_amount or message.indemnity_amount),
    }


@transaction.atomic
def _produce_letter(message: DunningMessage, *, by: Any) -> None:
    from comptoir.documents.actions import archive_document
    from comptoir.documents.rendering import company_logo, render_pdf

    message = (
        DunningMessage.objects.select_for_update(of=("self",))
        .select_related("party", "level")
        .get(pk=message.pk)
    )
    if message.status != MessageStatus.PENDING:
        return
    data = letter_data(message)
    pdf = render_pdf("dunning_letter.typ", data, logo=company_logo(current_company()))
    document = archive_document(
        pdf,
        reference=data["reference"],
        kind="formal_notice_pdf" if message.channel == Channel.FORMAL_NOTICE else "reminder_pdf",
        filename=f"{data['reference']}.pdf",
        mime_type="application/pdf",
        business_object=message.party,
        by=by,
    )
    message.document = document
    message.status = MessageStatus.SENT
    message.sent_at = timezone.now()
    message.save(update_fields=["document", "status", "sent_at"])
    record_audit(
        by,
        "dunning_letter_produced",
        message.party,
        document=document.reference,
        channel=message.channel,
        run_date=message.run_date,
    )


# -- calls -------------------------------------------------------------------------------------


def _settings_of(party: Party) -> PartyDunning:
    setting, _created = PartyDunning.objects.select_for_update().get_or_create(party=party)
    return setting


@transaction.atomic
def record_call_outcome(
    party: Party,
    *,
    outcome: str,
    by: Any,
    message: DunningMessage | None = None,
    promise_date: date | None = None,
    promise_amount: Decimal | None = None,
    call_back_on: date | None = None,
    note: str = "",
) -> CallOutcome:
    """Record what a dunning call gave; promises and disputes stop the next runs."""
    if outcome not in CallOutcomeKind.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    if outcome == CallOutcomeKind.PROMISE and promise_date is None:
        raise ValidationError({"promise_date": _("A promise needs its date.")})
    if outcome == CallOutcomeKind.CALL_BACK and call_back_on is None:
        raise ValidationError({"call_back_on": _("Say when to call back.")})
    if message is not None and message.party_id != party.pk:
        raise ValidationError(_("This call task is for another customer."))
    result = CallOutcome.objects.create(
        message=message,
        party=party,
        outcome=outcome,
        promise_date=promise_date,
        promise_amount=promise_amount,
        call_back_on=call_back_on,
        note=note,
        by=_user(by),
    )
    setting = _settings_of(party)
    if outcome == CallOutcomeKind.PROMISE:
        setting.promise_until = promise_date
        setting.promise_amount = promise_amount
    elif outcome == CallOutcomeKind.DISPUTE:
        setting.disputed = True
        setting.dispute_note = note[:300]
    setting.updated_at = timezone.now()
    setting.save()
    if message is not None and outcome not in (
        CallOutcomeKind.NO_ANSWER,
        CallOutcomeKind.CALL_BACK,
    ):
        DunningMessage.objects.filter(pk=message.pk).update(status=MessageStatus.CALLED)
    record_audit(
        by,
        "dunning_call",
        party,
        outcome=outcome,
        promise_date=promise_date,
        promise_amount=promise_amount,
        call_back_on=call_back_on,
        note=note,
    )
    return result


@transaction.atomic
def update_party_dunning(party: Party, *, by: Any, **values: Any) -> PartyDunning:
    """Change a party's dunning settings (policy, exclusion, dispute, promise)."""
    allowed = {"policy", "excluded", "disputed", "dispute_note", "promise_until", "promise_amount"}
    unknown = set(values) - allowed
    if unknown:
        raise TypeError(f"unknown dunning settings: {sorted(unknown)}")
    setting = _settings_of(party)
    diff = changed_fields(setting, values)
    for name, value in values.items():
        setattr(setting, name, value)
    setting.updated_at = timezone.now()
    setting.full_clean()
    setting.save()
    record_audit(by, "update_party_dunning", party, **diff)
    return setting


# -- policies ----------------------------------------------------------------------------------


@transaction.atomic
def save_policy(policy: DunningPolicy | None, *, by: Any, **values: Any) -> DunningPolicy:
    """Create or change a dunning policy; one policy at most is the default."""
    policy = policy or DunningPolicy()
    diff = changed_fields(policy, values) if policy.pk else values
    for name, value in values.items():
        setattr(policy, name, value)
    if policy.is_default:
        DunningPolicy.objects.exclude(pk=policy.pk).filter(is_default=True).update(is_default=False)
    policy.full_clean()
    policy.save()
    record_audit(by, "save_dunning_policy", policy, **diff)
    return policy


@transaction.atomic
def save_level(
    level: DunningLevel | None, *, policy: DunningPolicy, by: Any, **values: Any
) -> DunningLevel:
    """Create or change a level; its templates are checked by the sandboxed engine."""
    for name in ("subject", "body", "call_script"):
        if values.get(name):
            templating.check_template(values[name])
    level = level or DunningLevel(policy=policy)
    diff = changed_fields(level, values) if level.pk else values
    for name, value in values.items():
        setattr(level, name, value)
    level.full_clean()
    level.save()
    record_audit(by, "save_dunning_level", policy, level=level.name, **diff)
    return level


# -- interest invoice --------------------------------------------------------------------------


INTEREST_LABEL = "Intérêts de retard"
INDEMNITY_LABEL = "Indemnité forfaitaire pour frais de recouvrement"


def pending_interest_invoice(party: Party) -> Any:
    """The party's draft interest invoice waiting to be issued, if any (one at a time)."""
    from comptoir.invoicing.models import Invoice, InvoiceStatus

    return (
        Invoice.objects.filter(
            party=party,
            status=InvoiceStatus.DRAFT,
            lines__vat_rate_code="hors-champ",
            lines__label__startswith=INDEMNITY_LABEL,
        )
        .order_by("pk")
        .first()
    )


@transaction.atomic
def create_interest_invoice(party: Party, *, on: date, by: Any) -> Any:
    """Create a draft invoice of the late interest and indemnities a party owes on `on`.

    Late interest and the recovery indemnity are damages, outside the scope of VAT: the
    lines are exempt with that reason. The draft is issued like any invoice.
    """
    from comptoir.dunning.sources import CustomerReceivables
    from comptoir.invoicing.actions import create_invoice

    items = [i for i in CustomerReceivables().overdue_items(on) if i.party_id == party.pk]
    if not items:
        raise ValidationError(_("This customer owes nothing overdue."))
    setting = PartyDunning.objects.filter(party=party).select_related("policy").first()
    policy = (setting.policy if setting else None) or DunningPolicy.objects.filter(
        is_default=True
    ).first()
    rate = policy.interest_rate if policy else None
    exempt = {
        "vat_rate": Decimal("0.00"),
        "vat_category": "E",
        "vat_rate_code": "hors-champ",
        "vat_exemption_reason": "Indemnités et intérêts de retard hors du champ de la TVA",
    }
    lines = []
    seen_invoices: set[str] = set()
    for item in items:
        computed = calculations.late_interest(
            amount=item.open_amount,
            due=item.due_date,
            until=on,
            rate=rate,
            ecb_rates=None if rate is not None else ecb_rates(),
            indemnity=False,
        )
        if computed.interest > 0:
            lines.append(
                {
                    "label": f"{INTEREST_LABEL} {item.reference} ({computed.days} j)",
                    "quantity": Decimal(1),
                    "unit_price": computed.interest,
                    **exempt,
                }
            )
        invoice_key = item.key.split(":")[1] if ":" in item.key else item.key
        if invoice_key not in seen_invoices:
            seen_invoices.add(invoice_key)
            lines.append(
                {
                    "label": f"{INDEMNITY_LABEL} {item.reference.split(' ')[0]}",
                    "quantity": Decimal(1),
                    "unit_price": calculations.RECOVERY_INDEMNITY,
                    **exempt,
                }
            )
    invoice = create_invoice(
        party=party,
        by=by,
        lines=lines,
        operation_category="services",
        notes=_("Late interest and recovery indemnities on %(date)s")
        % {"date": date_format(on, "SHORT_DATE_FORMAT")},
    )
    record_audit(by, "create_interest_invoice", party, invoice=invoice.pk, lines=len(lines))
    return invoice
