from django.urls import path

from comptoir.core import views

app_name = "core"

urlpatterns = [
    path("company/", views.company_detail, name="company"),
    path("company/edit/", views.CompanyEdit.as_view(), name="company_edit"),
    path("me/", views.ProfileEdit.as_view(), name="profile"),
    path("me/api-tokens/", views.ApiTokens.as_view(), name="api_tokens"),
    path("users/", views.UserList.as_view(), name="users"),
    path("users/new/", views.UserCreate.as_view(), name="user_create"),
    path("users/<int:pk>/", views.UserEdit.as_view(), name="user_edit"),
]
