from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QuarantineConfig(AppConfig):
    name = "fangyi.quarantine"
    label = "quarantine"
    verbose_name = _("Quarantine sites and placements")

    def ready(self) -> None:
        from . import signals  # noqa: F401 - registers the receivers
