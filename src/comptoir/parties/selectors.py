"""Parties reads: who sees which parties, likely duplicates, effective payment terms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

from comptoir.core.prepared import PreparedLookup
from comptoir.core.roles import is_sales_rep, reads_everything
from comptoir.core.selectors import current_company
from comptoir.parties.models import Address, Contact, Party, name_key

# token_sort_ratio (0–100) from which two names in the same postcode are shown as a duplicate.
SIMILAR_NAME_THRESHOLD = 85
# A postcode holds a few hundred parties at most; past this many, compare with the first ones
# only rather than make a create page slow.
MAX_NAMES_PER_POSTCODE = 5000


def default_address(party: Party | None, kind: str) -> Address | None:
    """Return the party's address of this kind: the default one, else the first entered."""
    if party is None or party.pk is None:
        return None
    address = _DEFAULT_ADDRESS.first(party.pk, str(kind))
    if address is not None:
        Address.party.field.set_cached_value(address, party)
    return address


# Read on every invoice issued: compiled once (comptoir.core.prepared).
_DEFAULT_ADDRESS = PreparedLookup[Address](
    lambda party_id, kind: Address.objects.filter(party_id=party_id, kind=kind).order_by(
        "-is_default", "pk"
    )[:1]
)


def parties_visible_to(user: Any) -> QuerySet[Party]:
    """Return the parties the user may see: a sales rep's own portfolio, or all for the office."""
    if reads_everything(user):
        return Party.objects.all()
    if is_sales_rep(user):
        return Party.objects.filter(sales_rep=user)
    return Party.objects.none()


def contacts_visible_to(user: Any) -> QuerySet[Contact]:
    """Return the contacts of the parties the user may see."""
    if reads_everything(user):
        return Contact.objects.all()
    if is_sales_rep(user):
        return Contact.objects.filter(party__sales_rep=user)
    return Contact.objects.none()


def addresses_visible_to(user: Any) -> QuerySet[Address]:
    """Return the addresses of the parties the user may see."""
    if reads_everything(user):
        return Address.objects.all()
    if is_sales_rep(user):
        return Address.objects.filter(party__sales_rep=user)
    return Address.objects.none()


def party_search_condition(term: str) -> Q:
    """Match one word the way an assistant types it, on columns with an index for it.

    Digits look for a SIREN, SIRET or postcode that starts with them; anything else for the
    name without accents or legal form, the email or the town. The i-lookups match the
    trigram indexes (on UPPER(column)) that PostgreSQL has for these columns.
    """
    compact = term.replace(".", "")
    if compact.isdigit():
        return (
            Q(siren__istartswith=compact)
            | Q(siret__istartswith=compact)
            | Q(postcode__istartswith=compact)
        )
    condition = Q(email__icontains=term) | Q(city__icontains=term)
    key = name_key(term)
    return condition | (Q(name_key__icontains=key) if key else Q(name__icontains=term))


def search_parties(queryset: QuerySet[Party], text: str) -> QuerySet[Party]:
    """Narrow to the parties that match every word of the search text."""
    for term in text.split()[:5]:
        queryset = queryset.filter(party_search_condition(term))
    return queryset


@dataclass
class DuplicateCandidate:
    """A party that may be the one being created, and why we think so."""

    party: Party
    reasons: list[str] = field(default_factory=list)
    strength: int = 0


def likely_duplicates(
    *,
    siren: str = "",
    siret: str = "",
    email: str = "",
    name: str = "",
    postcode: str = "",
    exclude_pk: int | None = None,
) -> list[DuplicateCandidate]:
    """Return the parties that look like the one described, strongest evidence first.

    Every lookup goes through an index (SIRET, SIREN, email, and postcode + name_key), so this
    stays fast on every create even with 100,000 parties.
    """
    found: dict[int, DuplicateCandidate] = {}

    def note(party: Party, reason: str, strength: int) -> None:
        candidate = found.setdefault(party.pk, DuplicateCandidate(party))
        candidate.reasons.append(reason)
        candidate.strength = max(candidate.strength, strength)

    def parties(**lookup: Any) -> QuerySet[Party]:
        # No ordering: sorting by name would make the database walk the name index instead
        # of looking the value up in its own index.
        queryset = Party.objects.filter(**lookup).order_by()
        for name in lookup.keys() & {"siren", "siret", "email"}:
            # Repeat the partial indexes' condition so that SQLite knows it may use them.
            queryset = queryset.exclude(**{name: ""})
        if exclude_pk is not None:
            queryset = queryset.exclude(pk=exclude_pk)
        return queryset

    if siret:
        for party in parties(siret=siret)[:20]:
            note(party, _("same SIRET"), 100)
    if siren:
        for party in parties(siren=siren)[:20]:
            note(party, _("same SIREN"), 90)
    if email:
        for party in parties(email=email)[:20]:
            note(party, _("same email"), 80)
    key = name_key(name)
    if key and postcode:
        rows = list(
            parties(postcode=postcode).values_list("pk", "name_key")[:MAX_NAMES_PER_POSTCODE]
        )
        scores = {
            pk: score
            for _key, score, pk in process.extract(
                key,
                {pk: other for pk, other in rows},
                scorer=fuzz.token_sort_ratio,
                score_cutoff=SIMILAR_NAME_THRESHOLD,
                limit=20,
            )
        }
        if scores:
            for party in parties(pk__in=scores):
                score = scores[party.pk]
                note(
                    party,
                    _("similar name in the same postcode %(score)s")
                    % {"score": f"{score / 100:.2f}"},
                    int(score * 0.7),
                )
    elif key:
        for party in parties(name_key=key)[:20]:
            note(party, _("same name"), 60)
    return sorted(found.values(), key=lambda c: (-c.strength, c.party.name, c.party.pk))


class PaymentTerms(NamedTuple):
    days: int
    base: str


def effective_payment_terms(party: Party) -> PaymentTerms:
    """Return the party's own payment terms, or the company's default ones."""
    if party.payment_terms_days is not None:
        return PaymentTerms(party.payment_terms_days, party.payment_terms_base)
    company = current_company()
    return PaymentTerms(company.payment_terms_days, company.payment_terms_base)


def portfolio_tile(user: Any) -> dict[str, Any] | None:
    """Home tile: the customers and prospects the user looks after (a rep: their portfolio)."""
    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils.translation import gettext as _

    counts = (
        parties_visible_to(user)
        .filter(is_active=True)
        .aggregate(
            customers=Count("pk", filter=Q(is_customer=True)),
            prospects=Count("pk", filter=Q(is_prospect=True)),
        )
    )
    title = _("My portfolio") if is_sales_rep(user) else _("Customers and prospects")
    return {
        "title": title,
        "value": _("Customers: %(customers)d · Prospects: %(prospects)d") % counts,
        "url": reverse("parties:list"),
    }
