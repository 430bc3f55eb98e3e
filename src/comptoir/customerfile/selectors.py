"""Customer-file reads: may we contact this person on this channel, who is due for erasure.

The prospecting rules (FACTS.md, checked 2026-11):

- an explicit opt-out on a channel always wins, as does an erased contact;
- B2B email: allowed without prior consent when the message concerns the person's job, with a
  free opt-out in every message (the unsubscribe link);
- B2C email: prior consent (opt-in), except the soft opt-in for existing customers;
- phone: B2B allowed unless opposed; consumers need prior consent since 11 August 2026 (before,
  the Bloctel opt-out regime applied);
- post: allowed unless opposed;
- prospects' data are kept 3 years after their last contact from their side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from comptoir.core.models import AuditEntry
from comptoir.customerfile.models import Channel, Consent, ConsentStatus, ContactPrivacy
from comptoir.customerfile.scoring import FitFactors, Purchases, Rfm, fit_score, rfm_scores
from comptoir.parties.models import Contact, Party, PartyKind

CONSUMER_PHONE_CONSENT_FROM = date(2026, 8, 11)
PROSPECT_RETENTION_DAYS = 3 * 365
# Flagged prospects are anonymised this long after the flag, unless they reach out meanwhile.
RETENTION_GRACE_DAYS = 30


@dataclass(frozen=True)
class ContactDecision:
    """Whether a contact may be reached on a channel, and the rule that decided."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def is_b2b(contact: Contact) -> bool:
    """Tell whether the contact is a person at an organisation (B2B) rather than a consumer."""
    return contact.party.kind == PartyKind.ORGANISATION


def may_contact(
    contact: Contact, channel: str, *, b2b: bool, on: date | None = None
) -> ContactDecision:
    """Tell whether we may prospect this contact on this channel, and why."""
    today = on or timezone.localdate()
    privacy = ContactPrivacy.objects.filter(contact=contact).first()
    if privacy is not None and privacy.anonymised_at is not None:
        return ContactDecision(False, _("The contact's data were erased."))
    if not contact.is_active:
        return ContactDecision(False, _("The contact is archived."))
    consent = Consent.objects.filter(contact=contact, channel=channel).first()
    if consent is not None and consent.status == ConsentStatus.REFUSED:
        return ContactDecision(
            False,
            _("Opted out on %(date)s (%(source)s).")
            % {
                "date": date_format(timezone.localtime(consent.recorded_at), "SHORT_DATE_FORMAT"),
                "source": consent.source,
            },
        )
    if channel == Channel.EMAIL:
        if not contact.email:
            return ContactDecision(False, _("No email address."))
        if privacy is not None and privacy.email_bounced_at is not None:
            return ContactDecision(False, _("The email address bounces."))
    if channel == Channel.PHONE and not (contact.phone or contact.mobile):
        return ContactDecision(False, _("No phone number."))
    if consent is not None and consent.status == ConsentStatus.GRANTED:
        return ContactDecision(True, _("Consent given (%(source)s).") % {"source": consent.source})
    if channel == Channel.EMAIL:
        if b2b:
            return ContactDecision(
                True,
                _("B2B: allowed if the message concerns the person's job, with a free opt-out."),
            )
        if contact.party.is_customer:
            return ContactDecision(True, _("Existing customer: soft opt-in for similar products."))
        return ContactDecision(False, _("A consumer must have agreed to receive emails first."))
    if channel == Channel.PHONE:
        if b2b:
            return ContactDecision(True, _("B2B: calls allowed unless the person objected."))
        if today >= CONSUMER_PHONE_CONSENT_FROM:
            return ContactDecision(
                False, _("Since 11 August 2026 a consumer must have agreed to be called first.")
            )
        return ContactDecision(True, _("Before 11 August 2026: allowed unless on Bloctel."))
    return ContactDecision(True, _("Post: allowed unless the person objected."))


def contactable(
    queryset: QuerySet[Contact], channel: str, *, b2b: bool, on: date | None = None
) -> QuerySet[Contact]:
    """Narrow contacts to those :func:`may_contact` allows, in one query (campaign targets)."""
    today = on or timezone.localdate()
    consents = Consent.objects.filter(contact=OuterRef("pk"), channel=channel)
    queryset = queryset.filter(is_active=True).exclude(
        Exists(consents.filter(status=ConsentStatus.REFUSED))
    )
    queryset = queryset.exclude(privacy__anonymised_at__isnull=False)
    granted = Exists(consents.filter(status=ConsentStatus.GRANTED))
    kind = PartyKind.ORGANISATION if b2b else PartyKind.PERSON
    queryset = queryset.filter(party__kind=kind)
    if channel == Channel.EMAIL:
        queryset = queryset.exclude(email="").exclude(privacy__email_bounced_at__isnull=False)
        if not b2b:
            queryset = queryset.filter(granted | Q(party__is_customer=True))
    elif channel == Channel.PHONE:
        queryset = queryset.exclude(phone="", mobile="")
        if not b2b and today >= CONSUMER_PHONE_CONSENT_FROM:
            queryset = queryset.filter(granted)
    return queryset


def consent_summary(contact: Contact) -> list[dict[str, Any]]:
    """Return one line per channel: the stored choice (if any) and what the rules decide."""
    stored = {c.channel: c for c in Consent.objects.filter(contact=contact)}
    b2b = is_b2b(contact)
    lines = []
    for channel, label in Channel.choices:
        consent = stored.get(channel)
        decision = may_contact(contact, channel, b2b=b2b)
        lines.append(
            {
                "channel": channel,
                "label": label,
                "status": consent.status if consent else "",
                "status_label": consent.get_status_display()
                if consent
                else _("No choice recorded"),
                "source": consent.source if consent else "",
                "recorded_at": consent.recorded_at if consent else None,
                "allowed": decision.allowed,
                "reason": decision.reason,
            }
        )
    return lines


def _last_inbound() -> Any:
    return Coalesce("privacy__last_inbound_at", "created_at")


def prospects_past_retention(*, now: datetime | None = None) -> QuerySet[Party]:
    """Return the prospects with no contact from their side for 3 years and never a customer."""
    moment = now or timezone.now()
    limit = moment - timedelta(days=PROSPECT_RETENTION_DAYS)
    return (
        Party.objects.filter(is_prospect=True, is_customer=False, is_supplier=False)
        .exclude(privacy__anonymised_at__isnull=False)
        .alias(last_inbound=_last_inbound())
        .filter(last_inbound__lt=limit)
        .exclude(Exists(_invoices_of(OuterRef("pk"))))
    )


def prospects_to_anonymise(*, now: datetime | None = None) -> QuerySet[Party]:
    """Return the flagged prospects whose grace period is over and who stayed silent."""
    moment = now or timezone.now()
    return prospects_past_retention(now=moment).filter(
        privacy__retention_flagged_at__lte=moment - timedelta(days=RETENTION_GRACE_DAYS)
    )


def _invoices_of(party: Any) -> QuerySet[Any]:
    from django.apps import apps

    if apps.is_installed("comptoir.invoicing"):
        invoice = apps.get_model("invoicing", "Invoice")
        return invoice.objects.filter(party=party)
    return Party.objects.none()


# -- scoring ---------------------------------------------------------------------------------

PurchaseSource = Callable[[date], Mapping[int, Purchases]]


def purchases_from_invoices(on: date) -> dict[int, Purchases]:
    """Return each customer's purchases from issued invoices up to a date (credit notes deducted)."""
    from django.apps import apps

    if not apps.is_installed("comptoir.invoicing"):
        return {}
    invoice = apps.get_model("invoicing", "Invoice")
    issued = invoice.objects.filter(status="issued", issue_date__lte=on)
    out: dict[int, Purchases] = {}
    rows = (
        issued.order_by()
        .values("party_id")
        .annotate(
            last=Max("issue_date", filter=~Q(kind="credit_note")),
            invoices=Count("pk", filter=~Q(kind="credit_note")),
            billed=Sum("tax_basis_amount", filter=~Q(kind="credit_note")),
            credited=Sum("tax_basis_amount", filter=Q(kind="credit_note")),
        )
    )
    for row in rows:
        if row["last"] is None:
            continue
        net = (row["billed"] or Decimal("0")) - abs(row["credited"] or Decimal("0"))
        out[row["party_id"]] = Purchases(row["last"], row["invoices"], net)
    return out


def rfm_of_customers(
    *, on: date | None = None, source: PurchaseSource = purchases_from_invoices
) -> dict[int, Rfm]:
    """Return the RFM score of every customer who bought, from a pluggable purchases source."""
    today = on or timezone.localdate()
    return rfm_scores(dict(source(today)), today)  # type: ignore[arg-type]


COMPANY_FORMS = frozenset({"SA", "SAS", "SASU", "SARL", "EURL", "SNC", "SCOP", "SELARL", "SELAS"})


def prospect_fit(
    queryset: QuerySet[Party], *, target_categories: set[int] | None = None
) -> dict[int, int]:
    """Return the fit score (0–100) of each prospect of the queryset."""
    from comptoir.customerfile.quality import count_contacts, party_qualities

    completeness = {q.party_id: q.score for q in party_qualities(queryset)}
    parties = list(queryset.select_related("territory"))
    contacts = count_contacts(p.pk for p in parties)
    scores = {}
    for party in parties:
        factors = FitFactors(
            target_category=(
                party.category_id in target_categories
                if target_categories
                else party.category_id is not None
            ),
            registered=bool(party.siren),
            company_form=party.legal_form.upper() in COMPANY_FORMS,
            contacts=contacts.get(party.pk, 0),
            completeness=completeness.get(party.pk, 0),
            covered=party.sales_rep_id is not None,
        )
        scores[party.pk] = fit_score(factors)
    return scores


def last_duplicate_scan() -> AuditEntry | None:
    """The latest duplicate search (its audit entry: when, by whom, what it found)."""
    return AuditEntry.objects.filter(action="scan_duplicates").order_by("-at", "-pk").first()
