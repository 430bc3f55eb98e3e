"""Histories show what happened in words, not the action's code."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from comptoir.core.audit import action_label


def test_actions_read_in_words_in_the_users_language() -> None:
    with translation.override("fr"):
        assert action_label("issue_invoice") == "Émission"
        assert action_label("create_credit_note") == "Avoir créé"
    with translation.override("en"):
        assert action_label("add_invoice_line") == "Line added"
        assert action_label("something_new") == "Something new"
        rendered = Template("{% load comptoir %}{{ code|action_label }}").render(
            Context({"code": "finish_invoicing_run"})
        )
        assert rendered == "Batch invoicing finished"


def test_every_audited_action_has_its_words() -> None:
    """A history line read "Anonymise contact" or "End mandate": actions without a label."""
    import re
    from pathlib import Path

    from comptoir.core.audit import ACTION_LABELS

    source = Path(__file__).resolve().parents[2] / "src" / "comptoir"
    actions = {
        match
        for path in source.rglob("*.py")
        for match in re.findall(r'record_audit\(\s*[^,()]+,\s*"([a-z_]+)"', path.read_text())
    }
    assert len(actions) > 50
    assert sorted(actions - set(ACTION_LABELS)) == []
