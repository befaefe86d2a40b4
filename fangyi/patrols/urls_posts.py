"""Pages of the duty posts: /posts/ (the posts, a post and its shifts, the post form) and
/shifts/ (the shift log, checking in, the counters, registering a person, the handover)."""

from django.urls import path

from . import views_posts as views

urlpatterns = [
    path("posts/", views.post_list, name="post_list"),
    path("posts/new/", views.post_form, name="post_create"),
    path("posts/<int:pk>/", views.post_detail, name="post_detail"),
    path("posts/<int:pk>/edit/", views.post_form, name="post_edit"),
    path("posts/<int:pk>/shifts/new/", views.shift_create, name="shift_create"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift_detail"),
    path("shifts/<int:pk>/take/", views.shift_take, name="shift_take"),
    path("shifts/<int:pk>/tally/", views.shift_tally, name="shift_tally"),
    path("shifts/<int:pk>/register/", views.shift_register, name="shift_register"),
    path("shifts/<int:pk>/register/people/", views.person_search, name="shift_person_search"),
    path("shifts/<int:pk>/handover/", views.shift_handover, name="shift_handover"),
]
