"""Pages of fangyi.health."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
