"""Issue 3 audit: direct orders with any lines, cancelling with a reason, totals shown whole,
draft quote headers editable, the acceptance link's host, the seller on the customer's page,
French figures without VAT category codes, labelled history, filled-in sending forms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from comptoir.core.audit import history_for
from comptoir.sales import actions
from comptoir.sales.models import Order, Quote
from comptoir.sales.printing import quote_print_data
from comptoir.sales.states import OrderStatus, QuoteStatus
from tests.factories import vat_rate

pytestmark = pytest.mark.django_db


def order_post(party: Any, rows: list[dict[str, Any]], total: int = 3, **header: Any) -> dict:
    data: dict[str, Any] = {
        "party": party.pk,
        "operation_category": "goods",
        "discount_rate": "0",
        "line-TOTAL_FORMS": str(total),
        "line-INITIAL_FORMS": "0",
        "line-MIN_NUM_FORMS": "0",
        "line-MAX_NUM_FORMS": "1000",
        **header,
    }
    for index in range(total):
        row = rows[index] if index < len(rows) else {}
        # What the browser posts for a row left blank: the initial quantity and discount.
        data.update({f"line-{index}-quantity": "1", f"line-{index}-discount_rate": "0"})
        data.update({f"line-{index}-{name}": value for name, value in row.items()})
    return data


# -- 1. direct orders ------------------------------------------------------------------------


def test_direct_order_takes_catalogue_and_free_lines_and_ignores_blank_rows(
    client_for: Any, assistant: Any, customer: Any, paper: Any
) -> None:
    client = client_for(assistant)
    page = client.get("/sales/orders/new/").content.decode()
    assert 'name="line-2-product"' in page and 'name="line-0-vat"' in page
    response = client.post(
        "/sales/orders/new/",
        order_post(
            customer,
            [
                {"product": paper.pk, "quantity": "10", "discount_rate": "5"},
                {
                    "label": "Installation",
                    "quantity": "2",
                    "unit_code": "HUR",
                    "unit_price": "45",
                    "vat": vat_rate("tva-20").pk,
                },
            ],
            discount_rate="10",
            customer_reference="PO-9",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    lines = list(order.lines.order_by("position"))
    assert [line.label for line in lines] == [paper.label, "Installation"]
    assert lines[0].unit_price == Decimal("4.9000") and lines[0].price_rule
    assert lines[0].discount_rate == Decimal("5")
    assert lines[1].unit_code == "HUR" and lines[1].vat_rate == Decimal("20.00")
    assert order.discount_rate == Decimal("10")
    assert order.lines_net_amount == Decimal("136.55")  # 46.55 + 90
    assert order.allowance_amount == Decimal("13.66")
    assert order.customer_reference == "PO-9"


def test_direct_order_needs_a_line_and_a_complete_free_line(
    client_for: Any, assistant: Any, customer: Any
) -> None:
    client = client_for(assistant)
    response = client.post("/sales/orders/new/", order_post(customer, []))
    assert response.status_code == 200
    assert "An order needs at least one line." in response.content.decode()
    response = client.post("/sales/orders/new/", order_post(customer, [{"label": "Conseil"}]))
    assert "Enter a price or choose a product." in response.content.decode()
    assert not Order.objects.exists()


def test_direct_order_more_rows_keeps_what_was_typed(
    client_for: Any, assistant: Any, customer: Any, paper: Any
) -> None:
    client = client_for(assistant)
    data = order_post(customer, [{"product": paper.pk, "quantity": "4"}])
    data["more_lines"] = "1"
    page = client.post("/sales/orders/new/", data).content.decode()
    assert 'name="line-5-product"' in page and 'name="line-6-product"' not in page
    assert 'value="4"' in page and "This field is required" not in page
    assert not Order.objects.exists()
    # The new rows are posted without quantity: left blank they are ignored.
    data.pop("more_lines")
    data["line-TOTAL_FORMS"] = "6"
    assert client.post("/sales/orders/new/", data).status_code == 302
    assert Order.objects.get().lines.count() == 1


# -- 2. cancelling an order ------------------------------------------------------------------


def test_cancelling_an_order_asks_for_confirmation_and_a_reason(
    client_for: Any, assistant: Any, order: Any
) -> None:
    client = client_for(assistant)
    detail = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert f'href="/sales/orders/{order.pk}/cancel/"' in detail
    form = client.get(f"/sales/orders/{order.pk}/cancel/")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    assert f'href="/sales/orders/{order.pk}/" id="keep-order"' in form.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert client.post(f"/sales/orders/{order.pk}/cancel/", {"reason": " "}).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    response = client.post(
        f"/sales/orders/{order.pk}/cancel/", {"reason": "Le client a trouvé moins cher"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancellation_reason == "Le client a trouvé moins cher"
    entry = history_for(order).get(action="cancel_order")
    assert entry.changes["reason"] == "Le client a trouvé moins cher"
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert 'id="cancellation-reason"' in page and "Le client a trouvé moins cher" in page
    # Once cancelled, the confirmation page sends back to the order.
    assert client.get(f"/sales/orders/{order.pk}/cancel/").status_code == 302


def test_an_open_order_changes_its_delivery_address_and_references(
    client_for: Any, assistant: Any, make_user: Any, order: Any
) -> None:
    from comptoir.parties.models import AddressKind
    from tests.factories import AddressFactory

    depot = AddressFactory(
        party=order.party, kind=AddressKind.DELIVERY, line1="8 rue des Entrepôts", label="Dépôt"
    )
    client = client_for(assistant)
    page = client.get(f"/sales/orders/{order.pk}/").content.decode()
    assert f'href="/sales/orders/{order.pk}/edit/"' in page
    form = client.get(f"/sales/orders/{order.pk}/edit/").content.decode()
    assert "Dépôt — 8 rue des Entrepôts" in form
    response = client.post(
        f"/sales/orders/{order.pk}/edit/",
        {"customer_reference": "PO-78", "delivery_address": depot.pk, "notes": "Quai 3"},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.delivery_address, order.customer_reference, order.notes) == (
        depot,
        "PO-78",
        "Quai 3",
    )
    assert "8 rue des Entrepôts" in client.get(f"/sales/orders/{order.pk}/").content.decode()
    # Another customer's address is not a choice.
    stranger = AddressFactory()
    response = client.post(f"/sales/orders/{order.pk}/edit/", {"delivery_address": stranger.pk})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.delivery_address == depot
    # A rep outside the portfolio does not reach it; a cancelled order no longer changes.
    outsider = make_user("sales_rep")
    assert client_for(outsider).get(f"/sales/orders/{order.pk}/edit/").status_code == 404
    actions.cancel_order(order, by=assistant, reason="test")
    assert client.get(f"/sales/orders/{order.pk}/edit/").status_code == 302


# -- 3. totals -------------------------------------------------------------------------------


def test_order_and_quote_pages_show_discount_vat_and_totals(
    client_for: Any, assistant: Any, make_quote: Any, customer: Any, paper: Any, chair: Any
) -> None:
    quote = make_quote(
        customer,
        [{"product": chair, "quantity": Decimal("10")}, {"product": paper, "quantity": "1"}],
        discount_rate=Decimal("7.5"),
    )
    actions.send_quote(quote, by=assistant, email=False)
    actions.accept_quote(quote, name="Jean Martin", ip=None)
    order = actions.create_order_from_quote(quote, by=assistant)
    client = client_for(assistant)
    for url in (f"/sales/quotes/{quote.pk}/", f"/sales/orders/{order.pk}/"):
        page = client.get(url).content.decode()
        totals = page[page.index('id="totals"') :]
        assert "1\u202f894,90" in totals  # lines
        assert "Document discount (7,5\u00a0%)" in totals and "142,12" in totals
        assert "1\u202f752,78" in totals  # excl. VAT
        assert "VAT 20\u00a0%" in totals and "350,56" in totals
        assert "2\u202f103,34" in totals
        assert "20.00" not in page and "S 20" not in page


# -- 4. editing a draft quote ----------------------------------------------------------------


def test_a_draft_quote_header_is_editable_and_a_sent_one_is_not(
    client_for: Any, assistant: Any, accountant: Any, make_quote: Any, customer: Any, paper: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("10")}])
    client = client_for(assistant)
    assert (
        f'href="/sales/quotes/{quote.pk}/edit/"'
        in client.get(f"/sales/quotes/{quote.pk}/").content.decode()
    )
    assert client.get(f"/sales/quotes/{quote.pk}/edit/").status_code == 200
    response = client.post(
        f"/sales/quotes/{quote.pk}/edit/",
        {
            "valid_until": (
                quote.issue_date.replace(day=1).replace(year=quote.issue_date.year + 1)
            ),
            "operation_category": "goods",
            "discount_rate": "10",
            "email": "direction@martin.example",
            "notes": "Livraison comprise",
        },
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.discount_rate == Decimal("10") and quote.allowance_amount == Decimal("4.90")
    assert quote.email == "direction@martin.example" and quote.notes == "Livraison comprise"
    assert client_for(accountant).get(f"/sales/quotes/{quote.pk}/edit/").status_code == 403
    actions.send_quote(quote, by=assistant, email=False)
    response = client.post(
        f"/sales/quotes/{quote.pk}/edit/",
        {"valid_until": quote.valid_until, "operation_category": "goods", "discount_rate": "0"},
    )
    assert response.status_code == 302
    quote.refresh_from_db()
    assert quote.discount_rate == Decimal("10")


def test_a_validity_before_the_quote_date_is_refused(
    client_for: Any, assistant: Any, make_quote: Any, customer: Any, paper: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    response = client_for(assistant).post(
        f"/sales/quotes/{quote.pk}/edit/",
        {
            "valid_until": quote.issue_date.replace(year=quote.issue_date.year - 1),
            "operation_category": "goods",
            "discount_rate": "0",
        },
    )
    assert response.status_code == 200
    assert "The validity ends before the quote&#x27;s date." in response.content.decode()


# -- 5. the acceptance link's host -----------------------------------------------------------


def test_acceptance_link_uses_the_request_host_unless_site_url_is_set(
    client_for: Any,
    assistant: Any,
    settings: Any,
    make_quote: Any,
    customer: Any,
    paper: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.SITE_URL_EXPLICIT = False
    settings.ALLOWED_HOSTS = ["comptoir.local", "testserver"]
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    client = client_for(assistant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/sales/quotes/{quote.pk}/send/",
            {"to": "achats@martin.example", "subject": "Devis", "body": "Lien : $link"},
            HTTP_HOST="comptoir.local:8123",
        )
    assert "Lien : http://comptoir.local:8123/sales/q/" in mail.outbox[-1].body
    page = client.get(f"/sales/quotes/{quote.pk}/", HTTP_HOST="comptoir.local:8123")
    assert 'value="http://comptoir.local:8123/sales/q/' in page.content.decode()
    settings.SITE_URL = "https://devis.example.com"
    settings.SITE_URL_EXPLICIT = True
    page = client.get(f"/sales/quotes/{quote.pk}/", HTTP_HOST="comptoir.local:8123")
    assert 'value="https://devis.example.com/sales/q/' in page.content.decode()
    # Without a request (command line, background), SITE_URL.
    settings.SITE_URL_EXPLICIT = False
    quote.refresh_from_db()
    assert actions.quote_link_url(quote).startswith("https://devis.example.com/sales/q/")


# -- 6, 7. the customer's page ---------------------------------------------------------------


def test_public_page_names_the_seller_and_shows_french_figures(
    client: Any, company: Any, make_quote: Any, assistant: Any, customer: Any, chair: Any
) -> None:
    company.trade_name = "Papeterie Lumière"
    company.save()
    quote = make_quote(customer, [{"product": chair, "quantity": Decimal("30")}])
    actions.send_quote(quote, by=assistant, email=False)
    token = actions.quote_link_token(Quote.objects.get(pk=quote.pk))
    page = client.get(f"/sales/q/{token}/").content.decode()
    assert '<span class="navbar-brand" id="seller-name">Papeterie Lumière</span>' in page
    assert ">Comptoir<" not in page
    assert "VAT 20\u00a0%" in page and "1\u202f134,00" in page
    assert "1134.00" not in page and "20.00" not in page


def test_exempt_lines_show_their_reason_not_a_category_code(
    client_for: Any, assistant: Any, make_quote: Any, customer: Any
) -> None:
    quote = make_quote(
        customer,
        [
            {
                "label": "Formation",
                "quantity": Decimal("1"),
                "unit_price": Decimal("500"),
                "vat": vat_rate("exoneration-formation"),
            }
        ],
    )
    page = client_for(assistant).get(f"/sales/quotes/{quote.pk}/").content.decode()
    assert "0\u00a0% (Exonération de TVA, article 261-4-4° du CGI)" in page
    assert "E 0" not in page
    data = quote_print_data(quote)
    assert data["totals"]["vat_groups"][0]["label"].startswith("0\u00a0% – Exonération")


def test_pdf_vat_label_has_no_category_code(make_quote: Any, customer: Any, paper: Any) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("1")}])
    assert quote_print_data(quote)["totals"]["vat_groups"][0]["label"] == "20\u00a0%"


# -- 8. history and template labels ----------------------------------------------------------


def test_history_is_labelled_and_names_the_customer(
    client_for: Any, assistant: Any, accepted_quote: Any
) -> None:
    page = client_for(assistant).get(f"/sales/quotes/{accepted_quote.pk}/").content.decode()
    history = page[page.index('id="history"') :]
    assert "Quote created" in history and "Accepted" in history
    # The answer is told once: no status line repeats it.
    assert "Status: Sent → Accepted" not in history
    assert "Customer (online link) — Jean Martin" in history
    assert "create_quote" not in history and "transition" not in history
    assert "— — —" not in history


def test_email_templates_screen_shows_labels(client_for: Any, assistant: Any) -> None:
    page = client_for(assistant).get("/sales/email-templates/").content.decode()
    assert "<td>Delivery note</td>" in page and "<td>delivery_note</td>" not in page


# -- 9. sending forms filled in --------------------------------------------------------------


def test_send_forms_are_filled_with_the_document_values(
    client_for: Any, assistant: Any, make_quote: Any, customer: Any, paper: Any, order: Any
) -> None:
    quote = make_quote(customer, [{"product": paper, "quantity": Decimal("10")}])
    client = client_for(assistant)
    page = client.get(f"/sales/quotes/{quote.pk}/send/").content.decode()
    assert f"Devis {quote.reference}" in page and "58,80" in page
    assert "$reference" not in page and "$total" not in page
    document = actions.archive_order_acknowledgement(order, by=assistant)
    page = client.get(f"/sales/documents/{document.pk}/send/").content.decode()
    assert order.number in page and "$reference" not in page
    assert re.search(r"\$(company|customer|sender)\b", page) is None


def test_quote_statuses_unchanged_by_editing_helpers(make_quote: Any, customer: Any) -> None:
    quote = make_quote(customer, [])
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT


def test_order_page_names_invoice_kinds(
    client_for: Any, assistant: Any, accountant: Any, order: Any
) -> None:
    from comptoir.invoicing.from_orders import invoice_order

    invoice_order(order, by=accountant)
    page = client_for(assistant).get(f"/sales/orders/{order.pk}/").content.decode()
    invoices = page[page.index('id="order-invoices"') :]
    assert "(Invoice)" in invoices and "(invoice)" not in invoices


def test_a_refused_status_change_names_the_statuses_in_words(
    make_quote: Any, assistant: Any, customer: Any, paper: Any
) -> None:
    from django.core.exceptions import ValidationError

    from comptoir.core.states import transition
    from comptoir.sales.states import QUOTE_TRANSITIONS

    quote = make_quote(customer, [{"product": paper, "quantity": Decimal(1)}])
    with pytest.raises(ValidationError) as refused:
        transition(quote, QuoteStatus.ACCEPTED, transitions=QUOTE_TRANSITIONS, by=assistant)
    assert refused.value.messages == ["Cannot go from Draft to Accepted."]
