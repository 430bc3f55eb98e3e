"""Build the demo company: a Lyon office-supplies and furniture distributor, seeded and repeatable.

Rows are bulk-inserted (the large size makes 100,000 parties) but every identifier, phone and
name key goes through the same normalisers the actions use, so the data obeys the domain rules.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from comptoir.core import identifiers
from comptoir.core.models import Company, User
from comptoir.core.roles import Role
from comptoir.demo import data
from comptoir.parties.models import (
    Address,
    AddressKind,
    Contact,
    CustomerCategory,
    Party,
    PartyKind,
    Tag,
    Territory,
    name_key,
)

DEMO_PASSWORD = "comptoir-demo"  # noqa: S105 - the published password of the demo users

USERS = [
    ("admin", "Alice", "Admin", Role.ADMINISTRATOR),
    ("claire", "Claire", "Martin", Role.SALES_MANAGER),
    ("sophie", "Sophie", "Bernard", Role.SALES_ASSISTANT),
    ("thomas", "Thomas", "Petit", Role.SALES_REP),
    ("julie", "Julie", "Moreau", Role.SALES_REP),
    ("karim", "Karim", "Benali", Role.SALES_REP),
    ("nathalie", "Nathalie", "Roux", Role.ACCOUNTANT),
]

# Territory of each rep: departments of the towns in data.TOWNS.
TERRITORIES = [
    (
        "nord-idf",
        "Nord & Île-de-France",
        "75,77,78,91,92,93,94,95,59,80,51,76,14,67,57,54",
        "thomas",
    ),
    ("sud-est", "Sud-Est & Centre-Est", "69,42,38,73,74,63,26,21,25,13,83,06,84,34,30,66", "julie"),
    ("ouest-so", "Ouest & Sud-Ouest", "31,33,64,87,86,17,44,35,29,49,72,37,45", "karim"),
]

CATEGORIES = [
    ("business", "Entreprises"),
    ("reseller", "Revendeurs"),
    ("public", "Administrations et collectivités"),
    ("liberal", "Professions libérales"),
]

TAGS = ["Grand compte", "Salon Paris 2026", "Fidèle", "À relancer", "Appel d'offres"]


@dataclass
class DemoReport:
    users: list[tuple[str, str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit that makes `digits` + it valid."""
    for check in "0123456789":
        candidate = digits + check
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char)
            if index % 2 == 1:
                value *= 2
                if value > 9:
                    value -= 9
            total += value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


class Generator:
    """Seeded source of valid French identifiers, phones and names."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sirens: set[str] = set()

    def siren(self) -> str:
        while True:
            first = str(self.rng.randint(3, 9))
            siren = luhn_complete(first + "".join(self.rng.choices("0123456789", k=7)))
            if siren not in self.sirens and not siren.startswith("356000000"):
                self.sirens.add(siren)
                return siren

    def siret(self, siren: str, establishment: int = 1) -> str:
        return luhn_complete(f"{siren}{establishment:04d}")

    def landline(self, department: str) -> str:
        zone = {
            "75": "1",
            "77": "1",
            "78": "1",
            "91": "1",
            "92": "1",
            "93": "1",
            "94": "1",
            "95": "1",
        }
        prefix = zone.get(department)
        if prefix is None:
            prefix = (
                "2"
                if department in {"14", "35", "29", "44", "49", "72", "37", "45", "76", "17", "86"}
                else (
                    "3"
                    if department in {"59", "80", "51", "67", "57", "54", "21", "25"}
                    else ("5" if department in {"31", "33", "64", "87"} else "4")
                )
            )
        while True:
            number = f"0{prefix}{self.rng.randint(10, 99)}{self.rng.randint(0, 999999):06d}"
            try:
                return identifiers.normalise_phone(number)
            except Exception:  # noqa: BLE001, S112 - retry until phonenumbers accepts a fictitious number
                continue

    def mobile(self) -> str:
        while True:
            number = f"0{self.rng.choice('67')}{self.rng.randint(10, 99)}{self.rng.randint(0, 999999):06d}"
            try:
                return identifiers.normalise_phone(number)
            except Exception:  # noqa: BLE001, S112 - retry until phonenumbers accepts it
                continue

    def street(self) -> str:
        return f"{self.rng.randint(1, 180)} {self.rng.choice(data.STREETS)}"


def of_town(town: str) -> str:
    """Return "de" and the town as French writes it: "d'Amiens", "du Havre", "de La Rochelle".

    No town of data.TOWNS starts with an h: whether it elides (mute h, "d'Hyères") or not
    ("de Haguenau") cannot be read from the spelling.
    """
    if town.startswith("Le "):
        return f"du {town[3:]}"
    if town.startswith("Les "):
        return f"des {town[4:]}"
    if town[0].lower() in "aeiouyàâäéèêëîïôöùûü":
        return f"d'{town}"
    return f"de {town}"


def slug_email(text: str) -> str:
    key = name_key(text).lower().replace(" ", "-")
    return key[:40] or "contact"


def build_users(report: DemoReport) -> dict[str, User]:
    users = {}
    for username, first, last, role in USERS:
        user, _created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
                "email": f"{username}@bureau-et-cie.example",
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.is_staff = role == Role.ADMINISTRATOR
        user.save()
        users[username] = user
        report.users.append((username, DEMO_PASSWORD, str(Role(role).label)))
    return users


def build_company() -> Company:
    siren = "552100554"  # fictitious but valid Luhn
    company = Company.objects.order_by("pk").first() or Company(pk=1)
    company.legal_name = "Bureau & Cie"
    company.trade_name = "Bureau & Cie — fournitures et mobilier de bureau"
    company.legal_form = "SAS"
    company.share_capital_amount = Decimal("150000.00")
    company.siren = siren
    company.siret = luhn_complete(siren + "0002")
    company.rcs_city = "Lyon"
    company.vat_number = identifiers.french_vat_number_for(siren)
    company.naf_code = "4666Z"
    company.address_line1 = "12 rue de la Charité"
    company.postcode = "69002"
    company.city = "Lyon"
    company.email = "contact@bureau-et-cie.example"
    company.phone = "+33472000000"
    company.website = "https://bureau-et-cie.example"
    company.iban = "FR7630006000011234567890189"
    company.bic = "AGRIFRPP"
    company.payment_terms_days = 30
    # Free text under the legal line (which prints name, form, capital and RCS by itself).
    company.document_footer = "Fournitures et mobilier de bureau depuis 1987 — www.bureau-et-cie.fr"
    company.full_clean()
    company.save()
    return company


def build_reference_data(
    users: dict[str, User],
) -> tuple[dict[str, Territory], dict[str, CustomerCategory], list[Tag]]:
    territories = {}
    for code, name, departments, rep in TERRITORIES:
        territories[code], _ = Territory.objects.update_or_create(
            code=code, defaults={"name": name, "departments": departments, "sales_rep": users[rep]}
        )
    categories = {}
    for code, name in CATEGORIES:
        categories[code], _ = CustomerCategory.objects.update_or_create(
            code=code, defaults={"name": name}
        )
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    return territories, categories, tags


def territory_for(department: str, territories: dict[str, Territory]) -> Territory:
    for territory in territories.values():
        if department in territory.department_codes():
            return territory
    return territories["nord-idf"]


def build_parties(
    gen: Generator,
    *,
    customers: int,
    suppliers: int,
    users: dict[str, User],
    territories: dict[str, Territory],
    categories: dict[str, CustomerCategory],
    tags: list[Tag],
    progress: Callable[[int], None] | None = None,
    batch_size: int = 2000,
) -> int:
    """Create `customers` customers and prospects and `suppliers` suppliers; return how many."""
    rng = gen.rng
    now = timezone.now()
    made = 0
    total = customers + suppliers
    used_names: set[str] = set()
    while made < total:
        batch = min(batch_size, total - made)
        parties: list[Party] = []
        extras: list[dict[str, Any]] = []
        for i in range(batch):
            index = made + i
            town, postcode, department = rng.choice(data.TOWNS)
            is_supplier = index >= customers
            if is_supplier:
                base, legal_form = data.SUPPLIER_NAMES[
                    (index - customers) % len(data.SUPPLIER_NAMES)
                ]
                name = base if index - customers < len(data.SUPPLIER_NAMES) else f"{base} {index}"
                category = None
            elif rng.random() < 0.06:
                name = rng.choice(data.PUBLIC_BODIES).format(of_town=of_town(town))
                legal_form = ""
                category = categories["public"]
            else:
                pattern, legal_form, category_code = rng.choice(data.TRADES)
                name = pattern.format(name=rng.choice(data.SURNAMES))
                category = categories[category_code]
            if name in used_names:
                name = f"{name} ({town})"
            if name in used_names:
                name = f"{name} {index}"
            used_names.add(name)
            siren = gen.siren()
            is_customer = not is_supplier and rng.random() < 0.7
            territory = territory_for(department, territories)
            parties.append(
                Party(
                    kind=PartyKind.ORGANISATION,
                    name=name,
                    legal_form=legal_form,
                    siren=siren,
                    siret=gen.siret(siren, rng.randint(1, 40)),
                    vat_number=identifiers.french_vat_number_for(siren),
                    is_customer=is_customer,
                    is_prospect=not is_supplier and not is_customer,
                    is_supplier=is_supplier,
                    category=category,
                    email=f"contact@{slug_email(name)}.example",
                    phone=gen.landline(department),
                    postcode=postcode,
                    city=town,
                    country="FR",
                    sales_rep=None if is_supplier else territory.sales_rep,
                    territory=None if is_supplier else territory,
                    payment_terms_days=rng.choice([None, None, 30, 45, 60])
                    if not is_supplier
                    else 30,
                    payment_terms_base="net",
                    notes="",
                    name_key=name_key(name),
                    created_at=now,
                    updated_at=now,
                    created_by=users["sophie"],
                    updated_by=users["sophie"],
                )
            )
            extras.append({"town": town, "postcode": postcode, "department": department})
        with transaction.atomic():
            Party.objects.bulk_create(parties, batch_size=batch_size)
            if parties[0].pk is None:  # backends without RETURNING: read the ids back
                by_siret = dict(
                    Party.objects.filter(siret__in=[p.siret for p in parties]).values_list(
                        "siret", "pk"
                    )
                )
                for party in parties:
                    party.pk = by_siret[party.siret]
            addresses: list[Address] = []
            contacts: list[Contact] = []
            tag_links = []
            for party, extra in zip(parties, extras, strict=True):
                addresses.append(
                    Address(
                        party=party,
                        kind=AddressKind.BILLING,
                        label="Siège",
                        line1=gen.street(),
                        postcode=extra["postcode"],
                        city=extra["town"],
                        is_default=True,
                    )
                )
                if rng.random() < 0.25:
                    addresses.append(
                        Address(
                            party=party,
                            kind=AddressKind.DELIVERY,
                            label="Entrepôt",
                            line1=gen.street(),
                            line2="Quai de livraison",
                            postcode=extra["postcode"],
                            city=extra["town"],
                            is_default=True,
                        )
                    )
                for n in range(rng.randint(1, 3)):
                    first, civility = rng.choice(data.FIRST_NAMES)
                    last = rng.choice(data.SURNAMES)
                    title, functions = rng.choice(data.JOB_TITLES)
                    contacts.append(
                        Contact(
                            party=party,
                            civility=civility,
                            first_name=first,
                            last_name=last,
                            job_title=title,
                            functions=functions,
                            email=f"{slug_email(first)}.{slug_email(last)}@{slug_email(party.name)}.example",
                            phone=party.phone,
                            mobile=gen.mobile() if rng.random() < 0.6 else "",
                            is_primary=n == 0,
                        )
                    )
                if rng.random() < 0.15:
                    tag_links.append(
                        Party.tags.through(party_id=party.pk, tag_id=rng.choice(tags).pk)
                    )
            Address.objects.bulk_create(addresses, batch_size=batch_size)
            Contact.objects.bulk_create(contacts, batch_size=batch_size)
            Party.tags.through.objects.bulk_create(
                tag_links, batch_size=batch_size, ignore_conflicts=True
            )
        made += batch
        if progress:
            progress(batch)
    return made


# Later issues append builders here: callables (generator, users, report) -> None.
EXTRA_BUILDERS: list[Callable[[Generator, dict[str, User], DemoReport], None]] = []
EXTRA_BUILDERS.append(__import__("comptoir.demo.sales_builder", fromlist=["x"]).build_sales_history)
EXTRA_BUILDERS.append(__import__("comptoir.demo.payments_builder", fromlist=["x"]).build_payments)


def build_demo(
    *, seed: int = 2026, size: str = "small", progress: Callable[[int], None] | None = None
) -> DemoReport:
    """Build the whole demo company into an empty database."""
    report = DemoReport()
    gen = Generator(seed)
    with transaction.atomic():
        users = build_users(report)
        build_company()
        territories, categories, tags = build_reference_data(users)
    customers = 100_000 - 20 if size == "large" else 300
    report.counts["parties"] = build_parties(
        gen,
        customers=customers,
        suppliers=20,
        users=users,
        territories=territories,
        categories=categories,
        tags=tags,
        progress=progress,
    )
    from comptoir.demo import catalogue_builder

    report.counts.update(catalogue_builder.build_catalogue(gen, users))
    for builder in EXTRA_BUILDERS:
        builder(gen, users, report)
    backdate_parties(gen, users["sophie"])
    return report


def backdate_parties(gen: Generator, by: User) -> None:
    """Date each party's creation (and its "create_party" entry) before its first document.

    Bulk-created, the parties would all read "created today" beside two years of history.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Min

    from comptoir.core.models import AuditEntry
    from comptoir.invoicing.models import Invoice
    from comptoir.sales.models import Quote

    rng = gen.rng
    today = timezone.localdate()
    earliest = today - timedelta(days=31 * 24 + 120)  # before the two years of sales
    first: dict[int, date] = {}
    for model in (Quote, Invoice):
        rows = model.objects.values("party").annotate(first=Min("issue_date"))
        for row in rows.values_list("party", "first"):
            if row[1] is not None:
                first[row[0]] = min(first.get(row[0], row[1]), row[1])
    kind = ContentType.objects.get_for_model(Party)
    with transaction.atomic():
        for chunk in _chunks(Party.objects.only("pk", "name").order_by("pk"), 2000):
            entries = []
            for party in chunk:
                if party.pk in first:
                    day = first[party.pk] - timedelta(days=rng.randint(3, 90))
                else:
                    day = earliest + timedelta(days=rng.randint(0, (today - earliest).days - 1))
                party.created_at = timezone.make_aware(
                    datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)))
                )
                entries.append(
                    AuditEntry(
                        at=party.created_at,
                        actor=by,
                        action="create_party",
                        content_type=kind,
                        object_id=str(party.pk),
                        object_repr=party.name[:200],
                        changes={"name": party.name},
                    )
                )
            Party.objects.bulk_update(chunk, ["created_at"])
            AuditEntry.objects.bulk_create(entries)


def _chunks(queryset: Any, size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in queryset.iterator(chunk_size=size):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def demo_exists() -> bool:
    return User.objects.filter(username="sophie").exists() and Party.objects.exists()
