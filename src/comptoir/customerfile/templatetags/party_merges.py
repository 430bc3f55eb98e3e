"""`{% party_merges party %}`: on a party's page, the merges it took part in and what they left."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Q

from comptoir.customerfile.merging import documents_left_on_merged
from comptoir.customerfile.models import PartyMerge

register = template.Library()


@register.inclusion_tag("customerfile/_party_merges.html", takes_context=True)
def party_merges(context: dict[str, Any], party: Any) -> dict[str, Any]:
    user = context["request"].user
    if not user.has_perm("parties.view_party", party):
        return {"merges": [], "left": []}
    merges = list(
        PartyMerge.objects.filter(Q(survivor=party) | Q(merged=party), undone_at=None)
        .select_related("survivor", "merged")
        .order_by("-merged_at")[:50]
    )
    return {
        "party": party,
        "merges": merges,
        # Settlements stay too, but the invoices are what the user looks for.
        "left": documents_left_on_merged(party).get("invoicing.invoice", []) if merges else [],
        "can_undo": user.has_perm("customerfile.merge_parties"),
    }
