"""The fast plain-text email: the same message as Django's, parsed back by the email package."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest
from django.core.mail import BadHeaderError, EmailMessage

from comptoir.core.mail import PlainTextEmail

BODY = "Bonjour,\n\nLa facture FA-2026-000123 (1 234,56 €) reste impayée.\n\nCordialement,\n"


def _parsed(message: EmailMessage) -> Any:
    return message_from_bytes(message.message().as_bytes(linesep="\r\n"), policy=default)


@pytest.mark.parametrize("from_email", ["compta@example.fr", "Comptoir Démo <compta@example.fr>"])
def test_fast_message_reads_back_like_djangos(from_email: str) -> None:
    values = {
        "subject": "Relance : factures impayées – Boulangerie Martin",
        "body": BODY,
        "from_email": from_email,
        "to": ["Clément Durand <c.durand@example.fr>", "compta@client.fr"],
        "headers": {"Message-ID": "<x1@comptoir>"},
    }
    fast = _parsed(PlainTextEmail(**values))
    django = _parsed(EmailMessage(**values))
    for name in ("Subject", "From", "To", "Message-ID", "Content-Type", "MIME-Version"):
        # Django folds the subject before its first word; both read back the same text.
        assert str(fast[name]).strip() == str(django[name]).strip(), name
    assert fast.get_content().replace("\r\n", "\n") == BODY
    assert django.get_content().replace("\r\n", "\n") == BODY
    assert fast["Date"] is not None
    raw = PlainTextEmail(**values).message().as_bytes(linesep="\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


def test_header_injection_is_refused_and_other_messages_go_through_django() -> None:
    with pytest.raises(BadHeaderError):
        PlainTextEmail(subject="Hi\nBcc: x@y.z", body="x", to=["a@b.c"]).message()
    html = PlainTextEmail(subject="Hi", body="<p>x</p>", to=["a@b.c"])
    html.content_subtype = "html"
    assert html.message().get_content_type() == "text/html"
    long_line = PlainTextEmail(subject="Hi", body="x" * 2000, to=["a@b.c"])
    assert long_line.message()["Content-Transfer-Encoding"] != "8bit"
    attached = PlainTextEmail(subject="Hi", body="x", to=["a@b.c"])
    attached.attach("a.txt", "hello", "text/plain")
    assert attached.message().is_multipart()
    generated = PlainTextEmail(subject="Hi", body="x", to=["a@b.c"]).message()
    assert generated["Message-ID"].startswith("<") and generated["Date"]


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
    ],
)
def test_the_fast_message_goes_through_the_console_and_file_backends(
    backend: str, settings: Any, tmp_path: Any, capsys: Any
) -> None:
    """The console backend (the default) asked for a charset the fast message lacked: every
    dunning email failed there."""
    from django.core.mail import get_connection

    settings.EMAIL_FILE_PATH = str(tmp_path)
    message = PlainTextEmail(subject="Relance", body=BODY, from_email="a@b.fr", to=["c@d.fr"])
    assert get_connection(backend).send_messages([message]) == 1
    written = capsys.readouterr().out or "".join(p.read_text() for p in tmp_path.iterdir())
    assert "FA-2026-000123" in written
