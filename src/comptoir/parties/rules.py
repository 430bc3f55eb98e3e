"""Who may see and change parties, contacts and addresses (django-rules, autodiscovered).

The object may be a party, a contact or an address: contacts and addresses follow their
party. Without an object, a permission answers "may this user do it to some party", which is
what list pages and "New" buttons need.
"""

from __future__ import annotations

from typing import Any

import rules

from comptoir.core.roles import is_back_office, is_sales_rep, reads_everything


def _party_of(obj: Any) -> Any:
    from comptoir.parties.models import Address, Contact

    if isinstance(obj, Contact | Address):
        return obj.party
    return obj


@rules.predicate
def is_own_party(user: Any, obj: Any) -> bool:
    """The party (or the contact's or address's party) is in the user's portfolio."""
    if obj is None:
        return True
    party = _party_of(obj)
    return party is not None and party.sales_rep_id is not None and party.sales_rep_id == user.pk


can_view = reads_everything | (is_sales_rep & is_own_party)
can_change = is_back_office | (is_sales_rep & is_own_party)

rules.add_perm("parties.view_party", can_view)
rules.add_perm("parties.change_party", can_change)
rules.add_perm("parties.add_party", is_back_office | is_sales_rep)
rules.add_perm("parties.delete_party", is_back_office)

# Contacts and addresses: the object is the contact/address itself, or for "add" its party.
for noun in ("contact", "address"):
    rules.add_perm(f"parties.view_{noun}", can_view)
    rules.add_perm(f"parties.change_{noun}", can_change)
    rules.add_perm(f"parties.add_{noun}", can_change)
    rules.add_perm(f"parties.delete_{noun}", can_change)
