from django.urls import path

from comptoir.dunning import views

app_name = "dunning"

urlpatterns = [
    path("", views.runs, name="runs"),
    path("runs/<str:run_date>/", views.run_detail, name="run"),
    path("reminders/<int:pk>/letter.pdf", views.letter, name="letter"),
    path("calls/", views.calls, name="calls"),
    path("calls/<int:pk>/outcome/", views.call_outcome, name="call_outcome"),
    path("customers/<int:pk>/", views.PartySettings.as_view(), name="party"),
    path("customers/<int:pk>/interest-invoice/", views.interest_invoice, name="interest_invoice"),
    path("policies/", views.policies, name="policies"),
    path("policies/new/", views.PolicyEdit.as_view(), name="policy_create"),
    path("policies/<int:pk>/", views.PolicyEdit.as_view(), name="policy_edit"),
    path("policies/<int:policy_pk>/levels/new/", views.LevelEdit.as_view(), name="level_create"),
    path("policies/<int:policy_pk>/levels/<int:pk>/", views.LevelEdit.as_view(), name="level_edit"),
]
