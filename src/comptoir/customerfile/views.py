"""Customer-file screens: the import wizard, file quality, consent and GDPR pages, unsubscribe.

The import wizard: upload → mapping → preview (every row checked, errors per row) → commit.
Small files are checked and imported within the request; bigger ones in a background thread
while the page polls a progress fragment with htmx (no task queue is needed).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from comptoir.core.exports import csv_response, xlsx_response
from comptoir.core.roles import is_back_office
from comptoir.core.views import FormScreen
from comptoir.customerfile import actions, gdpr, importing, quality
from comptoir.customerfile.forms import (
    ConsentForm,
    ErasureForm,
    MappingForm,
    ProcessingActivityForm,
    UploadForm,
)
from comptoir.customerfile.models import (
    ImportBatch,
    ImportMapping,
    ImportStatus,
    ProcessingActivity,
)
from comptoir.customerfile.readers import ENCODING_LABELS
from comptoir.customerfile.selectors import (
    consent_summary,
    prospects_past_retention,
    rfm_of_customers,
)
from comptoir.parties.models import Contact
from comptoir.parties.selectors import contacts_visible_to, parties_visible_to

# Files from this size on are checked and imported in a background thread with a progress bar.
BACKGROUND_FROM_BYTES = 1_000_000
ERASURE_REASON_PREFIX = "Erasure request"


def _require_back_office(request: HttpRequest) -> None:
    if not is_back_office(request.user):
        raise PermissionDenied


def _run(batch: ImportBatch, work: Callable[[], Any], *, background: bool) -> None:
    if not background:
        work()
        return

    def target() -> None:
        close_old_connections()
        try:
            work()
        finally:
            close_old_connections()

    threading.Thread(target=target, name=f"import-{batch.pk}", daemon=True).start()


def _is_big(batch: ImportBatch) -> bool:
    try:
        return actions.batch_source(batch).stat().st_size >= BACKGROUND_FROM_BYTES
    except (OSError, StopIteration):
        return False


# -- import wizard -----------------------------------------------------------------------------


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    _require_back_office(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        tags = [t.strip() for t in form.cleaned_data["tags"].split(",") if t.strip()]
        batch = actions.create_import_batch(
            by=request.user,
            file_name=upload.name,
            chunks=upload.chunks(),
            role=form.cleaned_data["role"],
            tags=tags,
        )
        if batch.status == ImportStatus.FAILED:
            form.add_error("file", batch.message)
        else:
            return redirect("customerfile:import_mapping", pk=batch.pk)
    return render(
        request,
        "customerfile/import_start.html",
        {
            "title": _("Import a customer file"),
            "form": form,
            "batches": ImportBatch.objects.select_related("created_by")[:20],
        },
    )


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    _require_back_office(request)
    return get_object_or_404(ImportBatch, pk=pk)


def _samples(batch: ImportBatch, count: int = 3) -> list[list[str]]:
    from comptoir.customerfile.readers import ReadError, open_sheet

    try:
        sheet = open_sheet(actions.batch_source(batch), name=batch.file_name)
    except (ReadError, StopIteration):
        return []
    columns: list[list[str]] = [[] for _title in batch.header]
    for n, (_number, row) in enumerate(sheet.rows()):
        if n >= count:
            break
        for index in range(len(columns)):
            columns[index].append(row[index] if index < len(row) else "")
    return columns


@login_required
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch.status in (ImportStatus.IMPORTING, ImportStatus.IMPORTED):
        return redirect("customerfile:import_preview", pk=batch.pk)
    initial = batch.mapping
    saved_name = request.GET.get("saved", "")
    if saved_name:
        saved = ImportMapping.objects.filter(name=saved_name).first()
        if saved is not None:
            initial = importing.mapping_from_saved(batch.header, saved.columns)
    form = MappingForm(request.POST or None, header=batch.header, initial_mapping=initial)
    if request.method == "POST" and form.is_valid():
        mapping = form.mapping()
        problems = importing.check_mapping(mapping)
        for problem in problems:
            form.add_error(None, problem)
        if not problems:
            if form.cleaned_data.get("save_as"):
                actions.save_import_mapping(
                    name=form.cleaned_data["save_as"],
                    columns=importing.mapping_to_saved(batch.header, mapping),
                    by=request.user,
                )
            user = request.user
            _run(
                batch,
                lambda: actions.check_import_batch(batch, by=user, mapping=mapping),
                background=_is_big(batch),
            )
            return redirect("customerfile:import_preview", pk=batch.pk)
    samples = _samples(batch)
    return render(
        request,
        "customerfile/import_mapping.html",
        {
            "title": _("Map the columns of %(file)s") % {"file": batch.file_name},
            "batch": batch,
            "encoding_label": ENCODING_LABELS.get(batch.encoding, batch.encoding),
            "form": form,
            "columns": list(
                zip(
                    batch.header,
                    form.column_fields(),
                    samples or [[]] * len(batch.header),
                    strict=False,
                )
            ),
            "mappings": ImportMapping.objects.all(),
        },
    )


def _progress_context(batch: ImportBatch) -> dict[str, Any]:
    progress = actions.read_progress(batch)
    fraction = float(progress.get("fraction") or 0.0)
    return {
        "batch": batch,
        "encoding_label": ENCODING_LABELS.get(batch.encoding, batch.encoding),
        "progress": progress,
        "percent": int(100 * fraction),
        "running": batch.status in (ImportStatus.CHECKING, ImportStatus.IMPORTING),
    }


@login_required
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    context = _progress_context(batch)
    context.update(
        {
            "title": _("Import of %(file)s") % {"file": batch.file_name},
            "can_commit": batch.status == ImportStatus.CHECKED
            and not batch.error_rows
            and not batch.warnings
            and batch.total_rows > 0,
            "columns": [
                title for title, target in zip(batch.header, batch.mapping, strict=False) if target
            ],
        }
    )
    return render(request, "customerfile/import_preview.html", context)


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    context = _progress_context(batch)
    response = render(request, "customerfile/_import_progress.html", context)
    if not context["running"]:
        # Done: reload the whole page so the preview or the result shows.
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        user = request.user
        _run(batch, lambda: actions.commit_import_batch(batch, by=user), background=_is_big(batch))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customerfile:import_preview", pk=batch.pk)
    batch.refresh_from_db()
    if batch.status == ImportStatus.IMPORTED:
        messages.success(
            request,
            _("Imported %(parties)d parties and %(contacts)d contacts.")
            % {"parties": batch.created_parties, "contacts": batch.created_contacts},
        )
    elif batch.status == ImportStatus.FAILED:
        messages.error(request, batch.message)
    return redirect("customerfile:import_preview", pk=batch.pk)


@login_required
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    path = actions.batch_workdir(batch) / "errors.csv"
    if not path.is_file():
        raise PermissionDenied
    name = Path(batch.file_name).stem or "import"
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{name}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )


# -- quality -----------------------------------------------------------------------------------


@login_required
def file_quality(request: HttpRequest) -> HttpResponse:
    parties = quality.active_parties() & parties_visible_to(request.user)
    result = quality.file_quality(parties)
    unassigned = parties.filter(sales_rep__isnull=True).count()
    visible = set(parties_visible_to(request.user).values_list("pk", flat=True))
    segments = Counter(score.segment for pk, score in rfm_of_customers().items() if pk in visible)
    return render(
        request,
        "customerfile/quality.html",
        {
            "title": _("File quality"),
            "result": result,
            "unassigned": unassigned,
            "can_assign": is_back_office(request.user),
            "segments": [(SEGMENT_LABELS.get(k, k), n) for k, n in segments.most_common()],
        },
    )


SEGMENT_LABELS = {
    "champions": gettext_lazy("Champions"),
    "loyal": gettext_lazy("Loyal"),
    "new": gettext_lazy("New"),
    "at_risk": gettext_lazy("At risk"),
    "lost": gettext_lazy("Lost"),
    "needs_attention": gettext_lazy("Needs attention"),
}


@login_required
@require_POST
def tag_segments(request: HttpRequest) -> HttpResponse:
    _require_back_office(request)
    count = actions.apply_segment_tags(by=request.user, scores=rfm_of_customers())
    messages.success(
        request, _("%(count)d customers tagged with their RFM segment.") % {"count": count}
    )
    return redirect("customerfile:quality")


@login_required
@require_POST
def assign_unassigned(request: HttpRequest) -> HttpResponse:
    _require_back_office(request)
    count = actions.assign_unassigned(by=request.user)
    messages.success(request, _("%(count)d parties assigned by territory.") % {"count": count})
    return redirect("customerfile:quality")


# -- GDPR --------------------------------------------------------------------------------------


@login_required
def gdpr_register(request: HttpRequest) -> HttpResponse:
    _require_back_office(request)
    fmt = request.GET.get("export")
    if fmt == "csv":
        return csv_response("processing-register", gdpr.register_header(), gdpr.register_rows())
    if fmt == "xlsx":
        return xlsx_response("processing-register", gdpr.register_header(), gdpr.register_rows())
    if fmt == "pdf":
        response = HttpResponse(gdpr.register_pdf(), content_type="application/pdf")
        response["Content-Disposition"] = 'attachment; filename="processing-register.pdf"'
        return response
    plan = gdpr.retention_plan()
    return render(
        request,
        "customerfile/gdpr.html",
        {
            "title": _("GDPR register"),
            "activities": ProcessingActivity.objects.all(),
            "retention_due": prospects_past_retention().count(),
            "to_flag": plan.flagged[:50],
            "to_anonymise": plan.anonymised[:50],
        },
    )


class ProcessingActivityEdit(FormScreen):
    """Create or change an entry of the processing register (back office)."""

    form_class = ProcessingActivityForm
    title = gettext_lazy("Processing activity")

    def check_access(self) -> None:
        _require_back_office(self.request)

    def get_object(self) -> ProcessingActivity | None:
        pk = self.kwargs.get("pk")
        return get_object_or_404(ProcessingActivity, pk=pk) if pk else None

    def get_form(self, data: Any = None, files: Any = None) -> Any:
        return ProcessingActivityForm(data=data, instance=self.get_object())

    def context(self, form: Any, **extra: Any) -> dict[str, Any]:
        return super().context(form, cancel_url=reverse("customerfile:gdpr"), **extra)

    def save(self, form: Any) -> HttpResponse:
        actions.save_processing_activity(
            self.get_object(), by=self.request.user, **form.cleaned_data
        )
        messages.success(self.request, _("Processing register saved."))
        return redirect("customerfile:gdpr")


def _contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(contacts_visible_to(request.user).select_related("party"), pk=pk)


@login_required
def contact_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    form = ConsentForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("parties.change_contact", contact):
            raise PermissionDenied
        if form.is_valid():
            actions.set_consent(contact, by=request.user, **form.cleaned_data)
            messages.success(request, _("Choice recorded."))
            return redirect("customerfile:contact_privacy", pk=contact.pk)
    return render(
        request,
        "customerfile/contact_privacy.html",
        {
            "title": _("Personal data of %(name)s") % {"name": contact},
            "contact": contact,
            "lines": consent_summary(contact),
            "form": form,
            "erasure_form": ErasureForm(),
            "back_office": is_back_office(request.user),
            "unsubscribe_url": gdpr.unsubscribe_url(contact),
        },
    )


@login_required
def contact_access(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    _require_back_office(request)
    contact = _contact(request, pk)
    stamp = timezone.localdate().isoformat()
    if fmt == "pdf":
        response = HttpResponse(gdpr.access_request_pdf(contact), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="personal-data-{contact.pk}-{stamp}.pdf"'
        )
        return response
    response = JsonResponse(
        gdpr.personal_data(contact), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = (
        f'attachment; filename="personal-data-{contact.pk}-{stamp}.json"'
    )
    return response


@login_required
@require_POST
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    _require_back_office(request)
    contact = _contact(request, pk)
    form = ErasureForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason of the erasure."))
        return redirect("customerfile:contact_privacy", pk=contact.pk)
    actions.anonymise_contact(contact, by=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, _("The contact's personal data were erased."))
    return redirect("parties:detail", pk=contact.party_id)


@csrf_exempt  # the signed token is the credential; mail clients post one-click opt-outs
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Public page behind the link of every prospecting email: one click to opt out."""
    found = gdpr.read_unsubscribe_token(token)
    if found is None:
        return render(request, "customerfile/unsubscribe.html", {"invalid": True}, status=404)
    contact, channel = found
    done = False
    if request.method == "POST":
        actions.record_opt_out(contact, channel=channel, source=_("Unsubscribe link"), by=None)
        done = True
    return render(
        request,
        "customerfile/unsubscribe.html",
        {"contact": contact, "channel": channel, "done": done, "token": token},
    )
