"""The demo city's patrols; called by fangyi.demo.build_demo like every app's demo part.

The seed's morning patrol (巡逻宣传): 徐红心 with auxiliary 黄明 round 机务小区 from 08:00, the
elders playing cards sent home, the publicity by loudspeaker and leaflets, a man without a
mask persuaded, the route kept; the station's plan (every compound of 五里亭 twice a day), so
the coverage page and the officer's day list show what is overdue. Relative to the present, so
the demo looks alive whenever it is loaded; written through the services, audited like real
work."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import PatrolPlan
from .services import (
    EventInput,
    Position,
    patrol_end,
    patrol_event_record,
    patrol_start,
    plan_set,
    route_add,
)

# The route round 机务小区 (a small loop, about 300 m across).
ROUTE = [
    ("22.817000", "108.366000"),
    ("22.817400", "108.366500"),
    ("22.818100", "108.367000"),
    ("22.818600", "108.366400"),
    ("22.818200", "108.365600"),
    ("22.817400", "108.365500"),
    ("22.817050", "108.365950"),
]


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    officer, auxiliary = users["xuhongxin"], users["fujing"]
    now = timezone.localtime()
    start = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if start > now - dt.timedelta(hours=2):
        start -= dt.timedelta(days=1)
    plan_set(actor=users["suozhang"], node=n["wlt"], times_per_day=2)
    # The plan has stood since yesterday: what nobody patrolled since shows as overdue.
    PatrolPlan.objects.update(set_at=now - dt.timedelta(days=1))

    patrol = patrol_start(
        actor=officer,
        node=n["jiwu_xq"],
        companions=[auxiliary],
        others="志愿者2名",
        at=start,
        position=Position(*ROUTE[0], 10),
    )
    minute = dt.timedelta(minutes=1)
    patrol_event_record(
        actor=officer,
        patrol=patrol,
        data=EventInput(
            kind="gathering",
            at=start + 12 * minute,
            address="机务小区5栋楼下凉亭",
            position=Position(*ROUTE[2], 8),
            people=4,
            activity="cards",
            statements="几位老人起初说“就玩一会儿”,听了聚集传播的危险后表示马上回家。",
            outcome="went_home",
        ),
    )
    patrol_event_record(
        actor=auxiliary,
        patrol=patrol,
        data=EventInput(
            kind="publicity",
            at=start + 25 * minute,
            address="机务小区主干道",
            position=Position(*ROUTE[3], 12),
            methods=["loudspeaker", "leaflets", "posters"],
            reached=80,
            materials=50,
            notes="出门戴口罩、勤洗手、少出门、不聚集",
        ),
    )
    patrol_event_record(
        actor=officer,
        patrol=patrol,
        data=EventInput(
            kind="masks",
            at=start + 38 * minute,
            address="机务小区东门",
            position=Position(*ROUTE[5], 10),
            people=1,
            statements="一名居民未戴口罩外出,劝导后戴上。",
        ),
    )
    route_add(
        actor=officer,
        patrol=patrol,
        points=[
            (start + (6 * i + 3) * minute, lat, lon, 15) for i, (lat, lon) in enumerate(ROUTE[1:])
        ],
    )
    patrol_end(
        actor=officer,
        patrol=patrol,
        at=start + 55 * minute,
        summary="带领辅警、志愿者巡逻机务小区一圈:劝散打牌老人4人,喇叭宣传、发放传单,"
        "劝导未戴口罩居民1人。",
        position=Position(*ROUTE[-1], 10),
    )
