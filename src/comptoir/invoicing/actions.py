"""Invoice writes: drafts, lines, issuing (number + hash + Factur-X + archive), credit notes.

``issue_invoice`` is all or nothing: it takes the number, computes the totals, snapshots both
parties, renders the PDF, builds and validates the CII, embeds it, archives the file and
appends to the hash chain in one transaction. If any step fails, the transaction rolls back:
the invoice stays a draft and the number is not taken.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from comptoir.core.audit import changed_fields, record_audit
from comptoir.core.calculations import due_date as compute_due_date
from comptoir.core.models import Company
from comptoir.core.numbering import format_number, next_sequence
from comptoir.core.prepared import PreparedLookup
from comptoir.core.selectors import current_company
from comptoir.invoicing import calculations, ledger
from comptoir.invoicing.models import (
    SERIES,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    IssuedDocumentError,
    OperationCategory,
)
from comptoir.invoicing.printing import quantity_text
from comptoir.parties.models import Address, AddressKind, Party
from comptoir.parties.selectors import default_address

DRAFT_FIELDS = {
    "party",
    "billing_address",
    "delivery_address",
    "operation_category",
    "currency",
    "discount_rate",
    "buyer_reference",
    "purchase_order_reference",
    "notes",
    "supply_date",
    "payment_terms_days",
    "payment_terms_base",
}
LINE_FIELDS = {
    "label",
    "description",
    "product_reference",
    "quantity",
    "unit_code",
    "unit_price",
    "discount_rate",
    "vat_rate_code",
    "vat_rate",
    "vat_category",
    "vat_exemption_reason",
    "vat_exemption_code",
    "position",
    "product",
}
STANDARD = "S"


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise IssuedDocumentError()


def _line_values(values: dict[str, Any], party: Party | None = None) -> dict[str, Any]:
    """Fill a line from its catalogue product (price from the customer's price lists) and
    its VAT snapshot from a catalogue VAT rate."""
    values = dict(values)
    product = values.get("product")
    vat = values.pop("vat", None)
    if product is not None:
        values.setdefault("product_reference", product.reference)
        values.setdefault("label", product.label)
        values.setdefault("unit_code", product.unit)
        if "unit_price" not in values:
            from comptoir.catalogue.selectors import price_for

            quantity = values.get("quantity") or Decimal(1)
            values["unit_price"] = price_for(product, party, quantity).unit_price
        vat = vat or product.vat_rate
    if vat is not None:
        values.setdefault("vat_rate_code", vat.code)
        values["vat_rate"] = vat.rate
        values["vat_category"] = vat.category
        values["vat_exemption_reason"] = vat.exemption_reason
        values["vat_exemption_code"] = vat.exemption_code
    unknown = set(values) - LINE_FIELDS
    if unknown:
        raise TypeError(f"unknown line fields: {sorted(unknown)}")
    return values


def _check_line(line: InvoiceLine) -> None:
    line.full_clean(exclude=["invoice", "credited_line", "deducted_invoice"])
    if line.vat_category != STANDARD and line.vat_rate:
        raise ValidationError({"vat_rate": _("Only the standard VAT category has a rate.")})
    if line.vat_category != STANDARD and not line.vat_exemption_reason:
        raise ValidationError(
            {"vat_exemption_reason": _("A VAT-exempt line needs its exemption reason.")}
        )
    if line.unit_price < 0:
        raise ValidationError({"unit_price": _("Enter a price of 0 or more.")})


@transaction.atomic
def create_invoice(
    *,
    party: Party,
    by: Any,
    kind: str = InvoiceKind.INVOICE,
    lines: Iterable[dict[str, Any]] = (),
    **values: Any,
) -> Invoice:
    """Create a draft invoice (or down-payment invoice) for a customer, with its lines."""
    if kind == InvoiceKind.CREDIT_NOTE:
        raise ValidationError(_("Create a credit note from the invoice it corrects."))
    unknown = set(values) - DRAFT_FIELDS
    if unknown:
        raise TypeError(f"unknown invoice fields: {sorted(unknown)}")
    invoice = Invoice(kind=kind, party=party, created_by=_user(by), **values)
    if "operation_category" not in values:
        invoice.operation_category = OperationCategory.GOODS
    invoice.full_clean(exclude=["corrects"])
    invoice.save()
    for position, line in enumerate(lines, start=1):
        _add_line(invoice, position=position, **line)
    record_audit(by, "create_invoice", invoice, kind=kind, party=party.pk)
    return invoice


def _user(by: Any) -> Any:
    return by if getattr(by, "pk", None) else None


def _add_line(invoice: Invoice, **values: Any) -> InvoiceLine:
    fields = _line_values(values, invoice.party)
    if "position" not in fields:
        last = invoice.lines.order_by("-position").values_list("position", flat=True).first()
        fields["position"] = (last or 0) + 1
    line = InvoiceLine(invoice=invoice, **fields)
    _check_line(line)
    amounts = calculations.line_amounts(line.quantity, line.unit_price, line.discount_rate)
    line.allowance_amount = amounts.allowance_amount
    line.net_amount = amounts.net_amount
    line.save()
    return line


@transaction.atomic
def add_invoice_line(invoice: Invoice, *, by: Any, **values: Any) -> InvoiceLine:
    """Add a line to a draft: free, or from a ``product`` and/or catalogue ``vat`` rate."""
    _require_draft(invoice)
    if invoice.is_credit_note:
        raise ValidationError(_("A credit note only credits lines of its invoice."))
    if invoice.kind == InvoiceKind.DOWN_PAYMENT:
        raise ValidationError(
            _("A down-payment invoice bills a share of its order, line by VAT rate.")
        )
    line = _add_line(invoice, **values)
    record_audit(by, "add_invoice_line", invoice, line=line.label)
    return line


@transaction.atomic
def update_invoice_line(line: InvoiceLine, *, by: Any, **values: Any) -> InvoiceLine:
    """Change a draft's line."""
    _require_draft(line.invoice)
    fields = _line_values(values, line.invoice.party)
    diff = changed_fields(line, fields)
    for name, value in fields.items():
        setattr(line, name, value)
    _check_line(line)
    amounts = calculations.line_amounts(line.quantity, line.unit_price, line.discount_rate)
    line.allowance_amount = amounts.allowance_amount
    line.net_amount = amounts.net_amount
    line.save()
    record_audit(by, "update_invoice_line", line.invoice, line=line.pk, **diff)
    return line


@transaction.atomic
def delete_invoice_line(line: InvoiceLine, *, by: Any) -> None:
    """Remove a line from a draft."""
    _require_draft(line.invoice)
    record_audit(by, "delete_invoice_line", line.invoice, line=line.label)
    line.delete()


@transaction.atomic
def update_draft_invoice(invoice: Invoice, *, by: Any, **values: Any) -> Invoice:
    """Change a draft's header fields."""
    _require_draft(invoice)
    unknown = set(values) - DRAFT_FIELDS
    if unknown:
        raise TypeError(f"unknown invoice fields: {sorted(unknown)}")
    diff = changed_fields(invoice, values)
    for name, value in values.items():
        setattr(invoice, name, value)
    invoice.updated_at = timezone.now()
    invoice.full_clean(exclude=["corrects"])
    invoice.save()
    record_audit(by, "update_draft_invoice", invoice, **diff)
    return invoice


@transaction.atomic
def delete_draft_invoice(invoice: Invoice, *, by: Any) -> None:
    """Delete a draft (it never had a number, so no gap appears)."""
    _require_draft(invoice)
    record_audit(by, "delete_draft_invoice", invoice)
    invoice.delete()


# -- snapshots --------------------------------------------------------------------------


def _address_dict(address: Address | None) -> dict[str, str] | None:
    if address is None:
        return None
    return {
        "line1": address.line1,
        "line2": address.line2,
        "line3": address.line3,
        "postcode": address.postcode,
        "city": address.city,
        "country": address.country,
    }


def seller_snapshot(company: Company) -> dict[str, Any]:
    """Return the seller's legal data as printed on a document issued now."""
    return {
        "name": company.legal_name,
        "trade_name": company.trade_name,
        "legal_form": company.legal_form,
        "share_capital": str(company.share_capital_amount)
        if company.share_capital_amount is not None
        else "",
        "siren": company.siren,
        "siret": company.siret,
        "rcs_city": company.rcs_city,
        "vat_number": company.vat_number,
        "naf_code": company.naf_code,
        "address": {
            "line1": company.address_line1,
            "line2": company.address_line2,
            "line3": "",
            "postcode": company.postcode,
            "city": company.city,
            "country": company.country,
        },
        "email": company.email,
        "phone": company.phone,
        "iban": company.iban,
        "bic": company.bic,
        "late_penalty_text": str(company.late_penalty_text),
        "recovery_indemnity_text": str(company.recovery_indemnity_text),
        "footer": company.document_footer,
    }


def buyer_snapshot(invoice: Invoice) -> dict[str, Any]:
    """Return the customer's legal data, billing and (when different) delivery address."""
    party = invoice.party
    billing = invoice.billing_address or default_address(party, AddressKind.BILLING)
    billing_dict = _address_dict(billing) or {
        "line1": "",
        "line2": "",
        "line3": "",
        "postcode": party.postcode,
        "city": party.city,
        "country": party.country,
    }
    delivery_dict = _address_dict(invoice.delivery_address)
    if delivery_dict is not None and delivery_dict == billing_dict:
        delivery_dict = None
    return {
        "name": party.name,
        "legal_form": party.legal_form,
        "siren": party.siren,
        "siret": party.siret,
        "vat_number": party.vat_number,
        "email": party.email,
        "address": billing_dict,
        "delivery_address": delivery_dict,
    }


def _payment_terms(invoice: Invoice, company: Company) -> tuple[int, str]:
    if invoice.payment_terms_days is not None:
        return invoice.payment_terms_days, invoice.payment_terms_base or "net"
    party = invoice.party
    if party.payment_terms_days is not None:
        return party.payment_terms_days, party.payment_terms_base
    return company.payment_terms_days, company.payment_terms_base


# -- issuing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedFiles:
    pdf: bytes
    xml: bytes


def apply_totals(invoice: Invoice, lines: Sequence[InvoiceLine]) -> list[InvoiceLine]:
    """Compute and set line amounts, totals and the VAT breakdown (in memory); return the
    lines whose stored amounts changed."""
    changed = []
    for line in lines:
        amounts = calculations.line_amounts(line.quantity, line.unit_price, line.discount_rate)
        if (line.allowance_amount, line.net_amount) != (
            amounts.allowance_amount,
            amounts.net_amount,
        ):
            changed.append(line)
        line.allowance_amount = amounts.allowance_amount
        line.net_amount = amounts.net_amount
    totals = calculations.invoice_totals(
        [
            calculations.LineInput.of(line, deduction=line.deducted_invoice_id is not None)
            for line in lines
        ],
        discount_rate=invoice.discount_rate,
        prepaid_amount=invoice.prepaid_amount,
    )
    invoice.lines_net_amount = totals.lines_net_amount
    invoice.allowance_amount = totals.allowance_amount
    invoice.tax_basis_amount = totals.tax_basis_amount
    invoice.vat_amount = totals.vat_amount
    invoice.total_amount = totals.total_amount
    invoice.due_amount = totals.due_amount
    invoice.vat_breakdown = [
        {
            "category": group.category,
            "rate": str(group.rate),
            "lines_net_amount": str(group.lines_net_amount),
            "allowance_amount": str(group.allowance_amount),
            "allowance_basis_amount": str(group.allowance_basis_amount),
            "taxable_amount": str(group.taxable_amount),
            "vat_amount": str(group.vat_amount),
        }
        for group in totals.vat_groups
    ]
    return changed


def _check_issuable(invoice: Invoice, lines: Sequence[InvoiceLine], company: Company) -> None:
    errors: list[str] = []
    if not lines:
        errors.append(_("An invoice needs at least one line."))
    missing = company.missing_legal_fields()
    if missing:
        errors.append(
            _("Complete the company profile first: %(fields)s.") % {"fields": ", ".join(missing)}
        )
    if invoice.total_amount < 0:
        errors.append(_("The total cannot be negative; issue a credit note instead."))
    party = invoice.party
    if party.country == "FR" and party.kind == "organisation" and not party.siren:
        errors.append(_("A French business customer needs a SIREN on its invoices."))
    if errors:
        raise ValidationError(errors)


def produce_files(
    invoice: Invoice, lines: Sequence[InvoiceLine], *, logo: Path | None = None
) -> IssuedFiles:
    """Build and validate the CII, and render the PDF that carries it: a Factur-X PDF/A-3."""
    from comptoir.invoicing.einvoice import build_cii
    from comptoir.invoicing.facturx import render_facturx
    from comptoir.invoicing.printing import invoice_print_data
    from comptoir.invoicing.validation import start_validation

    xml = build_cii(invoice, lines)
    # Saxon checks the XML in its worker process while this one renders the PDF, when there
    # is a second core to run it on. On a single core, waiting for its answer first is
    # faster: the two processes would otherwise share the core in small slices, each
    # evicting the other's caches (bench/invoicing.py: 29.6 → 33.7 invoices/s, Saxon CPU
    # 11.3 → 7.8 ms an invoice).
    validation = start_validation(xml)
    if _single_core():
        validation.findings()
    try:
        facturx_pdf = render_facturx(
            "invoice.typ", invoice_print_data(invoice, lines), xml, logo=logo
        )
    finally:
        validation.findings()
    validation.raise_if_invalid()
    return IssuedFiles(pdf=facturx_pdf, xml=xml)


@functools.cache
def _single_core() -> bool:
    """Whether this process may run on one CPU only (taskset, cgroup affinity, a 1-CPU box)."""
    try:
        return len(os.sched_getaffinity(0)) == 1
    except AttributeError:  # not on Linux
        return (os.cpu_count() or 1) == 1


def _previous_issue_date(series: str, year: int, sequence: int) -> date | None:
    """The issue date of the number before this one in its series, None for the first.

    Numbers follow issue order and no issue date precedes the previous number's (checked
    here on every issue), so it is the series' latest date: one lookup by the unique number,
    whatever the number of invoices, instead of a scan of the year's.
    """
    if sequence <= 1:
        return None
    return _ISSUE_DATE_OF_NUMBER.first(format_number(series, year, sequence - 1))


# The lookups of issuing, compiled once (comptoir.core.prepared): compiling them again on
# every issue cost more than running them.
_DRAFT_TO_ISSUE = PreparedLookup[Invoice](
    lambda pk: Invoice.objects.select_for_update(of=("self",)).select_related("party").filter(pk=pk)
)
_LINES = PreparedLookup[InvoiceLine](
    lambda invoice_id: InvoiceLine.objects.filter(invoice_id=invoice_id).order_by("position", "pk")
)
_ISSUE_DATE_OF_NUMBER = PreparedLookup[date](
    lambda number: Invoice.objects.filter(number=number).values_list("issue_date", flat=True)[:1]
)
_HASH_AT_CHAIN_INDEX = PreparedLookup[str](
    lambda index: Invoice.objects.filter(chain_index=index).values_list("hash", flat=True)[:1]
)


def _lines_to_issue(invoice: Invoice) -> list[InvoiceLine]:
    """The draft's lines, each deduction line with the down payment it deducts."""
    lines = _LINES(invoice.pk)
    for line in lines:
        InvoiceLine.invoice.field.set_cached_value(line, invoice)
    deducted = Invoice.objects.in_bulk({line.deducted_invoice_id for line in lines} - {None})
    for line in lines:
        if line.deducted_invoice_id:
            line.deducted_invoice = deducted[line.deducted_invoice_id]
    return lines


def _prepare_issue(
    invoice: Invoice, lines: list[InvoiceLine], company: Company, issue_date: date
) -> list[InvoiceLine]:
    """Set in memory what issuing sets before the number: totals, checks, snapshots, dates,
    terms. Return the lines whose stored amounts changed."""
    changed_lines = apply_totals(invoice, lines)
    _check_issuable(invoice, lines, company)
    corrected_date = invoice.corrects.issue_date if invoice.corrects else None
    if invoice.is_credit_note and corrected_date and issue_date < corrected_date:
        raise ValidationError(_("A credit note cannot predate the invoice it corrects."))
    invoice.issue_date = issue_date
    invoice.supply_date = invoice.supply_date or issue_date
    invoice.seller = seller_snapshot(company)
    invoice.buyer = buyer_snapshot(invoice)
    invoice.buyer_name = invoice.party.name
    # The option for VAT on debits concerns services only (CGI art. 269-2-c): a goods-only
    # invoice neither mentions it (PDF) nor declares VAT due on invoice (CII BT-8).
    invoice.vat_on_debits = (
        company.vat_on_debits and invoice.operation_category != OperationCategory.GOODS
    )
    if not invoice.is_credit_note:
        days, base = _payment_terms(invoice, company)
        invoice.payment_terms_days = days
        invoice.payment_terms_base = base
        invoice.due_date = compute_due_date(issue_date, days, base)
    return changed_lines


def preview_pdf(invoice: Invoice) -> bytes:
    """Render a draft as it would print if issued today, marked as a draft; nothing is saved.

    The same checks as issuing apply (a ValidationError says what would block it); no number,
    no Factur-X XML, no archive.
    """
    from comptoir.documents.rendering import company_logo, render_pdf
    from comptoir.invoicing.printing import invoice_print_data

    invoice = Invoice.objects.select_related("party").get(pk=invoice.pk)
    _require_draft(invoice)
    company = current_company()
    lines = _lines_to_issue(invoice)
    _prepare_issue(invoice, lines, company, timezone.localdate())
    data = {**invoice_print_data(invoice, lines), "draft": True}
    return render_pdf("invoice.typ", data, logo=company_logo(company))


@transaction.atomic
def issue_invoice(
    invoice: Invoice,
    *,
    by: Any,
    issue_date: date | None = None,
    produce_documents: bool = True,
) -> Invoice:
    """Issue a draft: legal number, totals, snapshots, Factur-X PDF, archive, hash chain.

    ``produce_documents=False`` skips the PDF and XML (numbering and ledger only): for
    loading historical data and for the concurrency test of the numbering.
    """
    from comptoir.documents.actions import archive_document
    from comptoir.documents.rendering import company_logo

    # Locks are taken in one fixed order (the invoice row, its number series, the ledger)
    # and waited for: concurrent issuers queue, none fails. Everything that does not need
    # the number is prepared under the invoice's own lock first, so the series and ledger
    # locks are held as briefly as possible.
    # The corrected invoice and deducted down payments are read only when there are some:
    # joining them on every issue costs more than the rare extra query.
    invoice = _DRAFT_TO_ISSUE.one(invoice.pk)
    _require_draft(invoice)
    company = current_company()
    issue_date = issue_date or timezone.localdate()
    series = SERIES[InvoiceKind(invoice.kind)]
    lines = _lines_to_issue(invoice)
    changed_lines = _prepare_issue(invoice, lines, company, issue_date)
    if changed_lines:
        InvoiceLine.objects.bulk_update(changed_lines, ["allowance_amount", "net_amount"])

    sequence = next_sequence(series, issue_date.year, company=company)
    number = format_number(series, issue_date.year, sequence)
    chain_index = next_sequence(ledger.LEDGER_SERIES, 0, company=company)
    last_date = _previous_issue_date(series, issue_date.year, sequence)
    if last_date is not None and issue_date < last_date:
        raise ValidationError(
            _("The issue date cannot be before %(date)s, the date of the last %(series)s number.")
            % {"date": last_date, "series": series}
        )
    invoice.number = number
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_at = timezone.now()
    invoice.issued_by = _user(by)
    invoice.updated_at = invoice.issued_at
    invoice.chain_index = chain_index
    previous = _HASH_AT_CHAIN_INDEX.first(chain_index - 1)
    invoice.previous_hash = previous or ledger.GENESIS_HASH
    invoice.hash = ledger.document_hash(invoice, lines)

    files = produce_files(invoice, lines, logo=company_logo(company)) if produce_documents else None
    invoice.save()
    if files is not None:
        archive_document(
            files.pdf,
            reference=number,
            kind=f"{invoice.kind}_pdf",
            filename=f"{number}.pdf",
            mime_type="application/pdf",
            business_object=invoice,
            by=by,
        )
    record_audit(by, "issue_invoice", invoice, number=number, total=invoice.total_amount)
    return invoice


# -- credit notes and down payments -------------------------------------------------------


def over_credit_errors(
    invoice: Invoice, wanted: Sequence[tuple[InvoiceLine, Decimal]]
) -> list[str]:
    """Say, line by line, which quantities exceed what is left to credit (all at once)."""
    credited = _credited_quantities(invoice)
    errors = []
    for line, qty in wanted:
        remaining = line.quantity - credited.get(line.pk, Decimal(0))
        if abs(qty) > abs(remaining) or (qty * line.quantity) < 0:
            errors.append(
                _("%(label)s: at most %(qty)s left to credit.")
                % {"label": line.label, "qty": quantity_text(remaining)}
            )
    return errors


@transaction.atomic
def create_credit_note(
    invoice: Invoice,
    *,
    by: Any,
    lines: Sequence[tuple[InvoiceLine, Decimal]] | None = None,
    notes: str = "",
) -> Invoice:
    """Create a draft credit note for an issued invoice: whole (``lines=None``) or partial.

    ``lines`` lists (invoice line, quantity to credit). Quantities already credited by
    issued credit notes cannot be credited twice.
    """
    if invoice.status != InvoiceStatus.ISSUED or invoice.is_credit_note:
        raise ValidationError(_("Only an issued invoice can be credited."))
    source_lines = list(invoice.lines.order_by("position", "pk"))
    if lines is None:
        wanted = [(line, line.quantity) for line in source_lines]
    else:
        own = {line.pk for line in source_lines}
        if any(line.pk not in own for line, _qty in lines):
            raise ValidationError(_("A credit note can only credit lines of its invoice."))
        wanted = [(line, qty) for line, qty in lines if qty]
    if not wanted:
        raise ValidationError(_("Choose at least one line to credit."))
    errors = over_credit_errors(invoice, wanted)
    if errors:
        raise ValidationError(errors)
    credit_note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE,
        party=invoice.party,
        corrects=invoice,
        billing_address=invoice.billing_address,
        delivery_address=invoice.delivery_address,
        operation_category=invoice.operation_category,
        currency=invoice.currency,
        discount_rate=invoice.discount_rate,
        buyer_reference=invoice.buyer_reference,
        purchase_order_reference=invoice.purchase_order_reference,
        supply_date=invoice.supply_date,
        notes=notes,
        created_by=_user(by),
    )
    credit_note.save()
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=credit_note,
                position=position,
                product=line.product,
                product_reference=line.product_reference,
                label=line.label,
                description=line.description,
                quantity=qty,
                unit_code=line.unit_code,
                unit_price=line.unit_price,
                discount_rate=line.discount_rate,
                vat_rate_code=line.vat_rate_code,
                vat_rate=line.vat_rate,
                vat_category=line.vat_category,
                vat_exemption_reason=line.vat_exemption_reason,
                vat_exemption_code=line.vat_exemption_code,
                net_amount=calculations.line_amounts(
                    qty, line.unit_price, line.discount_rate
                ).net_amount,
                credited_line=line,
                deducted_invoice=line.deducted_invoice,
            )
            for position, (line, qty) in enumerate(wanted, start=1)
        ]
    )
    record_audit(by, "create_credit_note", credit_note, corrects=invoice.number)
    return credit_note


def quantities_left_to_credit(invoice: Invoice) -> list[tuple[InvoiceLine, Decimal]]:
    """Return each line of an issued invoice with the quantity not credited yet."""
    credited = _credited_quantities(invoice)
    return [
        (line, line.quantity - credited.get(line.pk, Decimal(0)))
        for line in invoice.lines.order_by("position", "pk")
    ]


def _credited_quantities(invoice: Invoice) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}
    rows = InvoiceLine.objects.filter(
        credited_line__invoice=invoice, invoice__status=InvoiceStatus.ISSUED
    ).values_list("credited_line_id", "quantity")
    for line_id, qty in rows:
        totals[line_id] = totals.get(line_id, Decimal(0)) + qty
    return totals


def left_to_deduct(down_payment: Invoice) -> dict[tuple[str, Decimal], Decimal]:
    """Return what is left to deduct of an issued down payment, per VAT category and rate.

    A down payment may be deducted in parts, by several invoices (drafts included, so two
    drafts cannot deduct the same part): each part is a negative line that refers to it.
    Credit notes copy those lines and give nothing back to deduct.
    """
    left = {
        (group["category"], calculations.normalise_rate(Decimal(group["rate"]))): Decimal(
            group["taxable_amount"]
        )
        for group in down_payment.vat_breakdown
    }
    deductions = InvoiceLine.objects.filter(
        deducted_invoice=down_payment, invoice__kind=InvoiceKind.INVOICE
    ).values_list("vat_category", "vat_rate", "quantity", "unit_price", "discount_rate")
    for category, rate, quantity, unit_price, discount in deductions:
        key = (category, calculations.normalise_rate(rate))
        net = calculations.line_amounts(quantity, unit_price, discount).net_amount
        left[key] = left.get(key, Decimal(0)) + net
    return {key: amount for key, amount in left.items() if amount > 0}


@transaction.atomic
def deduct_down_payment(
    invoice: Invoice,
    *,
    down_payment: Invoice,
    by: Any,
    amounts: Mapping[tuple[str, Decimal], Decimal] | None = None,
) -> list[InvoiceLine]:
    """Add to a draft invoice the lines that deduct an issued down-payment invoice.

    One negative line per VAT rate of the down payment (quantity −1, the amount as price),
    so the invoice's VAT breakdown only taxes what was not taxed yet and its total is what
    remains due. EN 16931 has no other way to take back VAT already invoiced: the prepaid
    amount (BT-113) is for payments received without a VAT invoice, and using it here would
    tax the down payment twice. The header also refers to the down-payment invoice (BT-25)
    and the billing mode becomes "final after down payment" (B4/S4/M4).

    ``amounts`` (per VAT category and rate) deducts part of it only; by default, everything
    that is left of it (``left_to_deduct``). Its parts never add up to more than it.
    """
    _require_draft(invoice)
    if invoice.kind != InvoiceKind.INVOICE:
        raise ValidationError(_("Only a final invoice deducts a down payment."))
    if down_payment.kind != InvoiceKind.DOWN_PAYMENT or not down_payment.is_issued:
        raise ValidationError(_("Choose an issued down-payment invoice."))
    if down_payment.party_id != invoice.party_id:
        raise ValidationError(_("The down payment was invoiced to another customer."))
    left = left_to_deduct(down_payment)
    if not left:
        raise ValidationError(_("This down payment is already deducted."))
    if amounts is None:
        amounts = left
    amounts = {
        (category, calculations.normalise_rate(rate)): amount
        for (category, rate), amount in amounts.items()
        if amount
    }
    if not amounts or any(
        not Decimal(0) < amount <= left.get(key, Decimal(0)) for key, amount in amounts.items()
    ):
        raise ValidationError(_("This down payment is already deducted."))
    exemptions = {
        (line.vat_category, calculations.normalise_rate(line.vat_rate)): line
        for line in down_payment.lines.all()
    }
    created = []
    for group in down_payment.vat_breakdown:
        rate = Decimal(group["rate"])
        key = (group["category"], calculations.normalise_rate(rate))
        if key not in amounts:
            continue
        sample = exemptions[key]
        created.append(
            _add_line(
                invoice,
                label=_("Down payment invoice %(number)s of %(date)s")
                % {
                    "number": down_payment.number,
                    "date": date_format(down_payment.issue_date, "SHORT_DATE_FORMAT"),
                },
                quantity=Decimal("-1"),
                unit_code="C62",
                unit_price=amounts[key],
                vat_rate=rate,
                vat_category=group["category"],
                vat_rate_code=sample.vat_rate_code,
                vat_exemption_reason=sample.vat_exemption_reason,
                vat_exemption_code=sample.vat_exemption_code,
            )
        )
    InvoiceLine.objects.filter(pk__in=[line.pk for line in created]).update(
        deducted_invoice=down_payment
    )
    record_audit(
        by,
        "deduct_down_payment",
        invoice,
        down_payment=down_payment.number,
        amounts={f"{category} {rate}": str(amount) for (category, rate), amount in amounts.items()},
    )
    return created
