"""The hash chain of issued documents and its verification.

Each issued invoice or credit note stores ``hash = SHA-256(previous_hash + canonical JSON)``
where the JSON holds every legally relevant field of the document and of its lines (sorted
keys, decimals as strings at their field's precision, dates in ISO format). Changing any of
them afterwards, even by raw SQL, breaks the chain at that document.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from comptoir.core.models import NumberingCounter
from comptoir.invoicing.models import Invoice, InvoiceLine, InvoiceStatus

GENESIS_HASH = "0" * 64
# The numbering series whose counter gives each issued document its place in the chain.
LEDGER_SERIES = "LEDGER"

INVOICE_FIELDS = (
    "chain_index",
    "kind",
    "number",
    "issue_date",
    "supply_date",
    "due_date",
    "issued_at",
    "party_id",
    "seller",
    "buyer",
    "buyer_name",
    "operation_category",
    "vat_on_debits",
    "currency",
    "payment_terms_days",
    "payment_terms_base",
    "discount_rate",
    "buyer_reference",
    "purchase_order_reference",
    "corrects_id",
    "notes",
    "lines_net_amount",
    "allowance_amount",
    "tax_basis_amount",
    "vat_amount",
    "total_amount",
    "prepaid_amount",
    "due_amount",
    "vat_breakdown",
)
LINE_FIELDS = (
    "position",
    "product_reference",
    "label",
    "description",
    "quantity",
    "unit_code",
    "unit_price",
    "discount_rate",
    "allowance_amount",
    "vat_rate_code",
    "vat_rate",
    "vat_category",
    "vat_exemption_reason",
    "vat_exemption_code",
    "net_amount",
    "credited_line_id",
    "deducted_invoice_id",
)


def _quanta(model: type[models.Model], names: Iterable[str]) -> dict[str, Decimal]:
    """The quantum each field's decimals are written at: its precision, or cents."""
    places = {
        f.attname: f.decimal_places
        for f in model._meta.concrete_fields
        if isinstance(f, models.DecimalField)
    }
    return {name: Decimal(1).scaleb(-places.get(name, 2)) for name in names}


_INVOICE_QUANTA = _quanta(Invoice, INVOICE_FIELDS)
_LINE_QUANTA = _quanta(InvoiceLine, LINE_FIELDS)


def _canonical(value: Any, quantum: Decimal) -> Any:
    kind = type(value)
    if kind is str or kind is int or value is None:  # most fields: nothing to do
        return value
    if isinstance(value, Decimal):
        return str(value.quantize(quantum))
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def document_payload(invoice: Invoice, lines: Iterable[InvoiceLine]) -> dict[str, Any]:
    """Return the canonical, hashable content of an issued document."""
    payload = {
        name: _canonical(getattr(invoice, name), quantum)
        for name, quantum in _INVOICE_QUANTA.items()
    }
    payload["lines"] = [
        {name: _canonical(getattr(line, name), quantum) for name, quantum in _LINE_QUANTA.items()}
        for line in sorted(lines, key=lambda line: (line.position, line.pk or 0))
    ]
    return payload


def chain_hash(previous_hash: str, payload: dict[str, Any]) -> str:
    """Return SHA-256 of the previous hash followed by the canonical JSON of the payload."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((previous_hash + text).encode()).hexdigest()


def document_hash(invoice: Invoice, lines: Iterable[InvoiceLine]) -> str:
    return chain_hash(invoice.previous_hash, document_payload(invoice, lines))


@dataclass(frozen=True)
class LedgerBreak:
    """The first document whose stored hash or place in the chain is wrong."""

    chain_index: int
    number: str  # empty when the documents at fault are gone (the newest ones, deleted)
    reason: str


def chained_documents(chunk_size: int = 500) -> Iterator[Invoice]:
    """Yield every document given a place in the chain, in chain order, lines prefetched.

    By place, not by status: a document put back to draft by hand is still found, and named.
    """
    queryset = (
        Invoice.objects.filter(chain_index__isnull=False)
        .order_by("chain_index")
        .prefetch_related(models.Prefetch("lines", queryset=InvoiceLine.objects.order_by()))
    )
    yield from queryset.iterator(chunk_size=chunk_size)


def _name(invoice: Invoice) -> str:
    return invoice.number or _("a document without a number (id %(pk)s)") % {"pk": invoice.pk}


def chain_length() -> int:
    """How many places in the chain issuing has given out (0 before the first issue)."""
    counter = (
        NumberingCounter.objects.filter(series=LEDGER_SERIES, year=0)
        .values_list("last_number", flat=True)
        .first()
    )
    return counter or 0


def verify_ledger() -> tuple[int, LedgerBreak | None]:
    """Recompute the chain; return how many documents were checked and the first break."""
    previous = GENESIS_HASH
    expected_index = 1
    checked = 0
    for invoice in chained_documents():
        if invoice.chain_index != expected_index:
            return checked, LedgerBreak(
                expected_index,
                _name(invoice),
                _("the document at chain index %(index)s is missing") % {"index": expected_index},
            )
        if invoice.status != InvoiceStatus.ISSUED:
            return checked, LedgerBreak(
                expected_index,
                _name(invoice),
                _("its status was changed to %(status)s")
                % {"status": invoice.get_status_display()},
            )
        if invoice.previous_hash != previous:
            return checked, LedgerBreak(
                expected_index,
                _name(invoice),
                _("its previous hash does not match the document before"),
            )
        if document_hash(invoice, invoice.lines.all()) != invoice.hash:
            return checked, LedgerBreak(
                expected_index, _name(invoice), _("its content does not match its hash")
            )
        previous = invoice.hash
        expected_index += 1
        checked += 1
    # The newest documents gone leave no hole to trip on: the counter knows how many there were.
    given_out = chain_length()
    if given_out > checked:
        return checked, LedgerBreak(
            expected_index,
            "",
            _("%(missing)s document(s) after chain index %(index)s are missing (%(given)s issued)")
            % {"missing": given_out - checked, "index": checked, "given": given_out},
        )
    return checked, None
