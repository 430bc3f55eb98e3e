"""Record-a-payment form: the customer's invoices follow the customer, amounts and dates read
French style, and the rule for a payment with no invoice chosen is said on the form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lxml import html

from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party
from comptoir.payments import actions
from comptoir.payments.models import StatementLine

pytestmark = pytest.mark.django_db

NNBSP = "\u202f"  # the thousands separator of core.money.format_amount


def _page(response: Any) -> Any:
    assert response.status_code == 200
    return html.fromstring(response.content.decode())


def _by_id(page: Any, element_id: str) -> Any:
    (element,) = page.xpath(f'//*[@id="{element_id}"]')
    return element


def _options(page: Any) -> list[Any]:
    return list(page.xpath('//*[@id="field-invoices"]//option'))


def _invoice_options(page: Any) -> list[str]:
    return [option.text_content() for option in _options(page)]


def test_choosing_the_customer_reloads_the_list_with_their_open_invoices(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    michel = make_customer("Papeterie Michel")
    other = make_customer("Garage Dupont SAS")
    older = issue(michel, "25.70", date(2026, 10, 1))
    issue(other, "10.00", date(2026, 10, 5))
    newer = issue(michel, "55.48", date(2026, 10, 20))
    client = client_for(accountant)
    url = reverse("payments:create")

    page = _page(client.get(url))
    assert _invoice_options(page) == []  # no customer chosen yet
    party_select = _by_id(page, "id_party")
    # htmx asks the same page again with the chosen customer and swaps in its invoice list.
    assert party_select.get("hx-get") == url
    assert party_select.get("hx-trigger") == "change"
    assert party_select.get("hx-target") == "#field-invoices"
    assert party_select.get("hx-select") == "#field-invoices"
    assert party_select.get("hx-swap") == "outerHTML"
    assert party_select.get("hx-include") == "this"  # not the CSRF token in the address

    refreshed = _page(client.get(url, {"party": michel.pk}, headers={"HX-Request": "true"}))
    options = _options(refreshed)
    assert [option.get("value") for option in options] == [str(older.pk), str(newer.pk)]
    assert all("Papeterie Michel" in option.text_content() for option in options)


def test_the_form_says_what_a_payment_with_no_invoice_chosen_settles(
    customer: Party,
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    issue(customer, "100.00", date(2026, 10, 1))
    page = _page(client_for(accountant).get(reverse("payments:create"), {"party": customer.pk}))
    (help_text,) = _by_id(page, "field-invoices").xpath('.//*[@class="form-text"]')
    assert (
        "If you choose none, it settles the customer's open invoices from the oldest due date"
        in (help_text.text_content())
    )
    assert "Ctrl+click to choose several" in help_text.text_content()
    assert _by_id(page, "id_invoices").get("aria-describedby") == "id_invoices_helptext"


def test_invoice_options_and_the_success_message_write_amounts_french_style(
    customer: Party,
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    invoice = issue(customer, "979.30", date(2026, 10, 1))  # 1 175,16 incl. VAT
    client = client_for(accountant)
    options = _invoice_options(
        _page(client.get(reverse("payments:create"), {"party": customer.pk}))
    )
    assert len(options) == 1
    assert f"1{NNBSP}175,16 € left, due " in options[0]
    assert "1175.16" not in options[0]

    response = client.post(
        reverse("payments:create"),
        {
            "party": customer.pk,
            "date": "2026-11-27",
            "method": "transfer",
            "amount": "2500.00",
            "invoices": [invoice.pk],
        },
    )
    assert response.status_code == 302
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == f"Payment recorded; 1{NNBSP}324,84 € left as credit."


def test_using_credit_says_the_amount_french_style(
    customer: Party,
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    invoice = issue(customer, "1000.00", date(2026, 10, 1))  # 1 200,00 incl. VAT
    actions.record_payment(
        party=customer,
        amount=Decimal("1500.00"),
        method="transfer",
        date=date(2026, 9, 1),
        invoices=[],
        by=accountant,
    )
    response = client_for(accountant).post(
        reverse("payments:use_credit", args=[customer.pk, invoice.pk])
    )
    assert response.status_code == 302
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message == f"1{NNBSP}200,00 € of credit used."


def test_allocating_more_than_is_open_says_the_open_amount_french_style(
    customer: Party, issue: Callable[..., Invoice], accountant: Any
) -> None:
    invoice = issue(customer, "979.30", date(2026, 10, 1))
    with pytest.raises(ValidationError) as raised:
        actions.record_payment(
            party=customer,
            amount=Decimal("2000.00"),
            method="transfer",
            date=date(2026, 11, 27),
            allocations=[(invoice, Decimal("2000.00"))],
            by=accountant,
        )
    assert raised.value.messages == [f"{invoice.number} has only 1{NNBSP}175,16 € left to pay."]


def test_the_payment_date_is_a_date_picker_holding_today(
    make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    # French on purpose: a date picker shows nothing if given the French "27/11/2026".
    accountant = make_user("accountant", language="fr")
    page = _page(client_for(accountant).get(reverse("payments:create")))
    field = _by_id(page, "id_date")
    assert field.get("type") == "date"
    assert field.get("value") == timezone.localdate().isoformat()


def test_the_sepa_dates_are_date_pickers(
    make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    accountant = make_user("accountant", language="fr")
    page = _page(client_for(accountant).get(reverse("payments:sepa")))
    assert _by_id(page, "id_signature_date").get("type") == "date"
    for name, days in (("collection_date", 5), ("execution_date", 1)):
        field = _by_id(page, f"id_{name}")
        assert field.get("type") == "date", name
        assert field.get("value") == (timezone.localdate() + timedelta(days=days)).isoformat()


def test_matching_a_bank_line_by_hand_reloads_the_invoices_with_the_customer(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    accountant: Any,
    client_for: Callable[..., Client],
) -> None:
    michel = make_customer("Papeterie Michel")
    invoice = issue(michel, "25.70", date(2026, 10, 1))
    sample = Path(__file__).resolve().parent.parent / "data" / "bank" / "releve-cfonb120.txt"
    actions.import_bank_file(sample.read_bytes(), filename="releve.txt", by=accountant)
    line = StatementLine.objects.filter(amount__gt=0).first()
    assert line is not None
    url = reverse("payments:manual_match", args=[line.pk])
    client = client_for(accountant)

    party_select = _by_id(_page(client.get(url)), "id_party")
    assert party_select.get("hx-get") == url
    assert party_select.get("hx-target") == "#field-invoices"
    refreshed = _page(client.get(url, {"party": michel.pk}, headers={"HX-Request": "true"}))
    assert [option.get("value") for option in _options(refreshed)] == [str(invoice.pk)]
    page = client.get(url).content.decode()
    assert f'href="{reverse("payments:unmatched")}">Cancel<' in page
    schedule = client.get(reverse("payments:schedule", args=[invoice.pk])).content.decode()
    assert f'href="{reverse("invoicing:detail", args=[invoice.pk])}">Cancel<' in schedule


def test_a_customer_that_is_not_a_number_is_a_form_error_not_a_crash(
    client_for: Any, make_user: Any
) -> None:
    client = client_for(make_user("accountant"))
    response = client.post("/payments/new/", {"party": "abc", "amount": "10", "method": "transfer"})
    assert response.status_code == 200


def test_a_schedule_s_shares_are_percentages_that_add_up_to_100() -> None:
    from comptoir.payments.forms import ScheduleForm

    dates = "2026-12-31\n2027-01-31"
    assert ScheduleForm({"due_dates": dates, "shares": "33,34 66,66"}).is_valid()
    too_much = ScheduleForm({"due_dates": dates, "shares": "50 60"})
    assert not too_much.is_valid()
    assert "add up to 110, not 100" in str(too_much.errors["shares"])
    assert not ScheduleForm({"due_dates": dates, "shares": "120 -20"}).is_valid()
    assert ScheduleForm({"due_dates": dates, "shares": ""}).is_valid()
