"""Pages of fangyi.enforcement, and its panels on the tip and person pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("enforcement/", views.record_list, name="enforcement_list"),
    path("enforcement/new/", views.record_create, name="enforcement_create"),
    path("enforcement/new/people/", views.person_search, name="enforcement_person_search"),
    path("enforcement/<int:pk>/", views.record_detail, name="enforcement_detail"),
    path("enforcement/<int:pk>/followup/", views.record_followup, name="enforcement_followup"),
    path("enforcement/photos/<int:pk>/", views.photo, name="enforcement_photo"),
    path("enforcement/bases/", views.basis_list, name="legalbasis_list"),
    path("enforcement/bases/new/", views.basis_form, name="legalbasis_create"),
    path("enforcement/bases/<int:pk>/", views.basis_form, name="legalbasis_edit"),
    path("tips/<int:pk>/enforcement/", views.tip_panel, name="tip_enforcement_panel"),
    path("people/<int:pk>/enforcement/", views.person_panel, name="person_enforcement_panel"),
]
