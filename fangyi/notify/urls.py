"""Pages of fangyi.notify: the inbox, the bell's poll, the user's settings, the kinds."""

from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/bell/", views.notification_bell, name="notification_bell"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("notifications/settings/", views.notification_settings, name="notification_settings"),
    path("notifications/kinds/", views.notification_kinds, name="notification_kinds"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
]
