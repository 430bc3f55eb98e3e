from django.urls import path

from comptoir.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.PaymentList.as_view(), name="list"),
    path("new/", views.PaymentCreate.as_view(), name="create"),
    path("aged-balance/", views.aged_balance, name="aged_balance"),
    path("customers/<int:pk>/", views.customer_account, name="account"),
    path("customers/<int:pk>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("customers/<int:pk>/credit/<int:invoice_pk>/", views.use_credit, name="use_credit"),
    path("customers/<int:pk>/refund/<int:note_pk>/", views.refund, name="refund"),
    path("customers/<int:pk>/offset/<int:note_pk>/", views.offset, name="offset"),
    path("invoices/<int:pk>/schedule/", views.ScheduleEdit.as_view(), name="schedule"),
    path("statements/", views.statements, name="statements"),
    path("statements/lines/", views.unmatched, name="unmatched"),
    path("statements/lines/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("statements/lines/<int:pk>/ignore/", views.ignore, name="ignore"),
    path("statements/lines/<int:pk>/match/", views.manual_match, name="manual_match"),
    path("sepa/", views.sepa, name="sepa"),
    path("sepa/<str:kind>/<int:pk>/download/", views.sepa_download, name="sepa_download"),
    path("sepa/debit/<int:pk>/collected/", views.sepa_collected, name="sepa_collected"),
    path("sepa/mandates/<int:pk>/end/", views.mandate_end, name="mandate_end"),
]
