from django.urls import path

from comptoir.sales import views

app_name = "sales"

urlpatterns = [
    path("quotes/", views.QuoteList.as_view(), name="quotes"),
    path("quotes/new/", views.QuoteCreate.as_view(), name="quote_create"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/edit/", views.QuoteEdit.as_view(), name="quote_edit"),
    path("quotes/<int:pk>/lines/new/", views.QuoteLineAdd.as_view(), name="quote_line_add"),
    path(
        "quotes/<int:pk>/lines/<int:line_pk>/delete/",
        views.quote_line_delete,
        name="quote_line_delete",
    ),
    path("quotes/<int:pk>/send/", views.QuoteSend.as_view(), name="quote_send"),
    path("quotes/<int:pk>/mark-sent/", views.quote_mark_sent, name="quote_mark_sent"),
    path("quotes/<int:pk>/revise/", views.quote_revise, name="quote_revise"),
    path("quotes/<int:pk>/revoke-link/", views.quote_revoke_link, name="quote_revoke_link"),
    path("quotes/<int:pk>/renew-link/", views.quote_renew_link, name="quote_renew_link"),
    path("quotes/<int:pk>/answer/", views.quote_record_answer, name="quote_record_answer"),
    path("quotes/<int:pk>/order/", views.quote_to_order, name="quote_to_order"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("q/<str:token>/", views.quote_public, name="quote_public"),
    path("q/<str:token>/pdf/", views.quote_public_pdf, name="quote_public_pdf"),
    path("orders/", views.OrderList.as_view(), name="orders"),
    path("orders/new/", views.OrderCreate.as_view(), name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.OrderEdit.as_view(), name="order_edit"),
    path("orders/<int:pk>/lines/", views.OrderLinesEdit.as_view(), name="order_lines_edit"),
    path("orders/<int:pk>/cancel/", views.OrderCancel.as_view(), name="order_cancel"),
    path("orders/<int:pk>/pdf/", views.order_pdf, name="order_pdf"),
    path("orders/<int:pk>/send/", views.order_send, name="order_send"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("documents/<int:pk>/send/", views.DocumentSend.as_view(), name="document_send"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("email-templates/", views.email_templates, name="email_templates"),
    path(
        "email-templates/<slug:code>/",
        views.EmailTemplateEdit.as_view(),
        name="email_template_edit",
    ),
]
