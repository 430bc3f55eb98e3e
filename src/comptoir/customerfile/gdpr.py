"""GDPR: unsubscribe tokens, the access-request export, the Article 30 register, retention.

Writes go through :mod:`comptoir.customerfile.actions`; this module builds what is read or
sent: signed links, the personal data of one person, the register as rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from comptoir.core.audit import action_label, history_for
from comptoir.core.identifiers import display_phone
from comptoir.core.money import format_amount
from comptoir.core.selectors import current_company
from comptoir.customerfile import selectors
from comptoir.customerfile.models import (
    Channel,
    ConsentEvent,
    ConsentStatus,
    ContactPrivacy,
    PartyPrivacy,
    ProcessingActivity,
)
from comptoir.parties.models import Contact, Party, PartyKind, name_key

UNSUBSCRIBE_SALT = "comptoir.customerfile.unsubscribe"


# -- unsubscribe links ------------------------------------------------------------------------


def unsubscribe_token(contact: Contact, channel: str = Channel.EMAIL) -> str:
    """Return a signed token naming the contact and channel; it never expires (old mails)."""
    return signing.dumps({"c": contact.pk, "ch": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(contact: Contact, channel: str = Channel.EMAIL) -> str:
    """Return the absolute link to put in every prospecting email."""
    path = reverse("customerfile:unsubscribe", args=[unsubscribe_token(contact, channel)])
    return settings.SITE_URL.rstrip("/") + path


def read_unsubscribe_token(token: str) -> tuple[Contact, str] | None:
    """Return (contact, channel) for a valid token, None for a forged or stale one."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    channel = data.get("ch")
    if channel not in Channel.values:
        return None
    contact = Contact.objects.select_related("party").filter(pk=data.get("c")).first()
    return (contact, channel) if contact is not None else None


# -- access request -------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def personal_data(contact: Contact) -> dict[str, Any]:
    """Return everything Comptoir holds about one person (GDPR Article 15)."""
    party = contact.party
    privacy = ContactPrivacy.objects.filter(contact=contact).first()
    data: dict[str, Any] = {
        "generated_at": timezone.now().isoformat(),
        "controller": _controller(),
        "person": {
            "civility": contact.civility,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "job_title": contact.job_title,
            "functions": contact.function_labels(),
            "email": contact.email,
            "phone": contact.phone,
            "mobile": contact.mobile,
            "notes": contact.notes,
            "created_at": contact.created_at.isoformat(),
        },
        "organisation": {
            "name": party.name,
            "kind": party.kind,
            "customer": party.is_customer,
            "prospect": party.is_prospect,
        },
        "source": {
            "description": privacy.source if privacy else "",
            "collected_at": _iso(privacy.collected_at) if privacy else None,
            "email_bounced_at": _iso(privacy.email_bounced_at) if privacy else None,
        },
        "consents": [
            {
                "channel": line["channel"],
                "status": line["status"] or "none",
                "source": line["source"],
                "recorded_at": _iso(line["recorded_at"]),
                "may_contact": line["allowed"],
                "rule": line["reason"],
            }
            for line in selectors.consent_summary(contact)
        ],
        "consent_history": [
            {"channel": e.channel, "status": e.status, "source": e.source, "at": e.at.isoformat()}
            for e in ConsentEvent.objects.filter(contact=contact).order_by("at", "pk")
        ],
        "activity": [
            {"at": entry.at.isoformat(), "action": entry.action}
            for entry in history_for(party)
            if entry.changes.get("contact") in (None, contact.pk)
        ],
        "processing": [
            {
                "name": register_text(a.name),
                "purpose": register_text(a.purpose),
                "legal_basis": a.get_legal_basis_display(),
                "retention": register_text(a.retention),
            }
            for a in ProcessingActivity.objects.all()
        ],
    }
    if party.kind == PartyKind.PERSON:
        data["organisation"].update(email=party.email, phone=party.phone, mobile=party.mobile)
        data["addresses"] = [
            {"kind": a.kind, "lines": a.lines(), "country": a.country}
            for a in party.addresses.all()
        ]
        data["invoices"] = _invoices(party)
    return data


def _invoices(party: Party) -> list[dict[str, Any]]:
    if not apps.is_installed("comptoir.invoicing"):
        return []
    invoice = apps.get_model("invoicing", "Invoice")
    return [
        {
            "number": number,
            "kind": kind,
            "issue_date": _iso(issued) if issued is None else issued.isoformat(),
            "total_amount": str(total),
        }
        for number, kind, issued, total in invoice.objects.filter(party=party, status="issued")
        .order_by("issue_date", "number")
        .values_list("number", "kind", "issue_date", "total_amount")
    ]


def _controller() -> dict[str, str]:
    company = current_company()
    return {
        "name": company.legal_name or company.trade_name,
        "email": company.email,
        "siren": company.siren,
    }


def _when(value: Any) -> str:
    """An ISO date or timestamp of the export, as the reader writes it (27/11/2026 14:05)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if isinstance(moment, datetime):
        return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    return date_format(moment, "SHORT_DATE_FORMAT")


def _printable(data: dict[str, Any]) -> dict[str, Any]:
    """The access export as a person reads it: labels for field names and codes, dates and
    amounts written the French way. The JSON export keeps the codes."""
    yes, no = _("yes"), _("no")
    labels = {
        "civility": _("Civility"),
        "first_name": _("First name"),
        "last_name": _("Last name"),
        "job_title": _("Job title"),
        "functions": _("Functions"),
        "email": _("Email"),
        "phone": _("Phone"),
        "mobile": _("Mobile"),
        "notes": _("Notes"),
        "created_at": _("Recorded on"),
        "name": _("Name"),
        "kind": _("Kind"),
        "customer": _("Customer"),
        "prospect": _("Prospect"),
        "description": _("Source"),
        "collected_at": _("Collected on"),
        "email_bounced_at": _("Email returned undelivered on"),
    }
    kinds = dict(PartyKind.choices)
    channels = dict(Channel.choices)
    statuses = {**dict(ConsentStatus.choices), "none": _("No choice recorded")}

    def value(key: str, raw: Any) -> Any:
        if isinstance(raw, bool):
            return yes if raw else no
        if key.endswith("_at"):
            return _when(raw)
        if key in ("phone", "mobile"):
            return display_phone(raw or "")
        if key == "kind":
            return str(kinds.get(raw, raw))
        return raw

    def pairs(section: dict[str, Any]) -> dict[str, Any]:
        return {str(labels.get(key, key)): value(key, raw) for key, raw in section.items()}

    printable = {
        **data,
        "generated_at": _when(data["generated_at"]),
        "person": pairs(data["person"]),
        "organisation": pairs(data["organisation"]),
        "source": pairs(data["source"]),
        "consents": [
            {
                **line,
                "channel": str(channels.get(line["channel"], line["channel"])),
                "status": str(statuses.get(line["status"], line["status"])),
            }
            for line in data["consents"]
        ],
        "consent_history": [
            {
                **event,
                "channel": str(channels.get(event["channel"], event["channel"])),
                "status": str(statuses.get(event["status"], event["status"])),
                "at": _when(event["at"]),
            }
            for event in data["consent_history"]
        ],
        "activity": [
            {"at": _when(entry["at"]), "action": action_label(entry["action"])}
            for entry in data["activity"]
        ],
    }
    if "addresses" in data:
        printable["addresses"] = [
            {**address, "country": address["country"] or "FR"} for address in data["addresses"]
        ]
    if data.get("invoices"):  # only when the invoicing app is there
        # The kinds as the invoicing app names them (a down-payment invoice too).
        kind_field = apps.get_model("invoicing", "Invoice")._meta.get_field("kind")
        invoice_kinds = dict(kind_field.choices or [])
        printable["invoices"] = [
            {
                "number": invoice["number"],
                "kind": str(invoice_kinds.get(invoice["kind"], invoice["kind"])),
                "issue_date": _when(date.fromisoformat(invoice["issue_date"]))
                if invoice["issue_date"]
                else "",
                "total_amount": f"{format_amount(Decimal(invoice['total_amount']))} €",
            }
            for invoice in data["invoices"]
        ]
    return printable


def access_request_pdf(contact: Contact) -> bytes:
    """Render the access-request export as a PDF/A with the documents engine (Typst)."""
    from comptoir.documents.rendering import render_pdf

    data = _printable(personal_data(contact))
    data["labels"] = {
        "title": _("Your personal data"),
        "person": _("Identity and contact details"),
        "organisation": _("Organisation"),
        "source": _("Where the data came from"),
        "consents": _("Your choices per channel"),
        "history": _("History of your choices"),
        "activity": _("What we did with your record"),
        "processing": _("Why we process your data"),
        "addresses": _("Addresses"),
        "invoices": _("Invoices"),
        "generated": _("Generated on"),
        "yes": _("allowed"),
        "no": _("not allowed"),
    }
    return render_pdf("gdpr_access.typ", data)


# -- register ----------------------------------------------------------------------------


# The register's texts as migration 0002 seeds them, in English (the migration keeps its own
# copy: migrations never import app code). Marked here for the catalogue, they are shown in the
# reader's language until an administrator rewrites them; what someone typed is shown as typed.
SEEDED_REGISTER_TEXTS = frozenset(
    {
        gettext_noop("Customer management"),
        gettext_noop("Manage customers, their contacts and addresses; quotes, orders, deliveries."),
        gettext_noop("Customers' contacts; private customers"),
        gettext_noop("Identity, job title, professional contact details, addresses, order history"),
        gettext_noop("Sales team, accounting; carriers for deliveries"),
        gettext_noop("Duration of the business relationship, then 3 years for prospecting"),
        gettext_noop("Invoicing and accounting"),
        gettext_noop("Issue invoices and credit notes, record payments, keep the books."),
        gettext_noop("Customers and their billing contacts"),
        gettext_noop("Identity, billing address, invoices, payments"),
        gettext_noop("Accounting, chartered accountant, tax authorities, e-invoicing platform"),
        gettext_noop("10 years (Code de commerce L123-22); 6 years for tax"),
        gettext_noop("Prospecting"),
        gettext_noop("Find and qualify prospects; calls, mailings and emails about our products."),
        gettext_noop("Prospects' contacts (B2B); consumers who consented"),
        gettext_noop("Identity, job title, professional contact details, consent per channel"),
        gettext_noop("Sales team; emailing service provider"),
        gettext_noop("3 years after the last contact from the prospect's side"),
        gettext_noop("Customer file imports"),
        gettext_noop(
            "Import lists (trade shows, sales reps' files) into the customer file, deduplicated."
        ),
        gettext_noop("People listed in the imported files"),
        gettext_noop("As in the file: identity, job title, contact details, source of the data"),
        gettext_noop("Sales team"),
        gettext_noop("As for prospecting; import files deleted after the import"),
        gettext_noop("Requests about personal data"),
        gettext_noop("Answer access, rectification, erasure and opt-out requests."),
        gettext_noop("Anyone whose data we hold"),
        gettext_noop("Identity, the request and its answer; opt-outs"),
        gettext_noop("Administrator"),
        gettext_noop(
            "Opt-outs kept as long as the person could be prospected again; requests 5 years"
        ),
        # Every seeded entry's transfers and security measures; "None" is also the default
        # transfers of a new entry.
        gettext_noop("None"),
        gettext_noop(
            "Access by role (administrator, sales manager, assistant, rep on own portfolio, "
            "accountant); Argon2 passwords, login throttling; audit trail of every change; backups."
        ),
    }
)


def register_text(text: str) -> str:
    """Return a register text in the reader's language if Comptoir seeded it, else as typed."""
    return _(text) if text in SEEDED_REGISTER_TEXTS else text


# What an entry of the register says (its form edits these), then when it last changed.
REGISTER_FIELDS = (
    "name",
    "purpose",
    "legal_basis",
    "data_subjects",
    "data_categories",
    "recipients",
    "transfers",
    "retention",
    "security_measures",
)
REGISTER_COLUMNS = (*REGISTER_FIELDS, "updated_at")


def register_header() -> list[str]:
    """Return the register's column titles: its fields' names, in the reader's language."""
    labels = {field.name: field.verbose_name for field in ProcessingActivity._meta.fields}
    return [capfirst(str(labels[key])) for key in REGISTER_COLUMNS]


def register_entries() -> list[dict[str, Any]]:
    """Return the processing register, one dict per activity keyed by REGISTER_COLUMNS and pk."""
    entries = []
    for activity in ProcessingActivity.objects.all():
        entry: dict[str, Any] = {"pk": activity.pk}
        for key in REGISTER_COLUMNS:
            if key == "legal_basis":
                entry[key] = activity.get_legal_basis_display()
            elif key == "updated_at":
                entry[key] = timezone.localtime(activity.updated_at).date()
            else:
                entry[key] = register_text(getattr(activity, key))
        entries.append(entry)
    # In the alphabetical order of the names as read (the database sorts the stored ones).
    entries.sort(key=lambda entry: name_key(entry["name"]))
    return entries


def register_rows() -> list[list[Any]]:
    """Return the processing register as rows, in REGISTER_COLUMNS order."""
    return [[entry[key] for key in REGISTER_COLUMNS] for entry in register_entries()]


def register_pdf() -> bytes:
    from comptoir.documents.rendering import render_pdf

    data = {
        "title": _("Record of processing activities (GDPR Article 30)"),
        "controller": _controller(),
        "generated_at": date_format(timezone.localdate(), "SHORT_DATE_FORMAT"),
        "header": register_header(),
        "rows": [
            [
                date_format(cell, "SHORT_DATE_FORMAT") if isinstance(cell, date) else str(cell)
                for cell in row
            ]
            for row in register_rows()
        ],
        # The colon is part of the label: French puts a space before it.
        "labels": {"controller": _("Controller:"), "generated": _("Generated on")},
    }
    return render_pdf("gdpr_register.typ", data)


# -- retention -----------------------------------------------------------------------------


@dataclass
class RetentionRun:
    flagged: list[Party] = field(default_factory=list)
    anonymised: list[Party] = field(default_factory=list)


def retention_plan(*, now: datetime | None = None) -> RetentionRun:
    """Return which prospects the retention job would flag and which it would anonymise."""
    moment = now or timezone.now()
    due = selectors.prospects_past_retention(now=moment)
    flagged_ids = set(
        PartyPrivacy.objects.filter(party__in=due, retention_flagged_at__isnull=False).values_list(
            "party_id", flat=True
        )
    )
    return RetentionRun(
        flagged=[p for p in due.order_by("pk") if p.pk not in flagged_ids],
        anonymised=list(selectors.prospects_to_anonymise(now=moment).order_by("pk")),
    )
