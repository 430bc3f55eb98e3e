"""`comptoir serve`: gunicorn (the production server) or Django's runserver with --dev."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Comptoir over HTTP (gunicorn; --dev for the auto-reloading development server)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument(
            "--dev", action="store_true", help="Use runserver (auto-reload, DEBUG)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        address = f"{options['host']}:{options['port']}"
        call_command("migrate", interactive=False, verbosity=0)
        if options["dev"]:
            call_command("runserver", address)
            return
        if settings.PRODUCTION:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(f"Comptoir is served on http://{address}/ (Ctrl+C stops it).")
        sys.stdout.flush()
        gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
        os.execv(  # noqa: S606 - replaces this process with the server; arguments are ours
            gunicorn,
            [
                gunicorn,
                "comptoir.wsgi:application",
                "--bind",
                address,
                "--workers",
                str(options["workers"]),
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--timeout",
                "120",
            ],
        )
