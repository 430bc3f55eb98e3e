"""Archive writes: store a generated file once, with its checksum and its business object."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from comptoir.core.audit import record_audit
from comptoir.documents.models import ArchivedDocument


def archive_root() -> Path:
    return Path(settings.ARCHIVE_ROOT)


def _write_new_file(content: bytes, suffix: str) -> str:
    """Write bytes under a generated name that did not exist; return the relative path."""
    today = timezone.localdate()
    folder = archive_root() / f"{today:%Y}" / f"{today:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        relative = f"{today:%Y}/{today:%m}/{secrets.token_hex(16)}{suffix}"
        try:
            # O_EXCL: an archived file is never overwritten, even by a name collision.
            fd = os.open(archive_root() / relative, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o440)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        return relative


@transaction.atomic
def archive_document(
    content: bytes,
    *,
    reference: str,
    kind: str,
    filename: str,
    mime_type: str,
    business_object: models.Model | None,
    by: Any,
) -> ArchivedDocument:
    """Store a generated document for good and return its archive row.

    The file is written before the row, inside the caller's transaction. If that
    transaction rolls back later, the file stays behind unreferenced: harmless, and never
    served, since only rows lead to files.
    """
    suffix = Path(filename).suffix.lower()[:10]
    relative = _write_new_file(content, suffix)
    try:
        with transaction.atomic():
            document = ArchivedDocument.objects.create(
                reference=reference,
                kind=kind,
                filename=filename,
                mime_type=mime_type,
                size=len(content),
                checksum=hashlib.sha256(content).hexdigest(),
                path=relative,
                content_type=(
                    ContentType.objects.get_for_model(business_object)
                    if business_object is not None
                    else None
                ),
                object_id=str(business_object.pk) if business_object is not None else "",
                created_by=by if getattr(by, "pk", None) else None,
            )
    except Exception as exc:
        (archive_root() / relative).unlink(missing_ok=True)
        # The unique reference is the check: asking first would cost a query on every
        # document for a case that does not happen in normal use.
        if isinstance(exc, IntegrityError) and _is_archived(reference):
            raise ValidationError(
                {"reference": f"{reference} is already archived"}, code="already_archived"
            ) from exc
        raise
    record_audit(by, "archive_document", document, kind=kind, checksum=document.checksum)
    return document


def _is_archived(reference: str) -> bool:
    return ArchivedDocument.objects.filter(reference=reference).exists()


def read_archived(document: ArchivedDocument) -> bytes:
    """Return the stored bytes, checking them against the recorded checksum."""
    content = (archive_root() / document.path).read_bytes()
    if hashlib.sha256(content).hexdigest() != document.checksum:
        raise ValidationError(
            _("%(reference)s: the archived file does not match its checksum")
            % {"reference": document.reference}
        )
    return content


@dataclass
class ArchiveCheck:
    """What `check_archive` found: files to worry about, and files nothing refers to."""

    checked: int = 0
    altered: list[str] = field(default_factory=list)  # references whose bytes changed
    missing: list[str] = field(default_factory=list)  # references whose file is gone
    orphans: list[Path] = field(default_factory=list)  # files no row refers to


def check_archive(*, delete_orphans_before: datetime | None = None) -> ArchiveCheck:
    """Check every archived file against its checksum and find files no row refers to.

    A file with no row is what a rolled-back transaction leaves behind (the file is written
    before its row, inside the caller's transaction): never served, and deleted here when
    it is older than ``delete_orphans_before`` — an in-flight transaction's file is younger.
    """
    result = ArchiveCheck()
    root = archive_root()
    known: set[str] = set()
    rows = ArchivedDocument.objects.order_by("pk").values_list("reference", "path", "checksum")
    for reference, relative, checksum in rows.iterator(chunk_size=2000):
        known.add(relative)
        result.checked += 1
        try:
            digest = hashlib.sha256((root / relative).read_bytes()).hexdigest()
        except FileNotFoundError:
            result.missing.append(reference)
            continue
        if digest != checksum:
            result.altered.append(reference)
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.relative_to(root).as_posix() in known:
                continue
            result.orphans.append(path)
            if delete_orphans_before is not None:
                modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
                if modified < delete_orphans_before:
                    path.unlink()
    return result
