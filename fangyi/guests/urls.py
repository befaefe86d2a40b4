"""Pages of fangyi.guests."""

from django.urls import path

from . import views

urlpatterns = [
    path("guests/", views.guest_home, name="guest_home"),
    path("guests/check-id/", views.guest_check_id, name="guest_check_id"),
    path("guests/settings/", views.guest_settings, name="guest_settings"),
    path("guests/<int:pk>/", views.guest_detail, name="guest_detail"),
    path("guests/<int:pk>/register/", views.guest_register, name="guest_register"),
    path("guests/<int:pk>/refer/", views.guest_refer, name="guest_refer"),
    path("guests/<int:pk>/clear/", views.guest_clear, name="guest_clear"),
]
