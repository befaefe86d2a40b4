"""The demo city's part from fangyi.health; called by fangyi.demo.build_demo.

Risk areas 湖北省 and 溫州市 counting from 40 days ago (the demo lives in the present), the
default symptoms, and a few declarations in 機務小區: one cleared, one back from 武漢 (home
observation proposed), one close contact with a confirmed case (centralised observation
proposed, awaiting health staff's decision), and one self-report waiting for a worker's
confirmation. Small on purpose: it runs for every test database and every browser test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from fangyi.people.models import Household

from .models import Symptom
from .services import (
    DeclarationInput,
    declaration_record,
    risk_area_create,
    selfreport_declare,
    selfreport_link_create,
)

SYMPTOMS = [
    ("fever", "发热"),
    ("dry_cough", "干咳"),
    ("fatigue", "乏力"),
    ("sore_throat", "咽痛"),
    ("shortness_of_breath", "气促"),
    ("diarrhoea", "腹泻"),
    ("loss_of_smell_or_taste", "嗅觉味觉减退"),
    ("muscle_aches", "肌肉酸痛"),
]


@transaction.atomic
def build(n: dict, users: dict) -> None:
    """n: the demo tree's nodes by key (see fangyi.demo._tree); users: the demo users by username."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=40)
    for order, (code, name) in enumerate(SYMPTOMS, start=1):
        Symptom.objects.get_or_create(code=code, defaults={"name": name, "order": order * 10})
    admin = users["admin"]
    risk_area_create(
        actor=admin,
        data={
            "name": "湖北省",
            "division": "420000",
            "counts_from": start,
            "notes": "全省",
        },
    )
    risk_area_create(
        actor=admin, data={"name": "温州市", "division": "330300", "counts_from": start}
    )

    worker = users["wanggeyuan"]
    # Not the compound's first household: tests use that one as their own.
    households = list(Household.objects.filter(node=n["jiwu_xq"]).order_by("pk")[1:5])
    members = [h.members.order_by("pk").first() for h in households]
    members = [m for m in members if m is not None]

    def day(ago: int) -> str:
        return (today - dt.timedelta(days=ago)).isoformat()

    cleared, home, contact, selfreport = members[:4]
    declaration_record(
        actor=worker,
        person=cleared,
        data=DeclarationInput(temperature=Decimal("36.4"), temperature_method="forehead"),
    )
    declaration_record(
        actor=worker,
        person=home,
        data=DeclarationInput(
            temperature=Decimal("36.7"),
            temperature_method="forehead",
            travel_since=today - dt.timedelta(days=30),
            travel=[{"place": "武汉市", "from": day(12), "to": day(6), "transport": "高铁"}],
        ),
    )
    declaration_record(
        actor=worker,
        person=contact,
        data=DeclarationInput(
            temperature=Decimal("36.5"),
            temperature_method="ear",
            contacts=[{"kind": "confirmed", "who": "亲戚", "date": day(3), "place": "家庭聚餐"}],
            notes="住户举报:曾与确诊病例密切接触",
        ),
    )
    link, _token = selfreport_link_create(actor=worker, person=selfreport)
    selfreport_declare(
        link=link,
        data=DeclarationInput(
            temperature=Decimal("36.6"),
            temperature_method="armpit",
            travel=[{"place": "温州", "from": day(9), "to": day(8), "transport": "飞机"}],
        ),
    )
