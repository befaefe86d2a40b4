"""Pages of fangyi.tips: the public report and tracking pages, and the staff's tips."""

from django.urls import path

from . import views

urlpatterns = [
    path("report/", views.report, name="tip_report"),
    path("track/", views.track, name="track"),
    path("track/<str:code>/", views.track_detail, name="track_detail"),
    path("tips/", views.tip_list, name="tip_list"),
    path("tips/new/", views.tip_create, name="tip_create"),
    path("tips/categories/", views.category_list, name="tipcategory_list"),
    path("tips/categories/<int:pk>/", views.category_edit, name="tipcategory_edit"),
    path("tips/photos/<int:pk>/", views.tip_photo, name="tip_photo"),
    path("tips/<int:pk>/", views.tip_detail, name="tip_detail"),
    path("tips/<int:pk>/assign/", views.tip_assign, name="tip_assign"),
    path("tips/<int:pk>/accept/", views.tip_accept, name="tip_accept"),
    path("tips/<int:pk>/on-scene/", views.tip_on_scene, name="tip_on_scene"),
    path("tips/<int:pk>/visits/", views.tip_visit, name="tip_visit"),
    path("tips/<int:pk>/resolve/", views.tip_resolve, name="tip_resolve"),
    path("tips/<int:pk>/answer/", views.tip_answer, name="tip_answer"),
    path("tips/<int:pk>/answer/correct/", views.tip_answer_correct, name="tip_answer_correct"),
    path("tips/<int:pk>/close/", views.tip_close, name="tip_close"),
    path("tips/<int:pk>/reopen/", views.tip_reopen, name="tip_reopen"),
    path("tips/<int:pk>/merge/", views.tip_merge, name="tip_merge"),
]
