from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuestsConfig(AppConfig):
    name = "fangyi.guests"
    label = "guests"
    verbose_name = _("Hotel guest reports")
