"""Pages of fangyi.tips."""

from django.urls import path  # noqa: F401

from . import views  # noqa: F401

urlpatterns: list = []
