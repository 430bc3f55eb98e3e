"""Dunning from the UI, the command line and the API; the phone session; access."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comptoir.dunning import actions
from comptoir.dunning.models import CallOutcome, DunningMessage, MessageStatus, PartyDunning
from comptoir.invoicing.models import Invoice
from comptoir.parties.models import Party

pytestmark = pytest.mark.django_db


def test_interest_command_prints_the_computation_line_by_line() -> None:
    out = io.StringIO()
    call_command(
        "dunning",
        "interest",
        "--amount",
        "1200",
        "--due",
        "2025-05-31",
        "--paid",
        "2025-08-15",
        stdout=out,
    )
    text = out.getvalue()
    assert (
        "01/06/2025 → 30/06/2025    30 d  × 1\u202f200,00 € × 13,15 % / 365  =      12,97 €" in text
    )
    assert (
        "01/07/2025 → 15/08/2025    46 d  × 1\u202f200,00 € × 12,15 % / 365  =      18,37 €" in text
    )
    assert "Late interest (76 days): 31,34 €" in text
    assert "Total claimable: 71,34 €" in text
    out = io.StringIO()
    call_command(
        "dunning",
        "interest",
        "--amount",
        "500",
        "--due",
        "2026-05-31",
        "--paid",
        "2026-05-20",
        "--rate",
        "12",
        stdout=out,
    )
    assert "Paid on time" in out.getvalue()
    with pytest.raises(CommandError, match="not a date"):
        call_command(
            "dunning", "interest", "--amount", "1", "--due", "31/05", "--paid", "2026-01-01"
        )
    # A negative amount is a mistake, not an invoice paid on time.
    dates = ["--due", "2026-01-01", "--paid", "2026-03-01"]
    with pytest.raises(CommandError, match="above 0"):
        call_command("dunning", "interest", "--amount", "-100", *dates)
    with pytest.raises(CommandError, match="cannot be negative"):
        call_command("dunning", "interest", "--amount", "100", *dates, "--rate", "-5")


def test_run_command_dry_run_then_real(customer: Party, issue: Callable[..., Invoice]) -> None:
    issue(customer, "100.00", date(2026, 1, 5))
    out = io.StringIO()
    call_command("dunning", "run", "--date", "2026-02-12", "--dry-run", stdout=out)
    assert "(dry run): send 1" in out.getvalue() and customer.name in out.getvalue()
    assert not DunningMessage.objects.exists()
    out = io.StringIO()
    call_command("dunning", "run", "--date", "2026-02-12", "--no-progress", stdout=out)
    assert "reminders created 1, emails sent 1" in out.getvalue()
    out = io.StringIO()
    call_command("dunning", "run", "--date", "2026-02-12", "--no-progress", stdout=out)
    assert "already sent 1" in out.getvalue() and "reminders created 0" in out.getvalue()


def test_run_from_the_ui_needs_the_back_office_and_runs_in_the_background(
    customer: Party,
    issue: Callable[..., Invoice],
    assistant: Any,
    accountant: Any,
    client_for: Callable[..., Client],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    issue(customer, "100.00", date(2026, 1, 5))
    data = {"run_date": "2026-02-12", "dry_run": "on"}
    assert client_for(accountant).post(reverse("dunning:runs"), data).status_code == 403
    preview = client_for(assistant).post(reverse("dunning:runs"), data)
    assert preview.status_code == 200 and "Rappel amiable" in preview.content.decode()
    assert "send: 1" in preview.content.decode()  # decisions in words, not codes
    assert "<td>Email</td>" in preview.content.decode()  # the channel too, not "email"
    assert not DunningMessage.objects.exists()
    # A real run dated in the future is refused (a dry run may look ahead).
    ahead = (timezone.localdate() + timedelta(days=28)).isoformat()
    refused = client_for(assistant).post(reverse("dunning:runs"), {"run_date": ahead})
    assert "cannot be dated in the future" in refused.content.decode()
    assert not DunningMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(assistant).post(reverse("dunning:runs"), {"run_date": "2026-02-12"})
    assert response.status_code == 302
    assert DunningMessage.objects.get().status == MessageStatus.SENT
    page = client_for(accountant).get(response["Location"]).content.decode()
    assert customer.name in page
    assert "emails sent: 1" in page and "emails_sent" not in page
    runs = client_for(accountant).get(reverse("dunning:runs")).content.decode()
    assert "emails sent: 1" in runs and "emails_sent" not in runs


def test_phone_session_records_an_outcome_in_one_step_and_feeds_the_next_run(
    customer: Party,
    issue: Callable[..., Invoice],
    assistant: Any,
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    issue(customer, "100.00", date(2026, 1, 5))
    actions.run_dunning(date(2026, 3, 1), by=assistant)  # 25 days late: the phone level
    task = DunningMessage.objects.get(channel="phone")
    client = client_for(assistant)
    with django_assert_max_num_queries(25):
        page = client.get(reverse("dunning:calls")).content.decode()
    assert customer.name in page and "Se présenter" in page  # the call script
    prefix = f"call{task.pk}"
    missing = client.post(
        reverse("dunning:call_outcome", args=[task.pk]),
        {f"{prefix}-outcome": "promise"},
        headers={"HX-Request": "true"},
    )
    assert "A promise needs its date." in missing.content.decode()
    done = client.post(
        reverse("dunning:call_outcome", args=[task.pk]),
        {
            f"{prefix}-outcome": "promise",
            f"{prefix}-promise_date": "2026-03-20",
            f"{prefix}-promise_amount": "120.00",
            f"{prefix}-note": "Virement le 20",
        },
        headers={"HX-Request": "true"},
    )
    assert "Call recorded." in done.content.decode()
    assert DunningMessage.objects.get(pk=task.pk).status == MessageStatus.CALLED
    assert PartyDunning.objects.get(party=customer).promise_until == date(2026, 3, 20)
    assert CallOutcome.objects.get().by == assistant
    report = actions.run_dunning(date(2026, 3, 12), by=assistant)
    assert report.decisions == {"promised": 1}
    report = actions.run_dunning(date(2026, 3, 21), by=assistant)  # promise not kept
    assert report.created == 1


def test_interest_invoice_is_a_draft_of_exempt_lines(
    customer: Party, issue: Callable[..., Invoice], assistant: Any
) -> None:
    issue(customer, "1000.00", date(2025, 4, 1))  # 1 200 due 01/05/2025
    invoice = actions.create_interest_invoice(customer, on=date(2025, 8, 15), by=assistant)
    labels = [(line.label, line.unit_price, line.vat_category) for line in invoice.lines.all()]
    # 01/05 → 30/06: 60 days at 13.15 %: 1200 × 0.1315 × 60/365 = 25.94; 46 days at 12.15 %: 18.37
    assert labels[0][0].startswith("Intérêts de retard FA-2025-000001 (106 j)")
    assert labels[0][1] == Decimal("44.31")
    assert labels[1][1] == Decimal("40.00") and labels[1][2] == "E"
    assert invoice.status == "draft"
    assert actions.pending_interest_invoice(customer) == invoice


def test_a_second_click_opens_the_interest_invoice_waiting(
    customer: Party, issue: Callable[..., Invoice], assistant: Any, client_for: Any
) -> None:
    issue(customer, "1000.00", date(2025, 4, 1))
    client = client_for(assistant)
    url = reverse("dunning:interest_invoice", args=[customer.pk])
    first = client.post(url)
    second = client.post(url)
    assert first.url == second.url  # the same draft, not a second one
    assert Invoice.objects.filter(party=customer, status="draft").count() == 1


def test_api_reads_runs_and_reminders_and_sets_customer_dunning(
    make_customer: Callable[..., Party],
    issue: Callable[..., Invoice],
    assistant: Any,
    rep: Any,
    api_client_for: Callable[..., Client],
) -> None:
    own = make_customer("Mine SARL", sales_rep=rep)
    other = make_customer("Other SARL")
    issue(own, "10.00", date(2026, 1, 5))
    issue(other, "10.00", date(2026, 1, 5))
    actions.run_dunning(date(2026, 2, 12), by=assistant)
    office = api_client_for(assistant)
    assert office.get("/api/v1/dunning/runs").json()["items"][0]["run_date"] == "2026-02-12"
    assert office.get("/api/v1/dunning/reminders").json()["count"] == 2
    rep_client = api_client_for(rep)
    reminders = rep_client.get("/api/v1/dunning/reminders").json()
    assert [r["party_id"] for r in reminders["items"]] == [own.pk]
    assert rep_client.get(f"/api/v1/dunning/customers/{other.pk}").status_code == 404
    assert (
        rep_client.patch(
            f"/api/v1/dunning/customers/{own.pk}",
            {"excluded": True},
            content_type="application/json",
        ).status_code
        == 403
    )
    response = office.patch(
        f"/api/v1/dunning/customers/{own.pk}",
        {"promise_until": "2026-03-01", "promise_amount": "12.00"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["promise_until"] == "2026-03-01"


def test_a_run_needing_an_unknown_ecb_rate_stops_and_says_where_to_add_it(
    customer: Party, issue: Callable[..., Invoice], assistant: Any
) -> None:
    from django.core.exceptions import ValidationError

    from comptoir.dunning.rates import ecb_rates

    issue(customer, "1000.00", date(2026, 9, 1))
    later = date(2027, 4, 1)  # the half-year of 1 January 2027 has no shipped rate
    assert date(2027, 1, 1) not in ecb_rates()
    with pytest.raises(ValidationError, match="ecb_mro_rates.csv"):
        actions.run_dunning(later, by=assistant)
    with pytest.raises(CommandError, match="add the rate to .*ecb_mro_rates.csv"):
        call_command("dunning", "run", "--date", later.isoformat(), "--no-progress")
    assert not DunningMessage.objects.filter(run_date=later, channel="email").exists()


def test_customer_dunning_settings_keep_the_promise_date_and_refuse_a_negative_amount(
    client_for: Any, assistant: Any, customer: Party
) -> None:
    url = reverse("dunning:party", args=[customer.pk])
    client = client_for(assistant)
    promised = (timezone.localdate() + timedelta(days=10)).isoformat()
    client.post(url, {"promise_until": promised, "promise_amount": "20"})
    # The date picker gets an ISO date back: "27/11/2026" showed an empty field.
    assert f'value="{promised}"' in client.get(url).content.decode()
    response = client.post(url, {"promise_until": promised, "promise_amount": "-20"})
    assert response.status_code == 200
    settings = PartyDunning.objects.get(party=customer)
    assert settings.promise_amount == Decimal("20")
