"""Who may see and change deliveries and stock (django-rules, autodiscovered)."""

from __future__ import annotations

from typing import Any

import rules

from comptoir.core.roles import is_any_role, is_back_office, is_sales_rep, reads_everything


@rules.predicate
def is_own_customers_delivery(user: Any, delivery: Any) -> bool:
    if delivery is None:
        return True
    rep_id = delivery.order.party.sales_rep_id
    return bool(rep_id) and rep_id == user.pk


rules.add_perm("stock.view_delivery", reads_everything | (is_sales_rep & is_own_customers_delivery))
rules.add_perm("stock.change_delivery", is_back_office)
rules.add_perm("stock.view_stock", is_any_role)
rules.add_perm("stock.change_stock", is_back_office)
