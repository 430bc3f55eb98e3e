"""An order's down payments never come to more than the order: the final invoice could not
deduct them all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import from_orders
from tests.factories import PartyFactory
from tests.invoicing.test_down_payment_proportional import _issued_down_payment, _ten_at_100
from tests.invoicing.test_from_orders_rounding import _order

pytestmark = pytest.mark.django_db


def test_down_payments_stop_at_the_order_and_a_credit_note_makes_room(
    company: Any, assistant: Any
) -> None:
    order = _ten_at_100("Client Acomptes", assistant)
    first = _issued_down_payment(order, assistant, "60")
    assert from_orders.down_payments_taken(order) == Decimal("600.00")
    with pytest.raises(ValidationError, match="at most 400,00 € excl. VAT is left") as refused:
        from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("50"))
    assert refused.value.error_list[0].code == "down_payments_over_order"
    # A draft counts too: it may be issued any time.
    draft = from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("40"))
    assert from_orders.down_payments_taken(order) == Decimal("1000.00")
    with pytest.raises(ValidationError, match="at most 0,00 €"):
        from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("1"))
    invoice_actions.delete_draft_invoice(draft, by=assistant)
    # Crediting half of the first down payment gives that half back.
    invoice_actions.issue_invoice(
        invoice_actions.create_credit_note(
            first, by=assistant, lines=[(first.lines.get(), Decimal("0.5"))]
        ),
        by=assistant,
        produce_documents=False,
    )
    assert from_orders.down_payments_taken(order) == Decimal("300.00")
    from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("70"))


@pytest.mark.django_db(transaction=True)
def test_a_down_payment_is_taken_in_a_transaction_of_its_own(company: Any, assistant: Any) -> None:
    """As a screen calls it, outside any transaction: the order lock needs one (PostgreSQL
    refuses SELECT … FOR UPDATE in autocommit)."""
    party = PartyFactory(name="Client Verrou", siren="404833048")
    order = _order(party, assistant, [(Decimal("2"), Decimal("50"), Decimal("0"), "tva-20")])
    down = from_orders.create_down_payment_invoice(order, by=assistant, rate=Decimal("30"))
    assert from_orders.down_payments_taken(order) == down.lines.get().unit_price == Decimal("30")
