"""The data the delivery-note template prints."""

from __future__ import annotations

from typing import Any

from comptoir.invoicing.printing import UNIT_LABELS, french_date, quantity_text
from comptoir.parties.models import AddressKind
from comptoir.parties.selectors import default_address
from comptoir.sales.printing import address_lines, buyer_data, seller_data
from comptoir.stock.models import Delivery


def delivery_print_data(delivery: Delivery) -> dict[str, Any]:
    """Return the JSON-ready data of a delivery note ("Bon de livraison")."""
    order = delivery.order
    party = order.party
    address = (
        delivery.delivery_address
        or order.delivery_address
        or default_address(party, AddressKind.DELIVERY)
        or default_address(party, AddressKind.BILLING)
    )
    references = [f"Commande : {order.number}"]
    if order.customer_reference:
        references.append(f"Votre commande : {order.customer_reference}")
    lines = []
    for line in delivery.lines.select_related("delivery", "order_line").order_by(
        "order_line__position", "pk"
    ):
        order_line = line.order_line
        lines.append(
            {
                "reference": order_line.product_reference,
                "label": order_line.label,
                "ordered": quantity_text(order_line.quantity),
                "delivered": quantity_text(line.quantity),
                "remaining": quantity_text(line.remaining_after),
                "unit": UNIT_LABELS.get(order_line.unit_code, order_line.unit_code),
            }
        )
    return {
        "title": "BON DE LIVRAISON",
        "number": delivery.number,
        "date": french_date(delivery.shipped_date or delivery.planned_date),
        "seller": seller_data(),
        "buyer": buyer_data(party),
        "delivery": address_lines(address, party),
        "references": " – ".join(references),
        "lines": lines,
        "backorder": bool(any(line["remaining"] not in ("0", "") for line in lines)),
        "notes": delivery.notes,
    }
