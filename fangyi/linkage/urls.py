"""Pages of fangyi.linkage."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("support/", views.support_list, name="support_list"),
    path("support/new/", views.support_create, name="support_create"),
    path("support/targets/", views.targets, name="support_targets"),
    path("support/<int:pk>/", views.support_detail, name="support_detail"),
    path("support/<int:pk>/accept/", views.support_accept, name="support_accept"),
    path("support/<int:pk>/decline/", views.support_decline, name="support_decline"),
    path("support/<int:pk>/arrive/", views.support_arrive, name="support_arrive"),
    path("support/<int:pk>/done/", views.support_done, name="support_done"),
    path("support/<int:pk>/cancel/", views.support_cancel, name="support_cancel"),
    path("dispatch/", views.dispatch_choose, name="dispatch_choose"),
    path("dispatch/<int:pk>/", views.dispatch_board, name="dispatch_board"),
    path("dispatch/<int:pk>/live/", views.dispatch_live, name="dispatch_live"),
    path("tips/<int:pk>/support/", views.tip_support, name="tip_support"),
]
