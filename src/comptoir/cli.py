"""The `comptoir` console command: django-admin with Comptoir's settings."""

import os
import sys


def main() -> None:
    """Run a management command with Comptoir's settings."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
