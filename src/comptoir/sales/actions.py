"""Sales writes: quotes, revisions, sending and online answers, orders, tasks, the outbox.

Every function is atomic and audited. Side effects (emails) leave through the outbox after the
transaction commits, at most once per message.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.core.audit import changed_fields, record_audit
from comptoir.core.numbering import next_number
from comptoir.core.roles import Role
from comptoir.core.selectors import current_company, site_url
from comptoir.core.states import transition
from comptoir.documents.models import ArchivedDocument
from comptoir.invoicing import calculations
from comptoir.parties.models import AddressKind, Party
from comptoir.parties.selectors import default_address
from comptoir.sales.mailing import fill, template_text
from comptoir.sales.models import (
    DocumentLine,
    FollowUpTask,
    Order,
    OrderLine,
    OutboxMessage,
    OutboxStatus,
    Quote,
    QuoteLine,
)
from comptoir.sales.selectors import LINK_SALT, order_line_commitments
from comptoir.sales.signals import order_to_deliver_reduced
from comptoir.sales.states import (
    ORDER_TRANSITIONS,
    QUOTE_TRANSITIONS,
    OrderStatus,
    QuoteStatus,
)

QUOTE_SERIES = "DE"
ORDER_SERIES = "CO"
DEFAULT_VALIDITY_DAYS = 30

LINE_FIELDS = {
    "label",
    "description",
    "product_reference",
    "quantity",
    "unit_code",
    "unit_price",
    "price_rule",
    "discount_rate",
    "vat_rate_code",
    "vat_rate",
    "vat_category",
    "vat_exemption_reason",
    "vat_exemption_code",
    "position",
    "product",
}
QUOTE_FIELDS = {
    "operation_category",
    "currency",
    "discount_rate",
    "notes",
    "valid_until",
    "issue_date",
    "email",
}
ORDER_FIELDS = {
    "operation_category",
    "currency",
    "discount_rate",
    "notes",
    "order_date",
    "customer_reference",
    "requested_date",
    "promised_date",
    "delivery_address",
    "email",
}


def _user(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


def _with_delivery_address(party: Party, values: dict[str, Any]) -> dict[str, Any]:
    """Default an order's delivery address to the customer's default delivery address."""
    if values.get("delivery_address") is None:
        values["delivery_address"] = default_address(party, AddressKind.DELIVERY)
    return values


# -- lines and totals ---------------------------------------------------------------------


def _vat_values(vat: Any) -> dict[str, Any]:
    """The VAT fields a line copies from its rate, kept on the line as they were that day."""
    return {
        "vat_rate_code": vat.code,
        "vat_rate": vat.rate,
        "vat_category": vat.category,
        "vat_exemption_reason": vat.exemption_reason,
        "vat_exemption_code": vat.exemption_code,
    }


def line_values(values: dict[str, Any], party: Party | None, on_date: date) -> dict[str, Any]:
    """Fill a line from its product (customer price and the rule that gave it) and VAT rate."""
    values = dict(values)
    product = values.get("product")
    vat = values.pop("vat", None)
    if product is not None:
        from comptoir.catalogue.selectors import price_for

        values.setdefault("product_reference", product.reference)
        values.setdefault("label", product.label)
        values.setdefault("unit_code", product.unit)
        if values.get("unit_price") is None:
            result = price_for(product, party, values.get("quantity") or Decimal(1), on_date)
            values["unit_price"] = result.unit_price
            values["price_rule"] = result.rule_description
        else:
            values.setdefault("price_rule", _("Price typed by hand."))
        vat = vat or product.vat_rate
    if vat is not None:
        fields = _vat_values(vat)
        # A code given with the line stays; the rest is the rate's.
        fields["vat_rate_code"] = values.get("vat_rate_code", vat.code)
        values.update(fields)
    unknown = set(values) - LINE_FIELDS
    if unknown:
        raise TypeError(f"unknown line fields: {sorted(unknown)}")
    return values


def _check_line(line: DocumentLine) -> None:
    line.full_clean(exclude=["quote", "order", "delivered_quantity", "cancelled_quantity"])
    if line.quantity <= 0:
        raise ValidationError({"quantity": _("Enter a quantity above 0.")})
    if line.unit_price < 0:
        raise ValidationError({"unit_price": _("Enter a price of 0 or more.")})
    if line.vat_category != "S" and not line.vat_exemption_reason:
        raise ValidationError(
            {"vat_exemption_reason": _("A VAT-exempt line needs its exemption reason.")}
        )
    line.net_amount = calculations.line_amounts(
        line.quantity, line.unit_price, line.discount_rate
    ).net_amount


def apply_totals(document: Quote | Order, lines: Sequence[DocumentLine]) -> None:
    """Set the EN 16931 totals of a quote or order from its lines (in memory)."""
    totals = calculations.invoice_totals(
        [calculations.LineInput.of(line) for line in lines],
        discount_rate=document.discount_rate,
    )
    document.lines_net_amount = totals.lines_net_amount
    document.allowance_amount = totals.allowance_amount
    document.tax_basis_amount = totals.tax_basis_amount
    document.vat_amount = totals.vat_amount
    document.total_amount = totals.total_amount
    document.vat_breakdown = [
        {
            "category": group.category,
            "rate": str(group.rate),
            "taxable_amount": str(group.taxable_amount),
            "vat_amount": str(group.vat_amount),
        }
        for group in totals.vat_groups
    ]


TOTAL_FIELDS = [
    "lines_net_amount",
    "allowance_amount",
    "tax_basis_amount",
    "vat_amount",
    "total_amount",
    "vat_breakdown",
    "updated_at",
]


def _refresh_totals(document: Quote | Order) -> None:
    apply_totals(document, list(document.lines.all()))
    document.updated_at = timezone.now()
    document.save(update_fields=TOTAL_FIELDS)


# -- quotes -------------------------------------------------------------------------------


def _require_draft(quote: Quote) -> Quote:
    """Return the quote as stored, locked, if it is still a draft."""
    quote = Quote.objects.select_for_update().select_related("party").get(pk=quote.pk)
    if quote.status != QuoteStatus.DRAFT:
        raise ValidationError(
            _("Only a draft quote can change; make a new revision."), code="not_draft"
        )
    return quote


@transaction.atomic
def create_quote(
    *, party: Party, by: Any, lines: Iterable[dict[str, Any]] = (), **values: Any
) -> Quote:
    """Create a draft quote (revision 1) with its lines."""
    unknown = set(values) - QUOTE_FIELDS
    if unknown:
        raise TypeError(f"unknown quote fields: {sorted(unknown)}")
    if not party.is_customer and not party.is_prospect:
        raise ValidationError({"party": _("Quote a customer or a prospect.")})
    issue_date = values.pop("issue_date", None) or timezone.localdate()
    valid_until = values.pop("valid_until", None) or issue_date + timedelta(
        days=DEFAULT_VALIDITY_DAYS
    )
    if valid_until < issue_date:
        raise ValidationError({"valid_until": _("The validity ends before the quote's date.")})
    quote = Quote(
        party=party,
        number=next_number(QUOTE_SERIES, issue_date.year),
        issue_date=issue_date,
        valid_until=valid_until,
        email=values.pop("email", "") or party.email,
        created_by=_user(by),
        **values,
    )
    quote.full_clean(exclude=["previous"])
    quote.save()
    for position, line in enumerate(lines, start=1):
        _add_quote_line(quote, position=position, **line)
    _refresh_totals(quote)
    record_audit(by, "create_quote", quote, party=party.pk)
    return quote


def _add_quote_line(quote: Quote, **values: Any) -> QuoteLine:
    fields = line_values(values, quote.party, quote.issue_date)
    if "position" not in fields:
        last = quote.lines.order_by("-position").values_list("position", flat=True).first()
        fields["position"] = (last or 0) + 1
    line = QuoteLine(quote=quote, **fields)
    _check_line(line)
    line.save()
    return line


@transaction.atomic
def add_quote_line(quote: Quote, *, by: Any, **values: Any) -> QuoteLine:
    """Add a catalogue line (``product``, priced for the customer) or a free line to a draft."""
    quote = _require_draft(quote)
    line = _add_quote_line(quote, **values)
    _refresh_totals(quote)
    record_audit(by, "add_quote_line", quote, line=line.label, price_rule=line.price_rule)
    return line


@transaction.atomic
def delete_quote_line(line: QuoteLine, *, by: Any) -> None:
    """Remove a line from a draft quote."""
    quote = _require_draft(line.quote)
    record_audit(by, "delete_quote_line", quote, line=line.label)
    line.delete()
    _refresh_totals(quote)


@transaction.atomic
def update_draft_quote(quote: Quote, *, by: Any, **values: Any) -> Quote:
    """Change a draft quote's header (discount, validity, notes…)."""
    quote = _require_draft(quote)
    unknown = set(values) - QUOTE_FIELDS
    if unknown:
        raise TypeError(f"unknown quote fields: {sorted(unknown)}")
    diff = changed_fields(quote, values)
    for name, value in values.items():
        setattr(quote, name, value)
    quote.full_clean(exclude=["previous"])
    if quote.valid_until < quote.issue_date:
        raise ValidationError({"valid_until": _("The validity ends before the quote's date.")})
    apply_totals(quote, list(quote.lines.all()))
    quote.updated_at = timezone.now()
    quote.save()
    record_audit(by, "update_draft_quote", quote, **diff)
    return quote


@transaction.atomic
def revise_quote(quote: Quote, *, by: Any) -> Quote:
    """Make the next revision, a draft copy; the revised one becomes read-only (superseded)."""
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.SUPERSEDED):
        raise ValidationError(_("An accepted or superseded quote cannot be revised."))
    today = timezone.localdate()
    validity = max((quote.valid_until - quote.issue_date).days, 1)
    revision = Quote(
        party=quote.party,
        number=quote.number,
        revision=quote.revision + 1,
        previous=quote,
        issue_date=today,
        valid_until=today + timedelta(days=validity),
        email=quote.email,
        operation_category=quote.operation_category,
        currency=quote.currency,
        discount_rate=quote.discount_rate,
        notes=quote.notes,
        created_by=_user(by),
    )
    revision.save()
    QuoteLine.objects.bulk_create(
        [
            QuoteLine(
                quote=revision,
                **{
                    name: getattr(line, name)
                    for name in LINE_FIELDS | {"net_amount"}
                    if name != "product"
                },
                product_id=line.product_id,
            )
            for line in quote.lines.order_by("position", "pk")
        ]
    )
    _refresh_totals(revision)
    quote.link_nonce = ""
    transition(
        quote,
        QuoteStatus.SUPERSEDED,
        transitions=QUOTE_TRANSITIONS,
        by=by,
        extra_fields=("link_nonce",),
    )
    record_audit(by, "revise_quote", revision, previous=quote.reference)
    return revision


def quote_link_token(quote: Quote) -> str:
    """Return the signed token of the quote's current acceptance link."""
    return signing.TimestampSigner(salt=LINK_SALT).sign_object(
        {"q": quote.pk, "n": quote.link_nonce}
    )


def quote_link_url(quote: Quote, *, base_url: str | None = None) -> str:
    from django.urls import reverse

    return (base_url or site_url()).rstrip("/") + reverse(
        "sales:quote_public", args=[quote_link_token(quote)]
    )


def quote_pdf(quote: Quote) -> bytes:
    """Render the quote's PDF (not archived)."""
    from comptoir.documents.rendering import company_logo, render_pdf
    from comptoir.sales.printing import quote_print_data

    return render_pdf(
        "sales_document.typ", quote_print_data(quote), logo=company_logo(current_company())
    )


def archive_quote(quote: Quote, *, by: Any) -> ArchivedDocument:
    """Archive the PDF of a sent quote once (its revision reference names it)."""
    from comptoir.documents.actions import archive_document

    existing = ArchivedDocument.objects.filter(reference=quote.reference).first()
    if existing is not None:
        return existing
    return archive_document(
        quote_pdf(quote),
        reference=quote.reference,
        kind="quote_pdf",
        filename=f"{quote.reference}.pdf",
        mime_type="application/pdf",
        business_object=quote,
        by=by,
    )


def sender_name(by: Any) -> str:
    return str(by) if _user(by) else current_company().legal_name


@transaction.atomic
def send_quote(
    quote: Quote,
    *,
    by: Any,
    to: str = "",
    subject: str | None = None,
    body: str | None = None,
    email: bool = True,
    produce_documents: bool = True,
    base_url: str | None = None,
) -> OutboxMessage | None:
    """Mark a draft sent, archive its PDF, open its acceptance link and email it.

    ``subject`` and ``body`` replace the template's text (their placeholders are filled the
    same way); ``email=False`` marks it sent without emailing (handed over, posted);
    ``produce_documents=False`` skips the PDF (loading historical data); ``base_url`` is the
    site address the acceptance link starts with (default: :func:`site_url`).
    """
    quote = Quote.objects.select_for_update().select_related("party").get(pk=quote.pk)
    if not quote.lines.exists():
        raise ValidationError(_("A quote needs at least one line."))
    to = to or quote.email
    if email and not to:
        raise ValidationError({"to": _("Give the address to send the quote to.")})
    quote.sent_at = timezone.now()
    quote.link_nonce = secrets.token_hex(16)
    quote.email = to
    transition(
        quote,
        QuoteStatus.SENT,
        transitions=QUOTE_TRANSITIONS,
        by=by,
        extra_fields=("sent_at", "link_nonce", "email"),
    )
    if not produce_documents:
        return None
    document = archive_quote(quote, by=by)
    if not email:
        return None
    context = quote_email_context(quote, by=by, link=quote_link_url(quote, base_url=base_url))
    template = template_text("quote")
    return queue_email(
        to=to,
        subject=fill(subject if subject is not None else template.subject, context),
        body=fill(body if body is not None else template.body, context),
        documents=[document],
        business_object=quote,
        party=quote.party,
        by=by,
    )


@transaction.atomic
def revoke_quote_link(quote: Quote, *, by: Any) -> Quote:
    """Make every acceptance link sent for this quote stop working."""
    quote.link_nonce = ""
    quote.updated_at = timezone.now()
    quote.save(update_fields=["link_nonce", "updated_at"])
    record_audit(by, "revoke_quote_link", quote)
    return quote


@transaction.atomic
def renew_quote_link(quote: Quote, *, by: Any) -> Quote:
    """Give a sent quote a new acceptance link (the earlier ones stay withdrawn)."""
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if quote.status != QuoteStatus.SENT:
        raise ValidationError(_("Only a sent quote waiting for its answer gets a link."))
    quote.link_nonce = secrets.token_hex(16)
    quote.updated_at = timezone.now()
    quote.save(update_fields=["link_nonce", "updated_at"])
    record_audit(by, "renew_quote_link", quote)
    return quote


def _answerable(quote: Quote, today: date) -> None:
    if quote.status != QuoteStatus.SENT:
        raise ValidationError(_("This quote has already been answered or replaced."))
    if quote.valid_until < today:
        raise ValidationError(_("This quote has expired."))


def quote_email_context(quote: Quote, *, by: Any, link: str = "$link") -> dict[str, str]:
    """The values of a quote email's placeholders (``$link`` stays until the quote is sent)."""
    from comptoir.invoicing.printing import french_date, money

    return {
        "reference": quote.reference,
        "company": current_company().legal_name,
        "customer": quote.party.name,
        "total": f"{money(quote.total_amount)} €",
        "valid_until": french_date(quote.valid_until),
        "link": link,
        "sender": sender_name(by),
    }


@transaction.atomic
def accept_quote(
    quote: Quote, *, name: str, ip: str | None, by: Any = None, at: datetime | None = None
) -> Quote:
    """Record the customer's "bon pour accord": name, time and IP address.

    ``at`` records an answer given earlier (loading history); it defaults to now.
    """
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    at = at or timezone.now()
    _answerable(quote, timezone.localdate(at))
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Type your name to accept the quote.")})
    quote.accepted_by_name = name[:200]
    quote.answered_at = at
    quote.answer_ip = ip
    transition(
        quote,
        QuoteStatus.ACCEPTED,
        transitions=QUOTE_TRANSITIONS,
        by=by,
        extra_fields=("accepted_by_name", "answered_at", "answer_ip"),
    )
    record_audit(by, "accept_quote", quote, name=quote.accepted_by_name, ip=ip)
    return quote


@transaction.atomic
def refuse_quote(
    quote: Quote, *, reason: str, ip: str | None, by: Any = None, at: datetime | None = None
) -> Quote:
    """Record the customer's refusal and its reason (``at``: when, for history)."""
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    at = at or timezone.now()
    _answerable(quote, timezone.localdate(at))
    quote.refusal_reason = reason.strip()[:2000]
    quote.answered_at = at
    quote.answer_ip = ip
    transition(
        quote,
        QuoteStatus.REFUSED,
        transitions=QUOTE_TRANSITIONS,
        by=by,
        extra_fields=("refusal_reason", "answered_at", "answer_ip"),
    )
    record_audit(by, "refuse_quote", quote, reason=quote.refusal_reason, ip=ip)
    return quote


@transaction.atomic
def expire_quotes(*, today: date | None = None, by: Any = None) -> list[Quote]:
    """Move the sent quotes whose validity has ended to expired."""
    today = today or timezone.localdate()
    expired = []
    for quote in Quote.objects.select_for_update().filter(
        status=QuoteStatus.SENT, valid_until__lt=today
    ):
        transition(quote, QuoteStatus.EXPIRED, transitions=QUOTE_TRANSITIONS, by=by)
        expired.append(quote)
    return expired


def _assistant_for(quote: Quote) -> Any:
    from comptoir.core.models import User

    creator = quote.created_by
    if creator is not None and creator.is_active and creator.role == Role.SALES_ASSISTANT:
        return creator
    return (
        User.objects.filter(role=Role.SALES_ASSISTANT, is_active=True).order_by("pk").first()
        or creator
    )


@transaction.atomic
def create_follow_up_tasks(
    *, today: date | None = None, by: Any = None, dry_run: bool = False
) -> list[Quote]:
    """Create one follow-up task per quote sent and unanswered for QUOTE_FOLLOW_UP_DAYS."""
    today = today or timezone.localdate()
    from comptoir.sales.selectors import quotes_needing_follow_up

    quotes = list(quotes_needing_follow_up(today))
    if dry_run:
        return quotes
    for quote in quotes:
        task = FollowUpTask.objects.create(
            title=_("Follow up quote %(reference)s (%(customer)s)")
            % {"reference": quote.reference, "customer": quote.party.name},
            quote=quote,
            party=quote.party,
            assigned_to=_assistant_for(quote),
            due_date=today,
        )
        record_audit(by, "create_follow_up_task", task, quote=quote.reference)
    return quotes


@transaction.atomic
def complete_task(task: FollowUpTask, *, by: Any) -> FollowUpTask:
    """Mark a follow-up task done."""
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
        record_audit(by, "complete_task", task)
    return task


# -- orders -------------------------------------------------------------------------------


def _copy_lines(source: Iterable[DocumentLine], order: Order) -> None:
    OrderLine.objects.bulk_create(
        [
            OrderLine(
                order=order,
                product_id=line.product_id,
                **{
                    name: getattr(line, name)
                    for name in LINE_FIELDS | {"net_amount"}
                    if name != "product"
                },
            )
            for line in source
        ]
    )


@transaction.atomic
def create_order_from_quote(quote: Quote, *, by: Any, **values: Any) -> Order:
    """Turn an accepted quote into an order, in one click."""
    quote = Quote.objects.select_for_update().select_related("party").get(pk=quote.pk)
    if quote.status != QuoteStatus.ACCEPTED:
        raise ValidationError(_("Only an accepted quote becomes an order."))
    if Order.objects.filter(quote=quote).exists():
        raise ValidationError(_("This quote is already an order."))
    unknown = set(values) - ORDER_FIELDS
    if unknown:
        raise TypeError(f"unknown order fields: {sorted(unknown)}")
    _with_delivery_address(quote.party, values)
    order_date = values.pop("order_date", None) or timezone.localdate()
    order = Order(
        party=quote.party,
        quote=quote,
        number=next_number(ORDER_SERIES, order_date.year),
        order_date=order_date,
        operation_category=quote.operation_category,
        currency=quote.currency,
        discount_rate=quote.discount_rate,
        notes=values.pop("notes", quote.notes),
        email=values.pop("email", "") or quote.email,
        created_by=_user(by),
        **values,
    )
    order.full_clean(exclude=["quote"])
    order.save()
    if not quote.party.is_customer:
        # A prospect who orders becomes a customer.
        from comptoir.parties.actions import update_party

        update_party(quote.party, by=by, is_customer=True)
    _copy_lines(quote.lines.order_by("position", "pk"), order)
    _refresh_totals(order)
    record_audit(by, "create_order", order, quote=quote.reference)
    # The quote's history says what became of it too.
    record_audit(by, "quote_to_order", quote, order=order.number)
    return order


@transaction.atomic
def create_order(
    *, party: Party, by: Any, lines: Iterable[dict[str, Any]] = (), **values: Any
) -> Order:
    """Take an order directly (no quote), with its lines."""
    unknown = set(values) - ORDER_FIELDS
    if unknown:
        raise TypeError(f"unknown order fields: {sorted(unknown)}")
    if not party.is_customer:
        raise ValidationError({"party": _("Only a customer can order.")})
    _with_delivery_address(party, values)
    order_date = values.pop("order_date", None) or timezone.localdate()
    order = Order(
        party=party,
        number=next_number(ORDER_SERIES, order_date.year),
        order_date=order_date,
        email=values.pop("email", "") or party.email,
        created_by=_user(by),
        **values,
    )
    order.full_clean(exclude=["quote"])
    order.save()
    lines = list(lines)
    if not lines:
        raise ValidationError(_("An order needs at least one line."))
    for position, values_ in enumerate(lines, start=1):
        fields = line_values({"position": position, **values_}, party, order_date)
        line = OrderLine(order=order, **fields)
        _check_line(line)
        line.save()
    _refresh_totals(order)
    record_audit(by, "create_order", order)
    return order


@transaction.atomic
def update_order(order: Order, *, by: Any, **values: Any) -> Order:
    """Change an open order's PO reference, dates, delivery address or notes."""
    allowed = {
        "customer_reference",
        "requested_date",
        "promised_date",
        "delivery_address",
        "notes",
        "email",
    }
    unknown = set(values) - allowed
    if unknown:
        raise TypeError(f"fields not changeable on an order: {sorted(unknown)}")
    if not order.is_open:
        raise ValidationError(_("A delivered or cancelled order no longer changes."))
    diff = changed_fields(order, values)
    for name, value in values.items():
        setattr(order, name, value)
    order.updated_at = timezone.now()
    order.save(update_fields=[*values, "updated_at"])
    record_audit(by, "update_order", order, **diff)
    return order


# What changes on a line of an open order; unit and product stay (remove and add instead).
ORDER_LINE_EDITABLE = frozenset(
    {"quantity", "unit_price", "discount_rate", "vat", "label", "description"}
)
# Once a quantity was shipped or billed at a price, that price no longer changes.
PRICE_FIELDS = ("unit_price", "discount_rate", "vat_rate_code", "vat_rate", "vat_category")
AUDITED_LINE_FIELDS = ("label", "description", "quantity", *PRICE_FIELDS)


def _quantity_text(quantity: Decimal) -> str:
    from comptoir.invoicing.printing import quantity_text

    return quantity_text(quantity)


def _check_line_change(
    line: OrderLine,
    values: dict[str, Any],
    floors: tuple[Decimal, Decimal, Decimal],
) -> list[str]:
    """Return why these new values of an order line are refused (nothing when they are not)."""
    delivered, invoiced, prepared = floors
    errors = []
    if (delivered or invoiced) and any(
        getattr(line, name) != values[name] for name in PRICE_FIELDS
    ):
        errors.append(
            _(
                "%(label)s: already delivered or invoiced at this price; its unit price, "
                "discount and VAT rate no longer change."
            )
            % {"label": line.label}
        )
    floor = max(delivered + prepared, invoiced) + line.cancelled_quantity
    if values["quantity"] < floor:
        if prepared and delivered + prepared >= invoiced:
            errors.append(
                _(
                    "%(label)s: at least %(floor)s, as %(prepared)s are on a delivery note "
                    "in preparation; cancel that note first to order less."
                )
                % {
                    "label": line.label,
                    "floor": _quantity_text(floor),
                    "prepared": _quantity_text(prepared),
                }
            )
        else:
            errors.append(
                _(
                    "%(label)s: at least %(floor)s (%(delivered)s delivered, %(invoiced)s "
                    "invoiced, %(cancelled)s cancelled)."
                )
                % {
                    "label": line.label,
                    "floor": _quantity_text(floor),
                    "delivered": _quantity_text(delivered),
                    "invoiced": _quantity_text(invoiced),
                    "cancelled": _quantity_text(line.cancelled_quantity),
                }
            )
    return errors


def _line_snapshot(line: OrderLine) -> dict[str, Any]:
    return {name: getattr(line, name) for name in AUDITED_LINE_FIELDS}


def _audited(line: OrderLine) -> dict[str, str]:
    """A line's audited values as text, decimals with the places the database keeps."""
    values = {}
    for name, value in _line_snapshot(line).items():
        if isinstance(value, Decimal):
            places = OrderLine._meta.get_field(name).decimal_places  # type: ignore[union-attr]
            value = value.quantize(Decimal(1).scaleb(-places))
        values[name] = str(value)
    return values


@transaction.atomic
def update_order_lines(order: Order, *, by: Any, lines: Sequence[dict[str, Any]]) -> Order:
    """Set an open order's lines: change, add (with ``id`` absent) and remove (left out) lines.

    ``lines`` lists the order's lines as they should be, in order: an existing line by its
    ``id`` with the values that change (quantity, unit price, discount, ``vat``, label,
    description), a new line as on :func:`create_order` (a catalogue ``product`` priced for the
    customer today, or a free line). A quantity never falls below what is delivered (or on a
    delivery note in preparation) or invoiced, plus what is cancelled; a line shipped or billed
    keeps its price, discount and VAT rate and stays; the total incl. VAT never falls below the
    down payments invoiced on the order. Totals and VAT are recomputed as on creation; stock
    reserves what open orders still have to deliver, so the new quantities reserve or release.
    """
    order = Order.objects.select_for_update().select_related("party").get(pk=order.pk)
    if not order.is_open:
        raise ValidationError(
            _("A delivered or cancelled order no longer changes."), code="order_closed"
        )
    existing = {line.pk: line for line in order.lines.select_for_update().order_by("position")}
    floors = order_line_commitments(list(existing.values()))
    total_before = order.total_amount
    if not lines:
        raise ValidationError(_("An order needs at least one line."), code="no_line")
    today = timezone.localdate()
    errors: list[str] = []
    kept: list[OrderLine] = []
    changes: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    for position, wanted in enumerate(lines, start=1):
        wanted = dict(wanted)
        line_id = wanted.pop("id", None)
        if line_id is None:
            fields = line_values({"position": position, **wanted}, order.party, today)
            line = OrderLine(order=order, **fields)
            try:
                _check_line(line)
            except ValidationError as exc:
                name = line.label or _("New line")
                errors.extend(f"{name}: {message}" for message in exc.messages)
                continue
            kept.append(line)
            added.append(_audited(line))
            continue
        found = existing.get(int(line_id))
        if found is None or found in kept:
            raise ValidationError(
                _("The order's lines changed meanwhile: reload the page and start again."),
                code="unknown_line",
            )
        line = found
        unknown = set(wanted) - ORDER_LINE_EDITABLE
        if unknown:
            raise TypeError(f"fields not changeable on an order line: {sorted(unknown)}")
        old = _audited(line)
        vat = wanted.pop("vat", None)
        if vat is not None:
            wanted.update(_vat_values(vat))
        new = {name: wanted.get(name, getattr(line, name)) for name in AUDITED_LINE_FIELDS}
        refusals = _check_line_change(line, new, floors[line.pk])
        if refusals:
            errors.extend(refusals)
            continue
        for name, value in wanted.items():
            setattr(line, name, value)
        line.position = position
        try:
            _check_line(line)
        except ValidationError as exc:
            errors.extend(f"{line.label}: {message}" for message in exc.messages)
            continue
        diff = {
            name: [old[name], value] for name, value in _audited(line).items() if old[name] != value
        }
        if diff:
            changes.append({"line": line.pk, "label": line.label, **diff})
        kept.append(line)
    removed = [line for pk, line in existing.items() if line not in kept]
    for line in removed:
        delivered, invoiced, prepared = floors[line.pk]
        if delivered or invoiced or line.cancelled_quantity:
            errors.append(
                _("%(label)s: already delivered or invoiced, the line stays.")
                % {"label": line.label}
            )
        elif prepared:
            errors.append(
                _("%(label)s: on a delivery note in preparation; cancel that note first.")
                % {"label": line.label}
            )
    if errors:
        raise ValidationError(errors, code="line_refused")
    # Before the removed lines go: a backorder note may still hold them.
    order_to_deliver_reduced.send(
        sender=Order,
        order=order,
        by=by,
        remaining={
            **{line.pk: Decimal(0) for line in removed},
            **{line.pk: line.remaining_quantity for line in kept if line.pk is not None},
        },
    )
    for line in removed:
        line.delete()
    for line in kept:
        if line.pk is None:
            line.save()
        else:
            line.save(
                update_fields=[
                    *AUDITED_LINE_FIELDS,
                    "vat_exemption_reason",
                    "vat_exemption_code",
                    "position",
                    "net_amount",
                ]
            )
    _refresh_totals(order)
    from comptoir.invoicing.from_orders import down_payment_room  # invoicing imports sales
    from comptoir.invoicing.printing import money

    billable, left = down_payment_room(order)
    if left < 0:
        raise ValidationError(
            _(
                "The order would come to %(total)s € excl. VAT, less than the down payments "
                "taken on it (%(advanced)s € excl. VAT). Keep at least that amount, or "
                "credit a down payment first."
            )
            % {"total": money(billable), "advanced": money(billable - left)},
            code="below_down_payments",
        )
    refresh_order_status(order, by=by)
    record_audit(
        by,
        "update_order_lines",
        order,
        changed=changes,
        added=added,
        removed=[_audited(line) for line in removed],
        total_amount=[total_before, order.total_amount],
    )
    return order


def order_is_invoiced(order: Order) -> bool:
    """Whether any invoice (draft or issued, down payments included) refers to the order."""
    return order.invoice_links.exists()  # type: ignore[attr-defined]


@transaction.atomic
def cancel_order(order: Order, *, by: Any, reason: str = "") -> Order:
    """Cancel an order: whole when nothing was delivered or invoiced, else its undelivered rest.

    A delivered (or invoiced) quantity is never cancelled: it is credited by a credit note.
    The ``reason`` is kept on the order and in its history.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    reason = reason.strip()[:500]
    if not order.is_open:
        raise ValidationError(_("This order is already delivered or cancelled."))
    lines = list(order.lines.select_for_update())
    delivered = any(line.delivered_quantity for line in lines)
    if not delivered and order_is_invoiced(order):
        raise ValidationError(_("This order is invoiced: credit its invoice before cancelling it."))
    for line in lines:
        rest = line.remaining_quantity
        if rest > 0:
            line.cancelled_quantity += rest
            line.save(update_fields=["cancelled_quantity"])
    # Its delivery notes still to ship (a backorder, say) can no longer leave.
    order_to_deliver_reduced.send(
        sender=Order, order=order, by=by, remaining={line.pk: Decimal(0) for line in lines}
    )
    to = OrderStatus.DELIVERED if delivered else OrderStatus.CANCELLED
    order.cancellation_reason = reason
    transition(
        order, to, transitions=ORDER_TRANSITIONS, by=by, extra_fields=("cancellation_reason",)
    )
    record_audit(by, "cancel_order", order, partial=delivered, reason=reason)
    return order


@transaction.atomic
def refresh_order_status(order: Order, *, by: Any) -> Order:
    """Set an open order's status from what its lines still have to deliver (called on shipping)."""
    lines = list(order.lines.all())
    if all(line.remaining_quantity <= 0 for line in lines):
        to = OrderStatus.DELIVERED
    elif any(line.delivered_quantity > 0 for line in lines):
        to = OrderStatus.PARTIALLY_DELIVERED
    else:
        to = OrderStatus.CONFIRMED
    if to != order.status:
        transition(order, to, transitions=ORDER_TRANSITIONS, by=by)
    return order


def order_pdf(order: Order) -> bytes:
    from comptoir.documents.rendering import company_logo, render_pdf
    from comptoir.sales.printing import order_print_data

    return render_pdf(
        "sales_document.typ", order_print_data(order), logo=company_logo(current_company())
    )


def archive_order_acknowledgement(order: Order, *, by: Any) -> ArchivedDocument:
    """Archive the order acknowledgement once (reference: the order number)."""
    from comptoir.documents.actions import archive_document

    existing = ArchivedDocument.objects.filter(reference=order.number).first()
    if existing is not None:
        return existing
    return archive_document(
        order_pdf(order),
        reference=order.number,
        kind="order_acknowledgement_pdf",
        filename=f"{order.number}.pdf",
        mime_type="application/pdf",
        business_object=order,
        by=by,
    )


# -- the outbox ---------------------------------------------------------------------------


def party_of_document(document: ArchivedDocument) -> Party | None:
    """Return the customer an archived document belongs to, when it has one."""
    obj = document.business_object
    party = getattr(obj, "party", None)
    return party if isinstance(party, Party) else None


@transaction.atomic
def queue_email(
    *,
    to: str,
    subject: str,
    body: str,
    documents: Sequence[ArchivedDocument] = (),
    business_object: models.Model | None = None,
    party: Party | None = None,
    by: Any,
) -> OutboxMessage:
    """Store a message in the outbox; it is sent once, after the transaction commits."""
    message = OutboxMessage(
        to=to,
        subject=subject[:200],
        body=body,
        attachments=[document.reference for document in documents],
        content_type=ContentType.objects.get_for_model(business_object)
        if business_object is not None
        else None,
        object_id=str(business_object.pk) if business_object is not None else "",
        party=party,
        created_by=_user(by),
    )
    message.full_clean(exclude=["content_type", "party", "created_by"])
    message.save()
    record_audit(by, "queue_email", message, to=to, attachments=message.attachments)
    transaction.on_commit(lambda: deliver_outbox_message(message.pk))
    return message


EMAIL_CODES = {
    "quote_pdf": "quote",
    "order_acknowledgement_pdf": "order",
    "delivery_note_pdf": "delivery_note",
    "invoice_pdf": "invoice",
    "down_payment_pdf": "invoice",
    "credit_note_pdf": "invoice",
}


def document_email_context(document: ArchivedDocument, *, by: Any) -> dict[str, str]:
    """The values of the placeholders of an email sending an archived document."""
    from comptoir.invoicing.printing import money

    party = party_of_document(document)
    context = {
        "reference": document.reference,
        "company": current_company().legal_name,
        "customer": party.name if party else "",
        "sender": sender_name(by),
    }
    total = getattr(document.business_object, "total_amount", None)
    if isinstance(total, Decimal):
        context["total"] = f"{money(total)} €"
    reference = getattr(document.business_object, "customer_reference", "")
    context["your_reference"] = f" (votre référence {reference})" if reference else ""
    return context


@transaction.atomic
def send_document(
    document: ArchivedDocument,
    *,
    to: str,
    by: Any,
    subject: str | None = None,
    body: str | None = None,
) -> OutboxMessage:
    """Email an archived document (quote, order acknowledgement, delivery note, invoice…)."""
    party = party_of_document(document)
    context = document_email_context(document, by=by)
    template = template_text(EMAIL_CODES.get(document.kind, "document"))
    return queue_email(
        to=to,
        subject=fill(subject if subject is not None else template.subject, context),
        body=fill(body if body is not None else template.body, context),
        documents=[document],
        business_object=document.business_object,
        party=party,
        by=by,
    )


def deliver_outbox_message(pk: int) -> bool:
    """Send one pending message; claim it first so it never goes out twice. Return if sent."""
    from comptoir.documents.actions import read_archived

    claimed = OutboxMessage.objects.filter(pk=pk, status=OutboxStatus.PENDING).update(
        status=OutboxStatus.SENDING
    )
    if not claimed:
        return False
    message = OutboxMessage.objects.get(pk=pk)
    try:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
        )
        for document in ArchivedDocument.objects.filter(reference__in=message.attachments):
            email.attach(document.filename, read_archived(document), document.mime_type)
        email.send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any transport error is recorded on the row
        OutboxMessage.objects.filter(pk=pk).update(status=OutboxStatus.FAILED, error=str(exc))
        return False
    OutboxMessage.objects.filter(pk=pk).update(status=OutboxStatus.SENT, sent_at=timezone.now())
    return True


def deliver_pending_messages(*, older_than: timedelta = timedelta(minutes=1)) -> tuple[int, int]:
    """Send the messages left pending (their on-commit delivery never ran); return (sent, failed).

    Messages caught while sending (status "sending") are not retried: they may have left, and
    an email goes out at most once.
    """
    cutoff = timezone.now() - older_than
    sent = failed = 0
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING, created_at__lt=cutoff)
    for pk in pending.order_by("pk").values_list("pk", flat=True):
        if deliver_outbox_message(pk):
            sent += 1
        elif OutboxMessage.objects.filter(pk=pk, status=OutboxStatus.FAILED).exists():
            failed += 1
    return sent, failed


@transaction.atomic
def retry_outbox_message(message: OutboxMessage, *, by: Any) -> OutboxMessage:
    """Put a failed message back in the queue."""
    if message.status != OutboxStatus.FAILED:
        raise ValidationError(_("Only a failed message can be sent again."))
    message.status = OutboxStatus.PENDING
    message.error = ""
    message.save(update_fields=["status", "error"])
    record_audit(by, "retry_email", message)
    transaction.on_commit(lambda: deliver_outbox_message(message.pk))
    return message


@transaction.atomic
def update_email_template(code: str, *, subject: str, body: str, by: Any) -> Any:
    """Change the text of an email template."""
    from comptoir.sales.models import EmailTemplate

    template, _created = EmailTemplate.objects.update_or_create(
        code=code, defaults={"subject": subject, "body": body, "updated_at": timezone.now()}
    )
    record_audit(by, "update_email_template", template)
    return template
