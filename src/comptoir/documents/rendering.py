"""Render documents to PDF/A-3b with Typst: one compiler per process, templates as files.

A template is a ``.typ`` file looked up first in ``<COMPTOIR_DATA_DIR>/templates/`` (where an
administrator puts an edited copy) and then in the ``typst/`` folder of each Comptoir app.
The data reach the template as one JSON string in ``sys.inputs.data``; templates read it with
``json(bytes(sys.inputs.data))``. The company's logo, when there is one, is ``sys.inputs.logo``
(a path for ``image()``, empty otherwise). Fonts come from ``documents/fonts`` only (system
fonts are ignored), so a document looks the same on every machine.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import typst
from django.apps import apps
from django.conf import settings

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
# The image formats Typst reads.
LOGO_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}


class RenderingError(RuntimeError):
    """A template failed to compile; the message carries Typst's diagnostic."""


def override_dir() -> Path:
    """Return the folder where an administrator's edited templates live."""
    return Path(settings.DATA_DIR) / "templates"


def template_path(name: str) -> Path:
    """Return the file of a template: the administrator's copy first, then the shipped one."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise RenderingError(f"invalid template name {name!r}")
    candidate = override_dir() / name
    if candidate.is_file():
        return candidate
    for app in apps.get_app_configs():
        if app.name.startswith("comptoir."):
            shipped = Path(app.path) / "typst" / name
            if shipped.is_file():
                return shipped
    raise RenderingError(f"no template named {name!r}")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot pass {type(value).__name__} to a template")


def company_logo(company: Any) -> Path | None:
    """Return the file of the company's logo when Typst can print it, else None."""
    if not company.logo:
        return None
    try:
        path = Path(company.logo.path)
    except (ValueError, NotImplementedError):
        return None
    if path.suffix.lower() in LOGO_SUFFIXES and path.is_file():
        return path
    return None


class Renderer:
    """One Typst compiler, reused; calls are serialised because the compiler is stateful."""

    def __init__(self) -> None:
        self._compiler: typst.Compiler | None = None
        self._lock = threading.Lock()

    def compiler(self) -> typst.Compiler:
        if self._compiler is None:
            self._compiler = typst.Compiler(font_paths=[str(FONTS_DIR)], ignore_system_fonts=True)
        return self._compiler

    def render_pdf(
        self,
        template: str,
        data: Mapping[str, Any],
        *,
        tagged: bool = False,
        logo: Path | None = None,
    ) -> bytes:
        """Render a template with its data (and the logo, if any) to PDF/A-3b bytes."""
        path = template_path(template)
        inputs = {"data": json.dumps(data, default=_json_default, ensure_ascii=False), "logo": ""}
        if logo is not None:
            # Typst reads files only under its root: the template's text is passed as bytes
            # and the root is the logo's folder, so the logo is all the template can reach.
            try:
                return self._compile(
                    template,
                    path.read_bytes(),
                    root=logo.parent,
                    inputs={**inputs, "logo": "/" + logo.name},
                    tagged=tagged,
                )
            except RenderingError:
                # A logo Typst cannot read must not stop a document from printing.
                pass
        return self._compile(template, str(path), root=path.parent, inputs=inputs, tagged=tagged)

    def _compile(
        self,
        template: str,
        source: str | bytes,
        *,
        root: Path,
        inputs: dict[str, str],
        tagged: bool,
    ) -> bytes:
        with self._lock:
            try:
                # `input=` on every call: a Compiler built with input only honours it once.
                pdf = self.compiler().compile(
                    input=source,
                    root=str(root),
                    format="pdf",
                    sys_inputs=inputs,
                    pdf_standards=["a-3b"],
                    pdf_tags=tagged,
                )
            except RuntimeError as exc:
                raise RenderingError(f"{template}: {exc}") from exc
        if not isinstance(pdf, bytes):
            raise RenderingError(f"{template}: the compiler returned no PDF")
        return pdf


renderer = Renderer()


def render_pdf(
    template: str, data: Mapping[str, Any], *, tagged: bool = False, logo: Path | None = None
) -> bytes:
    """Render a template to PDF/A-3b with the process's shared compiler."""
    return renderer.render_pdf(template, data, tagged=tagged, logo=logo)
