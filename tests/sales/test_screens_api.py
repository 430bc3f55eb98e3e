"""Screens, API access by role, sending any document from the UI and the CLI, customer history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from comptoir.documents.models import ArchivedDocument
from comptoir.sales import actions
from comptoir.sales.models import OutboxMessage, Quote
from comptoir.sales.states import QuoteStatus
from tests.factories import vat_rate

pytestmark = pytest.mark.django_db


def test_api_sales_rep_sees_only_their_customers_documents(
    api_client_for: Any,
    rep: Any,
    make_quote: Any,
    customer: Any,
    other_customer: Any,
    paper: Any,
    order: Any,
) -> None:
    own = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    other = make_quote(other_customer, [{"product": paper, "quantity": Decimal("1")}])
    client = api_client_for(rep)
    listed = client.get("/api/v1/quotes").json()
    ids = {item["id"] for item in listed["items"]}
    assert own.pk in ids and other.pk not in ids
    assert client.get(f"/api/v1/quotes/{own.pk}").status_code == 200
    assert client.get(f"/api/v1/quotes/{other.pk}").status_code == 404
    assert client.get(f"/api/v1/orders/{order.pk}").status_code == 200
    assert (
        client.post(
            f"/api/v1/quotes/{other.pk}/send", {}, content_type="application/json"
        ).status_code
        == 404
    )


def test_api_other_rep_gets_404_on_orders_and_deliveries(
    api_client_for: Any, other_rep: Any, order: Any
) -> None:
    client = api_client_for(other_rep)
    assert client.get(f"/api/v1/orders/{order.pk}").status_code == 404
    assert client.get("/api/v1/orders").json()["count"] == 0
    assert client.get("/api/v1/deliveries").json()["count"] == 0


def test_api_creates_a_priced_quote_and_the_accountant_may_not(
    api_client_for: Any, assistant: Any, accountant: Any, customer: Any, paper: Any
) -> None:
    payload = {"party_id": customer.pk, "lines": [{"product_id": paper.pk, "quantity": "3"}]}
    response = api_client_for(assistant).post(
        "/api/v1/quotes",
        payload,
        content_type="application/json",
        headers={"Idempotency-Key": "k1"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["lines"][0]["unit_price"] == "4.9000"
    assert body["lines"][0]["price_rule"]
    assert body["tax_basis_amount"] == "14.70"
    assert (
        api_client_for(accountant)
        .post("/api/v1/quotes", payload, content_type="application/json")
        .status_code
        == 403
    )
    assert Quote.objects.count() == 1


def test_quote_screens_from_draft_to_order(
    client_for: Any, assistant: Any, customer: Any, paper: Any
) -> None:
    client = client_for(assistant)
    response = client.post(
        "/sales/quotes/new/",
        {"party": customer.pk, "operation_category": "goods", "discount_rate": "0"},
    )
    quote = Quote.objects.get()
    assert response.url == f"/sales/quotes/{quote.pk}/"
    client.post(
        f"/sales/quotes/{quote.pk}/lines/new/",
        {"product": paper.pk, "quantity": "2", "discount_rate": "0"},
    )
    client.post(
        f"/sales/quotes/{quote.pk}/lines/new/",
        {
            "label": "Montage",
            "quantity": "1.5",
            "unit_code": "HUR",
            "unit_price": "48",
            "discount_rate": "0",
            "vat": vat_rate("tva-20").pk,
        },
    )
    assert quote.lines.get(label="Montage").unit_code == "HUR"
    page = client.get(f"/sales/quotes/{quote.pk}/").content.decode()
    assert "price-rule" in page and "9,80" in page
    client.post(
        f"/sales/quotes/{quote.pk}/send/",
        {"to": "achats@martin.example", "subject": "Devis $reference", "body": "Voir $link"},
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert client.get(f"/sales/quotes/{quote.pk}/pdf/")["Content-Type"] == "application/pdf"
    actions.accept_quote(quote, name="Jean", ip=None)
    response = client.post(f"/sales/quotes/{quote.pk}/order/", {"customer_reference": "PO-1"})
    assert response.status_code == 302
    order_page = client.get(response.url)
    assert "PO-1" in order_page.content.decode()
    assert client.get(response.url.rstrip("/") + "/pdf/")["Content-Type"] == "application/pdf"
    send = client.get(response.url + "send/")
    assert send.status_code == 302 and send.url.startswith("/sales/documents/")
    assert client.get("/sales/quotes/").status_code == 200
    assert client.get("/sales/orders/").status_code == 200
    assert client.get("/sales/orders/?export=csv").status_code == 200


def test_rep_cannot_open_another_reps_quote(
    client_for: Any, other_rep: Any, accepted_quote: Any
) -> None:
    assert client_for(other_rep).get(f"/sales/quotes/{accepted_quote.pk}/").status_code == 404
    assert client_for(other_rep).get(f"/sales/quotes/{accepted_quote.pk}/pdf/").status_code == 404


def test_send_any_document_from_the_ui_and_history_on_the_customer_page(
    client_for: Any,
    assistant: Any,
    other_rep: Any,
    order: Any,
    customer: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    document = actions.archive_order_acknowledgement(order, by=assistant)
    client = client_for(assistant)
    # The acknowledgement's email names the customer's own order reference.
    form = client.get(f"/sales/documents/{document.pk}/send/").content.decode()
    assert "votre commande (votre référence PO-77) et" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/sales/documents/{document.pk}/send/",
            {"to": "compta@martin.example", "subject": "Commande $reference", "body": "Ci-joint."},
        )
    assert response.status_code == 302
    assert mail.outbox[-1].subject == f"Commande {order.number}"
    assert mail.outbox[-1].attachments[0][0] == f"{order.number}.pdf"
    page = client.get(f"/parties/{customer.pk}/").content.decode()
    assert 'id="documents"' in page
    assert order.number in page and accepted_reference(order) in page
    assert "compta@martin.example" in page
    assert client_for(other_rep).get(f"/sales/documents/{document.pk}/").status_code == 404


def accepted_reference(order: Any) -> str:
    return order.quote.reference


def test_documents_send_command(
    assistant: Any, order: Any, django_capture_on_commit_callbacks: Any
) -> None:
    actions.archive_order_acknowledgement(order, by=assistant)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "documents", "send", "--reference", order.number, "--to", "x@example.com", stdout=out
        )
    assert f"{order.number} sent to x@example.com" in out.getvalue()
    assert mail.outbox[-1].to == ["x@example.com"]
    with pytest.raises(CommandError):
        call_command("documents", "send", "--reference", "NOPE-1", "--to", "x@example.com")
    assert ArchivedDocument.objects.filter(reference=order.number).count() == 1


def test_follow_up_tasks_show_on_the_dashboard_and_can_be_done(
    client_for: Any, assistant: Any, make_quote: Any, customer: Any, paper: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    actions.send_quote(quote, by=assistant, email=False)
    Quote.objects.filter(pk=quote.pk).update(sent_at=quote.created_at - timedelta(days=30))
    actions.create_follow_up_tasks(by=assistant)
    client = client_for(assistant)
    home = client.get("/").content.decode()
    assert "Quotes to follow up" in home
    page = client.get("/sales/tasks/").content.decode()
    assert quote.reference in page
    task = quote.follow_up
    client.post(f"/sales/tasks/{task.pk}/done/")
    task.refresh_from_db()
    assert task.done_at is not None
    assert quote.reference not in client.get("/sales/tasks/").content.decode()


def test_outbox_command_sends_what_was_left_pending(assistant: Any, order: Any) -> None:
    document = actions.archive_order_acknowledgement(order, by=assistant)
    # Queued inside this test's transaction: its on-commit delivery never runs.
    message = actions.send_document(document, to="late@example.com", by=assistant)
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=message.created_at - timedelta(minutes=5)
    )
    out = StringIO()
    call_command("documents", "outbox", stdout=out)
    assert "1 email(s) sent, 0 failed" in out.getvalue()
    assert [m.to for m in mail.outbox] == [["late@example.com"]]
    call_command("documents", "outbox", stdout=out)
    assert len(mail.outbox) == 1
