"""Who may run dunning and see reminders (django-rules, autodiscovered).

The back office runs dunning, sets customers' dunning and makes the calls; the administrator
and the sales manager edit policies; everyone who reads everything sees reminders; a sales
rep sees their own customers'.
"""

from __future__ import annotations

import rules

from comptoir.core.roles import (
    is_administrator,
    is_back_office,
    is_sales_manager,
    is_sales_rep,
    reads_everything,
)
from comptoir.payments.rules import is_own_customer

rules.add_perm("dunning.view_dunning", reads_everything | (is_sales_rep & is_own_customer))
rules.add_perm("dunning.run_dunning", is_back_office)
rules.add_perm("dunning.change_party_dunning", is_back_office)
rules.add_perm("dunning.call", is_back_office)
rules.add_perm("dunning.change_policy", is_administrator | is_sales_manager)
