"""Quality of the customer file: a score per party and for the whole file, and what to fix.

Each party is checked against criteria of completeness (identifier, email, phone, address,
a named contact, a category, a sales rep), validity (postcode against town), duplicates
(another party with the same SIREN without distinct SIRETs, the same email, or the same name in
the same postcode), bounced emails and staleness (no change and no contact for 2 years). The
whole file is read in a few queries, whatever its size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comptoir.customerfile import postcodes
from comptoir.customerfile.models import ContactPrivacy, PartyPrivacy
from comptoir.customerfile.scoring import Check, quality_score
from comptoir.parties.models import Address, Contact, Party, PartyKind

STALE_AFTER_DAYS = 2 * 365

# Criterion → (weight, what to fix). Weights say how much a gap hurts the use of the file.
CRITERIA: dict[str, tuple[int, Any]] = {
    "identifier": (15, _("Add the SIREN or SIRET")),
    "email": (15, _("Add an email address")),
    "phone": (10, _("Add a phone number")),
    "address": (15, _("Add a billing address")),
    "contact": (10, _("Add a named contact")),
    "category": (5, _("Choose a customer category")),
    "sales_rep": (5, _("Assign a sales rep")),
    "postcode_town": (10, _("Check the postcode against the town")),
    "duplicate": (10, _("Merge the suspected duplicate")),
    "bounced": (5, _("Replace the email address that bounces")),
    "stale": (5, _("Review this record: no change or contact for 2 years")),
}


@dataclass
class PartyQuality:
    party_id: int
    name: str
    score: int
    failed: list[str] = field(default_factory=list)

    def to_fix(self) -> list[Any]:
        return [CRITERIA[code][1] for code in self.failed]


@dataclass
class FileQuality:
    parties: int = 0
    score: int = 100
    failed: Counter[str] = field(default_factory=Counter)
    worst: list[PartyQuality] = field(default_factory=list)
    distribution: dict[str, int] = field(default_factory=dict)

    def to_fix(self) -> list[dict[str, Any]]:
        """Return the criteria failed, the most damaging first (weight × parties)."""
        lines = [
            {
                "code": code,
                "label": CRITERIA[code][1],
                "parties": count,
                "weight": CRITERIA[code][0],
            }
            for code, count in self.failed.items()
            if count
        ]
        return sorted(lines, key=lambda line: -line["parties"] * line["weight"])


def _annotated(queryset: QuerySet[Party]) -> QuerySet[Party]:
    contacts = Contact.objects.filter(party=OuterRef("pk"), is_active=True)
    return queryset.annotate(
        q_contact=Exists(contacts),
        q_contact_email=Exists(contacts.exclude(email="")),
        q_contact_phone=Exists(contacts.filter(~Q(phone="") | ~Q(mobile=""))),
        q_address=Exists(Address.objects.filter(party=OuterRef("pk"))),
        q_bounced=Exists(
            ContactPrivacy.objects.filter(
                contact__party=OuterRef("pk"), email_bounced_at__isnull=False
            )
        ),
        q_last_inbound=PartyPrivacy.objects.filter(party=OuterRef("pk")).values("last_inbound_at")[
            :1
        ],
    )


def _duplicate_ids(queryset: QuerySet[Party]) -> set[int]:
    """Return the parties that share an email, a name in one postcode, or a SIREN (no SIRET)."""
    suspects: set[int] = set()
    rows = queryset.order_by().values_list("pk", "siren", "siret", "email", "postcode", "name_key")
    groups: dict[tuple[str, str], list[int]] = {}
    for pk, siren, siret, email, postcode, key in rows.iterator(chunk_size=5000):
        if siren and not siret:
            groups.setdefault(("siren", siren), []).append(pk)
        if email:
            groups.setdefault(("email", email.lower()), []).append(pk)
        if key and postcode:
            groups.setdefault(("name", f"{key}|{postcode}"), []).append(pk)
    for members in groups.values():
        if len(members) > 1:
            suspects.update(members)
    return suspects


def _checks(party: Any, duplicates: set[int], stale_before: datetime) -> list[Check]:
    weight = {code: value[0] for code, value in CRITERIA.items()}
    organisation = party.kind == PartyKind.ORGANISATION
    checks = [
        Check("email", bool(party.email) or party.q_contact_email, weight["email"]),
        Check("phone", bool(party.phone or party.mobile) or party.q_contact_phone, weight["phone"]),
        Check("address", party.q_address, weight["address"]),
        Check("sales_rep", party.sales_rep_id is not None, weight["sales_rep"]),
        Check("duplicate", party.pk not in duplicates, weight["duplicate"]),
        Check("bounced", not party.q_bounced, weight["bounced"]),
    ]
    if organisation:
        checks.append(Check("identifier", bool(party.siren or party.siret), weight["identifier"]))
        checks.append(Check("contact", party.q_contact, weight["contact"]))
    if party.is_customer or party.is_prospect:
        checks.append(Check("category", party.category_id is not None, weight["category"]))
    if party.postcode and party.country == "FR":
        problems = postcodes.postcode_town_problems(party.postcode, party.city)
        checks.append(Check("postcode_town", not problems, weight["postcode_town"]))
    last_touch = max(filter(None, (party.updated_at, party.q_last_inbound)))
    checks.append(Check("stale", last_touch >= stale_before, weight["stale"]))
    return checks


def party_qualities(
    queryset: QuerySet[Party], *, now: datetime | None = None
) -> Iterator[PartyQuality]:
    """Yield the quality of each party of the queryset."""
    stale_before = (now or timezone.now()) - timedelta(days=STALE_AFTER_DAYS)
    duplicates = _duplicate_ids(Party.objects.filter(is_active=True))
    for party in _annotated(queryset).iterator(chunk_size=2000):
        checks = _checks(party, duplicates, stale_before)
        yield PartyQuality(
            party.pk,
            party.name,
            quality_score(checks),
            [c.code for c in checks if not c.passed],
        )


def party_quality(party: Party) -> PartyQuality:
    return next(party_qualities(Party.objects.filter(pk=party.pk)))


def file_quality(queryset: QuerySet[Party], *, worst: int = 20) -> FileQuality:
    """Return the score of the whole file (mean of the parties'), the gaps and the worst records."""
    result = FileQuality()
    total = 0
    bands = Counter[str]()
    kept: list[PartyQuality] = []
    for quality in party_qualities(queryset):
        result.parties += 1
        total += quality.score
        result.failed.update(quality.failed)
        bands[_band(quality.score)] += 1
        kept.append(quality)
        if len(kept) > 4 * worst:
            kept = sorted(kept, key=lambda q: (q.score, q.name))[:worst]
    result.score = total // result.parties if result.parties else 100
    result.worst = sorted(kept, key=lambda q: (q.score, q.name))[:worst]
    result.distribution = {band: bands.get(band, 0) for band in ("0–49", "50–79", "80–100")}
    return result


def _band(score: int) -> str:
    if score < 50:
        return "0–49"
    if score < 80:
        return "50–79"
    return "80–100"


def active_parties() -> QuerySet[Party]:
    return Party.objects.filter(is_active=True).filter(Q(is_customer=True) | Q(is_prospect=True))


def count_contacts(parties: Iterable[int]) -> dict[int, int]:
    return dict(
        Contact.objects.filter(party_id__in=list(parties), is_active=True)
        .values_list("party_id")
        .annotate(n=Count("pk"))
        .values_list("party_id", "n")
    )
