"""Who may import, see the file quality, and handle GDPR requests (django-rules, autodiscovered)."""

from __future__ import annotations

import rules

from comptoir.core.roles import is_any_role, is_back_office

rules.add_perm("customerfile.import_customers", is_back_office)
rules.add_perm("customerfile.view_quality", is_any_role)
rules.add_perm("customerfile.manage_gdpr", is_back_office)
rules.add_perm("customerfile.merge_parties", is_back_office)
