"""`comptoir serve` starts a background worker and stops it with the server."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from comptoir.core.management.commands import serve, worker
from comptoir.core.models import WorkerHeartbeat
from comptoir.core.selectors import worker_running

pytestmark = pytest.mark.django_db


class FakeProcess:
    def __init__(self) -> None:
        self.stopped = False

    def poll(self) -> int | None:
        return 0 if self.stopped else None

    def terminate(self) -> None:
        self.stopped = True

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.mark.parametrize("no_worker", [False, True])
def test_serve_starts_a_worker_and_stops_it_with_the_server(
    monkeypatch: Any, no_worker: bool
) -> None:
    child = FakeProcess()
    served: list[str] = []
    monkeypatch.setattr(serve, "start_worker", lambda: child)
    monkeypatch.setattr(
        serve.Command, "run_gunicorn", lambda self, address, workers: served.append(address)
    )
    call_command("serve", port=8123, no_worker=no_worker)
    assert served == ["127.0.0.1:8123"]
    assert child.stopped is (not no_worker)


def test_the_worker_heartbeat_tells_the_screens_a_worker_runs() -> None:
    assert not worker_running()
    worker.beat("w1")
    worker.beat("w1")
    assert WorkerHeartbeat.objects.count() == 1 and worker_running()
