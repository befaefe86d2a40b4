"""The demo city's part from fangyi.enforcement; called by fangyi.demo.build_demo.

The district bureau's public notice on gatherings, which officers cite; and, when the tips
part has put the dinner gathering in 南鐵北四區 into the demo, the education given there by
徐紅心 with a follow-up check in three days."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangyi.tips.models import Tip

from .models import LegalBasis, Measure
from .services import EnforcementInput, enforcement_record

NOTICE = {
    "title": "西乡塘区公安分局关于严禁聚集聚餐的通告",
    "issuer": "南宁市公安局西乡塘分局",
    "reference": "",
    "issued_on": dt.date(2020, 2, 3),
    "summary": "疫情防控期间严禁聚集、聚餐、打牌等活动;多人聚集聚餐、经劝阻拒不解散的,"
    "一律依法予以行政拘留。",
    "order": 1,
}


def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    notice = LegalBasis.objects.create(**NOTICE)

    tip = (
        Tip.objects.filter(node=n["nb4"], category__code="gathering")
        .select_related("node")
        .order_by("received_at", "id")
        .first()
    )
    if tip is None:
        return
    officer = users["xuhongxin"]
    at = max(tip.received_at, timezone.now() - dt.timedelta(hours=2))
    enforcement_record(
        actor=officer,
        data=EnforcementInput(
            tip=tip,
            measure=Measure.EDUCATION,
            at=min(at + dt.timedelta(minutes=20), timezone.now()),
            location=tip.address or tip.node.name,
            legal_bases=[notice],
            described_people="居民6名在屋内喝酒聚餐,均未佩戴口罩。",
            statements="起初称“生死由命,富贵在天,疫情与我们无关”;经一小时说服教育,"
            "聚餐组织者当场表示疫情防控期间不再组织聚餐。",
            facts="接群众举报后与社区工作人员赶赴现场核查,向聚餐人员宣讲分局通告"
            "(多人聚餐不听劝阻的将一律行政拘留),说服教育后人员散去。",
            officers=[officer],
            followup_on=timezone.localdate() + dt.timedelta(days=3),
        ),
    )
