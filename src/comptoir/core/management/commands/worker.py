"""`comptoir worker`: run background tasks (batch invoicing…) from the database queue.

The same options as django-tasks-db's ``db_worker``; start one or more on any host that
reaches the database (PostgreSQL for several). The worker writes a heartbeat row every few
seconds, even while a long task runs, so the screens that queue work can warn when no
worker is running. ``comptoir serve`` starts one beside the web server.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

from comptoir.core.management.base import ComptoirCommand
from comptoir.core.models import WorkerHeartbeat
from comptoir.core.selectors import HEARTBEAT_SECONDS


def beat(worker_id: str) -> None:
    """Record that this worker is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "seen_at": timezone.now(),
        },
    )


def _beat_forever(worker_id: str, stop: threading.Event, parent_pid: int | None) -> None:
    while not stop.is_set():
        if parent_pid is not None and os.getppid() != parent_pid:
            # Started by `comptoir serve`, which is gone: do not outlive the server.
            os._exit(0)
        try:
            beat(worker_id)
        except DatabaseError:
            pass  # a locked or restarting database: the next beat will tell
        finally:
            close_old_connections()
        stop.wait(HEARTBEAT_SECONDS)
    connection.close()


# django-tasks-db's options, described in Comptoir's catalogue (its own help is English only).
OPTION_HELP = {
    "queue_name": _(
        "The queues to process, separated by commas; '*' for all of them (default: %(default)r)."
    ),
    "exclude_queues": _("Queues to leave alone, separated by commas."),
    "interval": _(
        "Seconds to wait before looking again when no task is waiting (default: %(default)r)."
    ),
    "batch": _("Run every waiting task, then stop (with --max-tasks if given)."),
    "reload": _(
        "Restart the worker when the code changes; not for production, as a running task "
        "may be cut short (default: DEBUG)."
    ),
    "backend_name": _("The task backend to work for (default: %(default)r)."),
    "startup_delay": _("Start at once, without the short delay at startup."),
    "max_tasks": _("Stop after this many tasks."),
    "worker_id": _("The worker's name, unique among the workers (default: a random one)."),
}


class Command(ComptoirCommand, DatabaseWorker):
    """django-tasks-db's worker, with a heartbeat, speaking the application's language."""

    help = _("Run the background worker (batch invoicing and other long jobs).")  # type: ignore[assignment]  # lazy

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        for action in parser._actions:
            if action.dest in OPTION_HELP:
                action.help = OPTION_HELP[action.dest]
        parser.add_argument(
            "--with-parent",
            type=int,
            default=None,
            help=_("Stop when this parent process is gone (used by `comptoir serve`)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        parent_pid = options.pop("with_parent", None)
        stop = threading.Event()
        heart = threading.Thread(
            target=_beat_forever,
            args=(options["worker_id"], stop, parent_pid),
            name="comptoir-worker-heartbeat",
            daemon=True,
        )
        heart.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
            WorkerHeartbeat.objects.filter(worker_id=options["worker_id"]).delete()
