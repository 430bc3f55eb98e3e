"""`comptoir serve`: gunicorn (the production server) or Django's runserver with --dev.

A background worker (`comptoir worker`) is started beside the server as a child process and
stopped with it, so work queued from the screens (batch invoicing…) runs without a second
command. In production run the worker as its own service and pass ``--no-worker``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandParser
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from comptoir.core.management.base import ComptoirCommand


def start_worker() -> subprocess.Popen[bytes]:
    """Start `comptoir worker` as a child that stops when this process is gone."""
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "comptoir",
            "worker",
            "--no-reload",
            "--with-parent",
            str(os.getpid()),
        ]
    )


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """Ask a child to stop, and kill it if it does not within ten seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Command(ComptoirCommand):
    needs_database = False  # it migrates the database itself
    help = gettext_lazy(  # type: ignore[assignment]  # lazy: read in the command's language
        "Serve Comptoir over HTTP (gunicorn; --dev for the auto-reloading development server)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="127.0.0.1",
            help=_("The address to listen on (default: %(default)s)."),
        )
        parser.add_argument(
            "--port",
            type=int,
            default=8000,
            help=_("The port to listen on (default: %(default)s)."),
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help=_("How many web server processes (default: %(default)s)."),
        )
        parser.add_argument(
            "--dev", action="store_true", help=_("Use runserver (auto-reload, DEBUG).")
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help=_("Do not start a background worker (run `comptoir worker` as its own service)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        address = f"{options['host']}:{options['port']}"
        # runserver's reloader runs this command again in a child process: only the first
        # one migrates and starts the worker.
        reloaded = os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"
        if not reloaded:
            call_command("migrate", interactive=False, verbosity=0)
        worker = None if options["no_worker"] or reloaded else start_worker()
        try:
            if options["dev"]:
                call_command("runserver", address)
                return
            if settings.PRODUCTION:
                call_command("collectstatic", interactive=False, verbosity=0)
            self.stdout.write(
                _("Comptoir is served on http://%(address)s/ (Ctrl+C stops it).")
                % {"address": address}
            )
            if worker is not None:
                self.stdout.write(_("A background worker runs beside it (comptoir worker)."))
            sys.stdout.flush()
            self.run_gunicorn(address, options["workers"])
        finally:
            stop(worker)

    def run_gunicorn(self, address: str, workers: int) -> None:
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        server = subprocess.Popen(  # noqa: S603 - our own server and arguments
            [
                gunicorn,
                "comptoir.wsgi:application",
                "--bind",
                address,
                "--workers",
                str(workers),
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--timeout",
                "120",
            ]
        )

        def forward(signum: int, frame: Any) -> None:
            server.send_signal(signum)

        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, forward)
        try:
            server.wait()
        except KeyboardInterrupt:
            # Ctrl+C reached the whole process group: gunicorn stops by itself; wait for it.
            server.wait()
        if server.returncode:
            raise SystemExit(server.returncode)
