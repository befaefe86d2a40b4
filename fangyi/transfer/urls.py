"""Pages of fangyi.transfer."""

from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/template.xlsx", views.template_xlsx, name="import_template_xlsx"),
    path("imports/template.csv", views.template_csv, name="import_template_csv"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/errors.xlsx", views.import_errors_xlsx, name="import_errors_xlsx"),
    path("imports/<int:pk>/errors.csv", views.import_errors_csv, name="import_errors_csv"),
    path("exports/observations.xlsx", views.export_observations, name="export_observations"),
    path("exports/sweeps/<int:pk>/coverage.xlsx", views.export_coverage, name="export_coverage"),
]
