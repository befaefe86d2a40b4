"""Pages of refusals, persuasion and the quarantine notice (see docs/quarantine.md)."""

from django.urls import path

from . import views_refusals as views

urlpatterns: list = [
    path("placements/<int:pk>/refuse/", views.placement_refuse, name="placement_refuse"),
    path("placements/<int:pk>/notice/", views.placement_notice, name="placement_notice"),
    path("refusals/", views.refusal_list, name="refusal_list"),
    path("refusals/<int:pk>/", views.refusal_detail, name="refusal_detail"),
    path("refusals/<int:pk>/attempts/", views.refusal_attempt, name="refusal_attempt"),
    path("refusals/<int:pk>/agree/", views.refusal_agree, name="refusal_agree"),
    path("refusals/<int:pk>/home/", views.refusal_home, name="refusal_home"),
    path("refusals/<int:pk>/refer/", views.refusal_refer, name="refusal_refer"),
    path("refusals/<int:pk>/call-police/", views.refusal_call_police, name="refusal_call_police"),
]
