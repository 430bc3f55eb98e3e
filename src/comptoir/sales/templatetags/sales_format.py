"""Sales screen filters: VAT rates and totals shown French style, history entries labelled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from comptoir.core.audit import action_label
from comptoir.core.money import format_amount
from comptoir.invoicing.printing import rate_text
from comptoir.sales.states import QuoteStatus

register = template.Library()


@register.filter
def vat_rate(value: Decimal | str | None) -> str:
    """20 → "20 %", 5.5 → "5,5 %": the rate without its EN 16931 category code."""
    if value is None or value == "":
        return ""
    return rate_text(Decimal(str(value)), short=True)


@register.filter
def line_vat(line: Any) -> str:
    """The VAT column of a line: its rate, and at 0 % why no VAT is due."""
    text = vat_rate(line.vat_rate)
    if not line.vat_rate and line.vat_exemption_reason:
        text = f"{text} ({line.vat_exemption_reason})"
    return text


def vat_rows(document: Any, lines: Any = None) -> list[dict[str, Any]]:
    """The VAT breakdown of a quote or order: label ("TVA 20 %"), base and VAT amounts."""
    reasons: dict[str, str] = {}
    for line in lines if lines is not None else document.lines.all():
        if not line.vat_rate and line.vat_exemption_reason:
            reasons.setdefault(line.vat_category, line.vat_exemption_reason)
    rows = []
    for group in document.vat_breakdown or []:
        label = _("VAT %(rate)s") % {"rate": vat_rate(group["rate"])}
        if not Decimal(str(group["rate"])) and reasons.get(group["category"]):
            label = f"{label} ({reasons[group['category']]})"
        rows.append(
            {
                "label": label,
                "taxable": format_amount(Decimal(str(group["taxable_amount"]))),
                "vat": format_amount(Decimal(str(group["vat_amount"]))),
            }
        )
    return rows


@register.inclusion_tag("sales/_totals.html")
def document_totals(document: Any, lines: Any = None) -> dict[str, Any]:
    """Lines total, document discount (rate and amount), total excl. VAT, VAT per rate, total."""
    return {"document": document, "vat_rows": vat_rows(document, lines)}


CUSTOMER_ACTIONS = {"accept_quote", "refuse_quote"}
# The status a customer's answer moves the quote to: that move is the answer, told once.
ANSWER_STATUS = {"accept_quote": QuoteStatus.ACCEPTED, "refuse_quote": QuoteStatus.REFUSED}


def _status_labels(entry: Any, field: str) -> dict[str, str]:
    """The choice labels of the audited model's status field (delivery, quote, order, invoice)."""
    if entry.content_type_id is None:
        return {}
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
    try:
        choices = model._meta.get_field(field).flatchoices if model is not None else ()
    except FieldDoesNotExist:
        return {}
    return {str(value): str(label) for value, label in choices}


def _is_answer_move(entries: list[Any], index: int, to: Any) -> bool:
    """Whether this status move is the one a customer's answer recorded just after it."""
    entry = entries[index]
    return any(
        ANSWER_STATUS.get(neighbour.action) == to
        and (neighbour.content_type_id, neighbour.object_id)
        == (entry.content_type_id, entry.object_id)
        for neighbour in entries[max(index - 1, 0) : index + 2]
    )


@register.filter
def history_rows(entries: Any) -> list[dict[str, str]]:
    """Label audit entries: what happened (in words) and who did it, the customer included."""
    entries = list(entries)
    rows = []
    for index, entry in enumerate(entries):
        changes = entry.changes or {}
        action = entry.action
        detail = ""
        if action == "transition":
            moves = [
                (field, value)
                for field, value in changes.items()
                if isinstance(value, list | tuple) and len(value) == 2
            ]
            if moves:
                field, (before, after) = moves[0]
                if _is_answer_move(entries, index, after):
                    continue
                labels = _status_labels(entry, field)
                label = _("Status: %(from)s → %(to)s") % {
                    "from": labels.get(str(before), before),
                    "to": labels.get(str(after), after),
                }
            else:
                label = _("Status changed")
        else:
            label = action_label(action)
            if action == "cancel_order" and changes.get("partial"):
                label = _("Undelivered rest cancelled")
            if action in ("cancel_order", "refuse_quote") and changes.get("reason"):
                detail = str(changes["reason"])
            elif action == "add_quote_line" and changes.get("line"):
                detail = str(changes["line"])
            elif action == "revise_quote" and changes.get("previous"):
                detail = _("from %(reference)s") % {"reference": changes["previous"]}
            elif action == "quote_to_order" and changes.get("order"):
                detail = str(changes["order"])
            elif action == "queue_email" and changes.get("to"):
                detail = str(changes["to"])
            elif action == "trim_delivery" and changes.get("lines"):
                detail = ", ".join(
                    _("%(label)s: %(before)s → %(after)s")
                    % {
                        "label": line["label"],
                        "before": line["quantity"][0],
                        "after": line["quantity"][1],
                    }
                    for line in changes["lines"]
                )
        if entry.actor_id is not None:
            who = str(entry.actor)
        elif action in CUSTOMER_ACTIONS:
            who = _("Customer (online link)")
            if changes.get("name"):
                who = f"{who} — {changes['name']}"
        else:
            who = _("System")
        rows.append({"at": entry.at, "who": who, "label": label, "detail": detail})
    return rows
