"""Write the audit trail: one entry per user-visible change, from actions only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy, pgettext_lazy

from comptoir.core.models import AuditEntry

# What an action reads as in a document's history; an action not listed shows in words.
ACTION_LABELS: dict[str, Any] = {
    "transition": gettext_lazy("Status changed"),
    "create_invoice": gettext_lazy("Draft created"),
    "update_draft_invoice": gettext_lazy("Draft changed"),
    "add_invoice_line": gettext_lazy("Line added"),
    "update_invoice_line": gettext_lazy("Line changed"),
    "delete_invoice_line": gettext_lazy("Line removed"),
    "delete_draft_invoice": gettext_lazy("Draft deleted"),
    "issue_invoice": pgettext_lazy("history", "Issued"),
    "create_credit_note": gettext_lazy("Credit note created"),
    "create_down_payment_invoice": gettext_lazy("Down payment invoiced"),
    "deduct_down_payment": gettext_lazy("Down payment deducted"),
    "invoice_orders": gettext_lazy("Invoiced"),
    "start_invoicing_run": gettext_lazy("Batch invoicing started"),
    "finish_invoicing_run": gettext_lazy("Batch invoicing finished"),
    "create_product": gettext_lazy("Created"),
    "update_product": gettext_lazy("Changed"),
    "deactivate_product": gettext_lazy("Deactivated"),
    "create_price_list": gettext_lazy("Created"),
    "update_price_list": gettext_lazy("Changed"),
    "add_price_rule": gettext_lazy("Price rule added"),
    "update_price_rule": gettext_lazy("Price rule changed"),
    "remove_price_rule": gettext_lazy("Price rule removed"),
    "create_quote": gettext_lazy("Quote created"),
    "add_quote_line": gettext_lazy("Line added"),
    "delete_quote_line": gettext_lazy("Line removed"),
    "update_draft_quote": gettext_lazy("Quote changed"),
    "revise_quote": gettext_lazy("New revision"),
    "revoke_quote_link": gettext_lazy("Acceptance link withdrawn"),
    "renew_quote_link": gettext_lazy("New acceptance link"),
    "accept_quote": gettext_lazy("Accepted"),
    "refuse_quote": gettext_lazy("Refused"),
    "create_order": gettext_lazy("Order created"),
    "quote_to_order": gettext_lazy("Turned into an order"),
    "update_order": gettext_lazy("Order changed"),
    "update_order_lines": gettext_lazy("Order lines changed"),
    "cancel_order": gettext_lazy("Order cancelled"),
    "create_follow_up_task": gettext_lazy("Follow-up task created"),
    "queue_email": gettext_lazy("Email queued"),
    "create_delivery": gettext_lazy("Delivery created"),
    "ship_delivery": gettext_lazy("Delivery shipped"),
    "trim_delivery": gettext_lazy("Delivery reduced to follow its order"),
    "create_party": gettext_lazy("Created"),
    "update_party": gettext_lazy("Changed"),
    "set_party_tags": gettext_lazy("Tags changed"),
    "archive_party": gettext_lazy("Archived"),
    "restore_party": gettext_lazy("Restored"),
    "add_contact": gettext_lazy("Contact added"),
    "update_contact": gettext_lazy("Contact changed"),
    "remove_contact": gettext_lazy("Contact removed"),
    "deactivate_contact": gettext_lazy("Contact deactivated"),
    "add_address": gettext_lazy("Address added"),
    "update_address": gettext_lazy("Address changed"),
    "remove_address": gettext_lazy("Address removed"),
    "record_payment": gettext_lazy("Payment recorded"),
    "offset_credit_note": gettext_lazy("Credit note offset"),
    "create_mandate": gettext_lazy("SEPA mandate created"),
    "update_party_dunning": gettext_lazy("Dunning settings changed"),
    "allocate_credit": gettext_lazy("Credit used"),
    "anonymise_contact": gettext_lazy("Contact's personal data erased"),
    "anonymise_party": gettext_lazy("Personal data erased"),
    "apply_segment_tags": gettext_lazy("Segment tags applied"),
    "archive_document": gettext_lazy("Document archived"),
    "check_import": gettext_lazy("Import file checked"),
    "complete_task": gettext_lazy("Task done"),
    "create_api_token": gettext_lazy("API token created"),
    "create_direct_debit_batch": gettext_lazy("Direct-debit batch created"),
    "create_interest_invoice": gettext_lazy("Late-interest invoice prepared"),
    "create_processing": gettext_lazy("Processing activity added"),
    "create_product_family": gettext_lazy("Product family created"),
    "create_user": gettext_lazy("User created"),
    "dismiss_duplicate": gettext_lazy("Marked as not a duplicate"),
    "end_mandate": gettext_lazy("SEPA mandate ended"),
    "flag_for_retention": gettext_lazy("Flagged for the retention period"),
    "ignore_statement_line": gettext_lazy("Bank line ignored"),
    "mark_email_bounced": gettext_lazy("Email bounced"),
    "match_statement_line": gettext_lazy("Bank line matched"),
    "record_direct_debit_collection": gettext_lazy("Direct debits received"),
    "record_inbound_contact": gettext_lazy("Contact from the person recorded"),
    "record_stock_move": gettext_lazy("Stock move"),
    "refund_credit_note": gettext_lazy("Credit note refunded"),
    "restore_merged_party": gettext_lazy("Merged record restored"),
    "retry_email": gettext_lazy("Email sent again"),
    "revoke_api_token": gettext_lazy("API token revoked"),
    "save_dunning_level": gettext_lazy("Dunning level saved"),
    "save_dunning_policy": gettext_lazy("Dunning scenario saved"),
    "save_import_mapping": gettext_lazy("Import mapping saved"),
    "set_reorder_level": gettext_lazy("Reorder level set"),
    "start_dunning_run": gettext_lazy("Dunning run started"),
    "unmerge_party": gettext_lazy("Merge undone"),
    "update_company": gettext_lazy("Company profile changed"),
    "update_email_template": gettext_lazy("Email template changed"),
    "update_product_family": gettext_lazy("Product family changed"),
    "update_sepa_settings": gettext_lazy("SEPA settings changed"),
    "update_user": gettext_lazy("User changed"),
    "upload_import": gettext_lazy("Import file uploaded"),
    "create_credit_transfer_batch": gettext_lazy("Transfer batch created"),
    "dunning_call": gettext_lazy("Dunning call"),
    "dunning_letter_produced": gettext_lazy("Dunning letter produced"),
    "import_bank_statement": gettext_lazy("Bank statement imported"),
    "import_customers": gettext_lazy("Customer file imported"),
    "merge_party": gettext_lazy("Records merged"),
    "merged_into": gettext_lazy("Merged into another record"),
    "publish_price_list": gettext_lazy("Price list published"),
    "revoke_publication": gettext_lazy("Price-list link revoked"),
    "scan_duplicates": gettext_lazy("Duplicates searched"),
    "set_consent": gettext_lazy("Consent recorded"),
    "set_payment_schedule": gettext_lazy("Payment schedule set"),
}


def action_label(action: str) -> str:
    """Return how an audit action reads on screen (its code in words if it has no label)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace("_", " ").capitalize()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def record_audit(
    actor: Any, action: str, obj: models.Model | None = None, **changes: Any
) -> AuditEntry:
    """Record that `actor` did `action` to `obj`, with the changed values."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes={key: _jsonable(value) for key, value in changes.items()},
    )


def changed_fields(instance: models.Model, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Return {field: [old, new]} for the values that differ from the instance's."""
    diff: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(instance, name)
        if old != new:
            diff[name] = [_jsonable(old), _jsonable(new)]
    return diff


def history_for(obj: models.Model) -> models.QuerySet[AuditEntry]:
    """Return the audit entries of one row, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("actor")
