"""Pages of fangyi.health."""

from django.urls import path

from . import views

urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("declarations/", views.declaration_list, name="declaration_list"),
    path("declarations/new/", views.declaration_new, name="declaration_new"),
    path("declarations/<int:pk>/", views.declaration_detail, name="declaration_detail"),
    path("declarations/<int:pk>/confirm/", views.declaration_confirm, name="declaration_confirm"),
    path("declarations/<int:pk>/decision/", views.declaration_decide, name="declaration_decide"),
    path("people/<int:pk>/health/", views.person_panel, name="health_panel"),
    path("people/<int:pk>/health/link/", views.person_link, name="health_link"),
    path("r/<str:token>/", views.selfreport, name="selfreport"),
]
