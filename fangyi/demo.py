"""The demo city: Nanning's Xixiangtang district and Wuliting station from the seed, with
several hundred households of realistic residents and one user per role.

Everything is built through the services, so the demo carries the same audit trail and the
same validation as real data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangyi.core.models import Node, Role, User
from fangyi.core.services import node_create, user_create
from fangyi.core.validators import id_check_digit
from fangyi.people.models import Person, PlaceKind
from fangyi.people.services import (
    PersonInput,
    households_bulk_create,
    persons_bulk_create,
    place_create,
)
from fangyi.people.synth import Synth, resident_rows

DEMO_PASSWORD = "fangyi-demo-2020"  # noqa: S105 - printed for the demo; never a real account


@dataclass
class DemoLogin:
    username: str
    role: str
    where: str
    otp: bool


def _tree() -> dict[str, Node]:
    n: dict[str, Node] = {}

    def add(key, kind, name, parent=None, code=""):
        n[key] = node_create(actor=None, kind=kind, name=name, parent=n.get(parent), code=code)

    add("city", "city", "南宁市", code="4501")
    add("xxt", "district", "西乡塘区", "city", code="450107")
    add("wlt", "station", "五里亭派出所", "xxt")
    add("jiwu", "community", "机务社区", "wlt")
    add("jiwu_g1", "grid", "机务第一网格", "jiwu")
    add("jiwu_g2", "grid", "机务第二网格", "jiwu")
    add("jiwu_xq", "compound", "机务小区", "jiwu_g1")
    add("jiwu_xq2", "compound", "机务新村", "jiwu_g2")
    add("nantie", "community", "南铁社区", "wlt")
    add("nantie_g1", "grid", "南铁第一网格", "nantie")
    add("nb4", "compound", "南铁北四区", "nantie_g1")
    add("nb3", "compound", "南铁北三区", "nantie_g1")
    add("beida", "community", "北大社区", "wlt")
    add("beida_g1", "grid", "北大路网格", "beida")
    add("beida_st", "compound", "北大路沿街", "beida_g1")
    add("beihu", "station", "北湖派出所", "xxt")
    add("beihu_c", "community", "北湖社区", "beihu")
    add("beihu_g1", "grid", "北湖第一网格", "beihu_c")
    add("beihu_xq", "compound", "北湖小区", "beihu_g1")
    add("qx", "district", "青秀区", "city", code="450103")
    add("zz", "station", "中山派出所", "qx")
    add("zz_c", "community", "中山社区", "zz")
    add("zz_g1", "grid", "中山第一网格", "zz_c")
    add("zz_xq", "compound", "中山小区", "zz_g1")
    return n


# compound key, street prefix for addresses, households
HOUSEHOLDS = [
    ("jiwu_xq", "机务小区", 180),
    ("jiwu_xq2", "机务新村", 80),
    ("nb4", "南铁北四区", 120),
    ("nb3", "南铁北三区", 60),
    ("beida_st", "北大路", 40),
    ("beihu_xq", "北湖小区", 60),
    ("zz_xq", "中山小区", 60),
]


@transaction.atomic
def build_demo(seed: int = 2020) -> list[DemoLogin]:
    if Node.objects.exists():
        raise RuntimeError("the database is not empty; the demo city loads only into an empty one")
    n = _tree()
    synth = Synth(seed)

    hotel = place_create(
        actor=None,
        scoped=False,
        data={
            "kind": PlaceKind.HOTEL,
            "name": "北大路宾馆",
            "node": n["beida_st"],
            "address": "北大路88号",
            "phone": "0771-3125888",
        },
    )
    designated = place_create(
        actor=None,
        scoped=False,
        data={
            "kind": PlaceKind.DESIGNATED_HOTEL,
            "name": "湖北籍旅客定点酒店",
            "node": n["xxt"],
            "address": "西乡塘区明秀西路18号",
            "phone": "0771-3888666",
            "capacity": 60,
            "notes": "政府为湖北籍旅客设置的定点酒店",
        },
    )
    place_create(
        actor=None,
        scoped=False,
        data={
            "kind": PlaceKind.QUARANTINE_SITE,
            "name": "西乡塘区集中隔离点",
            "node": n["xxt"],
            "address": "西乡塘区大学东路100号",
            "phone": "0771-3999120",
            "capacity": 120,
        },
    )
    place_create(
        actor=None,
        scoped=False,
        data={
            "kind": PlaceKind.FEVER_CLINIC,
            "name": "西乡塘区人民医院发热门诊",
            "node": n["xxt"],
            "address": "西乡塘区北湖路20号",
            "phone": "0771-3120120",
        },
    )

    rows = []
    for key, street, count in HOUSEHOLDS:
        addresses = synth.address(street)
        rows.extend((n[key], next(addresses)) for _ in range(count))
    households = households_bulk_create(actor=None, rows=rows)

    people = list(resident_rows(households, synth))
    # The people the seed names, so scenarios and searches find them.
    first = households[0]
    people.append(
        PersonInput(
            name="徐红心",
            sex="M",
            birth_date=dt.date(1978, 6, 12),
            id_number=synth.id_number(dt.date(1978, 6, 12), "M"),
            phone=synth.phone(),
            household=first,
            relation="亲属",
            notes="五里亭派出所社区民警",
        )
    )
    # The two travellers from Wuhan at the hotel on 北大路 have no household here.
    for name, sex, born in (
        ("陈志强", "M", dt.date(1988, 3, 9)),
        ("刘丽", "F", dt.date(1990, 11, 2)),
    ):
        first17 = f"420106{born:%Y%m%d}{'015' if sex == 'M' else '026'}"
        people.append(
            PersonInput(
                name=name,
                sex=sex,
                birth_date=born,
                id_number=first17 + id_check_digit(first17),
                phone=synth.phone(),
                node=n["beida_st"],
                notes="武汉籍旅客,越南旅游后滞留广西",
            )
        )
    result = persons_bulk_create(actor=None, rows=people, scoped=False)
    if result.errors:
        raise RuntimeError(f"demo persons rejected: {result.errors[:3]}")

    logins: list[DemoLogin] = []

    def user(username, role, first, last, nodes=(), place=None, otp=False):
        u = user_create(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            nodes=[n[k] for k in nodes],
            place=place,
            first_name=first,
            last_name=last,
            check_password=False,
        )
        if otp:
            TOTPDevice.objects.create(user=u, name="demo", confirmed=True)
        where = ", ".join(n[k].name for k in nodes) or (place.name if place else "")
        logins.append(DemoLogin(username, role, where, otp))
        return u

    user("xuhongxin", Role.POLICE, "红心", "徐", ["wlt"])
    user("fujing", Role.AUXILIARY, "明", "黄", ["wlt"])
    user("wanggeyuan", Role.GRID_WORKER, "芳", "韦", ["jiwu_g1"])
    user("shequ", Role.COMMUNITY_STAFF, "丽", "李", ["jiwu"])
    user("weijian", Role.HEALTH_STAFF, "敏", "覃", ["xxt"])
    user("jiudian", Role.SITE_STAFF, "婷", "莫", place=hotel)
    user("dingdian", Role.SITE_STAFF, "静", "蒙", place=designated)
    user("suozhang", Role.SUPERVISOR, "建国", "梁", ["wlt"], otp=True)
    user("admin", Role.ADMIN, "", "管理员", ["city"], otp=True)
    user("beihu", Role.POLICE, "伟", "张", ["beihu"])

    # The daily rounds: risk rules, a sweep under way, people under observation.
    from fangyi.enforcement import demo as enforcement_demo
    from fangyi.guests import demo as guests_demo
    from fangyi.health import demo as health_demo
    from fangyi.linkage import demo as linkage_demo
    from fangyi.observation import demo as observation_demo
    from fangyi.patrols import demo as patrols_demo
    from fangyi.patrols import demo_posts as posts_demo
    from fangyi.quarantine import demo as quarantine_demo
    from fangyi.quarantine import demo_refusals
    from fangyi.screening import demo as screening_demo
    from fangyi.tips import demo as tips_demo

    _configuration_defaults()
    users = {u.username: u for u in User.objects.all()}
    parts = (
        health_demo,
        screening_demo,
        observation_demo,
        tips_demo,
        linkage_demo,
        enforcement_demo,
        quarantine_demo,
        demo_refusals,
        guests_demo,
        patrols_demo,
        posts_demo,
    )
    for part in parts:
        part.build(n, users)
    return logins


# The data migrations that load default configuration. Each is idempotent (get_or_create).
DEFAULTS = (
    "fangyi.tips.migrations.0002_default_categories",
    "fangyi.linkage.migrations.0003_default_targets",
    "fangyi.enforcement.migrations.0003_default_bases",
    "fangyi.quarantine.migrations.0002_default_groups",
)


def _configuration_defaults() -> None:
    """The default categories, response targets and legal bases, loaded again: a database that
    was flushed (the browser tests' live server empties every table) has lost them."""
    from importlib import import_module

    from django.apps import apps as django_apps

    for module in DEFAULTS:
        import_module(module).forwards(django_apps, None)


def demo_counts() -> dict[str, int]:
    from fangyi.people.models import Household

    return {"households": Household.objects.count(), "persons": Person.objects.count()}
