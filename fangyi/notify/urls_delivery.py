"""Pages of the outbox's delivery log (administrators)."""

from django.urls import path

from . import views_delivery as views

urlpatterns = [
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
]
