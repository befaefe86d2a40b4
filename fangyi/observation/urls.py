"""Pages of fangyi.observation. The day list is the home page of field roles ("/", served by
core.views.home, which calls views.daylist_page)."""

from django.urls import path

from . import views

urlpatterns = [
    path("observations/", views.observation_list, name="observation_list"),
    path("observations/new/", views.observation_create, name="observation_create"),
    path("observations/<int:pk>/", views.observation_detail, name="observation_detail"),
    path("observations/<int:pk>/extend/", views.observation_extend, name="observation_extend"),
    path("observations/<int:pk>/release/", views.observation_release, name="observation_release"),
    path("observations/<int:pk>/refer/", views.observation_refer, name="observation_refer"),
    path(
        "observations/<int:pk>/transfer/", views.observation_transfer, name="observation_transfer"
    ),
    path("followups/<int:pk>/", views.followup_form, name="followup_form"),
    path("board/", views.board, name="board"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("people/<int:pk>/observation/", views.person_panel, name="person_observation_panel"),
    path("r/<str:token>/daily/", views.selfreport_daily, name="selfreport_daily"),
]
