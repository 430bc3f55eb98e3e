from django.urls import path

from comptoir.parties import views

app_name = "parties"

urlpatterns = [
    path("", views.PartyList.as_view(), name="list"),
    path("new/", views.PartyCreate.as_view(), name="create"),
    path("contacts/", views.ContactList.as_view(), name="contacts"),
    path("<int:pk>/", views.party_detail, name="detail"),
    path("<int:pk>/edit/", views.PartyEdit.as_view(), name="edit"),
    path("<int:pk>/archive/", views.party_archive, name="archive"),
    path("<int:pk>/restore/", views.party_restore, name="restore"),
    path("<int:pk>/contacts/new/", views.ContactCreate.as_view(), name="contact_create"),
    path("contacts/<int:contact_pk>/edit/", views.ContactEdit.as_view(), name="contact_edit"),
    path("contacts/<int:contact_pk>/remove/", views.contact_remove, name="contact_remove"),
    path("<int:pk>/addresses/new/", views.AddressCreate.as_view(), name="address_create"),
    path("addresses/<int:address_pk>/edit/", views.AddressEdit.as_view(), name="address_edit"),
    path("addresses/<int:address_pk>/remove/", views.address_remove, name="address_remove"),
]
