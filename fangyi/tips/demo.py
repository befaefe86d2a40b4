"""The demo city's part from fangyi.tips; called by fangyi.demo.build_demo.

Three tips at realistic stages, all through the services: the free-range poultry in 機務小區
(routed to community staff and police, accepted, one visit so far), a 不戴口罩 tip in 機務小區
answered and closed, and a gathering in 南鐵北四區 just in. The older ones are then moved back
in time (the services stamp "now")."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from .models import Resolution, Tip, TipCategory, TipEvent, TipSource, VisitAction
from .services import (
    TipInput,
    tip_accept,
    tip_answer,
    tip_close,
    tip_record,
    tip_resolve,
    tip_submit_public,
    tip_visit_record,
)

DEMO_IP = "203.0.113.7"  # documentation range: the demo's "resident"


def _back(tip: Tip, delta: dt.timedelta) -> None:
    """Move a tip, its events and visits back in time by `delta`."""
    fields = ("received_at", "due_at", "accepted_at", "on_scene_at", "resolved_at")
    fields += ("answered_at", "closed_at")
    tip.refresh_from_db()
    for f in fields:
        value = getattr(tip, f)
        if value is not None:
            setattr(tip, f, value - delta)
    tip.save(update_fields=list(fields))
    for e in TipEvent.objects.filter(tip=tip):
        e.at -= delta
        e.save(update_fields=["at"])
    for v in tip.visits.all():
        v.at -= delta
        v.save(update_fields=["at"])


@transaction.atomic
def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    cats = {c.code: c for c in TipCategory.objects.all()}
    staff = users["shequ"]

    # The poultry in 機務小區: a resident's complaint two days ago, accepted, visited once.
    poultry = tip_submit_public(
        data=TipInput(
            category=cats["poultry"],
            description="机务小区3栋后面空地有住户散养鸡鸭十多只,到处跑,粪便很多,疫情期间担心传播疾病。",
            node=n["jiwu_xq"],
            answers={"kind": "鸡"},
            reporter_name="陈女士",
            reporter_phone="13877112233",
        ),
        ip=DEMO_IP,
    )
    tip_accept(actor=staff, tip=poultry)
    tip_visit_record(
        actor=staff,
        tip=poultry,
        at=timezone.now(),
        found="3栋后空地确有散养鸡约12只,饲养户为3栋1单元住户。",
        actions=[VisitAction.PERSUADED, VisitAction.NOTICES],
        people=2,
        notices=4,
        notes="已告知三日内圈养或处理。",
    )
    _back(poultry, dt.timedelta(days=1, hours=20))

    # 不戴口罩 at the 機務小區 gate, taken by phone four days ago: handled, answered, closed.
    masks = tip_record(
        actor=users["wanggeyuan"],
        data=TipInput(
            category=cats["no_mask"],
            description="小区门口超市排队的人很多不戴口罩。",
            node=n["jiwu_xq"],
            answers={"place": "小区门口超市"},
            reporter_phone="13977001122",
        ),
        source=TipSource.PHONE,
    )
    grid = users["wanggeyuan"]
    tip_accept(actor=grid, tip=masks)
    tip_visit_record(
        actor=grid,
        tip=masks,
        at=timezone.now(),
        found="超市门口排队约15人,5人未戴口罩。",
        actions=[VisitAction.EDUCATION, VisitAction.LEAFLETS],
        people=15,
    )
    tip_resolve(actor=grid, tip=masks, resolution=Resolution.EDUCATED)
    tip_answer(
        actor=grid,
        tip=masks,
        answer="已到现场劝导,并与超市约定门口专人提醒佩戴口罩、一米线排队。感谢您的反映。",
    )
    tip_close(actor=staff, tip=masks)
    _back(masks, dt.timedelta(days=4))

    # A gathering in 南鐵北四區, just in: routed to the station's police at once.
    tip_submit_public(
        data=TipInput(
            category=cats["gathering"],
            description="南铁北四区7栋2单元有一家在聚餐,来了十几个亲戚,很吵。",
            node=n["nb4"],
            answers={"people": "12", "masks": "no", "ongoing": "yes"},
        ),
        ip=DEMO_IP,
    )
