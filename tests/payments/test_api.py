"""Payments API: create with allocations and an Idempotency-Key, scoping, settlements."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments.models import Payment

pytestmark = pytest.mark.django_db


def test_create_payment_allocates_and_replays_on_retry(
    customer: Party,
    issue: Callable[..., Invoice],
    accountant: Any,
    api_client_for: Callable[..., Client],
) -> None:
    first = issue(customer, "100.00", date(2026, 1, 5))
    second = issue(customer, "100.00", date(2026, 1, 6))
    client = api_client_for(accountant)
    body = {
        "party_id": customer.pk,
        "amount": "150.00",
        "method": "transfer",
        "date": "2026-02-01",
        "allocations": [{"invoice_id": second.pk, "amount": "120.00"}],
    }
    headers = {"Idempotency-Key": "pay-1"}
    response = client.post(
        "/api/v1/payments", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    assert response.json()["allocated_amount"] == "120.00"
    replay = client.post("/api/v1/payments", body, content_type="application/json", headers=headers)
    assert replay.json() == response.json() and Payment.objects.count() == 1
    settlements = {s["number"]: s for s in client.get("/api/v1/settlements").json()["items"]}
    assert settlements[second.number]["state"] == "paid"
    assert settlements[first.number]["state"] == "issued"
    allocations = client.get(f"/api/v1/allocations?invoice_id={second.pk}").json()["items"]
    assert [a["amount"] for a in allocations] == ["120.00"]
    too_much = dict(body, allocations=[{"invoice_id": first.pk, "amount": "500.00"}])
    error = client.post("/api/v1/payments", too_much, content_type="application/json")
    assert error.status_code == 422 and "exceed" in error.json()["detail"][0]["message"]


def test_reps_see_their_customers_payments_and_cannot_record(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    accountant: Any,
    rep: Any,
    api_client_for: Callable[..., Client],
) -> None:
    from decimal import Decimal

    from comptoir.payments.actions import record_payment

    own = make_customer("Mine", sales_rep=rep)
    other = make_customer("Other")
    for party in (own, other):
        issue(party, "10.00", date(2026, 1, 5))
        record_payment(
            party=party, amount=Decimal("12"), method="cash", date=date(2026, 2, 1), by=accountant
        )
    client = api_client_for(rep)
    assert [p["party_id"] for p in client.get("/api/v1/payments").json()["items"]] == [own.pk]
    other_payment = Payment.objects.get(party=other)
    assert client.get(f"/api/v1/payments/{other_payment.pk}").status_code == 404
    body = {"party_id": own.pk, "amount": "1", "method": "cash", "date": "2026-02-02"}
    assert client.post("/api/v1/payments", body, content_type="application/json").status_code == 403
