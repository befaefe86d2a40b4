"""The demo city's part from fangyi.guests; called by fangyi.demo.build_demo.

The seed's two Wuhan residents, stranded in Guangxi after a trip to Vietnam, check in at
北大路賓館 today: the hotel's clerk (jiudian) reports them and the rules flag them, so the
station's officer finds them on his day list. One ordinary guest from 南寧 is not flagged."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangyi.core.validators import id_check_digit
from fangyi.people.models import Person

from .services import guest_report


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""

    clerk = users["jiudian"]
    today = timezone.localdate()
    travellers = Person.objects.filter(
        id_number__startswith="420106", notes__contains="武汉籍旅客"
    ).order_by("pk")
    for room, person in zip(("305", "306"), travellers, strict=False):
        guest_report(
            actor=clerk,
            data={
                "name": person.name,
                "id_type": person.id_type,
                "id_number": person.id_number,
                "phone": person.phone,
                "from_where": "湖北省武汉市",
                "travel_since": today - dt.timedelta(days=9),
                "arrived_on": today,
                "room": room,
                "notes": "越南旅游后经凭祥入境,滞留广西",
            },
        )
    first17 = "450103199204150213"[:17]
    guest_report(
        actor=clerk,
        data={
            "name": "黄家明",
            "id_type": "resident",
            "id_number": first17 + id_check_digit(first17),
            "phone": "13877112233",
            "from_where": "南宁市青秀区",
            "travel_since": today,
            "arrived_on": today,
            "room": "201",
        },
    )
