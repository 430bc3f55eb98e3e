"""Who may see and change invoices (django-rules, autodiscovered).

Back office: everything. Accountant: reads everything. Sales rep: reads the invoices of the
customers in their portfolio.
"""

from __future__ import annotations

from typing import Any

import rules

from comptoir.core.roles import is_back_office, is_sales_rep, reads_everything


@rules.predicate
def is_own_customers_invoice(user: Any, invoice: Any) -> bool:
    if invoice is None:
        return True
    return bool(invoice.party.sales_rep_id) and invoice.party.sales_rep_id == user.pk


rules.add_perm(
    "invoicing.view_invoice", reads_everything | (is_sales_rep & is_own_customers_invoice)
)
rules.add_perm("invoicing.change_invoice", is_back_office)
