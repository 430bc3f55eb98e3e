"""The `comptoir` console command: django-admin with Comptoir's settings."""

import os
import sys


def main() -> None:
    """Run a management command with Comptoir's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A setting the environment must give (SECRET_KEY in production, say): one line, the
        # way to fix it, not a traceback through the settings module.
        if "--traceback" in sys.argv:
            raise
        sys.exit(f"comptoir: {exc}")


if __name__ == "__main__":
    main()
