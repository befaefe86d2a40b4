"""The demo city's part from fangyi.screening; called by fangyi.demo.build_demo.

An open sweep "春节以来返邕人员排查" over 機務社區 that started three days ago: about half of the
doors visited, two where nobody was home (revisits due today), one refused door that needs the
police. Opened through the service; the attempts are written in bulk (it runs for every test
database and every browser test, so it must stay well under a second)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone

from fangyi.core.audit import audit_entry
from fangyi.core.models import AuditEntry

from .models import Assignment, DoorStatus, DoorVisit
from .services import sweep_open, visit_changes

PURPOSE = "春节以来返邕人员排查"
NOTES = {
    DoorStatus.VISITED: "已入户登记,测温正常",
    DoorStatus.NOBODY_HOME: "敲门无人应答,已留联系卡",
    DoorStatus.REFUSED: "住户不开门,拒绝配合排查",
}


@transaction.atomic
def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    today = timezone.localdate()
    sweep = sweep_open(
        actor=users["suozhang"],
        node=n["jiwu"],
        purpose=PURPOSE,
        starts=today - dt.timedelta(days=3),
        ends=today + dt.timedelta(days=7),
    )
    doors = list(
        Assignment.objects.filter(sweep=sweep).select_related("node").order_by("household_id")
    )
    tz = timezone.get_current_timezone()

    def when(days_ago: int, minutes: int) -> dt.datetime:
        day = today - dt.timedelta(days=days_ago)
        return dt.datetime.combine(day, dt.time(9, 0), tz) + dt.timedelta(minutes=minutes)

    # Every other door visited over the three days; then, among the grid worker's doors still
    # pending, two where nobody was home yesterday and one that refused.
    plan: dict[int, tuple[str, dt.datetime]] = {}
    for i, door in enumerate(doors[::2]):
        plan[door.pk] = (DoorStatus.VISITED, when(3 - i % 3, 7 * (i // 3)))
    worker = users["wanggeyuan"]
    left = [d for d in doors if d.pk not in plan and d.assignee_id == worker.pk]
    for door, outcome in zip(
        left, (DoorStatus.NOBODY_HOME, DoorStatus.NOBODY_HOME, DoorStatus.REFUSED), strict=False
    ):
        plan[door.pk] = (outcome, when(1, 600 + len(plan) % 50))

    visits = []
    for door in doors:
        if door.pk not in plan:
            continue
        outcome, at = plan[door.pk]
        by_id = door.assignee_id or worker.pk
        visits.append(
            DoorVisit(
                assignment=door,
                household_id=door.household_id,
                node_id=door.node_id,
                outcome=outcome,
                at=at,
                by_id=by_id,
                notes=NOTES[outcome],
                client_id=uuid.uuid4(),
            )
        )
        door.status, door.attempts, door.last_attempt = outcome, 1, at
        if outcome != DoorStatus.VISITED:
            door.revisit_due = timezone.localtime(at).date() + dt.timedelta(days=1)
        door.needs_police = outcome == DoorStatus.REFUSED
    DoorVisit.objects.bulk_create(visits)
    if visits and visits[0].pk is None:
        ids = dict(
            DoorVisit.objects.filter(client_id__in=[v.client_id for v in visits]).values_list(
                "client_id", "pk"
            )
        )
        for v in visits:
            v.pk = ids[v.client_id]
    Assignment.objects.bulk_update(
        [d for d in doors if d.pk in plan],
        ["status", "attempts", "last_attempt", "revisit_due", "needs_police"],
    )
    paths = {d.pk: d.node.path for d in doors}
    AuditEntry.objects.bulk_create(
        [
            audit_entry(
                None,
                "fangyi.doorvisit.created",
                v,
                object_repr=f"{v.at:%Y-%m-%d %H:%M}",
                changes=visit_changes(v),
                node_path=paths[v.assignment_id],
            )
            for v in visits
        ]
    )
