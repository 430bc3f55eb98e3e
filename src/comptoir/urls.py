from django.contrib.auth import views as auth_views
from django.urls import include, path

from comptoir.api.api import api
from comptoir.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("comptoir.core.urls")),
    path("parties/", include("comptoir.parties.urls")),
    path("catalogue/", include("comptoir.catalogue.urls")),
    path("customer-file/", include("comptoir.customerfile.urls")),
    path("invoices/from-orders/", include("comptoir.invoicing.order_urls")),
    path("invoices/", include("comptoir.invoicing.urls")),
    path("sales/", include("comptoir.sales.urls")),
    path("stock/", include("comptoir.stock.urls")),
    path("payments/", include("comptoir.payments.urls")),
    path("dunning/", include("comptoir.dunning.urls")),
    path("api/v1/", api.urls),
]
