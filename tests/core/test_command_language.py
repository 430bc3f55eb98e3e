"""A `comptoir` command speaks one language, the application's: its own words, argparse's too.

A French install once printed "CommandError: no issued document numbered …" next to
"Impossible d'écrire dans … : …" from the same command.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, load_command_class
from django.db import connections


def _run(argv: list[str], monkeypatch: Any, capsys: Any) -> tuple[int, str]:
    """Run a command as the console does; return its exit status and what it wrote to stderr."""
    # The console closes the connections after a command: the test's transaction must live on.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    command = load_command_class(_app_of(argv[1]), argv[1])
    command.stderr._out = io.StringIO()  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["comptoir", *argv[1:]])
    return int(exited.value.code or 0), command.stderr._out.getvalue() + capsys.readouterr().err  # type: ignore[attr-defined]


def _app_of(name: str) -> str:
    from django.core.management import get_commands

    return get_commands()[name]


@pytest.mark.django_db
def test_a_bad_number_is_told_in_french_without_the_english_class_name(
    settings: Any, monkeypatch: Any, capsys: Any, tmp_path: Any
) -> None:
    settings.LANGUAGE_CODE = "fr"
    argv = ["comptoir", "invoices", "export", "--format", "cii", "--out", str(tmp_path)]
    status, err = _run([*argv, "--number", "FA-1999-000001"], monkeypatch, capsys)
    assert status == 1
    assert err.strip() == "Erreur\u00a0: Aucun document émis ne porte le numéro FA-1999-000001."
    assert "CommandError" not in err


@pytest.mark.django_db
def test_argparse_errors_are_french_too(settings: Any, monkeypatch: Any, capsys: Any) -> None:
    settings.LANGUAGE_CODE = "fr"
    status, err = _run(["comptoir", "invoices", "export", "--format", "pdf"], monkeypatch, capsys)
    assert status == 2
    assert "usage\u00a0:" in err and "choix invalide\u00a0: 'pdf'" in err
    assert "invalid choice" not in err and "usage: " not in err
    status, err = _run(["comptoir", "dunning", "run"], monkeypatch, capsys)
    assert "les arguments suivants sont obligatoires\u00a0: --date" in err


@pytest.mark.django_db
def test_an_english_install_reads_english(settings: Any, monkeypatch: Any, capsys: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    status, err = _run(
        ["comptoir", "documents", "send", "--reference", "XX-1", "--to", "a@example.com"],
        monkeypatch,
        capsys,
    )
    assert status == 1
    assert err.strip() == "Error: No archived document has the reference XX-1."


@pytest.mark.django_db
def test_every_command_output_follows_the_application_language(settings: Any) -> None:
    settings.LANGUAGE_CODE = "fr"
    out = io.StringIO()
    call_command("verify-ledger", stdout=out)
    assert out.getvalue().strip() == "Registre intact\u00a0: 0 document vérifié."
    out = io.StringIO()
    call_command("quotes", "expire", stdout=out)
    assert out.getvalue().strip() == "0 devis expiré"
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
    assert "Intérêts de retard (76 jours)\u00a0: 31,34\u00a0€" in text
    assert "13,15" in text and "13.15" not in text  # the rate, French style too
    assert "Total exigible" in text and "Late interest" not in text


@pytest.mark.django_db
def test_why_a_folder_cannot_be_written_is_french_too(
    settings: Any, monkeypatch: Any, capsys: Any, tmp_path: Any
) -> None:
    # Once "Impossible d'écrire dans /etc/passwd : File exists." (the system's English).
    settings.LANGUAGE_CODE = "fr"
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    argv = ["comptoir", "invoices", "export", "--format", "cii", "--out", str(in_the_way)]
    status, err = _run(argv, monkeypatch, capsys)
    assert status == 1
    assert "un fichier de ce nom est dans le chemin" in err and "File exists" not in err


def _comptoir_commands() -> list[str]:
    from django.core.management import get_commands

    return sorted(name for name, app in get_commands().items() if app.startswith("comptoir"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", _comptoir_commands())
def test_every_command_describes_itself_in_french(
    name: str, settings: Any, monkeypatch: Any, capsys: Any
) -> None:
    settings.LANGUAGE_CODE = "fr"
    monkeypatch.setattr(connections, "close_all", lambda: None)
    command = load_command_class(_app_of(name), name)
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["comptoir", name, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage\u00a0: comptoir " + name)
    # Django's and django-tasks-db's own option help, English only, is replaced.
    for english in ("show this help", "Verbosity level", "Display a full stack trace", "Don't"):
        assert english not in out
    assert "Niveau de détail\u00a0: 0 = le moins" in out


def test_a_command_without_its_database_says_so_in_one_line(tmp_path: Any) -> None:
    """A mistyped COMPTOIR_DATA_DIR: no "no such table" traceback, no stray empty database."""
    comptoir = Path(sys.executable).with_name("comptoir")
    database = tmp_path / "nowhere" / "comptoir.sqlite3"
    env = {
        **os.environ,
        "COMPTOIR_DATA_DIR": str(tmp_path / "nowhere"),
        "DATABASE_URL": f"sqlite:///{database}",
        "COMPTOIR_LANGUAGE": "en",
    }
    for command in (["verify-ledger"], ["invoices", "run", "--dry-run"]):
        done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
            [str(comptoir), *command], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert str(database) in done.stderr
        assert not database.exists()
    database.parent.mkdir(parents=True, exist_ok=True)
    database.touch()
    done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(comptoir), "verify-ledger"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "migrate" in done.stderr and "Traceback" not in done.stderr


def test_a_missing_production_setting_is_one_line(tmp_path: Any) -> None:
    comptoir = Path(sys.executable).with_name("comptoir")
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"COMPTOIR_ENV": "production", "COMPTOIR_DATA_DIR": str(tmp_path)})
    done = subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(comptoir), "check", "--deploy"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert done.stderr.strip() == "comptoir: Set the SECRET_KEY environment variable"
