"""Pages of fangyi.quarantine: sites and beds, placements, the occupancy board."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("sites/", views.site_list, name="site_list"),
    path("sites/<int:pk>/", views.site_detail, name="site_detail"),
    path("sites/<int:pk>/setup/", views.site_setup, name="site_setup"),
    path("beds/<int:pk>/state/", views.bed_state, name="bed_state"),
    path("placements/", views.placement_list, name="placement_list"),
    path("placements/new/", views.placement_create, name="placement_create"),
    path("placements/<int:pk>/", views.placement_detail, name="placement_detail"),
    path("placements/<int:pk>/arrive/", views.placement_arrive, name="placement_arrive"),
    path("placements/<int:pk>/transfer/", views.placement_transfer, name="placement_transfer"),
    path("placements/<int:pk>/release/", views.placement_release, name="placement_release"),
    path("placements/<int:pk>/cancel/", views.placement_cancel, name="placement_cancel"),
    path("occupancy/", views.occupancy, name="occupancy"),
    path("occupancy/live/", views.occupancy_live, name="occupancy_live"),
]
