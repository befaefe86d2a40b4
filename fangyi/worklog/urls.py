"""Pages of the work log (工作日志)."""

from django.urls import path

from . import views

urlpatterns = [
    path("worklog/", views.my_log, name="worklog"),
    path("worklog/xlsx/", views.my_export, name="worklog_export"),
    path("worklog/team/", views.team, name="worklog_team"),
    path("worklog/<int:user_id>/", views.user_log, name="worklog_user"),
    path("worklog/<int:user_id>/xlsx/", views.user_export, name="worklog_user_export"),
]
