from django.urls import path

from comptoir.invoicing import batch_views, order_views

app_name = "invoicing_orders"

urlpatterns = [
    path("orders/<int:pk>/", order_views.invoice_order, name="invoice_order"),
    path(
        "orders/<int:pk>/down-payment/",
        order_views.DownPaymentCreate.as_view(),
        name="down_payment",
    ),
    path("deliveries/<int:pk>/", order_views.invoice_delivery, name="invoice_delivery"),
    path("run/", batch_views.run_start, name="run_start"),
    path("run/<int:pk>/", batch_views.run_detail, name="run_detail"),
]
