"""Refusing to over-credit tells the quantity left the French way ("0", "1,5"), not "0.000"."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from comptoir.invoicing import actions
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from tests.invoicing.conftest import line


def test_over_crediting_names_the_quantity_left_with_a_decimal_comma(
    customer: Party, issued_for: Callable[..., Invoice], assistant: Any
) -> None:
    invoice = issued_for(customer, [line("Pain", "2.5", "4")], produce_documents=False)
    source = invoice.lines.get()
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        actions.create_credit_note(invoice, by=assistant, lines=[(source, Decimal("3"))])
    message = " ".join(refused.value.messages)
    assert "2,5" in message and "2.500" not in message
