"""Quotes: catalogue pricing, totals, states, revisions, the acceptance link, follow-ups."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from comptoir.core.audit import history_for
from comptoir.documents.models import ArchivedDocument
from comptoir.sales import actions
from comptoir.sales.models import FollowUpTask, OutboxMessage, OutboxStatus, Quote
from comptoir.sales.selectors import quote_for_link
from comptoir.sales.states import QuoteStatus
from tests.factories import PriceListFactory, PriceRuleFactory, vat_rate

pytestmark = pytest.mark.django_db


def test_catalogue_line_takes_the_customer_price_and_shows_the_rule(
    make_quote: Any, customer: Any, paper: Any
) -> None:
    price_list = PriceListFactory(name="Tarif revendeurs")
    PriceRuleFactory(price_list=price_list, value=Decimal("10"))
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("3")}])
    line = quote.lines.get()
    assert line.unit_price == Decimal("4.4100")
    assert "Tarif revendeurs" in line.price_rule
    assert line.vat_rate == Decimal("20.00")
    assert line.net_amount == Decimal("13.23")


def test_totals_follow_en16931_with_line_and_document_discounts(
    make_quote: Any, customer: Any
) -> None:
    quote = make_quote(
        customer,
        [
            {
                "label": "Audit",
                "quantity": Decimal("3"),
                "unit_price": Decimal("33.333"),
                "discount_rate": Decimal("5"),
                "vat": vat_rate("tva-20"),
            },
            {
                "label": "Livre",
                "quantity": Decimal("1"),
                "unit_price": Decimal("19.99"),
                "vat": vat_rate("tva-5-5"),
            },
        ],
        discount_rate=Decimal("10"),
    )
    # 99.999 - 5 % (5.00) = 95.00; 19.99; document discount 10 % per rate: 9.50 and 2.00.
    assert quote.lines_net_amount == Decimal("114.99")
    assert quote.allowance_amount == Decimal("11.50")
    assert quote.tax_basis_amount == Decimal("103.49")
    assert quote.vat_amount == Decimal("17.10") + Decimal("0.99")
    assert quote.total_amount == quote.tax_basis_amount + quote.vat_amount


def test_send_archives_the_pdf_and_emails_it_with_a_link(
    make_quote: Any,
    customer: Any,
    paper: Any,
    assistant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_quote(quote, by=assistant)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    document = ArchivedDocument.objects.get(reference=quote.reference)
    assert document.kind == "quote_pdf"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["achats@martin.example"]
    assert quote.reference in message.subject
    assert "/q/" in message.body
    assert message.attachments[0][0] == f"{quote.reference}.pdf"
    assert message.attachments[0][1].startswith(b"%PDF")
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


def test_outbox_message_is_sent_at_most_once(
    make_quote: Any,
    customer: Any,
    paper: Any,
    assistant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    with django_capture_on_commit_callbacks(execute=True):
        message = actions.send_quote(quote, by=assistant)
    assert message is not None
    assert actions.deliver_outbox_message(message.pk) is False
    assert len(mail.outbox) == 1


def test_email_template_is_editable_and_sandboxed(
    make_quote: Any,
    customer: Any,
    paper: Any,
    assistant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    actions.update_email_template(
        "quote",
        subject="Offre $reference pour $customer",
        body="{{ settings.SECRET_KEY }} $company ${__class__} $link",
        by=assistant,
    )
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_quote(quote, by=assistant)
    message = mail.outbox[0]
    assert message.subject == f"Offre {quote.reference} pour Boulangerie Martin SARL"
    assert "{{ settings.SECRET_KEY }}" in message.body
    assert "${__class__}" in message.body
    assert "Comptoir Démo SAS" in message.body


def test_states_follow_the_transitions_table(
    make_quote: Any, customer: Any, paper: Any, assistant: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    with pytest.raises(ValidationError):
        actions.accept_quote(quote, name="X", ip=None)  # a draft cannot be accepted
    actions.send_quote(quote, by=assistant)
    with pytest.raises(ValidationError):
        actions.add_quote_line(quote, by=assistant, product=paper, quantity=Decimal("1"))
    actions.refuse_quote(quote, reason="Trop cher", ip="198.51.100.1")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REFUSED
    assert quote.refusal_reason == "Trop cher"
    with pytest.raises(ValidationError):
        actions.accept_quote(quote, name="X", ip=None)


def test_revision_keeps_the_previous_one_read_only(
    make_quote: Any, customer: Any, paper: Any, assistant: Any
) -> None:
    v1 = make_quote(customer, [{"product": paper, "quantity": Decimal("5")}])
    actions.send_quote(v1, by=assistant)
    token = actions.quote_link_token(Quote.objects.get(pk=v1.pk))
    v2 = actions.revise_quote(v1, by=assistant)
    v1.refresh_from_db()
    assert (v2.number, v2.revision, v2.previous_id) == (v1.number, 2, v1.pk)
    assert v1.status == QuoteStatus.SUPERSEDED
    assert v2.status == QuoteStatus.DRAFT
    assert v2.lines.get().quantity == Decimal("5")
    assert v2.total_amount == v1.total_amount
    actions.add_quote_line(v2, by=assistant, product=paper, quantity=Decimal("1"))
    assert v1.lines.count() == 1
    with pytest.raises(ValidationError):
        actions.add_quote_line(v1, by=assistant, product=paper, quantity=Decimal("1"))
    # The link sent for v1 no longer answers v1.
    assert quote_for_link(token).problem == "revoked"


def test_accept_through_the_link_records_name_time_and_ip(
    make_quote: Any, customer: Any, paper: Any, assistant: Any, client: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    actions.send_quote(quote, by=assistant)
    quote.refresh_from_db()
    url = f"/sales/q/{actions.quote_link_token(quote)}/"
    page = client.get(url)
    assert page.status_code == 200
    assert quote.reference in page.content.decode()
    response = client.post(
        url, {"answer": "accept", "name": "Jean Martin"}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 200
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.accepted_by_name == "Jean Martin"
    assert quote.answer_ip == "203.0.113.9"
    assert quote.answered_at is not None
    # Answering twice changes nothing.
    client.post(url, {"answer": "refuse", "reason": "oops"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED


def test_refuse_through_the_link_needs_no_login(
    make_quote: Any, customer: Any, paper: Any, assistant: Any, client: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    actions.send_quote(quote, by=assistant)
    quote.refresh_from_db()
    url = f"/sales/q/{actions.quote_link_token(quote)}/"
    client.post(url, {"answer": "refuse", "reason": "Budget reporté"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.REFUSED
    assert quote.refusal_reason == "Budget reporté"


@pytest.mark.parametrize("problem", ["tampered", "revoked", "expired_link", "expired_quote"])
def test_bad_links_show_a_clear_page_and_change_nothing(
    problem: str,
    make_quote: Any,
    customer: Any,
    paper: Any,
    assistant: Any,
    client: Any,
    settings: Any,
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    actions.send_quote(quote, by=assistant)
    quote.refresh_from_db()
    token = actions.quote_link_token(quote)
    if problem == "tampered":
        payload, rest = token.split(":", 1)
        token = (
            signing.b64_encode(
                b'{"q":%d,"n":"%s"}' % (quote.pk + 1, quote.link_nonce.encode())
            ).decode()
            + ":"
            + rest
        )
    elif problem == "revoked":
        actions.revoke_quote_link(quote, by=assistant)
    elif problem == "expired_link":
        settings.QUOTE_LINK_MAX_AGE_DAYS = -1
    else:
        Quote.objects.filter(pk=quote.pk).update(
            valid_until=timezone.localdate() - timedelta(days=1)
        )
    url = f"/sales/q/{token}/"
    page = client.get(url)
    assert page.status_code in (403, 404, 410)
    text = page.content.decode()
    assert 'name="answer"' not in text
    expected = {
        "tampered": "not valid",
        "revoked": "withdrawn",
        "expired_link": "expired",
        "expired_quote": "expired",
    }
    assert expected[problem] in text
    client.post(url, {"answer": "accept", "name": "Mallory"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert quote.accepted_by_name == ""


def test_follow_up_tasks_once_per_unanswered_quote(
    make_quote: Any, customer: Any, paper: Any, assistant: Any, settings: Any
) -> None:
    settings.QUOTE_FOLLOW_UP_DAYS = 7
    old = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    recent = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    answered = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    for quote in (old, recent, answered):
        actions.send_quote(quote, by=assistant)
    actions.accept_quote(answered, name="Jean", ip=None)
    ten_days_ago = timezone.now() - timedelta(days=10)
    Quote.objects.filter(pk__in=[old.pk, answered.pk]).update(sent_at=ten_days_ago)
    call_command("quotes", "follow-up", "--dry-run")
    assert FollowUpTask.objects.count() == 0
    call_command("quotes", "follow-up")
    task = FollowUpTask.objects.get()
    assert task.quote_id == old.pk
    assert task.assigned_to == assistant
    call_command("quotes", "follow-up")
    assert FollowUpTask.objects.count() == 1


def test_expire_command_expires_sent_quotes_past_validity(
    make_quote: Any, customer: Any, paper: Any, assistant: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    actions.send_quote(quote, by=assistant)
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=1))
    call_command("quotes", "expire")
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.EXPIRED


def test_office_records_an_answer_received_on_paper(
    make_quote: Any,
    customer: Any,
    paper: Any,
    assistant: Any,
    client_for: Any,
    make_user: Any,
) -> None:
    accepted = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    refused = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    for quote in (accepted, refused):
        actions.send_quote(quote, by=assistant, email=False)
    client = client_for(assistant)
    page = client.get(f"/sales/quotes/{accepted.pk}/").content.decode()
    assert 'id="record-answer"' in page
    # A rep outside the customer's portfolio cannot answer for it.
    outsider = client_for(make_user("sales_rep"))
    response = outsider.post(
        f"/sales/quotes/{accepted.pk}/answer/", {"answer": "accept", "name": "Jean Martin"}
    )
    assert response.status_code == 404
    # No name, no acceptance.
    client.post(f"/sales/quotes/{accepted.pk}/answer/", {"answer": "accept", "name": " "})
    accepted.refresh_from_db()
    assert accepted.status == QuoteStatus.SENT

    client.post(f"/sales/quotes/{accepted.pk}/answer/", {"answer": "accept", "name": "Jean Martin"})
    client.post(f"/sales/quotes/{refused.pk}/answer/", {"answer": "refuse", "reason": "Trop cher"})
    accepted.refresh_from_db()
    refused.refresh_from_db()
    assert accepted.status == QuoteStatus.ACCEPTED
    assert (accepted.accepted_by_name, accepted.answer_ip) == ("Jean Martin", None)
    assert refused.status == QuoteStatus.REFUSED and refused.refusal_reason == "Trop cher"
    entry = history_for(accepted).filter(action="accept_quote").get()
    assert entry.actor == assistant
    page = client.get(f"/sales/quotes/{accepted.pk}/").content.decode()
    assert "recorded at the office" in page and "None" not in page
    assert 'id="record-answer"' not in page


def test_a_withdrawn_link_can_be_replaced_by_a_new_one(
    make_quote: Any, customer: Any, paper: Any, assistant: Any, client_for: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    actions.send_quote(quote, by=assistant, email=False)
    quote.refresh_from_db()
    old_token = actions.quote_link_token(quote)
    client = client_for(assistant)
    client.post(f"/sales/quotes/{quote.pk}/revoke-link/")
    page = client.get(f"/sales/quotes/{quote.pk}/").content.decode()
    assert 'id="acceptance-link"' not in page and 'id="renew-link"' in page
    client.post(f"/sales/quotes/{quote.pk}/renew-link/")
    quote.refresh_from_db()
    assert quote_for_link(old_token).problem == "revoked"
    assert quote_for_link(actions.quote_link_token(quote)).problem == ""
    assert 'id="acceptance-link"' in client.get(f"/sales/quotes/{quote.pk}/").content.decode()
    # Once answered, a quote gets no new link.
    actions.accept_quote(quote, name="Jean Martin", ip=None, by=assistant)
    with pytest.raises(ValidationError):
        actions.renew_quote_link(quote, by=assistant)


def test_the_send_form_does_not_open_for_a_quote_that_cannot_be_sent(
    make_quote: Any, customer: Any, paper: Any, assistant: Any, client_for: Any
) -> None:
    client = client_for(assistant)
    empty = make_quote(customer, [])
    response = client.get(f"/sales/quotes/{empty.pk}/send/", follow=True)
    assert response.redirect_chain[-1][0] == f"/sales/quotes/{empty.pk}/"
    assert "at least one line" in response.content.decode()
    sent = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    assert client.get(f"/sales/quotes/{sent.pk}/send/").status_code == 200
    actions.send_quote(sent, by=assistant, email=False)
    response = client.get(f"/sales/quotes/{sent.pk}/send/", follow=True)
    assert "was sent already" in response.content.decode()
    assert not mail.outbox
