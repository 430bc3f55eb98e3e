"""The engine's decisions and the sandbox of user templates."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from comptoir.dunning import calculations as calc
from comptoir.dunning import templating

ON = date(2026, 3, 1)
DELAYS = [5, 15, 25]


def decide(**state: object) -> tuple[str, int | None]:
    state.setdefault("oldest_due", date(2026, 2, 10))  # 19 days late
    return calc.decide(calc.PartyDunningState(**state), on=ON, delays=DELAYS, pause_days=10)  # type: ignore[arg-type]


def test_decisions() -> None:
    assert decide() == ("send", 1)
    assert decide(oldest_due=date(2026, 2, 26)) == ("not_yet", None)
    assert decide(sent_levels=frozenset({1})) == ("already_sent", 1)
    assert decide(sent_levels=frozenset({0})) == ("send", 1)
    assert decide(sent_levels=frozenset({2})) == ("already_sent", 1)
    assert decide(excluded=True) == ("excluded", None)
    assert decide(disputed=True) == ("disputed", None)
    assert decide(promise_until=date(2026, 3, 1)) == ("promised", None)
    assert decide(promise_until=date(2026, 2, 28)) == ("send", 1)  # promise broken
    assert decide(last_payment=date(2026, 2, 25)) == ("paused", 1)  # a payment stops escalation
    assert decide(last_payment=date(2026, 2, 10)) == ("send", 1)


def test_templates_render_plain_values() -> None:
    text = templating.render(
        "{{ customer }}: {% for i in items %}{{ i.number }} {% endfor %}{{ total_due }} €",
        {
            "customer": "Martin",
            "items": [{"number": "FA-1"}, {"number": "FA-2"}],
            "total_due": "3,00",
        },
    )
    assert text == "Martin: FA-1 FA-2 3,00 €"


@pytest.mark.parametrize(
    "source",
    [
        "{% load static %}{% static 'x' %}",
        "{% include 'core/base.html' %}",
        "{% extends 'core/base.html' %}",
        "{% debug %}",
        "{% csrf_token %}",
        "{% url 'home' %}",
        "{% if %}",
    ],
)
def test_the_sandbox_refuses_tags_that_reach_outside(source: str) -> None:
    with pytest.raises(ValidationError):
        templating.check_template(source)
