"""Pages of the patrol part of fangyi.patrols (the duty posts' are in urls_posts.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("patrols/", views.patrol_list, name="patrol_list"),
    path("patrols/new/", views.patrol_start, name="patrol_start"),
    path("patrols/coverage/", views.coverage, name="patrol_coverage"),
    path("patrols/plans/", views.plan_form, name="patrol_plan"),
    path("patrols/<int:pk>/", views.patrol_detail, name="patrol_detail"),
    path("patrols/<int:pk>/event/", views.event_create, name="patrol_event_create"),
    path("patrols/<int:pk>/end/", views.patrol_end, name="patrol_end"),
    path("patrols/<int:pk>/route/", views.patrol_route, name="patrol_route"),
    path("patrols/events/<int:pk>/", views.event_detail, name="patrol_event_detail"),
    path("patrols/events/<int:pk>/tip/", views.event_tip, name="patrol_event_tip"),
    path("patrols/events/<int:pk>/support/", views.event_support, name="patrol_event_support"),
    path(
        "patrols/events/<int:pk>/enforcement/",
        views.event_enforcement,
        name="patrol_event_enforcement",
    ),
    path("patrols/events/<int:pk>/resolve/", views.event_resolve, name="patrol_event_resolve"),
    path("patrols/photos/<int:pk>/", views.photo, name="patrol_photo"),
]
