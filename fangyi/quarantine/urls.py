"""Pages of fangyi.quarantine: sites, beds, placements and the occupancy board (urls_sites),
refusals, persuasion and the quarantine notice (urls_refusals)."""

from django.urls import include, path

urlpatterns = [
    path("", include("fangyi.quarantine.urls_sites")),
    path("", include("fangyi.quarantine.urls_refusals")),
]
