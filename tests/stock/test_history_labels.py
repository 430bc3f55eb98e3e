"""A delivery's history names its statuses as the delivery screen does, in the user's language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from comptoir.core.roles import Role
from comptoir.stock import actions


def _shipped_delivery(order: Any, paper: Any, assistant: Any) -> Any:
    actions.record_stock_move(paper, quantity=Decimal("50"), kind="receipt", by=assistant)
    line = order.lines.get(product=paper)
    delivery = actions.create_delivery(order, by=assistant, quantities={line.pk: Decimal("1")})
    actions.ship_delivery(delivery, by=assistant, produce_documents=False)
    return delivery


def _history(page: str) -> str:
    return page[page.index('id="history"') :]


def test_delivery_history_uses_the_delivery_status_labels(
    client_for: Any, assistant: Any, order: Any, paper: Any
) -> None:
    # The move once read "Draft → shipped": a quote's label and a raw code.
    delivery = _shipped_delivery(order, paper, assistant)
    page = client_for(assistant).get(f"/stock/deliveries/{delivery.pk}/").content.decode()
    assert "Status: To ship → Shipped" in _history(page)


def test_delivery_history_speaks_french_to_a_french_user(
    client_for: Any, make_user: Any, assistant: Any, order: Any, paper: Any
) -> None:
    delivery = _shipped_delivery(order, paper, assistant)
    french = make_user(Role.SALES_ASSISTANT, language="fr")
    history = _history(client_for(french).get(f"/stock/deliveries/{delivery.pk}/").content.decode())
    assert "À expédier → Expédiée" in history or "À expédier → Expédié" in history
    assert "shipped" not in history and "Brouillon" not in history
