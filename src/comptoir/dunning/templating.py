"""Render the reminder templates users edit: a sandboxed Django template engine.

The engine has no loader (no ``include`` or ``extends`` of files), no template library to
``load``, and only the tags in ``ALLOWED_TAGS``; the context holds plain strings, numbers,
dates and lists, never a model, so a template reaches nothing but what it is given.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.utils.translation import gettext as _

ALLOWED_TAGS = {
    "if",
    "elif",
    "else",
    "endif",
    "for",
    "empty",
    "endfor",
    "with",
    "endwith",
    "firstof",
    "now",
    "spaceless",
    "endspaceless",
    "comment",
    "endcomment",
    "filter",
    "endfilter",
    "cycle",
    "widthratio",
    "templatetag",
    "verbatim",
    "endverbatim",
}

ENGINE = Engine(
    dirs=[],
    app_dirs=False,
    loaders=[],
    libraries={},
    builtins=["django.template.defaultfilters", "django.template.defaulttags"],
    autoescape=False,
    string_if_invalid="",
    debug=False,
)


def check_template(source: str) -> None:
    """Raise ValidationError if a user template uses a forbidden tag or does not compile."""
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name not in ALLOWED_TAGS:
                raise ValidationError(
                    _("The tag {%% %(tag)s %%} is not allowed in a reminder template.")
                    % {"tag": name}
                )
    try:
        ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationError(_("Template error: %(error)s") % {"error": exc}) from exc


@lru_cache(maxsize=256)
def compiled(source: str) -> Template:
    check_template(source)
    return ENGINE.from_string(source)


def render(source: str, context: dict[str, Any]) -> str:
    """Render a checked user template with plain values."""
    return compiled(source).render(Context(context, autoescape=False))
