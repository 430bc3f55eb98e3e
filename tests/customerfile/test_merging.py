"""Duplicate scan, review queue, merge of two parties and its undo."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from comptoir.core.audit import history_for
from comptoir.customerfile import merging
from comptoir.customerfile.models import (
    CandidateStatus,
    DuplicateCandidate,
    PartyMerge,
    PartyPrivacy,
    duplicate_reason_text,
)
from comptoir.dunning.models import DunningLevel, DunningMessage, DunningPolicy, DunningRun
from comptoir.invoicing import actions as invoicing_actions
from comptoir.invoicing.ledger import verify_ledger
from comptoir.invoicing.models import Invoice
from comptoir.parties import actions as party_actions
from comptoir.parties.models import Address, Contact, Party
from comptoir.sales import actions as sales_actions
from comptoir.sales.models import Order, Quote
from tests.factories import AddressFactory, ContactFactory, PartyFactory, valid_siren, valid_siret
from tests.invoicing.conftest import _archive_in_tmp, company, line  # noqa: F401

pytestmark = pytest.mark.django_db


def _pair(by: Any) -> tuple[Party, Party]:
    """Two records of one customer: the old one with a SIREN, the new one with an email."""
    siren = valid_siren(4242)
    old = PartyFactory(
        name="Boulangerie Martin",
        siren=siren,
        phone="+33472000001",
        notes="Delivers before 7am.",
        tags=["bakery"],
        by=by,
    )
    new = PartyFactory(
        name="Boulangerie Martin SARL",
        siren="",
        siret=valid_siret(siren),
        email="contact@boulangerie-martin.fr",
        notes="Met at the Lyon trade show.",
        is_prospect=True,
        is_customer=False,
        tags=["bakery", "trade-show"],
        by=by,
    )
    AddressFactory(party=old, line1="3 rue Mercière", is_default=True, by=by)
    AddressFactory(party=new, line1="3 rue Merciere", is_default=True, by=by)
    ContactFactory(party=old, last_name="Martin", first_name="Paul", is_primary=True, by=by)
    ContactFactory(party=new, last_name="Martin", first_name="Julie", is_primary=True, by=by)
    return old, new


def test_merge_moves_contacts_addresses_tags_and_applies_choices(assistant: Any) -> None:
    survivor, merged = _pair(assistant)
    choices = merging.default_choices(survivor, merged)
    assert choices["siret"] == "merged"  # the non-empty value
    assert choices["siren"] == "survivor"
    assert choices["email"] == "merged"
    choices["name"] = "merged"

    merge = merging.merge_parties(survivor, merged, field_choices=choices, by=assistant)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert survivor.name == "Boulangerie Martin SARL"
    assert survivor.name_key == "BOULANGERIE MARTIN"
    assert survivor.siret == valid_siret(valid_siren(4242))
    assert survivor.email == "contact@boulangerie-martin.fr"
    assert survivor.phone == "+33472000001"
    assert survivor.is_customer and survivor.is_prospect
    assert survivor.notes == "Delivers before 7am.\n\nMet at the Lyon trade show."
    assert not merged.is_active and merged.siret == ""
    assert merging.merged_into(merged) == survivor
    assert Contact.objects.filter(party=survivor).count() == 2
    assert Contact.objects.filter(party=survivor, is_primary=True).count() == 1
    addresses = Address.objects.filter(party=survivor)
    assert addresses.count() == 2
    assert addresses.filter(is_default=True).count() == 1
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["bakery", "trade-show"]
    assert not Contact.objects.filter(party=merged).exists()
    assert merge.snapshot["survivor"]["name"] == "Boulangerie Martin"
    actions = [entry.action for entry in history_for(survivor)]
    assert actions[0] == "merge_party"
    assert history_for(merged).first().action == "merged_into"


def test_undo_restores_exactly_what_the_merge_moved(assistant: Any) -> None:
    survivor, merged = _pair(assistant)
    before_contacts = set(Contact.objects.filter(party=merged).values_list("pk", flat=True))
    before_defaults = set(
        Address.objects.filter(party=merged, is_default=True).values_list("pk", flat=True)
    )
    merge = merging.merge_parties(
        survivor,
        merged,
        field_choices={**merging.default_choices(survivor, merged), "name": "merged"},
        by=assistant,
    )
    survivor.refresh_from_db()
    # Created on the survivor after the merge: must stay there after the undo.
    later = party_actions.add_contact(survivor, by=assistant, last_name="Durand")

    result = merging.unmerge_parties(merge, by=assistant)

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert result.returned == 2  # one contact, one address
    assert merged.is_active and merged.siret == valid_siret(valid_siren(4242))
    assert survivor.name == "Boulangerie Martin" and survivor.siret == ""
    assert survivor.email == "" and survivor.is_prospect is False
    assert survivor.notes == "Delivers before 7am."
    assert set(Contact.objects.filter(party=merged).values_list("pk", flat=True)) == before_contacts
    assert (
        set(Address.objects.filter(party=merged, is_default=True).values_list("pk", flat=True))
        == before_defaults
    )
    assert Contact.objects.get(pk=later.pk).party_id == survivor.pk
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["bakery"]
    assert sorted(merged.tags.values_list("name", flat=True)) == ["bakery", "trade-show"]
    merge.refresh_from_db()
    assert merge.is_undone
    assert merging.merged_into(merged) is None
    assert history_for(survivor).first().action == "unmerge_party"
    with pytest.raises(ValidationError):
        merging.unmerge_parties(merge, by=assistant)


@pytest.mark.usefixtures("company")
def test_merge_moves_documents_of_other_apps_and_leaves_issued_invoices(assistant: Any) -> None:
    survivor, merged = _pair(assistant)
    merged.is_customer = True
    merged.save(update_fields=["is_customer"])
    quote = sales_actions.create_quote(
        party=merged, by=assistant, lines=[line("Baguettes", "10", "1.20")]
    )
    order = sales_actions.create_order(
        party=merged, by=assistant, lines=[line("Croissants", "20", "1.10")]
    )
    draft = invoicing_actions.create_invoice(
        party=merged, by=assistant, lines=[line("Pains", "5", "2.00")]
    )
    issued = invoicing_actions.create_invoice(
        party=merged, by=assistant, lines=[line("Flûtes", "3", "1.50")]
    )
    invoicing_actions.issue_invoice(issued, by=assistant, produce_documents=False)
    assert verify_ledger()[1] is None

    merge = merging.merge_parties(
        survivor, merged, field_choices=merging.default_choices(survivor, merged), by=assistant
    )

    assert Quote.objects.get(pk=quote.pk).party_id == survivor.pk
    assert Order.objects.get(pk=order.pk).party_id == survivor.pk
    assert Invoice.objects.get(pk=draft.pk).party_id == survivor.pk
    # party_id is hashed in the ledger: the issued invoice stays on the merged party.
    assert Invoice.objects.get(pk=issued.pk).party_id == merged.pk
    assert merge.snapshot["kept"]["invoicing.invoice"] == [issued.pk]
    assert [i.pk for i in merging.documents_left_on_merged(survivor)["invoicing.invoice"]] == [
        issued.pk
    ]
    checked, broken = verify_ledger()
    assert checked >= 1 and broken is None

    # A draft moved by the merge and issued on the survivor since cannot go back.
    invoicing_actions.issue_invoice(
        Invoice.objects.get(pk=draft.pk), by=assistant, produce_documents=False
    )
    result = merging.unmerge_parties(merge, by=assistant)
    assert Quote.objects.get(pk=quote.pk).party_id == merged.pk
    assert Order.objects.get(pk=order.pk).party_id == merged.pk
    assert result.stayed == {"invoicing.invoice": [draft.pk]}
    assert verify_ledger()[1] is None


def test_merge_refuses_itself_and_archived_parties(assistant: Any) -> None:
    survivor, merged = _pair(assistant)
    with pytest.raises(ValidationError):
        merging.merge_parties(survivor, survivor, field_choices={}, by=assistant)
    merging.merge_parties(survivor, merged, field_choices={}, by=assistant)
    third = PartyFactory(name="Autre", by=assistant)
    with pytest.raises(ValidationError):
        merging.merge_parties(third, merged, field_choices={}, by=assistant)


def _base_with_duplicates(by: Any) -> list[Party]:
    parties = []
    for n in range(12):
        party = PartyFactory(
            name=f"Quincaillerie {['Dubois', 'Lefèvre', 'Moreau', 'Girard'][n % 4]} {n}",
            email=f"achats{n}@quincaillerie{n}.fr",
            phone=f"+3347200{n:04d}",
            by=by,
        )
        AddressFactory(party=party, line1=f"{n + 1} rue Victor Hugo", postcode="69002", by=by)
        parties.append(party)
    # Two records of the first three: same SIREN, email and phone, name spelt differently.
    for original in parties[:3]:
        twin = PartyFactory(
            name=original.name.upper() + " SARL",
            siren=original.siren,
            email=original.email,
            phone=original.phone,
            by=by,
        )
        AddressFactory(party=twin, line1=original.addresses.first().line1, postcode="69002", by=by)
    return parties


def test_scan_queues_pairs_once_and_dismissed_pairs_never_come_back(assistant: Any) -> None:
    originals = _base_with_duplicates(assistant)
    first = merging.scan_duplicates(by=assistant)
    pairs = set(DuplicateCandidate.objects.values_list("party_a_id", "party_b_id"))
    assert first.new == len(pairs) >= 3
    twins = {
        (p.pk, Party.objects.filter(siren=p.siren).exclude(pk=p.pk).get().pk) for p in originals[:3]
    }
    assert twins <= pairs
    candidate = DuplicateCandidate.objects.get(party_a=originals[0])
    assert "same SIREN" in candidate.reasons

    merging.dismiss_candidate(candidate, by=assistant)
    second = merging.scan_duplicates(by=assistant)
    assert second.new == 0
    assert DuplicateCandidate.objects.count() == len(pairs)
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DISMISSED


def test_scan_command_dry_run_and_auto_merge(assistant: Any, capsys: Any) -> None:
    _base_with_duplicates(assistant)
    call_command("customers", "scan-duplicates", "--dry-run")
    assert "Dry run" in capsys.readouterr().out
    assert not DuplicateCandidate.objects.exists()
    call_command("customers", "scan-duplicates", "--auto-merge")
    out = capsys.readouterr().out
    merges = PartyMerge.objects.count()
    assert merges == 3, out
    assert Party.objects.filter(is_active=False).count() == 3
    assert DuplicateCandidate.objects.filter(status=CandidateStatus.MERGED).count() == 3


def test_review_queue_and_merge_screen(
    assistant: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    survivor, merged = _pair(assistant)
    candidate = DuplicateCandidate.objects.create(
        party_a=survivor, party_b=merged, score=11.5, reasons=["same SIREN", "name 0.93"]
    )
    for n in range(5):
        DuplicateCandidate.objects.create(
            party_a=PartyFactory(by=assistant), party_b=PartyFactory(by=assistant), score=5.0 + n
        )
    client = client_for(assistant)
    client.get(reverse("customerfile:duplicates"))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("customerfile:duplicates"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "same SIREN, name 0.93" in body and "Merge…" in body
    # Most likely first.
    assert body.index("Boulangerie Martin SARL") < body.index("Société")
    response = client.get(reverse("customerfile:duplicates") + "?export=csv")
    export = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "same SIREN, name 0.93" in export and "Merge…" not in export

    screen = client.get(reverse("customerfile:merge_candidate", args=[candidate.pk]))
    assert screen.status_code == 200
    body = screen.content.decode()
    assert "Boulangerie Martin SARL" in body and 'name="field_email"' in body
    assert 'name="field_naf_code"' not in body  # empty on both sides
    with translation.override("fr"):
        nbsp = "\u00a0"  # before a colon, in French
        assert candidate.reasons_text() == f"SIREN{nbsp}: identique, nom{nbsp}: proche (0,93)"
        assert duplicate_reason_text("first name swapped") == f"prénom{nbsp}: inversé avec le nom"
        assert duplicate_reason_text("different last name") == f"nom{nbsp}: ne correspond pas"
        assert duplicate_reason_text("something new") == "something new"

    choices = {f"field_{name}": "survivor" for name in merging.MERGE_FIELDS}
    choices["field_name"] = "merged"
    response = client.post(
        reverse("customerfile:merge_candidate", args=[candidate.pk]),
        {"survivor": survivor.pk, **choices},
    )
    merge = PartyMerge.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("customerfile:merge_detail", args=[merge.pk])
    survivor.refresh_from_db()
    assert survivor.name == "Boulangerie Martin SARL" and survivor.email == ""
    detail = client.get(response.url)
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "Undo this merge" in text
    assert "<td>Name</td><td>Boulangerie Martin</td><td>Boulangerie Martin SARL</td>" in text
    assert "<li>Contacts: 1</li>" in text and "<li>Addresses: 1</li>" in text

    undo = client.post(reverse("customerfile:merge_undo", args=[merge.pk]))
    assert undo.status_code == 302
    merged.refresh_from_db()
    assert merged.is_active


def test_not_a_duplicate_from_the_screen(assistant: Any, client_for: Any) -> None:
    survivor, merged = _pair(assistant)
    candidate = DuplicateCandidate.objects.create(party_a=survivor, party_b=merged, score=6.0)
    client = client_for(assistant)
    response = client.post(reverse("customerfile:dismiss_candidate", args=[candidate.pk]))
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == CandidateStatus.DISMISSED
    page = client.get(reverse("customerfile:duplicates")).content.decode()
    assert "Boulangerie Martin SARL" not in page
    # A merge posted from a screen opened before the dismissal is refused.
    stale = client.post(
        reverse("customerfile:merge_candidate", args=[candidate.pk]), {"survivor": survivor.pk}
    )
    assert stale.status_code == 302
    assert not PartyMerge.objects.exists()
    merged.refresh_from_db()
    assert merged.is_active


def test_reps_get_403_on_every_screen(rep: Any, assistant: Any, client_for: Any) -> None:
    survivor, merged = _pair(assistant)
    candidate = DuplicateCandidate.objects.create(party_a=survivor, party_b=merged, score=6.0)
    merge = merging.merge_parties(survivor, merged, field_choices={}, by=assistant)
    client = client_for(rep)
    assert client.get(reverse("customerfile:duplicates")).status_code == 403
    assert client.get(reverse("customerfile:merges")).status_code == 403
    url = reverse("customerfile:merge_candidate", args=[candidate.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"survivor": survivor.pk}).status_code == 403
    assert (
        client.post(reverse("customerfile:dismiss_candidate", args=[candidate.pk])).status_code
        == 403
    )
    assert client.get(reverse("customerfile:merge_detail", args=[merge.pk])).status_code == 403
    assert client.post(reverse("customerfile:merge_undo", args=[merge.pk])).status_code == 403
    merge.refresh_from_db()
    assert not merge.is_undone


def test_one_to_one_rows_move_only_when_the_survivor_has_none(assistant: Any) -> None:
    survivor, merged = _pair(assistant)
    other = PartyFactory(name="Troisième", by=assistant)
    theirs = PartyPrivacy.objects.create(party=merged)
    mine = PartyPrivacy.objects.create(party=survivor)
    other_privacy = PartyPrivacy.objects.create(party=other)

    merge = merging.merge_parties(survivor, merged, field_choices={}, by=assistant)

    assert PartyPrivacy.objects.get(pk=theirs.pk).party_id == merged.pk
    assert PartyPrivacy.objects.get(pk=mine.pk).party_id == survivor.pk
    assert merge.snapshot["kept"]["customerfile.partyprivacy"] == [theirs.pk]
    mine.delete()
    merging.unmerge_parties(merge, by=assistant)
    third = merging.merge_parties(survivor, other, field_choices={}, by=assistant)
    assert PartyPrivacy.objects.get(pk=other_privacy.pk).party_id == survivor.pk
    assert third.snapshot["moved"]["customerfile.partyprivacy"] == {"party": [other_privacy.pk]}


def test_api_merge_dismiss_undo_and_rep_refused(
    assistant: Any, rep: Any, api_client_for: Any
) -> None:
    survivor, merged = _pair(assistant)
    third = PartyFactory(name="Boulangerie Martine", by=assistant)
    pair = DuplicateCandidate.objects.create(party_a=survivor, party_b=merged, score=13.0)
    other = DuplicateCandidate.objects.create(party_a=survivor, party_b=third, score=6.0)
    client = api_client_for(assistant)
    listed = client.get("/api/v1/duplicates").json()
    assert [c["id"] for c in listed] == [pair.pk, other.pk]

    response = client.post(
        f"/api/v1/duplicates/{pair.pk}/merge",
        {"survivor_id": merged.pk, "fields": {"name": "survivor"}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["survivor_id"] == merged.pk and body["merged_id"] == survivor.pk
    merged.refresh_from_db()
    assert merged.name == "Boulangerie Martin SARL"
    assert merged.siren == valid_siren(4242)  # the default: the non-empty value

    assert client.post(f"/api/v1/duplicates/{other.pk}/dismiss").json()["status"] == "dismissed"
    again = client.post(f"/api/v1/duplicates/{other.pk}/dismiss")
    assert again.status_code == 422

    undone = client.post(f"/api/v1/merges/{body['id']}/undo").json()
    assert undone["undone_at"] is not None
    survivor.refresh_from_db()
    assert survivor.is_active

    rep_client = api_client_for(rep)
    assert rep_client.get("/api/v1/duplicates").status_code == 403
    assert (
        rep_client.post(
            f"/api/v1/duplicates/{pair.pk}/merge",
            {"survivor_id": merged.pk},
            content_type="application/json",
        ).status_code
        == 403
    )


def test_nav_links_the_queue_for_the_back_office_only(
    assistant: Any, rep: Any, client_for: Any
) -> None:
    assert 'id="nav-duplicates"' in client_for(assistant).get("/").content.decode()
    assert 'id="nav-duplicates"' not in client_for(rep).get("/").content.decode()


@pytest.mark.usefixtures("company")
def test_party_pages_show_the_merge_and_the_issued_invoices_left_behind(
    assistant: Any, client_for: Any
) -> None:
    survivor, merged = _pair(assistant)
    merged.is_customer = True
    merged.save(update_fields=["is_customer"])
    issued = invoicing_actions.create_invoice(
        party=merged, by=assistant, lines=[line("Flûtes", "3", "1.50")]
    )
    invoicing_actions.issue_invoice(issued, by=assistant, produce_documents=False)
    merge = merging.merge_parties(survivor, merged, field_choices={}, by=assistant)
    client = client_for(assistant)

    page = client.get(reverse("parties:detail", args=[survivor.pk])).content.decode()
    assert "Boulangerie Martin SARL was merged into this record" in page
    assert Invoice.objects.get(pk=issued.pk).number in page
    assert reverse("customerfile:merge_detail", args=[merge.pk]) in page
    other = client.get(reverse("parties:detail", args=[merged.pk])).content.decode()
    assert "Merged into Boulangerie Martin on" in other

    merging.unmerge_parties(merge, by=assistant)
    page = client.get(reverse("parties:detail", args=[survivor.pk])).content.decode()
    assert 'id="party-merges"' not in page


def test_undo_waits_for_a_later_merge_of_the_survivor_to_be_undone(assistant: Any) -> None:
    survivor, merged = _pair(assistant)
    third = PartyFactory(name="Boulangerie Martin Lyon", by=assistant)
    first = merging.merge_parties(survivor, merged, field_choices={}, by=assistant)
    second = merging.merge_parties(third, survivor, field_choices={}, by=assistant)
    assert Contact.objects.filter(party=third).count() == 2
    with pytest.raises(ValidationError, match="undo that merge first"):
        merging.unmerge_parties(first, by=assistant)
    merging.unmerge_parties(second, by=assistant)
    merging.unmerge_parties(first, by=assistant)
    assert Contact.objects.filter(party=merged).count() == 1
    assert Contact.objects.filter(party=survivor).count() == 1
    assert not Contact.objects.filter(party=third).exists()


def test_a_row_whose_move_would_break_a_unique_constraint_stays_on_the_merged_party(
    assistant: Any,
) -> None:
    survivor, merged = _pair(assistant)
    today = timezone.localdate()
    run = DunningRun.objects.create(run_date=today)
    policy = DunningPolicy.objects.create(name="Test policy")
    level = DunningLevel.objects.create(
        policy=policy, rank=1, name="Reminder", delay_days=5, channel="email"
    )
    amounts = {"total_due": Decimal("10.00"), "interest_amount": 0, "indemnity_amount": 0}
    mine = DunningMessage.objects.create(
        run=run, party=survivor, level=level, run_date=today, channel="email", **amounts
    )
    same_day = DunningMessage.objects.create(
        run=run, party=merged, level=level, run_date=today, channel="email", **amounts
    )
    earlier = DunningMessage.objects.create(
        run=run,
        party=merged,
        level=level,
        run_date=today - timedelta(days=7),
        channel="email",
        **amounts,
    )

    merge = merging.merge_parties(survivor, merged, field_choices={}, by=assistant)

    assert DunningMessage.objects.get(pk=same_day.pk).party_id == merged.pk
    assert DunningMessage.objects.get(pk=earlier.pk).party_id == survivor.pk
    assert DunningMessage.objects.get(pk=mine.pk).party_id == survivor.pk
    assert merge.snapshot["kept"]["dunning.dunningmessage"] == [same_day.pk]
    merging.unmerge_parties(merge, by=assistant)
    assert DunningMessage.objects.get(pk=earlier.pk).party_id == merged.pk
    assert DunningMessage.objects.get(pk=mine.pk).party_id == survivor.pk


def test_the_queue_page_starts_a_search_in_the_background(
    assistant: Any,
    client_for: Any,
    make_user: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    _base_with_duplicates(assistant)
    client = client_for(assistant)
    queue = reverse("customerfile:duplicates")
    page = client.get(queue).content.decode()
    assert 'id="scan"' in page and "No search for duplicates yet" in page
    # Only those who may merge may search; a GET searches nothing.
    rep = client_for(make_user("sales_rep"))
    assert rep.post(reverse("customerfile:scan_duplicates")).status_code == 403
    assert client.get(reverse("customerfile:scan_duplicates")).status_code == 302
    assert not DuplicateCandidate.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customerfile:scan_duplicates"))
    assert response.status_code == 302
    response = client.get(queue)
    body = response.content.decode()
    assert "The search for duplicates is under way" in body
    assert "No background worker is running" in body  # none in the tests
    assert DuplicateCandidate.objects.filter(status=CandidateStatus.OPEN).count() >= 3
    assert "Last search" in body and "among 15 parties" in body
