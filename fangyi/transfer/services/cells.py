"""Reading the cells of a row: words, dates, ids derived from content, and the row with its
errors by column."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import zhconv

from fangyi.core.errors import DomainError
from fangyi.core.models import Node
from fangyi.people.models import Household, IdType, Person
from fangyi.people.services import (
    PersonInput,
)

NAMESPACE = uuid.UUID("6f1c1f9e-3b1a-5e53-9a52-2f1e0e6b7a10")  # ids derived from row content

_SPLIT = re.compile(r"[、,，;；/\n]+")
NONE_WORDS = {"无", "無", "否", "没有", "沒有", "none", "no", "-", "—", "/"}

OUTCOME_WORDS = {
    "已排查": "visited",
    "已走访": "visited",
    "已上门": "visited",
    "已访": "visited",
    "正常": "visited",
    "visited": "visited",
    "无人在家": "nobody_home",
    "无人": "nobody_home",
    "nobody_home": "nobody_home",
    "拒绝开门": "refused",
    "拒绝": "refused",
    "闭门羹": "refused",
    "拒不开门": "refused",
    "refused": "refused",
    "已搬离": "moved_away",
    "搬离": "moved_away",
    "已搬走": "moved_away",
    "moved_away": "moved_away",
}
METHOD_WORDS = {
    "额温": "forehead",
    "额头": "forehead",
    "额温枪": "forehead",
    "forehead": "forehead",
    "耳温": "ear",
    "耳": "ear",
    "ear": "ear",
    "腋温": "armpit",
    "腋下": "armpit",
    "腋窝": "armpit",
    "armpit": "armpit",
    "口温": "oral",
    "口腔": "oral",
    "oral": "oral",
}
ID_TYPE_WORDS = {
    "居民身份证": IdType.RESIDENT,
    "身份证": IdType.RESIDENT,
    "resident": IdType.RESIDENT,
    "护照": IdType.PASSPORT,
    "passport": IdType.PASSPORT,
    "港澳通行证": IdType.HK_MACAO,
    "港澳居民来往内地通行证": IdType.HK_MACAO,
    "回乡证": IdType.HK_MACAO,
    "hk_macao": IdType.HK_MACAO,
    "台湾通行证": IdType.TAIWAN,
    "台胞证": IdType.TAIWAN,
    "台湾居民来往大陆通行证": IdType.TAIWAN,
    "taiwan": IdType.TAIWAN,
    "其他": IdType.OTHER,
    "其它": IdType.OTHER,
    "other": IdType.OTHER,
    "无": IdType.NONE,
    "无证件": IdType.NONE,
    "none": IdType.NONE,
}
CONTACT_WORDS = {
    "确诊": "confirmed",
    "确诊病例": "confirmed",
    "疑似": "suspected",
    "疑似病例": "suspected",
}


def _word(value: Any) -> str:
    """A cell compared as a word: simplified script, no spaces, lower case."""
    return _word_of(str(value if value is not None else ""))


@lru_cache(maxsize=50_000)
def _word_of(text: str) -> str:
    # Cached: grid names, outcomes, methods and symptoms repeat on every row.
    text = unicodedata.normalize("NFKC", text)
    return zhconv.convert(re.sub(r"\s+", "", text), "zh-hans").lower()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return unicodedata.normalize("NFKC", str(value)).strip()


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(value: Any) -> dt.date | None:
    """A date from an xlsx date cell or text such as 2020-02-03, 2020/2/3, 2020年2月3日,
    20200203. None for a blank; ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    text = text.split(" ")[0].split("T")[0]
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
    raise ValueError(text)


def _address_key(address: str) -> str:
    return _word(address)


def _content_id(*parts: Any) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, json.dumps(parts, default=str, ensure_ascii=False))


# The service field each column answers for, for the errors file.
FIELD_COLUMN = {
    # people
    "name": "name",
    "id_type": "id_type",
    "id_number": "id_number",
    "sex": "id_number",
    "birth_date": "id_number",
    "phone": "phone",
    "relation": "relation",
    "node": "node",
    "household": "address",
    "address": "address",
    # declarations
    "person": "name",
    "declared_on": "date",
    "temperature": "temperature",
    "temperature_method": "temperature_method",
    "symptoms": "symptoms",
    "travel_since": "travel_from",
    "travel": "travel_place",
    "place": "travel_place",
    "from": "travel_from",
    "to": "travel_to",
    "transport": "transport",
    "contacts": "contact",
    "kind": "contact",
    "who": "contact",
    "date": "contact_date",
    "notes": "notes",
    "visit": "address",
    # door visits
    "outcome": "outcome",
    "at": "date",
    "assignment": "address",
}


def _column_for(service_field: str) -> str:
    """travel.0.to -> travel_to, contacts.1.date -> contact_date, declarations[0].x -> x."""
    name = re.sub(r"^declarations\[\d+\]\.?", "", service_field or "")
    parts = [p for p in name.split(".") if p and not p.isdigit()]
    if not parts:
        return ""
    head, last = parts[0], parts[-1]
    if head == "travel":
        return {"place": "travel_place", "from": "travel_from", "to": "travel_to"}.get(
            last, "transport" if last == "transport" else "travel_place"
        )
    if head == "contacts":
        return "contact_date" if last == "date" else "contact"
    return FIELD_COLUMN.get(head, "")


@dataclass
class Row:
    index: int  # position in the sheet's rows
    line: int  # line number in the file
    cells: list[Any]
    errors: dict[str, list[str]] = field(default_factory=dict)  # column key ("" = the row)
    node: Node | None = None
    address: str = ""
    date: dt.date | None = None
    outcome: str = "visited"
    person_input: PersonInput | None = None
    declaration: Any = None  # health.services.DeclarationInput
    household: Household | None = None
    person: Person | None = None
    new_household_key: tuple | None = None

    def add(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(str(message))

    def add_domain(self, exc: DomainError, default: str = "", *, skip: set | None = None) -> None:
        """The service's field errors under the sheet's columns; columns in `skip` already
        have their error from reading the cell, which says it better."""
        for f, messages in exc.errors.items():
            column = (_column_for(f) if f != "__all__" else default) or default
            if skip and column in skip:
                continue
            for m in messages:
                self.add(column, m)

    @property
    def bad(self) -> bool:
        return bool(self.errors)
