"""`{% party_documents party %}`: the archived documents and emails of a customer."""

from __future__ import annotations

from typing import Any

from django import template

from comptoir.sales.selectors import documents_of_party, emails_of_party

register = template.Library()


@register.inclusion_tag("sales/party_documents.html", takes_context=True)
def party_documents(context: dict[str, Any], party: Any) -> dict[str, Any]:
    user = context["request"].user
    visible = user.has_perm("parties.view_party", party)
    return {
        "documents": list(documents_of_party(party)[:100]) if visible else [],
        "emails": list(emails_of_party(party)[:20]) if visible else [],
        "can_send": visible and user.has_perm("sales.send_document"),
    }
