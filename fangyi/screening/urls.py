"""Pages of fangyi.screening."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
