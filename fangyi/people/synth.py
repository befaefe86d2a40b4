"""Realistic synthetic residents: names, valid ID numbers, phones, households.

Used by the demo city (`fangyi demo`) and the benchmarks' synthetic city. Deterministic for a
given seed, so a scenario test can rely on who lives where.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from fangyi.core.validators import id_check_digit

from .models import IdType
from .services import PersonInput

# The most common surnames, roughly weighted by frequency (simplified script).
SURNAMES = (
    "王" * 72
    + "李" * 72
    + "张" * 68
    + "刘" * 52
    + "陈" * 45
    + "杨" * 31
    + "黄" * 24
    + "赵" * 20
    + "吴" * 20
    + "周" * 19
    + "徐" * 15
    + "孙" * 14
    + "马" * 13
    + "朱" * 12
    + "胡" * 11
    + "郭" * 11
    + "何" * 10
    + "林" * 10
    + "罗" * 9
    + "高" * 9
    + "梁" * 8
    + "郑" * 8
    + "谢" * 7
    + "宋" * 7
    + "唐" * 7
    + "韦" * 7
    + "许" * 6
    + "覃" * 6
    + "邓" * 6
    + "冯" * 5
    + "韩" * 5
    + "曹" * 5
    + "蒋" * 4
    + "蓝" * 4
    + "莫" * 4
    + "陆" * 4
    + "农" * 3
    + "卢" * 3
    + "潘" * 3
    + "廖" * 3
    + "苏" * 3
    + "蒙" * 2
    + "甘" * 2
    + "钟" * 2
)
GIVEN_M = "伟强磊军勇杰涛斌明超刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国志文海峰红心"
GIVEN_F = "芳娜敏静丽艳娟霞秀玲燕萍红琳洁婷雪慧颖莉梅兰凤琴云莹倩月春晓丹彤玉珍"

# Where people were born: mostly Nanning's districts, then the rest of Guangxi and elsewhere.
REGIONS = (
    ["450107"] * 30
    + ["450103"] * 12
    + ["450102"] * 10
    + ["450105"] * 10
    + ["450108"] * 5
    + ["450109"] * 3
    + ["450121"] * 5
    + ["450122"] * 4
    + ["450304"] * 4
    + ["450802"] * 4
    + ["452601"] * 3
    + ["440106"] * 2
    + ["420106"] * 1
    + ["420102"] * 1
    + ["510104"] * 1
    + ["430102"] * 1
)
MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "177",
    "180",
    "181",
    "182",
    "183",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]


@dataclass
class SynthPerson:
    name: str
    sex: str
    birth_date: dt.date
    id_number: str
    phone: str
    relation: str


class Synth:
    """A reproducible source of residents. IDs and phones are unique within one instance."""

    def __init__(self, seed: int = 2020, today: dt.date | None = None):
        self.rnd = random.Random(seed)
        self.today = today or dt.date(2020, 2, 1)
        self._ids: set[str] = set()
        self._phones: set[str] = set()

    def name(self, sex: str, surname: str | None = None) -> str:
        r = self.rnd
        given = GIVEN_M if sex == "M" else GIVEN_F
        n = 1 if r.random() < 0.3 else 2
        return (surname or r.choice(SURNAMES)) + "".join(r.choice(given) for _ in range(n))

    def birth_date(self, min_age: int, max_age: int) -> dt.date:
        days = self.rnd.randint(min_age * 365 + 1, max_age * 365 + 300)
        return self.today - dt.timedelta(days=days)

    def id_number(self, birth: dt.date, sex: str) -> str:
        r = self.rnd
        while True:
            seq = r.randint(0, 99) * 10 + r.choice(
                (1, 3, 5, 7, 9) if sex == "M" else (0, 2, 4, 6, 8)
            )
            first17 = f"{r.choice(REGIONS)}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_digit(first17)
            if number not in self._ids:
                self._ids.add(number)
                return number

    def phone(self) -> str:
        while True:
            number = self.rnd.choice(MOBILE_PREFIXES) + f"{self.rnd.randint(0, 99_999_999):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def person(
        self,
        sex: str,
        min_age: int,
        max_age: int,
        relation: str,
        surname: str | None = None,
        phone: bool = True,
    ) -> SynthPerson:
        birth = self.birth_date(min_age, max_age)
        return SynthPerson(
            self.name(sex, surname),
            sex,
            birth,
            self.id_number(birth, sex),
            self.phone() if phone else "",
            relation,
        )

    def household(self) -> list[SynthPerson]:
        """A household of 1 to 6, shaped like the census: couples, children, a grandparent."""
        r = self.rnd
        size = r.choices((1, 2, 3, 4, 5, 6), weights=(15, 30, 25, 18, 8, 4))[0]
        head_sex = r.choice("MF")
        surname = r.choice(SURNAMES)
        members = [self.person(head_sex, 28 if size > 2 else 20, 80, "户主", surname)]
        if size >= 2:
            members.append(self.person("F" if head_sex == "M" else "M", 25, 78, "配偶"))
        for _ in range(max(0, size - 2 - (1 if size >= 5 else 0))):
            child_sex = r.choice("MF")
            members.append(self.person(child_sex, 1, 24, "子女", surname, phone=r.random() < 0.4))
        if size >= 5:
            members.append(
                self.person(r.choice("MF"), 70, 92, "父母", surname, phone=r.random() < 0.5)
            )
        return members

    def address(self, street: str) -> Iterator[str]:
        """Unit addresses in a compound: building, entrance, floor and flat."""
        building = 0
        while True:
            building += 1
            for unit in (1, 2):
                for floor in range(1, 8):
                    for flat in (1, 2):
                        yield f"{street}{building}栋{unit}单元{floor}0{flat}室"


def resident_rows(households, synth: Synth):
    """The synthetic residents of each household, as the registry's bulk path takes them.

    Used by the demo city and the benchmark city alike."""

    for household in households:
        for m in synth.household():
            yield PersonInput(
                name=m.name,
                sex=m.sex,
                birth_date=m.birth_date,
                id_type=IdType.RESIDENT,
                id_number=m.id_number,
                phone=m.phone,
                household=household,
                relation=m.relation,
            )
