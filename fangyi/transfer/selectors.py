"""Reads of import jobs, scoped to the acting user: one's own jobs, and for a supervisor every
job of the subtree."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.errors import NotFound
from fangyi.core.models import Role, User

from .models import ImportJob


def import_list(user: User) -> QuerySet[ImportJob]:
    access.require(user, "import.run")
    qs = ImportJob.objects.visible_to(user)
    if user.role != Role.SUPERVISOR:
        qs = qs.filter(Q(created_by=user))
    return qs.select_related("created_by", "sweep", "node").order_by("-created", "-id")


def import_get(user: User, pk: int) -> ImportJob:
    job = import_list(user).filter(pk=pk).first()
    if job is None:
        raise NotFound(_("No such import."))
    return job
