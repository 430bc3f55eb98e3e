from django.urls import path

from comptoir.invoicing import views

app_name = "invoicing"

urlpatterns = [
    path("", views.InvoiceList.as_view(), name="list"),
    path("new/", views.InvoiceCreate.as_view(), name="create"),
    path("<int:pk>/", views.invoice_detail, name="detail"),
    path("<int:pk>/lines/new/", views.InvoiceLineAdd.as_view(), name="line_add"),
    path("<int:pk>/lines/<int:line_pk>/delete/", views.invoice_line_delete, name="line_delete"),
    path("<int:pk>/issue/", views.invoice_issue, name="issue"),
    path("<int:pk>/preview/", views.invoice_preview, name="preview"),
    path("<int:pk>/delete/", views.invoice_delete, name="delete"),
    path("<int:pk>/credit-note/", views.invoice_credit, name="credit"),
    path("<int:pk>/download/<str:fmt>/", views.invoice_download, name="download"),
]
