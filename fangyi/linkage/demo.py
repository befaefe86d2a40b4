"""The demo city's part from fangyi.linkage; called by fangyi.demo.build_demo.

The shut door of the screening sweep (閉門羹): the grid worker asked the station's police for
support from the refused door, the officer accepted and arrived within the target. And one
urgent request still waiting, from community staff to health staff, on a household of 機務小區,
so the dispatch board and the health worker's day list show a running timer."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from fangyi.core.models import subtree_q
from fangyi.people.models import Household
from fangyi.screening.models import Assignment

from .models import Agency, SupportRequest, Urgency
from .services import support_accept, support_arrive, support_request_create

URGENT_NEED = "住户家中老人发热38.5℃,家属要求上门诊治,请卫健人员尽快上门测温评估"


@transaction.atomic
def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""

    now = timezone.now()
    door = (
        Assignment.objects.filter(subtree_q(n["jiwu"].path, "node__path"), needs_police=True)
        .select_related("household", "sweep", "node")
        .order_by("pk")
        .first()
    )
    if door is not None:
        asked = support_request_create(
            actor=users["wanggeyuan"],
            agency=Agency.POLICE,
            urgency=Urgency.HIGH,
            need=f"{door.household.address}住户拒不开门,拒绝配合“{door.sweep.purpose}”,"
            "请民警到场协助入户",
            assignment=door,
        )
        support_accept(actor=users["xuhongxin"], request=asked)
        support_arrive(actor=users["xuhongxin"], request=asked)
        # The times of a real evening: asked 50 minutes ago, accepted after 4, there after 22.
        start = now - dt.timedelta(minutes=50)
        SupportRequest.objects.filter(pk=asked.pk).update(
            created_at=start,
            due_at=start + dt.timedelta(minutes=asked.target_minutes),
            accepted_at=start + dt.timedelta(minutes=4),
            arrived_at=start + dt.timedelta(minutes=22),
        )

    household = (
        Household.objects.filter(node=n["jiwu_xq"]).exclude(pk=getattr(door, "household_id", 0))
    ).order_by("pk")[1:2]
    for h in household:
        waiting = support_request_create(
            actor=users["shequ"],
            agency=Agency.HEALTH,
            urgency=Urgency.URGENT,
            need=URGENT_NEED,
            household=h,
        )
        start = now - dt.timedelta(minutes=3)
        SupportRequest.objects.filter(pk=waiting.pk).update(
            created_at=start, due_at=start + dt.timedelta(minutes=waiting.target_minutes)
        )
