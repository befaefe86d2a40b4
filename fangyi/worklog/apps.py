from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorklogConfig(AppConfig):
    name = "fangyi.worklog"
    label = "worklog"
    verbose_name = _("Work log")
