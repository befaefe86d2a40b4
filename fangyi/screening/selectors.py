"""Reads of sweeps, doors and coverage, scoped to the acting user."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from fangyi.core import access
from fangyi.core.models import User

from .models import Assignment, DoorStatus, SweepStatus

OPEN_DOOR_STATUSES = [DoorStatus.PENDING, DoorStatus.NOBODY_HOME, DoorStatus.REFUSED]


def doors_due(user: User, day: dt.date) -> QuerySet[Assignment]:
    """The user's doors still to knock on `day` in open sweeps, most urgent first: refused
    doors (police support), then revisits that are due, then the rest by address."""
    return (
        Assignment.objects.filter(
            assignee=user,
            status__in=OPEN_DOOR_STATUSES,
            sweep__status=SweepStatus.OPEN,
            sweep__starts__lte=day,
        )
        .filter(Q(revisit_due__isnull=True) | Q(revisit_due__lte=day))
        .filter(access.node_q(user))
        .annotate(
            urgency=Case(
                When(status=DoorStatus.REFUSED, then=Value(0)),
                When(revisit_due__lt=day, then=Value(1)),
                When(revisit_due=day, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .select_related("household", "sweep")
        .order_by("urgency", "household__address", "id")
    )
