"""The import wizard through the Django test client: upload → mapping → preview → commit."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from comptoir.core.roles import Role
from comptoir.customerfile import views
from comptoir.customerfile.models import ImportBatch, ImportMapping
from comptoir.parties.models import Party

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings: Any) -> Iterator[None]:
    # Wording assertions read English, whatever the French catalogue holds.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


DATA = Path(__file__).resolve().parent.parent / "data"
SALON = DATA / "import-salon-2026.csv"


@pytest.fixture(autouse=True)
def _data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path


@pytest.fixture
def assistant(make_user: Callable[..., Any]) -> Any:
    return make_user(Role.SALES_ASSISTANT, language="en")


@pytest.fixture
def rep(make_user: Callable[..., Any]) -> Any:
    return make_user(Role.SALES_REP, language="en")


def _upload(client: Client, name: str, content: bytes, **extra: str) -> Any:
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(
        reverse("customerfile:import"), {"file": upload, "role": "prospect", **extra}
    )


def _mapping_post(client: Client, batch: ImportBatch, **extra: str) -> Any:
    data = {f"column_{i}": target for i, target in enumerate(batch.mapping)}
    data.update(extra)
    return client.post(reverse("customerfile:import_mapping", args=[batch.pk]), data)


def test_the_wizard_imports_the_messy_file(
    client_for: Callable[..., Client], assistant: Any
) -> None:
    client = client_for(assistant)
    page = client.get(reverse("customerfile:import"))
    assert b'id="import-file"' in page.content and b'id="import-upload"' in page.content

    response = _upload(client, "import-salon-2026.csv", SALON.read_bytes(), tags="Salon 2026")
    batch = ImportBatch.objects.get()
    assert response.url == reverse("customerfile:import_mapping", args=[batch.pk])
    assert batch.encoding == "utf-8-sig" and batch.delimiter == ";"
    mapping_page = client.get(response.url)
    assert mapping_page.status_code == 200
    assert b"jean.dupont@boulangerie-dupont.fr" in mapping_page.content  # first values shown
    assert batch.mapping[:5] == ["organisation", "siren", "civility", "first_name", "last_name"]

    response = _mapping_post(client, batch, save_as="Salon")
    assert response.url == reverse("customerfile:import_preview", args=[batch.pk])
    assert ImportMapping.objects.get(name="Salon").columns["CP"] == "postcode"
    preview = client.get(response.url)
    html = preview.content.decode()
    assert 'id="import-preview"' in html and 'id="import-commit"' in html
    assert "Boulangerie Dupont" in html and "same person as row 2" in html
    assert Party.objects.count() == 0  # nothing written before the commit

    response = client.post(reverse("customerfile:import_commit", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.created_parties, batch.created_contacts) == ("imported", 9, 10)
    assert Party.objects.count() == 9
    assert Party.objects.get(siren="732829320").tags.get().name == "Salon 2026"
    done = client.get(reverse("customerfile:import_preview", args=[batch.pk]))
    assert b'id="import-commit"' not in done.content
    assert b"Import import-salon-2026.csv" in done.content


def test_rows_with_errors_block_the_commit_and_the_report_names_them(
    client_for: Callable[..., Client], assistant: Any
) -> None:
    client = client_for(assistant)
    content = "Société;E-mail;Tél\nAcme;bad@@acme.fr;01 02 03 04 05\n=cmd|calc;ok@x.fr;\n".encode()
    _upload(client, "bad.csv", content)
    batch = ImportBatch.objects.get()
    _mapping_post(client, batch)
    html = client.get(reverse("customerfile:import_preview", args=[batch.pk])).content.decode()
    assert 'id="import-commit"' not in html and 'id="import-blocked"' in html
    assert "bad@@acme.fr" in html
    response = client.post(reverse("customerfile:import_commit", args=[batch.pk]))
    assert response.status_code == 302 and Party.objects.count() == 0
    report = client.get(reverse("customerfile:import_report", args=[batch.pk]))
    rows = list(
        csv.reader(
            io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig")), delimiter=";"
        )
    )
    assert rows[1][:3] == ["2", "E-mail", "bad@@acme.fr"]
    assert rows[2][:3] == ["3", "Société", "'=cmd|calc"]


def test_an_unreadable_upload_is_refused_on_the_first_page(
    client_for: Callable[..., Client], assistant: Any
) -> None:
    response = _upload(client_for(assistant), "empty.csv", b"\xef\xbb\xbf\r\n")
    assert response.status_code == 200
    assert b"is empty" in response.content
    assert not ImportBatch.objects.exclude(status="failed").exists()
    assert (
        _upload(client_for(assistant), "old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 50).status_code
        == 200
    )


def test_a_mapping_without_a_name_column_is_refused(
    client_for: Callable[..., Client], assistant: Any
) -> None:
    client = client_for(assistant)
    _upload(client, "f.csv", "Société;Ville\nAcme;Paris\n".encode())
    batch = ImportBatch.objects.get()
    response = client.post(
        reverse("customerfile:import_mapping", args=[batch.pk]),
        {"column_0": "", "column_1": "town"},
    )
    assert response.status_code == 200
    assert b'id="mapping-errors"' in response.content


def test_sales_reps_cannot_import(client_for: Callable[..., Client], rep: Any) -> None:
    assert client_for(rep).get(reverse("customerfile:import")).status_code == 403
    page = client_for(rep).get(reverse("home"))
    assert b"nav-import" not in page.content and b"nav-quality" in page.content


@pytest.mark.django_db(transaction=True)
def test_big_files_run_in_the_background_with_progress(
    client_for: Callable[..., Client], assistant: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(views, "BACKGROUND_FROM_BYTES", 0)
    client = client_for(assistant)
    _upload(client, "import-salon-2026.csv", SALON.read_bytes())
    batch = ImportBatch.objects.get()
    _mapping_post(client, batch)
    for _attempt in range(100):
        batch.refresh_from_db()
        if batch.status == "checked":
            break
        time.sleep(0.1)
    progress = client.get(
        reverse("customerfile:import_progress", args=[batch.pk]), HTTP_HX_REQUEST="true"
    )
    assert progress["HX-Refresh"] == "true"
    client.post(reverse("customerfile:import_commit", args=[batch.pk]))
    for _attempt in range(100):
        batch.refresh_from_db()
        if batch.status == "imported":
            break
        time.sleep(0.1)
    assert batch.status == "imported"
    assert Party.objects.count() == 9
