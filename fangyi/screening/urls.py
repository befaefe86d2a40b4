"""Pages of fangyi.screening."""

from django.urls import path

from . import views

urlpatterns = [
    path("sweeps/", views.sweep_list, name="sweep_list"),
    path("sweeps/new/", views.sweep_create, name="sweep_create"),
    path("sweeps/<int:pk>/", views.sweep_detail, name="sweep_detail"),
    path("sweeps/<int:pk>/coverage/", views.sweep_coverage, name="sweep_coverage"),
    path("sweeps/<int:pk>/close/", views.sweep_close, name="sweep_close"),
    path("sweeps/<int:pk>/reassign/", views.sweep_reassign, name="sweep_reassign"),
    path("sweeps/<int:pk>/doors/", views.sweep_doors, name="sweep_doors"),
    path("doors/<int:pk>/", views.door_detail, name="door_detail"),
    path("doors/<int:pk>/reassign/", views.door_reassign, name="door_reassign"),
    path("households/<int:pk>/doors/", views.household_doors, name="household_doors"),
]
