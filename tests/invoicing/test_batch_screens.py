"""Batch invoicing screens: a warning when no worker runs, the issued invoices once done."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from comptoir.core.management.commands.worker import beat
from comptoir.core.models import WorkerHeartbeat
from comptoir.invoicing.models import Invoice
from comptoir.invoicing.order_links import InvoicingRun
from tests.factories import PartyFactory
from tests.invoicing.test_from_orders import make_order, products, ship  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_customers_delivered(company: Any, products: list[Any], assistant: Any) -> None:  # noqa: F811
    for letter, siren in (("A", "404833048"), ("B", "542051180")):
        ship(
            make_order(PartyFactory(name=f"Client {letter}", siren=siren), products, assistant),
            assistant,
        )


def test_a_queued_run_warns_when_no_worker_runs(
    two_customers_delivered: None, assistant: Any, client_for: Any, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = client_for(assistant)
    with translation.override("en"):
        start = client.get("/invoices/from-orders/run/").content.decode()
        assert 'id="run-no-worker"' in start
        assert "Invoice deliveries shipped up to" in start
        response = client.post("/invoices/from-orders/run/", {"until": "2099-01-01"})
        page = client.get(response.url).content.decode()
    assert 'id="run-no-worker"' in page and "comptoir worker" in page
    assert "hx-trigger" in page  # still polling
    # A worker beating recently: no warning; one silent for a minute: the warning again.
    beat("w1")
    assert 'id="run-no-worker"' not in client.get(response.url).content.decode()
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=1))
    assert 'id="run-no-worker"' in client.get(response.url).content.decode()


def test_a_finished_run_lists_its_invoices_and_stops_saying_it_goes_on(
    two_customers_delivered: None,
    assistant: Any,
    client_for: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client = client_for(assistant)
    with translation.override("en"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/invoices/from-orders/run/", {"until": "2099-01-01"})
        page = client.get(response.url).content.decode()
    run = InvoicingRun.objects.get()
    assert run.status == "done"
    invoices = list(Invoice.objects.issued().order_by("number"))
    assert len(invoices) == 2
    for invoice in invoices:
        assert f'href="/invoices/{invoice.pk}/">{invoice.number}</a>' in page
    assert "goes on in the background" not in page
    assert 'id="run-no-worker"' not in page and "hx-trigger" not in page
