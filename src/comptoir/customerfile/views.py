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

from django.apps import apps
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
from comptoir.core.listing import Column, Filter, ListScreen
from comptoir.core.roles import is_back_office
from comptoir.core.selectors import worker_running
from comptoir.core.views import FormScreen
from comptoir.customerfile import actions, gdpr, importing, merging, quality
from comptoir.customerfile.forms import (
    ConsentForm,
    ErasureForm,
    MappingForm,
    ProcessingActivityForm,
    UploadForm,
)
from comptoir.customerfile.models import (
    CandidateStatus,
    DuplicateCandidate,
    ImportBatch,
    ImportMapping,
    ImportStatus,
    PartyMerge,
    ProcessingActivity,
)
from comptoir.customerfile.readers import ENCODING_LABELS
from comptoir.customerfile.scoring import SEGMENT_LABELS
from comptoir.customerfile.selectors import (
    consent_summary,
    last_duplicate_scan,
    prospects_past_retention,
    rfm_of_customers,
)
from comptoir.parties.models import Contact, Party
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
            "activities": gdpr.register_entries(),
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


# -- duplicates and merges ------------------------------------------------------------------


def _require_merge_permission(request: HttpRequest) -> None:
    if not request.user.has_perm("customerfile.merge_parties"):
        raise PermissionDenied


def _status_choices(request: HttpRequest) -> list[tuple[str, Any]]:
    return list(CandidateStatus.choices)


class DuplicateQueue(ListScreen):
    """The pairs of parties the scan found, most likely first; open ones unless filtered."""

    title = gettext_lazy("Duplicates to review")
    permission = "customerfile.merge_parties"
    export_name = gettext_lazy("duplicates")
    default_sort = "-score"
    search_fields = ("party_a__name", "party_b__name")
    columns = (
        Column("party_a__name", gettext_lazy("Party"), sort="party_a__name", link=True),
        Column("party_b__name", gettext_lazy("Other party"), sort="party_b__name", link=True),
        Column("score", gettext_lazy("Score"), sort="score", value=lambda c: f"{c.score:.1f}"),
        Column("reasons", gettext_lazy("Reasons"), value=lambda c: c.reasons_text()),
        Column("action", "", link=True, value=lambda c: _("Merge…")),
        Column("status", gettext_lazy("Status"), value=lambda c: c.get_status_display()),
        Column("found_at", gettext_lazy("Found"), sort="found_at", kind="datetime"),
    )
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            _status_choices,
            lambda queryset, value: queryset.filter(status=value),
        ),
    )

    def detail_url(self, candidate: DuplicateCandidate) -> str:  # type: ignore[override]
        return reverse("customerfile:merge_candidate", args=[candidate.pk])

    def get_queryset(self) -> Any:
        queryset = DuplicateCandidate.objects.select_related("party_a", "party_b")
        if not self.request.GET.get("status"):
            queryset = queryset.filter(
                status=CandidateStatus.OPEN, party_a__is_active=True, party_b__is_active=True
            )
        return queryset

    template_name = "customerfile/duplicates.html"

    def extra_context(self) -> dict[str, Any]:
        return {
            "create_url": reverse("customerfile:merges"),
            "create_label": _("Merge history"),
            "last_scan": last_duplicate_scan(),
        }

    def export(self, fmt: str) -> Any:
        # The "Merge…" link is for the screen, not the spreadsheet.
        self.columns = tuple(c for c in self.columns if c.key != "action")
        return super().export(fmt)


@login_required
def scan_duplicates(request: HttpRequest) -> HttpResponse:
    """Start a search for duplicates in the background (the command does the same)."""
    _require_merge_permission(request)
    if request.method != "POST":
        return redirect("customerfile:duplicates")
    merging.start_duplicate_scan(by=request.user)
    messages.success(
        request,
        _("The search for duplicates is under way: the pairs it finds will appear in this list."),
    )
    if not worker_running():
        messages.warning(
            request,
            _(
                "No background worker is running, so the search waits. Start one with "
                "“comptoir worker” (“comptoir serve” starts one beside the server)."
            ),
        )
    return redirect("customerfile:duplicates")


class MergeHistory(ListScreen):
    """Every merge, newest first, each with its undo."""

    title = gettext_lazy("Merges")
    permission = "customerfile.merge_parties"
    export_name = gettext_lazy("merges")
    default_sort = "-merged_at"
    search_fields = ("survivor__name", "merged__name")
    columns = (
        Column("survivor__name", gettext_lazy("Kept"), sort="survivor__name", link=True),
        Column("merged__name", gettext_lazy("Merged into it"), sort="merged__name"),
        Column("merged_at", gettext_lazy("Merged at"), sort="merged_at", kind="datetime"),
        Column("merged_by", gettext_lazy("By")),
        Column("undone_at", gettext_lazy("Undone at"), kind="datetime"),
    )

    def detail_url(self, merge: PartyMerge) -> str:  # type: ignore[override]
        return reverse("customerfile:merge_detail", args=[merge.pk])

    def get_queryset(self) -> Any:
        return PartyMerge.objects.select_related("survivor", "merged", "merged_by")


@login_required
def merge_candidate(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a pair side by side, a radio per field; merge into the chosen survivor."""
    _require_merge_permission(request)
    candidate = get_object_or_404(
        DuplicateCandidate.objects.select_related("party_a", "party_b"), pk=pk
    )
    pair = {candidate.party_a_id: candidate.party_a, candidate.party_b_id: candidate.party_b}
    wanted = request.POST.get("survivor") or request.GET.get("survivor")
    survivor_pk = int(wanted) if wanted and wanted.isdigit() and int(wanted) in pair else None
    if survivor_pk is None:
        # The older record survives by default: it is the one documents already point at.
        survivor_pk = candidate.party_a_id
    survivor = pair[survivor_pk]
    merged = pair[
        candidate.party_b_id if survivor_pk == candidate.party_a_id else candidate.party_a_id
    ]
    if request.method == "POST":
        if candidate.status != CandidateStatus.OPEN:
            messages.error(request, _("This pair was already decided."))
            return redirect("customerfile:merge_candidate", pk=candidate.pk)
        choices = {
            name: "merged" if request.POST.get(f"field_{name}") == "merged" else "survivor"
            for name in merging.MERGE_FIELDS
        }
        try:
            merge = merging.merge_parties(survivor, merged, field_choices=choices, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("customerfile:merge_candidate", pk=candidate.pk)
        messages.success(
            request,
            _("%(merged)s was merged into %(survivor)s.")
            % {"merged": merged.name, "survivor": survivor.name},
        )
        return redirect("customerfile:merge_detail", pk=merge.pk)
    defaults = merging.default_choices(survivor, merged)
    return render(
        request,
        "customerfile/merge.html",
        {
            "title": _("Merge two parties"),
            "candidate": candidate,
            "survivor": survivor,
            "merged": merged,
            "rows": [
                (name, label, mine, theirs, defaults[name])
                for name, label, mine, theirs in merging.field_rows(survivor, merged)
                # Empty on both sides: nothing to choose.
                if mine not in ("", None) or theirs not in ("", None)
            ],
            "counts": [
                (_("Contacts"), survivor.contacts.count(), merged.contacts.count()),
                (_("Addresses"), survivor.addresses.count(), merged.addresses.count()),
                (
                    _("Tags"),
                    ", ".join(t.name for t in survivor.tags.all()),
                    ", ".join(t.name for t in merged.tags.all()),
                ),
            ],
            "is_open": candidate.status == CandidateStatus.OPEN
            and survivor.is_active
            and merged.is_active,
        },
    )


@login_required
@require_POST
def dismiss_candidate(request: HttpRequest, pk: int) -> HttpResponse:
    _require_merge_permission(request)
    candidate = get_object_or_404(DuplicateCandidate, pk=pk)
    try:
        merging.dismiss_candidate(candidate, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Marked as not a duplicate; it will not be proposed again."))
    return redirect("customerfile:duplicates")


@login_required
def merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show what a merge changed, and offer to undo it."""
    _require_merge_permission(request)
    merge = get_object_or_404(
        PartyMerge.objects.select_related("survivor", "merged", "merged_by", "undone_by"), pk=pk
    )
    snapshot = merge.snapshot
    kept = snapshot.get("kept", {})
    invoice_model = apps.get_model("invoicing", "Invoice")
    return render(
        request,
        "customerfile/merge_detail.html",
        {
            "title": _("Merge of %(merged)s (#%(m)s) into %(survivor)s (#%(s)s)")
            % {
                "merged": merge.merged.name,
                "m": merge.merged_id,
                "survivor": merge.survivor.name,
                "s": merge.survivor_id,
            },
            "merge": merge,
            "changed": _changed_fields(merge.survivor, snapshot),
            "moved": [
                (_model_label(label), sum(len(pks) for pks in per_field.values()))
                for label, per_field in snapshot.get("moved", {}).items()
            ],
            "kept": [(_model_label(label), len(pks)) for label, pks in sorted(kept.items())],
            "left": invoice_model._base_manager.filter(
                pk__in=kept.get("invoicing.invoice", [])
            ).order_by("number"),
        },
    )


def _model_label(label: str) -> str:
    return str(apps.get_model(label)._meta.verbose_name_plural).capitalize()


def _shown(value: Any) -> Any:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return value


def _changed_fields(party: Any, snapshot: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Return (label, value before the merge, value now) of the survivor's merged fields."""
    rows = []
    for attname in snapshot.get("survivor_changed", []):
        if attname == "name_key":  # derived from the name, not something the user chose
            continue
        model_field = next(f for f in Party._meta.concrete_fields if f.attname == attname)
        now = getattr(party, model_field.name)
        before = snapshot["survivor"].get(attname)
        if model_field.is_relation and before is not None:
            before = model_field.related_model._base_manager.filter(pk=before).first()
        rows.append((str(model_field.verbose_name).capitalize(), _shown(before), _shown(now)))
    return rows


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    _require_merge_permission(request)
    merge = get_object_or_404(PartyMerge, pk=pk)
    try:
        result = merging.unmerge_parties(merge, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customerfile:merge_detail", pk=merge.pk)
    stayed = sum(len(pks) for pks in result.stayed.values())
    text = _("Merge undone: %(count)d rows went back to %(name)s.") % {
        "count": result.returned,
        "name": merge.merged.name,
    }
    if stayed:
        text += " " + _("%(count)d issued documents stay on %(survivor)s.") % {
            "count": stayed,
            "survivor": merge.survivor.name,
        }
    messages.success(request, text)
    return redirect("customerfile:merge_detail", pk=merge.pk)
