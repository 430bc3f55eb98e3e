from django.urls import path

from comptoir.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("products/", views.ProductList.as_view(), name="products"),
    path("products/new/", views.ProductCreate.as_view(), name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.ProductEdit.as_view(), name="product_edit"),
    path("products/<int:pk>/deactivate/", views.product_deactivate, name="product_deactivate"),
    path("families/", views.FamilyList.as_view(), name="families"),
    path("families/new/", views.FamilyCreate.as_view(), name="family_create"),
    path("families/<int:pk>/edit/", views.FamilyEdit.as_view(), name="family_edit"),
    path("vat-rates/", views.VatRateList.as_view(), name="vat_rates"),
    path("price-lists/", views.PriceListList.as_view(), name="price_lists"),
    path("price-lists/new/", views.PriceListCreate.as_view(), name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", views.PriceListEdit.as_view(), name="price_list_edit"),
    path("price-lists/<int:pk>/check/", views.price_check, name="price_check"),
    path("price-lists/<int:pk>/rules/new/", views.RuleCreate.as_view(), name="rule_create"),
    path(
        "price-lists/<int:pk>/rules/<int:rule_pk>/edit/", views.RuleEdit.as_view(), name="rule_edit"
    ),
    path("price-lists/<int:pk>/rules/<int:rule_pk>/remove/", views.rule_remove, name="rule_remove"),
    path("price-lists/<int:pk>/publish/", views.price_list_publish, name="price_list_publish"),
    path(
        "price-lists/<int:pk>/publications/<int:publication_pk>/revoke/",
        views.publication_revoke,
        name="publication_revoke",
    ),
    path(
        "price-lists/<int:pk>/export.<str:fmt>",
        views.price_list_export,
        name="price_list_export",
    ),
    path("p/<str:token>/", views.public_price_list, name="public_price_list"),
    path("p/<str:token>/pdf/", views.public_price_list_pdf, name="public_price_list_pdf"),
]
