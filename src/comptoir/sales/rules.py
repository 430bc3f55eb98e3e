"""Who may see and change quotes, orders and follow-up tasks (django-rules, autodiscovered).

Back office: everything. Accountant: reads. Sales rep: reads, quotes and takes orders for the
customers of their portfolio.
"""

from __future__ import annotations

from typing import Any

import rules

from comptoir.core.roles import is_back_office, is_sales_rep, reads_everything


@rules.predicate
def is_own_customers_document(user: Any, document: Any) -> bool:
    if document is None:
        return True
    party = document.party
    return bool(party.sales_rep_id) and party.sales_rep_id == user.pk


can_view = reads_everything | (is_sales_rep & is_own_customers_document)
can_change = is_back_office | (is_sales_rep & is_own_customers_document)

rules.add_perm("sales.view_quote", can_view)
rules.add_perm("sales.change_quote", can_change)
rules.add_perm("sales.view_order", can_view)
rules.add_perm("sales.change_order", can_change)
rules.add_perm("sales.view_followuptask", can_view)
rules.add_perm("sales.change_followuptask", can_change)
rules.add_perm("sales.send_document", is_back_office | is_sales_rep)
rules.add_perm("sales.change_emailtemplate", is_back_office)
