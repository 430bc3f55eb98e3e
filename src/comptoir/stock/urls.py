from django.urls import path

from comptoir.stock import views

app_name = "stock"

urlpatterns = [
    path("deliveries/", views.DeliveryList.as_view(), name="deliveries"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/ship/", views.delivery_ship, name="delivery_ship"),
    path("deliveries/<int:pk>/cancel/", views.delivery_cancel, name="delivery_cancel"),
    path("deliveries/<int:pk>/pdf/", views.delivery_pdf, name="delivery_pdf"),
    path("deliveries/<int:pk>/send/", views.delivery_send, name="delivery_send"),
    path("orders/<int:order_pk>/deliver/", views.DeliveryCreate.as_view(), name="delivery_create"),
    path("levels/", views.StockLevelList.as_view(), name="levels"),
    path("alerts/", views.ReorderAlertList.as_view(), name="alerts"),
    path("products/<int:pk>/", views.ProductStockEdit.as_view(), name="product_stock"),
]
