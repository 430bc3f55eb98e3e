"""Who may see and record payments (django-rules, autodiscovered).

The accountant records payments and imports statements (with the administrator and the sales
manager); everyone who reads everything sees them; a sales rep sees their own customers'.
"""

from __future__ import annotations

from typing import Any

import rules

from comptoir.core.roles import (
    is_accountant,
    is_administrator,
    is_sales_manager,
    is_sales_rep,
    reads_everything,
)


@rules.predicate
def is_own_customer(user: Any, obj: Any) -> bool:
    """The object (a party, or a row with a party) belongs to the rep's portfolio."""
    if obj is None:
        return True
    party = getattr(obj, "party", obj)
    return bool(getattr(party, "sales_rep_id", None)) and party.sales_rep_id == user.pk


handles_money = is_accountant | is_administrator | is_sales_manager

rules.add_perm("payments.view_payment", reads_everything | (is_sales_rep & is_own_customer))
rules.add_perm("payments.record_payment", handles_money)
rules.add_perm("payments.import_statement", handles_money)
rules.add_perm("payments.manage_sepa", handles_money)
