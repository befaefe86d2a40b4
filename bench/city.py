"""A synthetic city of `n` households, built through the services like real data.

The jurisdiction tree is 1 city, a few districts, police stations, communities, grids and
compounds, sized so that a compound holds 200 to 400 households (about 300). Addresses come
from `Synth.address`, residents from `Synth.household()`: valid ID numbers, realistic names
and household sizes (2.9 persons on average, so n households make about 2.9 n persons).

    city = build_tree(n, seed)
    households = households_bulk_create(actor=None, rows=household_rows(city))
    persons_bulk_create(actor=None, rows=person_rows(households, Synth(seed)), scoped=False)
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from fangyi.core.models import Node
from fangyi.core.services import node_create
from fangyi.people.models import Household
from fangyi.people.services import PersonInput
from fangyi.people.synth import Synth, resident_rows

# Fan-out of each level: compounds per grid, grids per community, communities per station,
# stations per district. 100 000 households make 333 compounds, 111 grids, 37 communities,
# 10 stations and 4 districts.
PER_COMPOUND = 300
COMPOUNDS_PER_GRID = 3
GRIDS_PER_COMMUNITY = 3
COMMUNITIES_PER_STATION = 4
STATIONS_PER_DISTRICT = 3

DISTRICTS = [
    ("西乡塘区", "450107"),
    ("青秀区", "450103"),
    ("兴宁区", "450102"),
    ("江南区", "450105"),
    ("良庆区", "450108"),
    ("邕宁区", "450109"),
    ("武鸣区", "450110"),
]
PLACES = (
    "五里亭 北湖 中山 新阳 衡阳 华强 安吉 上尧 石埠 心圩 南湖 民族 津头 中华 朝阳 新竹 东葛 "
    "仙葫 长堽 三塘 明秀 大学 秀灵 鲁班 友爱 北大 南铁 机务 滨湖 金浦 凤岭 琅东 埌西 茅桥 "
    "园湖 星光 福建园 望州 万秀 亭洪 白沙 沙井 那洪 五一 江南 福建 银海 龙岗 良凤 蒲庙"
).split()
ROADS = (
    "明秀西路 北大路 大学东路 衡阳西路 友爱南路 民族大道 中华路 园湖路 星光大道 "
    "白沙大道 五一路 秀灵路 鲁班路 安吉大道 金浦路 竹溪大道 长湖路 东葛路"
).split()
COMPOUND_SUFFIXES = ("小区", "花园", "新村", "家园", "苑", "公寓", "雅居", "宿舍区")


@dataclass
class Compound:
    node: Node
    street: str  # address prefix, e.g. "明秀西路18号北湖花园"
    households: int


@dataclass
class City:
    root: Node
    n: int
    nodes: dict[str, int] = field(default_factory=dict)  # count per kind
    compounds: list[Compound] = field(default_factory=list)


def _sizes(n: int, rnd: random.Random) -> list[int]:
    """Households per compound: about PER_COMPOUND each, 200 to 400, summing to n."""
    count = max(1, round(n / PER_COMPOUND))
    weights = [rnd.uniform(2, 4) for _ in range(count)]
    total = sum(weights)
    sizes = [int(n * w / total) for w in weights]
    for i in range(n - sum(sizes)):
        sizes[i % count] += 1
    return sizes


def build_tree(n: int, seed: int = 2020) -> City:
    """Create the jurisdiction tree for n households through `node_create` (actor=None)."""
    rnd = random.Random(seed)
    sizes = _sizes(n, rnd)
    compounds = len(sizes)
    grids = math.ceil(compounds / COMPOUNDS_PER_GRID)
    communities = math.ceil(grids / GRIDS_PER_COMMUNITY)
    stations = math.ceil(communities / COMMUNITIES_PER_STATION)
    districts = math.ceil(stations / STATIONS_PER_DISTRICT)

    def place(i: int) -> str:
        word = PLACES[i % len(PLACES)]
        return word if i < len(PLACES) else f"{word}{i // len(PLACES) + 1}"

    root = node_create(actor=None, kind="city", name="南宁市", parent=None, code="4501")
    city = City(root=root, n=n)
    level_d = []
    for i in range(districts):
        name, code = DISTRICTS[i] if i < len(DISTRICTS) else (f"第{i + 1}区", "")
        level_d.append(node_create(actor=None, kind="district", name=name, parent=root, code=code))
    level_s = [
        node_create(
            actor=None,
            kind="station",
            name=f"{place(i)}派出所",
            parent=level_d[i // STATIONS_PER_DISTRICT],
        )
        for i in range(stations)
    ]
    level_c = [
        node_create(
            actor=None,
            kind="community",
            name=f"{place(i + 7)}社区",
            parent=level_s[i // COMMUNITIES_PER_STATION],
        )
        for i in range(communities)
    ]
    level_g = []
    for i in range(grids):
        community = level_c[i // GRIDS_PER_COMMUNITY]
        level_g.append(
            node_create(
                actor=None,
                kind="grid",
                parent=community,
                name=f"{community.name}第{i % GRIDS_PER_COMMUNITY + 1}网格",
            )
        )
    for i, households in enumerate(sizes):
        name = f"{rnd.choice(PLACES)}{rnd.choice(COMPOUND_SUFFIXES)}"
        node = node_create(
            actor=None, kind="compound", name=name, parent=level_g[i // COMPOUNDS_PER_GRID]
        )
        street = f"{rnd.choice(ROADS)}{rnd.randint(1, 300)}号{name}"
        city.compounds.append(Compound(node, street, households))
    city.nodes = {
        "city": 1,
        "district": districts,
        "station": stations,
        "community": communities,
        "grid": grids,
        "compound": compounds,
    }
    return city


def household_rows(city: City, synth: Synth | None = None) -> list[tuple[Node, str]]:
    """(compound, address) for every household, for `households_bulk_create`."""
    synth = synth or Synth()
    rows: list[tuple[Node, str]] = []
    for compound in city.compounds:
        addresses = synth.address(compound.street)
        rows.extend((compound.node, next(addresses)) for _ in range(compound.households))
    return rows


def person_rows(households: list[Household], synth: Synth) -> Iterator[PersonInput]:
    """The residents of each household, as the registry's bulk path takes them."""
    return resident_rows(households, synth)
