from django.urls import path

from comptoir.customerfile import views

app_name = "customerfile"

urlpatterns = [
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("import/<int:pk>/", views.import_preview, name="import_preview"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("import/<int:pk>/commit/", views.import_commit, name="import_commit"),
    path("import/<int:pk>/report.csv", views.import_report, name="import_report"),
    path("quality/", views.file_quality, name="quality"),
    path("quality/assign/", views.assign_unassigned, name="assign_unassigned"),
    path("quality/segments/", views.tag_segments, name="tag_segments"),
    path("gdpr/", views.gdpr_register, name="gdpr"),
    path("gdpr/activities/new/", views.ProcessingActivityEdit.as_view(), name="activity_create"),
    path(
        "gdpr/activities/<int:pk>/edit/",
        views.ProcessingActivityEdit.as_view(),
        name="activity_edit",
    ),
    path("contacts/<int:pk>/privacy/", views.contact_privacy, name="contact_privacy"),
    path("contacts/<int:pk>/access.<str:fmt>", views.contact_access, name="contact_access"),
    path("contacts/<int:pk>/erase/", views.contact_erase, name="contact_erase"),
    path("duplicates/", views.DuplicateQueue.as_view(), name="duplicates"),
    path("duplicates/search/", views.scan_duplicates, name="scan_duplicates"),
    path("duplicates/<int:pk>/", views.merge_candidate, name="merge_candidate"),
    path("duplicates/<int:pk>/dismiss/", views.dismiss_candidate, name="dismiss_candidate"),
    path("merges/", views.MergeHistory.as_view(), name="merges"),
    path("merges/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
