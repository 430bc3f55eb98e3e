"""GDPR: consent rules per channel, opt-out everywhere, access export, erasure, retention."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from comptoir.core.models import AuditEntry
from comptoir.core.selectors import current_company
from comptoir.customerfile import actions, gdpr
from comptoir.customerfile.models import (
    Consent,
    ConsentEvent,
    ContactPrivacy,
    PartyPrivacy,
    ProcessingActivity,
)
from comptoir.customerfile.selectors import contactable, may_contact
from comptoir.parties import actions as party_actions
from comptoir.parties.models import Address, Contact, Party

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    # Wording assertions read English, whatever the French catalogue holds.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


BEFORE = date(2026, 8, 10)
AFTER = date(2026, 8, 11)


def _org_contact(**contact: Any) -> Contact:
    party = party_actions.create_party(by=None, name="Garage Martin", is_prospect=True)
    contact.setdefault("last_name", "Martin")
    contact.setdefault("email", "paul@garage-martin.fr")
    contact.setdefault("phone", "04 78 12 34 56")
    return party_actions.add_contact(party, by=None, **contact)


def _consumer(*, customer: bool = False) -> Contact:
    party = party_actions.create_party(
        by=None,
        kind="person",
        last_name="Bernard",
        first_name="Sophie",
        is_prospect=not customer,
        is_customer=customer,
        billing_address={"line1": "5 allée des Tilleuls", "postcode": "33000", "city": "Bordeaux"},
    )
    return party_actions.add_contact(
        party,
        by=None,
        first_name="Sophie",
        last_name="Bernard",
        email="sophie@example.org",
        mobile="06 12 34 56 78",
    )


def test_b2b_email_needs_no_prior_consent_but_an_opt_out_wins() -> None:
    contact = _org_contact()
    assert may_contact(contact, "email", b2b=True)
    actions.record_opt_out(contact, channel="email", source="Unsubscribe link", by=None)
    decision = may_contact(contact, "email", b2b=True)
    assert not decision and "Opted out" in decision.reason
    assert may_contact(contact, "phone", b2b=True)  # the opt-out is per channel
    assert may_contact(contact, "post", b2b=True)


def test_b2c_email_needs_opt_in_except_soft_opt_in_for_customers() -> None:
    prospect = _consumer()
    assert not may_contact(prospect, "email", b2b=False)
    actions.set_consent(prospect, channel="email", status="granted", source="Web form", by=None)
    assert may_contact(prospect, "email", b2b=False)
    customer = _consumer(customer=True)
    assert may_contact(customer, "email", b2b=False)


def test_phoning_consumers_needs_consent_since_11_august_2026() -> None:
    contact = _consumer()
    assert may_contact(contact, "phone", b2b=False, on=BEFORE)
    assert not may_contact(contact, "phone", b2b=False, on=AFTER)
    actions.set_consent(contact, channel="phone", status="granted", source="Call", by=None)
    assert may_contact(contact, "phone", b2b=False, on=AFTER)
    assert may_contact(_org_contact(), "phone", b2b=True, on=AFTER)


def test_bounced_email_and_erased_contact_are_not_contacted() -> None:
    contact = _org_contact()
    actions.mark_email_bounced(contact, by=None)
    assert "bounces" in may_contact(contact, "email", b2b=True).reason
    assert may_contact(contact, "post", b2b=True)
    actions.anonymise_contact(contact, by=None, reason="request")
    assert not may_contact(contact, "post", b2b=True)


@pytest.mark.parametrize("channel", ["email", "phone", "post"])
@pytest.mark.parametrize("when", [BEFORE, AFTER])
def test_contactable_agrees_with_may_contact(channel: str, when: date) -> None:
    b2b_plain = _org_contact()
    b2b_out = _org_contact(email="x@garage.fr")
    actions.record_opt_out(b2b_out, channel=channel, source="letter", by=None)
    consumer = _consumer()
    consumer_in = _consumer()
    actions.set_consent(consumer_in, channel=channel, status="granted", source="form", by=None)
    customer = _consumer(customer=True)
    for b2b in (True, False):
        expected = {
            c.pk
            for c in (b2b_plain, b2b_out, consumer, consumer_in, customer)
            if (c.party.kind == "organisation") == b2b and may_contact(c, channel, b2b=b2b, on=when)
        }
        found = set(
            contactable(Contact.objects.all(), channel, b2b=b2b, on=when).values_list(
                "pk", flat=True
            )
        )
        assert found == expected


def test_consent_history_keeps_every_choice() -> None:
    contact = _org_contact()
    actions.set_consent(contact, channel="email", status="granted", source="Salon 2026", by=None)
    actions.record_opt_out(contact, channel="email", source="Unsubscribe link", by=None)
    assert Consent.objects.get(contact=contact).status == "refused"
    assert list(
        ConsentEvent.objects.filter(contact=contact)
        .order_by("at", "pk")
        .values_list("status", "source")
    ) == [
        ("granted", "Salon 2026"),
        ("refused", "Unsubscribe link"),
    ]


def test_unsubscribe_token_names_contact_and_channel_and_resists_forgery() -> None:
    contact = _org_contact()
    token = gdpr.unsubscribe_token(contact, "email")
    assert gdpr.read_unsubscribe_token(token) == (contact, "email")
    assert gdpr.read_unsubscribe_token(token[:-2] + "xx") is None
    assert gdpr.unsubscribe_url(contact).endswith(f"/customer-file/unsubscribe/{token}/")


def test_access_request_holds_everything_about_the_person() -> None:
    contact = _consumer()
    ContactPrivacy.objects.create(contact=contact, source="Import salon-2026.csv, 2026-11-26")
    actions.set_consent(contact, channel="email", status="granted", source="Salon 2026", by=None)
    data = gdpr.personal_data(contact)
    assert data["person"]["email"] == "sophie@example.org"
    assert data["source"]["description"] == "Import salon-2026.csv, 2026-11-26"
    assert {c["channel"]: c["status"] for c in data["consents"]} == {
        "email": "granted",
        "phone": "none",
        "post": "none",
    }
    assert data["addresses"][0]["lines"][0] == "5 allée des Tilleuls"
    assert "set_consent" in [a["action"] for a in data["activity"]]
    assert len(data["processing"]) == ProcessingActivity.objects.count() >= 5


def test_access_request_pdf_renders_in_words_not_codes() -> None:
    from django.utils import translation
    from pypdf import PdfReader

    contact = _consumer()
    actions.set_consent(contact, channel="email", status="granted", source="Salon 2026", by=None)
    with translation.override("fr"):
        pdf = gdpr.access_request_pdf(contact)
    assert pdf.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Prénom" in text and "first_name" not in text and "created_at" not in text
    assert "Consentement enregistré" in text and "set_consent" not in text
    assert "granted" not in text
    invoice = {
        "number": "FA-2026-000009",
        "kind": "down_payment",
        "issue_date": "2026-03-04",
        "total_amount": "1234.50",
    }
    with translation.override("fr"):
        printable = gdpr._printable({**gdpr.personal_data(contact), "invoices": [invoice]})
    assert printable["invoices"][0]["kind"] == "Facture d'acompte"
    assert printable["invoices"][0]["issue_date"] == "04/03/2026"
    assert printable["invoices"][0]["total_amount"] == "1\u202f234,50 €"
    # Dates the French way, not ISO timestamps.
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d", text)
    assert not re.search(r"\d{4}-\d\d-\d\dT", text)


def test_erasure_blanks_the_person_and_scrubs_the_audit_trail() -> None:
    contact = _org_contact(first_name="Paul", job_title="Gérant")
    party = contact.party
    actions.anonymise_contact(contact, by=None, reason="Article 17 request of 2026-11-26")
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.email, contact.phone) == (
        "",
        "Anonymised",
        "",
        "",
    )
    assert not contact.is_active
    assert ContactPrivacy.objects.get(contact=contact).anonymised_at is not None
    trail = AuditEntry.objects.filter(object_id=str(party.pk))
    text = " ".join(str(e.changes) for e in trail)
    assert "paul@garage-martin.fr" not in text and "Paul" not in text
    erasure = trail.get(action="anonymise_contact")
    assert erasure.changes == {"contact": contact.pk, "reason": "Article 17 request of 2026-11-26"}
    party.refresh_from_db()
    assert party.name == "Garage Martin"  # an organisation is not personal data


def _company() -> None:
    company = current_company()
    for name, value in {
        "legal_name": "Comptoir Démo SAS",
        "legal_form": "SAS",
        "share_capital_amount": Decimal("10000.00"),
        "siren": "732829320",
        "siret": "73282932000074",
        "rcs_city": "Lyon",
        "vat_number": "FR44732829320",
        "address_line1": "12 rue de la République",
        "postcode": "69002",
        "city": "Lyon",
        "email": "factures@comptoir.example",
    }.items():
        setattr(company, name, value)
    company.save()


def test_erasing_a_private_customer_keeps_the_issued_invoice_intact(
    settings: Any, tmp_path: Any
) -> None:
    from comptoir.invoicing import actions as invoicing

    settings.DATA_DIR = tmp_path
    settings.ARCHIVE_ROOT = tmp_path / "archive"
    _company()
    contact = _consumer(customer=True)
    party = contact.party
    line = {
        "label": "Vase",
        "quantity": Decimal("1"),
        "unit_price": Decimal("50.00"),
        "vat_rate": Decimal("20.00"),
        "vat_category": "S",
        "vat_rate_code": "normal",
    }
    invoice = invoicing.issue_invoice(
        invoicing.create_invoice(party=party, by=None, lines=[line]),
        by=None,
        produce_documents=False,
    )
    buyer_before = dict(invoice.buyer)
    actions.anonymise_party(party, by=None, reason="request")
    party.refresh_from_db()
    invoice.refresh_from_db()
    assert party.name.startswith("Anonymised") and party.first_name == "" and not party.is_active
    assert Address.objects.get(party=party).line1 == "[erased]"
    assert invoice.buyer == buyer_before  # the legal snapshot is untouched
    assert invoice.buyer_name == "BERNARD Sophie"
    assert invoice.total_amount == Decimal("60.00")


def test_retention_flags_then_anonymises_silent_prospects(capsys: Any) -> None:
    old = _org_contact().party
    Party.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3 * 365 + 10))
    recent = _org_contact(email="a@b.fr").party
    active = _org_contact(email="c@d.fr").party
    Party.objects.filter(pk=active.pk).update(created_at=timezone.now() - timedelta(days=4 * 365))
    actions.record_inbound_contact(
        active, by=None, at=timezone.now() - timedelta(days=100), kind="reply"
    )

    call_command("customers", "retention", "--dry-run")
    assert "1 to flag, 0 to anonymise" in capsys.readouterr().out
    assert not PartyPrivacy.objects.filter(retention_flagged_at__isnull=False).exists()

    call_command("customers", "retention")
    assert "1 prospects flagged, 0 anonymised" in capsys.readouterr().out
    assert PartyPrivacy.objects.get(party=old).retention_flagged_at is not None

    later = timezone.now() + timedelta(days=31)
    flagged, anonymised = actions.run_retention(by=None, now=later)
    assert (flagged, anonymised) == (0, 1)
    old.refresh_from_db()
    assert old.contacts.get().last_name == "Anonymised"
    recent.refresh_from_db()
    assert recent.contacts.get().last_name == "Martin"
    assert active.contacts.get().last_name == "Martin"


def test_a_flagged_prospect_who_reaches_out_is_kept() -> None:
    party = _org_contact().party
    Party.objects.filter(pk=party.pk).update(
        created_at=timezone.now() - timedelta(days=3 * 365 + 10)
    )
    actions.run_retention(by=None)
    actions.record_inbound_contact(party, by=None, kind="call")
    assert actions.run_retention(by=None, now=timezone.now() + timedelta(days=60)) == (0, 0)


def test_processing_register_exports() -> None:
    rows = gdpr.register_rows()
    assert "Prospecting" in [row[0] for row in rows]
    assert len(gdpr.register_header()) == len(rows[0]) == 10
    assert gdpr.register_pdf().startswith(b"%PDF")
