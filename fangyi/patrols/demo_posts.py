"""The demo city's duty posts; called by fangyi.demo.build_demo like every app's demo part.

A road checkpoint on 北大路 (round the clock, the road into the community with the hotel), with
the shift now on duty (輔警 黃明 and officer 徐紅心, checked in, a few hours of counters) and the
next one planned for 徐紅心; and the gate of 機務小區 (07:00–22:00) with a shift of community
staff 李麗 that starts now and is not taken yet: the shift to take on her day list (and, once the
grace has passed, an unstaffed shift on the supervisor's). Relative to the present, so the demo
looks alive whenever it is loaded; written through the services, audited like real work."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from .models import PostKind, Tally
from .posts import PostInput, post_create, shift_plan, shift_take, shift_tally

# What the shift on duty on 北大路 has counted so far.
BEIDA_COUNTS = {
    Tally.PERSONS: 86,
    Tally.VEHICLES: 23,
    Tally.TEMPERATURES: 86,
    Tally.TURNED_BACK: 4,
}


@transaction.atomic
def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    boss = users["suozhang"]
    now = timezone.now().replace(second=0, microsecond=0)
    hour = now.replace(minute=0)

    beida = post_create(
        actor=boss,
        data=PostInput(
            node=n["beida_st"],
            name="北大路卡点",
            kind=PostKind.ROAD,
            address="北大路与大学路交叉口",
            latitude="22.836200",
            longitude="108.284600",
            staffed_from=dt.time(0, 0),
            staffed_to=dt.time(0, 0),  # round the clock
        ),
    )
    gate = post_create(
        actor=boss,
        data=PostInput(
            node=n["jiwu_xq"],
            name="机务小区北门",
            kind=PostKind.GATE,
            address="机务小区北门岗亭",
            staffed_from=dt.time(7, 0),
            staffed_to=dt.time(22, 0),
        ),
    )

    aux, officer, staff = users["fujing"], users["xuhongxin"], users["shequ"]
    current = shift_plan(
        actor=boss,
        post=beida,
        starts=hour - dt.timedelta(hours=2),
        ends=hour + dt.timedelta(hours=4),
        staff=[aux, officer],
    )
    shift_take(actor=aux, shift=current, at=current.starts + dt.timedelta(minutes=3))
    for kind, number in BEIDA_COUNTS.items():
        shift_tally(actor=aux, shift=current, kind=kind, delta=number)
    shift_plan(
        actor=boss,
        post=beida,
        starts=current.ends,
        ends=current.ends + dt.timedelta(hours=6),
        staff=[officer],
    )
    shift_plan(
        actor=boss,
        post=gate,
        starts=now,
        ends=now + dt.timedelta(hours=4),
        staff=[staff],
    )


load = build  # the name the lead asked for; fangyi.demo calls build(n, users) on each part
