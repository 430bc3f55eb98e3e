"""Sales screen filters: VAT rates and totals shown French style, history entries labelled."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

from comptoir.core.audit import action_label
from comptoir.core.money import format_amount
from comptoir.sales.states import OrderStatus, QuoteStatus

register = template.Library()


@register.filter
def vat_rate(value: Decimal | str | None) -> str:
    """20 → "20 %", 5.5 → "5,5 %": the rate without its EN 16931 category code."""
    if value is None or value == "":
        return ""
    text = format_amount(Decimal(str(value)), 2)
    if text.endswith(",00"):
        text = text[:-3]
    elif text.endswith("0") and "," in text:
        text = text[:-1]
    return f"{text}\u00a0%"


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


STATUS_LABELS = {**dict(QuoteStatus.choices), **dict(OrderStatus.choices)}
CUSTOMER_ACTIONS = {"accept_quote", "refuse_quote"}


def _status(value: Any) -> str:
    return str(STATUS_LABELS.get(value, value))


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
            moves = [value for value in changes.values() if isinstance(value, list | tuple)]
            if moves and len(moves[0]) == 2:
                label = _("Status: %(from)s → %(to)s") % {
                    "from": _status(moves[0][0]),
                    "to": _status(moves[0][1]),
                }
            else:
                label = _("Status changed")
        else:
            label = action_label(action)
            if action in ("cancel_order", "refuse_quote") and changes.get("reason"):
                detail = str(changes["reason"])
            elif action == "add_quote_line" and changes.get("line"):
                detail = str(changes["line"])
            elif action == "revise_quote" and changes.get("previous"):
                detail = _("from %(reference)s") % {"reference": changes["previous"]}
            elif action == "queue_email" and changes.get("to"):
                detail = str(changes["to"])
        if entry.actor_id is not None:
            who = str(entry.actor)
        else:
            customer = action in CUSTOMER_ACTIONS
            name = changes.get("name", "")
            if action == "transition":
                # The status move recorded with the customer's answer, just next to it.
                neighbours = entries[max(index - 1, 0) : index + 2]
                answer = next((e for e in neighbours if e.action in CUSTOMER_ACTIONS), None)
                if answer is not None and answer.actor_id is None:
                    customer = True
                    name = (answer.changes or {}).get("name", "")
            if customer:
                who = _("Customer (online link)")
                if name:
                    who = f"{who} — {name}"
            else:
                who = _("System")
        rows.append({"at": entry.at, "who": who, "label": label, "detail": detail})
    return rows
