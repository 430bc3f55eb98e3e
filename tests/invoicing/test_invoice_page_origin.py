"""The invoice page shows where the invoice comes from; a credit note's PDF has no payment terms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from comptoir.invoicing import actions as invoice_actions
from comptoir.invoicing import from_orders
from tests.invoicing.test_from_orders import (  # noqa: F401 - fixtures are found by name
    _assert_valid,
    _english_and_immediate_tasks,
    _pdf_and_xml,
    depot,
    make_order,
    products,
    ship,
)

pytestmark = pytest.mark.django_db


def test_the_invoice_page_links_its_order_delivery_note_and_references(
    customer: Any,
    products: list[Any],  # noqa: F811
    assistant: Any,
    depot: Any,  # noqa: F811
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    order = make_order(customer, products, assistant, customer_reference="BC-7781")
    delivery = ship(order, assistant)
    invoice = from_orders.invoice_delivery(delivery, by=assistant, issue=True)
    client = client_for(assistant)
    page = client.get(reverse("invoicing:detail", args=[invoice.pk])).content.decode()
    assert f'<a href="{reverse("sales:order_detail", args=[order.pk])}">{order.number}</a>' in page
    delivery_url = reverse("stock:delivery_detail", args=[delivery.pk])
    assert f'<a href="{delivery_url}">{delivery.number}</a>' in page
    assert 'id="invoice-po">BC-7781<' in page
    assert "5 rue du Quai" in page
    # The credit note: a PDF without the payment mentions, still valid CII and UBL.
    note = invoice_actions.create_credit_note(invoice, by=assistant)
    note = invoice_actions.issue_invoice(note, by=assistant)
    _assert_valid(note)
    text, _xml = _pdf_and_xml(note)
    assert "escompte" not in text and "recouvrement" not in text and "pénalités" not in text.lower()
    text, _xml = _pdf_and_xml(invoice)
    assert "Pas d'escompte" in text and "40 €" in text
