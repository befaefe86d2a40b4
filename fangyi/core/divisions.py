"""The administrative divisions of China (GB/T 2260), and the matcher every risk check uses.

The list is `data/divisions.tsv` (written by `scripts/divisions.py` from the cpca and GB2260
packages; 3,511 divisions in force, and 373 retired codes that older ID numbers still carry). It
is read once per process into memory (about 1 MB): a risk check runs for every row of an import,
and a dictionary lookup per substring of the typed place keeps it under 50 µs per place.

A code has three levels: province (``42`` + ``0000``), prefecture (``4205`` + ``00``) and county
(``420502``). A risk area at a level covers every division whose code starts with its prefix,
so 湖北省 covers 宜昌市 and every county of 荆州市.

`resolve` reads a place as people type it, in either script or in pinyin ("湖北省宜昌市",
"宜昌", "荊州區", "yichang", "Wuhan") and answers the most specific divisions it names. A place
that names two divisions of the same name (朝阳区 in Beijing and in Changchun) answers both;
a stated province or prefecture picks among them ("北京朝阳区").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from zhconv import convert

DATA = Path(__file__).with_name("data") / "divisions.tsv"
LONGEST_KEY = 20  # characters; the longest division name has 17
_LATIN = re.compile(r"[a-z]+")
_SPACE = re.compile(r"[\s·・,，、/\-]+")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    name_hant: str
    short: str
    pinyin: str
    current: bool
    last_revision: str = ""

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "prefecture"
        return "county"

    @property
    def prefix(self) -> str:
        """The part of the code that every division under this one shares."""
        return {"province": self.code[:2], "prefecture": self.code[:4]}.get(self.level, self.code)

    def covers(self, code: str) -> bool:
        return code.startswith(self.prefix)

    @property
    def chain(self) -> tuple[Division, ...]:
        """Province, prefecture, county: the named divisions from the top down to this one."""
        return chain_of(self.code)

    @property
    def full_name(self) -> str:
        """湖北省宜昌市西陵区: what a picker fills in, and what `resolve` reads back exactly."""
        return "".join(d.name for d in self.chain)

    @property
    def label(self) -> str:
        """ "420500 宜昌市 (湖北省)": the code, the name and where it lies."""
        above = [d.name for d in self.chain[:-1]]
        return f"{self.code} {self.name}" + (f" ({''.join(above)})" if above else "")


@cache
def _table() -> dict[str, Division]:
    table: dict[str, Division] = {}
    with DATA.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            code, name, hant, short, pinyin, status, year = line.rstrip("\n").split("\t")
            table[code] = Division(code, name, hant, short, pinyin, status == "current", year)
    return table


PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
# What follows a name in a street address, not a division's: 中山路, 南京大街, 解放巷.
STREET_WORDS = ("路", "街", "大道", "道", "巷", "胡同", "弄", "广场", "公园")


@cache
def _short_keys() -> frozenset[str]:
    """The keys that are a short name only (中山, 南京), never a full one (中山市)."""
    table = _table().values()
    full = {d.name for d in table}
    return frozenset(d.short for d in table if d.short and d.short not in full)


@cache
def _keys() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Chinese keys (full and short names) and pinyin keys -> the codes in force they name."""
    han: dict[str, list[str]] = {}
    latin: dict[str, list[str]] = {}
    for d in _table().values():
        if not d.current or d.name in PLACEHOLDERS:
            continue
        keys = {d.name, d.short} - {""}
        if d.short and d.name.endswith("自治州"):
            keys.add(d.short + "州")  # 恩施州, 延边州: how they are written
        for key in keys:
            han.setdefault(key, []).append(d.code)
        if d.pinyin:
            latin.setdefault(d.pinyin, []).append(d.code)
    return (
        {k: tuple(v) for k, v in han.items()},
        {k: tuple(v) for k, v in latin.items()},
    )


def get(code: str) -> Division | None:
    return _table().get((code or "").strip())


def current(code: str) -> Division | None:
    d = get(code)
    return d if d is not None and d.current else None


@cache
def chain_of(code: str) -> tuple[Division, ...]:
    table = _table()
    out: list[Division] = []
    for up in (code[:2] + "0000", code[:4] + "00", code):
        d = table.get(up)
        if d is not None and d.name not in PLACEHOLDERS and (not out or out[-1].code != up):
            out.append(d)
    return tuple(out)


def normalise(text: str) -> str:
    """Simplified script, lower case, no spaces or separators."""
    return _SPACE.sub("", convert(text or "", "zh-cn").lower())


@lru_cache(maxsize=8192)
def resolve(text: str) -> tuple[Division, ...]:
    """The divisions in force that a typed place names, most specific first (see the module)."""
    norm = normalise(text)
    if not norm:
        return ()
    han, latin = _keys()
    hits: set[str] = set()
    # Leftmost-longest: at each position the longest name that starts there, then on after it
    # (荆州区 is read as the county, not as 荆州 + 区; 上海东路 as 上海, not 海东). A short name
    # followed by a street word is a street (武汉市中山路, 上海市南京路), not a division.
    n, i = len(norm), 0
    while i < n:
        for j in range(min(n, i + LONGEST_KEY), i + 1, -1):
            key = norm[i:j]
            codes = han.get(key)
            if codes:
                if not norm.startswith(STREET_WORDS, j) or key not in _short_keys():
                    hits.update(codes)
                i = j
                break
        else:
            i += 1
    # Pinyin: each word ("Wuhan, Hubei"), two written apart ("yi chang"), and a word with its
    # suffix ("yichangshi"). Words are read before separators are dropped.
    words = _LATIN.findall(convert(text or "", "zh-cn").lower())
    for k, word in enumerate(words):
        for candidate in (word, word + words[k + 1] if k + 1 < len(words) else ""):
            if not candidate:
                continue
            hits.update(latin.get(candidate, ()))
            for suffix in ("sheng", "shi", "xian", "qu"):
                if candidate.endswith(suffix):
                    hits.update(latin.get(candidate[: -len(suffix)], ()))
    if not hits:
        return ()
    table = _table()
    found = [table[c] for c in hits]
    # Keep the most specific: drop a division when another hit lies under it.
    leaves = [d for d in found if not any(o.code != d.code and d.covers(o.code) for o in found)]
    # A stated province or prefecture (an ancestor among the hits) picks among namesakes.
    stated = [d for d in found if d not in leaves]
    if stated:
        backed = [d for d in leaves if any(s.covers(d.code) for s in stated)]
        if backed:
            leaves = backed
    return tuple(sorted(leaves, key=lambda d: d.code))


def search(q: str, limit: int = 20) -> list[Division]:
    """Divisions in force for a picker: by code, name (either script), short name or pinyin,
    those whose name starts with what was typed first, provinces before prefectures before
    counties."""
    norm = normalise(q)
    if not norm:
        return []
    out: list[tuple[tuple[int, int, str], Division]] = []
    rank = {"province": 0, "prefecture": 1, "county": 2}
    for d in _table().values():
        if not d.current or d.name in PLACEHOLDERS:
            continue
        if norm.isdigit():
            if not d.code.startswith(norm):
                continue
            score = 0
        elif norm in (d.name, d.short, d.pinyin):
            score = 0
        elif d.name.startswith(norm) or d.short.startswith(norm) or d.pinyin.startswith(norm):
            score = 1
        elif norm in d.name:
            score = 2
        else:
            continue
        out.append(((score, rank[d.level], d.code), d))
    out.sort(key=lambda pair: pair[0])
    return [d for _key, d in out[:limit]]


def id_region(id_number: str) -> Division | None:
    """The division that issued a resident ID (its first six digits), in force or retired;
    a county code unknown to the list answers its prefecture or province."""
    digits = (id_number or "").strip()[:6]
    if len(digits) != 6 or not digits.isdigit():
        return None
    table = _table()
    for code in (digits, digits[:4] + "00", digits[:2] + "0000"):
        d = table.get(code)
        if d is not None and d.name not in PLACEHOLDERS:
            return d
    return None
