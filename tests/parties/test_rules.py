"""Parties permissions: back office full, reps their own portfolio, accountant reads."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from comptoir.core.models import User
from tests.factories import AddressFactory, ContactFactory, PartyFactory

pytestmark = pytest.mark.django_db

PERMS = ("view", "change", "add", "delete")


def allowed(user: Any, obj: Any, noun: str = "party") -> set[str]:
    return {verb for verb in PERMS if user.has_perm(f"parties.{verb}_{noun}", obj)}


@pytest.mark.parametrize("role_fixture", ["administrator", "manager", "assistant"])
def test_back_office_may_do_everything(
    role_fixture: str, request: pytest.FixtureRequest, rep: User
) -> None:
    user = request.getfixturevalue(role_fixture)
    party = PartyFactory(by=rep)
    assert allowed(user, party) == set(PERMS)
    assert allowed(user, None) == set(PERMS)


def test_accountant_only_reads(accountant: User, rep: User) -> None:
    party = PartyFactory(by=rep)
    contact = ContactFactory(party=party, by=rep)
    assert allowed(accountant, party) == {"view"}
    assert allowed(accountant, contact, "contact") == {"view"}
    assert allowed(accountant, None) == {"view"}


def test_rep_views_and_changes_own_portfolio_only(rep: User, other_rep: User) -> None:
    mine = PartyFactory(by=rep)
    theirs = PartyFactory(by=other_rep)
    assert allowed(rep, mine) == {"view", "change", "add"}
    assert allowed(rep, theirs) == {"add"}  # `add` asks about new parties, not this one
    assert allowed(rep, None) == {"view", "change", "add"}


def test_rep_with_unassigned_party_has_no_access(rep: User, assistant: User) -> None:
    party = PartyFactory(by=assistant)
    assert party.sales_rep is None
    assert not rep.has_perm("parties.view_party", party)


def test_contacts_and_addresses_follow_their_party(rep: User, other_rep: User) -> None:
    mine = ContactFactory(by=rep)
    theirs = ContactFactory(by=other_rep)
    my_address = AddressFactory(party=mine.party, by=rep)
    their_address = AddressFactory(party=theirs.party, by=other_rep)
    assert allowed(rep, mine, "contact") == set(PERMS)
    assert allowed(rep, theirs, "contact") == set()
    assert allowed(rep, my_address, "address") == set(PERMS)
    assert allowed(rep, their_address, "address") == set()
    # Adding a contact asks about the party it goes to.
    assert rep.has_perm("parties.add_contact", mine.party)
    assert not rep.has_perm("parties.add_address", theirs.party)


def test_anonymous_and_inactive_get_nothing(make_user: Any, rep: User) -> None:
    party = PartyFactory(by=rep)
    inactive = make_user("administrator", is_active=False)
    for user in (AnonymousUser(), inactive):
        assert allowed(user, party) == set()
