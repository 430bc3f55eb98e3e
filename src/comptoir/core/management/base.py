"""What every `comptoir` command shares: it speaks the application's language, and only it."""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    SystemCheckError,
)
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

# What argparse says on bad input (Python's own words, English only): listed here so that
# makemessages puts them in Comptoir's catalogue, which then translates them.
ARGPARSE_MESSAGES = (
    gettext_noop("usage: "),
    gettext_noop("argument %(argument_name)s: %(message)s"),
    gettext_noop("unknown parser %(parser_name)r (choices: %(choices)s)"),
    gettext_noop("positional arguments"),
    gettext_noop("options"),
    gettext_noop("show this help message and exit"),
    gettext_noop("unrecognized arguments: %s"),
    gettext_noop("not allowed with argument %s"),
    gettext_noop("ignored explicit argument %r"),
    gettext_noop("the following arguments are required: %s"),
    gettext_noop("one of the arguments %s is required"),
    gettext_noop("expected one argument"),
    gettext_noop("expected at most one argument"),
    gettext_noop("expected at least one argument"),
    gettext_noop("ambiguous option: %(option)s could match %(matches)s"),
    gettext_noop("invalid %(type)s value: %(value)r"),
    gettext_noop("invalid choice: %(value)r (choose from %(choices)s)"),
    gettext_noop("%(prog)s: error: %(message)s\n"),
)


# Why a file could not be written, in the command's language (the system says it in English).
OS_ERROR_REASONS = {
    errno.EEXIST: gettext_noop("a file of that name is in the way"),
    errno.ENOTDIR: gettext_noop("a file of that name is in the way"),
    errno.EISDIR: gettext_noop("it is a folder"),
    errno.EACCES: gettext_noop("permission denied"),
    errno.EPERM: gettext_noop("permission denied"),
    errno.ENOENT: gettext_noop("no such file or folder"),
    errno.ENOSPC: gettext_noop("no space left on the device"),
    errno.EROFS: gettext_noop("read-only file system"),
}


def os_error_reason(error: OSError) -> str:
    """Say why a file operation failed, translated when the reason is a usual one."""
    reason = OS_ERROR_REASONS.get(error.errno or 0)
    return gettext(reason) if reason else str(error.strerror or error)


# Django's own options of every command, described in Comptoir's catalogue (Django leaves
# them untranslated).
DJANGO_OPTION_HELP = {
    "version": gettext_lazy("Show the program's version number and exit."),
    "verbosity": gettext_lazy(
        "How much to say: 0 = the least, 1 = normal, 2 = more, 3 = everything."
    ),
    "settings": gettext_lazy(
        'The Python path of a settings module, e.g. "myproject.settings.main"; '
        "DJANGO_SETTINGS_MODULE otherwise."
    ),
    "pythonpath": gettext_lazy(
        'A folder to add to the Python path, e.g. "/home/djangoprojects/myproject".'
    ),
    "traceback": gettext_lazy("Show the full stack trace of an error."),
    "no_color": gettext_lazy("Do not colour the output."),
    "force_color": gettext_lazy("Colour the output even when it is not a terminal."),
    "skip_checks": gettext_lazy("Skip the system checks."),
}


class ComptoirCommand(BaseCommand):
    """A command whose every message, argparse's included, is in settings.LANGUAGE_CODE.

    Django leaves commands in no language at all (gettext then falls back to LANGUAGE_CODE,
    but Django's and argparse's own words stay English): this makes the choice explicit.
    """

    # Whether the command reads the database, which must then exist and be migrated. The
    # commands that migrate it themselves (demo, serve) say False.
    needs_database = True

    def database_needed(self, options: dict[str, Any]) -> bool:
        """Whether this run reads the database (a subcommand working on files alone may not)."""
        return self.needs_database

    def run_from_argv(self, argv: list[str]) -> None:
        english_gettext = argparse._  # type: ignore[attr-defined]
        argparse._ = gettext  # type: ignore[attr-defined]
        try:
            with translation.override(settings.LANGUAGE_CODE):
                super().run_from_argv(argv)
        finally:
            argparse._ = english_gettext  # type: ignore[attr-defined]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # A lazily translated `help` is read now, in the command's language: argparse
        # formats the description as a plain string.
        if parser.description is not None:
            parser.description = str(parser.description)
        for action in parser._actions:
            if action.dest in DJANGO_OPTION_HELP:
                action.help = DJANGO_OPTION_HELP[action.dest]  # type: ignore[assignment]  # lazy: formatted in the command language
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        with translation.override(settings.LANGUAGE_CODE):
            try:
                if self.database_needed(options):
                    require_database()
                return super().execute(*args, **options)
            except CommandError as error:
                # Django prints "CommandError: …": an English word before a translated message.
                if (
                    not getattr(self, "_called_from_command_line", False)
                    or options.get("traceback")
                    or isinstance(error, SystemCheckError)
                ):
                    raise
                self.stderr.write(gettext("Error: %(message)s") % {"message": error})
                sys.exit(error.returncode)


def require_database() -> None:
    """Refuse to run on a database that is not there or not migrated, in one line.

    SQLite would otherwise create an empty file at a mistyped COMPTOIR_DATA_DIR, and the
    command would end in a "no such table" traceback.
    """
    from django.db import connection

    name = str(connection.settings_dict.get("NAME") or "")
    in_memory = name == ":memory:" or name.startswith("file:")
    if connection.vendor == "sqlite" and not in_memory and not Path(name).exists():
        raise CommandError(
            gettext(
                "No database at %(path)s: check COMPTOIR_DATA_DIR, or create it with "
                "`comptoir demo` (demo data) or `comptoir migrate`."
            )
            % {"path": name}
        )
    if "django_migrations" not in connection.introspection.table_names():
        raise CommandError(
            gettext("The database is empty: run `comptoir migrate` (or `comptoir demo`) first.")
        )
