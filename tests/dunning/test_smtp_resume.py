"""A dunning run killed half-way is resumed without sending any email twice.

Everything runs for real: a mail server on loopback (aiosmtpd), the `comptoir dunning run`
command in its own process on its own SQLite database, killed with SIGKILL by the mail server
when the 13th message arrives, then run again. Emails are marked sent ten at a time
(actions.EMAIL_MARK_EVERY): the first ten are marked, the 11th and 12th were taken but not
marked yet, the 13th was in flight.
"""

from __future__ import annotations

import email
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

pytestmark = pytest.mark.slow

SETUP = """
from datetime import date
from decimal import Decimal
from stdnum import luhn
from comptoir.core.selectors import current_company
from comptoir.invoicing import actions
from comptoir.parties.models import Address, Contact, Party

company = current_company()
for name, value in dict(
    legal_name="Comptoir Démo SAS", legal_form="SAS", share_capital_amount=Decimal("10000"),
    siren="732829320", siret="73282932000074", rcs_city="Lyon", vat_number="FR44732829320",
    address_line1="12 rue de la République", postcode="69002", city="Lyon",
    iban="FR7630006000011234567890189", bic="AGRIFRPP",
).items():
    setattr(company, name, value)
company.save()
for n in range(1, 26):
    body = f"{n * 7919:08d}"
    party = Party.objects.create(
        name=f"Client {n} SARL", is_customer=True, siren=body + luhn.calc_check_digit(body),
        postcode="75011", city="Paris",
    )
    Address.objects.create(party=party, kind="billing", line1=f"{n} rue X", postcode="75011",
                           city="Paris", is_default=True)
    Contact.objects.create(party=party, last_name="Compta", email=f"compta{n}@client{n}.example",
                           functions=["billing"])
    draft = actions.create_invoice(party=party, by=None, lines=[{
        "label": "Fournitures", "quantity": Decimal(1), "unit_price": Decimal(100 + n),
        "vat_rate": Decimal("20.00"), "vat_category": "S", "vat_rate_code": "normal"}])
    actions.issue_invoice(draft, by=None, issue_date=date(2026, 1, 5), produce_documents=False)
"""


class Recorder:
    """Keep every message the server accepts; kill the sender when the n-th arrives."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.kill_at: int | None = None
        self.process: subprocess.Popen[bytes] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        if self.kill_at == len(self.messages) and self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
        return "250 Message accepted for delivery"


def comptoir(env: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-m", "comptoir", *args]


def test_interrupted_run_resumes_without_sending_twice(tmp_path: Path) -> None:
    recorder = Recorder()
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "COMPTOIR_DATA_DIR": str(tmp_path),
            "EMAIL_URL": f"smtp://127.0.0.1:{port}",
            "COMPTOIR_ENV": "development",
            "COMPTOIR_LANGUAGE": "en",  # the command speaks the application's language
        }
        for args in (["migrate", "--verbosity", "0"], ["shell", "-c", SETUP]):
            subprocess.run(comptoir(env, *args), env=env, check=True, timeout=240)
        run = comptoir(env, "dunning", "run", "--date", "2026-02-12", "--no-progress")
        recorder.kill_at = 13
        first = subprocess.Popen(run, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        recorder.process = first
        first.wait(timeout=120)
        assert first.returncode == -signal.SIGKILL
        assert len(recorder.messages) == 13
        second = subprocess.run(
            run, env=env, capture_output=True, text=True, timeout=120, check=True
        )
        assert "emails sent 5," in second.stdout
        assert "10 email(s) were being sent when a previous run stopped" in second.stdout
        third = subprocess.run(
            run, env=env, capture_output=True, text=True, timeout=120, check=True
        )
        assert "reminders created 0, emails sent 0" in third.stdout
    finally:
        controller.stop()
    ids = [email.message_from_bytes(raw)["Message-ID"] for raw in recorder.messages]
    recipients = [email.message_from_bytes(raw)["To"] for raw in recorder.messages]
    assert len(ids) == 18 and len(set(ids)) == 18, ids  # none twice
    # The 13 the killed run sent, then the 5 it never tried; the 11th to 20th are held back.
    assert sorted(recipients) == sorted(
        f"compta{n}@client{n}.example" for n in [*range(1, 14), *range(21, 26)]
    )
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        statuses = dict(
            db.execute("select status, count(*) from dunning_dunningmessage group by status")
        )
    # The emails taken since the last mark and the one in flight when the process died (the
    # 11th to 13th) may have reached the server: with the 14th to 20th, never tried but in
    # the same group of ten, they stay "sending" and are reported instead of sent again.
    assert statuses == {"sent": 15, "sending": 10}
