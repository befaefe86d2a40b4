"""Importing a screening sheet, and exporting lists as xlsx.

An upload is checked at once (type, size, the header row) and stored under the data folder
(settings.DATA_DIR / "imports", never in the repository); an ImportJob row and a background
task (tasks.import_run) follow. The task reads the rows and, a batch at a time, validates each
row whole before anything of it is written, then stores the good rows through the other apps'
services: households (people.households_bulk_create), persons (people.persons_bulk_create),
door visits (screening.door_visit_record) and declarations (health.declarations_bulk_record,
source "import"). A bad row is written to the errors file, in the upload's format and columns,
with a column 錯誤 saying what is wrong and in which column; it never stops the good rows.

Every id that a row stores is derived from the row's content (uuid5), so the same file
imported twice stores its people, households, visits and declarations once.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import zhconv
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import Node, NodeKind, User
from fangyi.core.validators import check_length
from fangyi.people.models import Household, IdType, Person
from fangyi.people.services import (
    PersonInput,
    households_bulk_create,
    normalize_name,
    person_clean,
    persons_bulk_create,
)

from . import sheets
from .models import ImportJob, JobStatus

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
BATCH = 500
NAMESPACE = uuid.UUID("6f1c1f9e-3b1a-5e53-9a52-2f1e0e6b7a10")  # ids derived from row content


def max_upload_bytes() -> int:
    return int(getattr(settings, "FANGYI_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES))


def imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(name: str) -> Path:
    """A stored file's path; names are made here and never come from the user."""
    path = (Path(settings.DATA_DIR) / name).resolve()
    if not str(path).startswith(str(Path(settings.DATA_DIR).resolve())):
        raise NotFound(_("No such file."))
    return path


# ---------------------------------------------------------------------------------------------
# upload


def _job_node(actor: User) -> Node:
    node = actor.nodes.order_by("depth", "path").first()
    if node is None:
        raise DomainError(_("Your account has no jurisdiction to import into."), field="file")
    return node


def import_create(
    *,
    actor: User,
    filename: str,
    data: bytes,
    sweep=None,
    language: str = "",
    enqueue: bool = True,
    client_id: uuid.UUID | None = None,
) -> ImportJob:
    """Check an uploaded sheet, store it, make its job and queue the work.

    `sweep`, when given, is one the actor may see (screening.selectors.sweep_get) and open:
    each row's household must then be in it, and each row records a door visit. A wrong type,
    an oversized or unreadable file, or missing headers raise DomainError on `file` and store
    nothing."""
    access.require(actor, "import.run")
    if client_id is not None:
        # The same upload sent twice (a double tap, a retried request): one job.
        done = ImportJob.objects.filter(client_id=client_id).first()
        if done is not None:
            if done.created_by_id != actor.pk:
                raise NotFound(_("No such import."))
            return done
    filename = (Path(filename or "").name or "sheet")[:200]
    fmt = sheets.fmt_of(filename)
    if fmt is None:
        raise DomainError(
            _("Upload an Excel workbook (.xlsx) or a CSV file (.csv); %(name)s is neither.")
            % {"name": filename},
            field="file",
        )
    limit = max_upload_bytes()
    if len(data) > limit:
        raise DomainError(
            _("The file is %(size)s MB; at most %(limit)s MB can be imported: split it.")
            % {"size": f"{len(data) / 1048576:.1f}", "limit": f"{limit / 1048576:g}"},
            field="file",
        )
    if not data:
        raise DomainError(_("The file is empty."), field="file")
    _headers, encoding = sheets.peek(data, fmt)
    if sweep is not None and sweep.status != "open":
        raise DomainError(_("This sweep is closed: choose an open one."), field="sweep")
    node = _job_node(actor)

    name = f"imports/{uuid.uuid4().hex}.{fmt}"
    path = stored_path(name)
    imports_dir()
    path.write_bytes(data)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                node=node,
                sweep=sweep,
                created_by=actor,
                filename=filename,
                stored=name,
                language=(language or translation.get_language() or "")[:10],
                encoding=encoding,
                client_id=client_id,
            )
            audit_record(
                actor,
                "fangyi.importjob.created",
                job,
                node_path=node.path,
                changes={
                    "filename": [None, filename],
                    "size": [None, len(data)],
                    **({"sweep": [None, sweep.pk]} if sweep is not None else {}),
                },
            )
    except Exception:
        path.unlink(missing_ok=True)
        raise
    if enqueue:
        from .tasks import import_run

        import_run.enqueue(job.pk)
    return job


# ---------------------------------------------------------------------------------------------
# reading the cells of a row

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


# ---------------------------------------------------------------------------------------------
# the import itself


class _Nodes:
    """Grids and compounds the uploader may use, by name (either script) or code."""

    def __init__(self, actor: User):
        self.by_name: dict[str, list[Node]] = defaultdict(list)
        self.by_code: dict[str, Node] = {}
        self.parents: dict[int, str] = {}
        qs = access.nodes_visible(actor).filter(kind__in=[NodeKind.GRID, NodeKind.COMPOUND])
        nodes = list(qs.order_by("path"))
        parent_ids = {n.parent_id for n in nodes if n.parent_id}
        names = dict(Node.objects.filter(pk__in=parent_ids).values_list("pk", "name"))
        for n in nodes:
            self.by_name[_word(n.name)].append(n)
            if n.code:
                self.by_code[_word(n.code)] = n
            self.parents[n.pk] = _word(names.get(n.parent_id, ""))

    def resolve(self, text: str) -> Node:
        key = _word(text)
        if not key:
            raise DomainError(_("Name the grid or compound of the household."), field="node")
        if key in self.by_code:
            return self.by_code[key]
        parts = [p for p in re.split(r"[/／>＞-]", key) if p]
        found = self.by_name.get(key) or (self.by_name.get(parts[-1]) if parts else None) or []
        if len(found) > 1 and len(parts) > 1:
            found = [n for n in found if self.parents.get(n.pk) == parts[-2]] or found
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise DomainError(
                _("Several grids or compounds of yours are called %(name)s: use its code.")
                % {"name": text},
                field="node",
            )
        # Unknown and outside the uploader's jurisdiction read the same.
        raise DomainError(
            _("No grid or compound called %(name)s in your jurisdiction.") % {"name": text},
            field="node",
        )


class Importer:
    """One job's rows, a batch at a time."""

    def __init__(self, job: ImportJob, sheet: sheets.Sheet):
        from fangyi.health.services import rules_config

        self.job = job
        self.sheet = sheet
        self.actor = job.created_by
        self.sweep = job.sweep
        self.config = rules_config()
        self.today = timezone.localdate()
        self.nodes = _Nodes(self.actor)
        self.symptoms = self._symptom_index()
        self.households: dict[int, dict[str, Household]] = {}  # node id -> address key -> hh
        self.may_register = access.can(self.actor, "person.edit") and access.can(
            self.actor, "household.edit"
        )

    def _symptom_index(self) -> dict[str, str]:
        index = {}
        for code, name in self.config.symptoms.items():
            index[_word(code)] = code
            index[_word(name)] = code
        return index

    # --- one row, no writes ------------------------------------------------------------------

    def parse(self, row: Row) -> None:
        from fangyi.health.services import DeclarationInput, declaration_clean

        v = self.sheet.values(row.cells)
        try:
            row.node = self.nodes.resolve(_text(v.get("node")))
        except DomainError as exc:
            row.add_domain(exc, "node")
        try:
            row.address = check_length(_text(v.get("address")), "address", 200, required=True)
        except DomainError as exc:
            row.add_domain(exc, "address")
        try:
            row.date = parse_date(v.get("date"))
            if row.date is None:
                row.add("date", _("This date is required."))
            elif row.date > self.today:
                row.add("date", _("This date is in the future."))
            elif self.sweep is not None and row.date < self.sweep.starts:
                row.add(
                    "date",
                    _("The sweep starts on %(date)s: a visit cannot be earlier.")
                    % {"date": self.sweep.starts.isoformat()},
                )
        except ValueError:
            row.add("date", _("Enter a date as YYYY-MM-DD."))
        outcome = _word(v.get("outcome"))
        if outcome:
            row.outcome = OUTCOME_WORDS.get(outcome, "")
            if not row.outcome:
                row.add(
                    "outcome",
                    _("Write one of: %(choices)s.") % {"choices": self._words("outcome")},
                )
        if row.outcome and row.outcome != "visited" and self.sweep is None:
            row.add(
                "outcome",
                _(
                    "Only a sweep keeps doors that were not visited: choose the sweep of this sheet."
                ),
            )

        # the person
        name = _text(v.get("name"))
        raw_number = v.get("id_number")
        if isinstance(raw_number, float) or (isinstance(raw_number, int) and raw_number > 10**15):
            row.add(
                "id_number",
                _(
                    "Excel stored this number as a number and rounded it: format the column as text."
                ),
            )
            raw_number = ""
        number = _text(raw_number).replace(" ", "")
        id_type_word = _word(v.get("id_type"))
        if id_type_word:
            id_type = ID_TYPE_WORDS.get(id_type_word, "")
            if not id_type:
                row.add(
                    "id_type", _("Write one of: %(choices)s.") % {"choices": self._words("id_type")}
                )
                id_type = IdType.OTHER
        else:
            id_type = IdType.RESIDENT if number else IdType.NONE
        if name or number:
            if not self.may_register:
                row.add("name", _("Your role may not register persons."))
            data = PersonInput(
                name=name,
                id_type=id_type,
                id_number=number,
                phone=_text(v.get("phone")),
                node=row.node,
                relation=_text(v.get("relation")),
            )
            try:
                if row.node is not None:
                    row.person_input = person_clean(data, actor=self.actor, today=self.today)
                else:
                    # The node is wrong already: still check the person's own fields, so that
                    # every error of the row is told at once.
                    person_clean(data, actor=None, scoped=False, today=self.today)
            except DomainError as exc:
                exc.errors.pop("node", None)
                row.add_domain(exc, "name")
        elif row.outcome == "visited":
            row.add("name", _("A household that was visited needs the name of whom it was."))

        # the declaration: anything said at the door (a method alone, or 無, says nothing)
        declared = [
            k
            for k in ("temperature", "symptoms", "travel_place", "contact")
            if _text(v.get(k)) and _word(v.get(k)) not in NONE_WORDS
        ]
        notes = _text(v.get("notes"))
        if row.outcome != "visited":
            if declared:
                row.add(
                    "outcome",
                    _(
                        "Temperature, symptoms, travel and contacts are taken only at a door that was visited."
                    ),
                )
            return
        if row.person_input is None and not (name or number):
            return
        decl = DeclarationInput(
            declared_on=row.date,
            temperature=self._temperature(row, v.get("temperature")),
            temperature_method=self._method(row, v.get("temperature_method")),
            symptoms=self._symptoms(row, v.get("symptoms")),
            travel_since=self.config.travel_since,
            travel=self._travel(row, v),
            contacts=self._contacts(row, v),
            notes=notes,
        )
        if self.config.travel_since and row.date and self.config.travel_since > row.date:
            decl.travel_since = None
        read_errors = set(row.errors)
        try:
            cleaned = declaration_clean(decl, today=self.today, config=self.config)
        except DomainError as exc:
            row.add_domain(exc, "", skip=read_errors)
        else:
            if not row.bad:
                row.declaration = cleaned

    def _words(self, kind: str) -> str:
        words = {
            "outcome": ["已排查", "無人在家", "拒絕開門", "已搬離"],
            "id_type": ["居民身份證", "護照", "港澳通行證", "台灣通行證", "其他", "無"],
            "method": ["額溫", "耳溫", "腋溫", "口溫"],
        }[kind]
        if self.sheet.script == "hans":
            words = [zhconv.convert(w, "zh-hans") for w in words]
        return "、".join(words)

    def _temperature(self, row: Row, value: Any) -> Any:
        text = _text(value).replace("℃", "").replace("°C", "").replace("°", "").strip()
        if not text:
            return None
        try:
            Decimal(text)
        except InvalidOperation:
            row.add("temperature", _("Enter the temperature as a number, e.g. 36.5."))
            return None
        return text

    def _method(self, row: Row, value: Any) -> str:
        word = _word(value)
        if not word:
            return ""
        method = METHOD_WORDS.get(word)
        if method is None:
            row.add(
                "temperature_method",
                _("Write one of: %(choices)s.") % {"choices": self._words("method")},
            )
            return ""
        return method

    def _symptoms(self, row: Row, value: Any) -> list[str]:
        text = _text(value)
        if not text or _word(text) in NONE_WORDS:
            return []
        codes = []
        for part in _SPLIT.split(text):
            key = _word(part)
            if not key or key in NONE_WORDS:
                continue
            code = self.symptoms.get(key)
            if code is None:
                row.add(
                    "symptoms",
                    _("Unknown symptom: %(name)s. Known ones: %(known)s.")
                    % {"name": part.strip(), "known": "、".join(self.config.symptoms.values())},
                )
                continue
            codes.append(code)
        return codes

    def _date_cell(self, row: Row, v: dict, key: str) -> dt.date | None:
        try:
            return parse_date(v.get(key))
        except ValueError:
            row.add(key, _("Enter a date as YYYY-MM-DD."))
            return None

    def _travel(self, row: Row, v: dict) -> list[dict]:
        place_text = _text(v.get("travel_place"))
        start = self._date_cell(row, v, "travel_from")
        end = self._date_cell(row, v, "travel_to")
        transport = _text(v.get("transport"))
        if not place_text or _word(place_text) in NONE_WORDS:
            if start or end:
                row.add("travel_place", _("Name the place the dates are for."))
            return []
        if start is None and "travel_from" not in row.errors:
            row.add("travel_from", _("Give the day the stay began."))
        places = [p.strip() for p in re.split(r"[、,，;；\n]+", place_text) if p.strip()]
        return [
            {"place": p, "from": start, "to": end or start, "transport": transport} for p in places
        ]

    def _contacts(self, row: Row, v: dict) -> list[dict]:
        text = _text(v.get("contact"))
        if not text or _word(text) in NONE_WORDS:
            return []
        day = self._date_cell(row, v, "contact_date")
        out = []
        for part in re.split(r"[;；\n]+", text):
            part = part.strip()
            if not part:
                continue
            m = re.match(r"\s*(確診病例|确诊病例|確診|确诊|疑似病例|疑似)\s*[:：,，\s]*(.*)", part)
            if not m:
                row.add(
                    "contact",
                    _("Begin with 確診 or 疑似, then who, e.g. 確診:張某."),
                )
                continue
            kind = CONTACT_WORDS[_word(m[1])]
            out.append({"kind": kind, "who": m[2].strip()[:50], "date": day, "place": ""})
        if out and day is None and "contact_date" not in row.errors:
            row.add("contact_date", _("Give the day of the contact."))
        return out

    # --- a batch: look up, then write --------------------------------------------------------

    def _households_of(self, node: Node) -> dict[str, Household]:
        cached = self.households.get(node.pk)
        if cached is None:
            cached = {}
            for h in Household.objects.filter(node=node).select_related("node").order_by("pk"):
                cached.setdefault(_address_key(h.address), h)
            self.households[node.pk] = cached
        return cached

    def run_batch(self, rows: list[Row]) -> None:
        for row in rows:
            self.parse(row)
        live = [r for r in rows if not r.bad]
        self._find_households(live)
        live = [r for r in live if not r.bad]
        self._find_persons(live)
        live = [r for r in live if not r.bad]
        assignments = self._find_assignments(live)
        live = [r for r in live if not r.bad]
        self._create_households(live)
        live = [r for r in live if not r.bad]
        self._create_persons(live)
        live = [r for r in live if not r.bad]
        visits = self._record_visits(live, assignments)
        live = [r for r in live if not r.bad]
        self._record_declarations(live, visits)

    def _find_households(self, rows: list[Row]) -> None:
        for row in rows:
            known = self._households_of(row.node)
            household = known.get(_address_key(row.address))
            if household is not None:
                row.household = household
            elif self.sweep is not None:
                row.add(
                    "address",
                    _("No household at this address is part of the sweep: check the address."),
                )
            elif not self.may_register:
                row.add("address", _("No household at this address; your role may not add one."))
            else:
                row.new_household_key = (row.node.pk, _address_key(row.address))

    def _find_persons(self, rows: list[Row]) -> None:
        with_number = [r for r in rows if r.person_input and r.person_input.id_number]
        by_doc: dict[tuple[str, str], Person] = {}
        by_type: dict[str, set[str]] = defaultdict(set)
        for r in with_number:
            by_type[r.person_input.id_type].add(r.person_input.id_number)
        for id_type, numbers in by_type.items():
            for p in Person.objects.filter(id_type=id_type, id_number__in=numbers).select_related(
                "node", "household"
            ):
                by_doc[(p.id_type, p.id_number)] = p
        members: dict[int, dict[str, list[Person]]] = defaultdict(lambda: defaultdict(list))
        hh_ids = {r.household.pk for r in rows if r.household is not None and r.person_input}
        if hh_ids:
            for p in Person.objects.filter(household_id__in=hh_ids).select_related(
                "node", "household"
            ):
                members[p.household_id][p.name_norm].append(p)
        for row in rows:
            data = row.person_input
            if data is None:
                continue
            person = by_doc.get((data.id_type, data.id_number)) if data.id_number else None
            if person is not None:
                if not access.path_visible(self.actor, person.node.path):
                    row.add(
                        "id_number", _("A person with this document number is already registered.")
                    )
                    continue
                if normalize_name(person.name) != normalize_name(data.name):
                    row.add(
                        "name",
                        _("The registry has %(name)s for this document number.")
                        % {"name": person.name},
                    )
                    continue
                if row.household is None or person.household_id != row.household.pk:
                    where = person.household.address if person.household else _("no household")
                    row.add(
                        "address",
                        _("The registry has this person at another address (%(where)s).")
                        % {"where": where},
                    )
                    continue
                row.person = person
                continue
            if row.household is not None:
                same = members[row.household.pk].get(normalize_name(data.name), [])
                if data.id_number:
                    # A member of this name without a document is the same person.
                    same = [p for p in same if not p.id_number]
                if len(same) > 1:
                    row.add(
                        "name",
                        _("Several people of this name live here: give the document number."),
                    )
                    continue
                if same:
                    row.person = same[0]

    def _find_assignments(self, rows: list[Row]) -> dict[int, Any]:
        if self.sweep is None:
            return {}
        from fangyi.screening.models import Assignment

        ids = {r.household.pk for r in rows if r.household is not None}
        found = {
            a.household_id: a
            for a in Assignment.objects.filter(sweep=self.sweep, household_id__in=ids)
            .select_related("node", "sweep")
            .filter(access.node_q(self.actor))
        }
        for row in rows:
            if row.household is None or row.household.pk not in found:
                row.add(
                    "address",
                    _("No household at this address is part of the sweep: check the address."),
                )
        return found

    def _create_households(self, rows: list[Row]) -> None:
        wanted: dict[tuple, list[Row]] = defaultdict(list)
        for row in rows:
            if row.household is None and row.new_household_key is not None:
                wanted[row.new_household_key].append(row)
        if not wanted:
            return
        firsts = [group[0] for group in wanted.values()]
        try:
            made = households_bulk_create(
                actor=self.actor, rows=[(r.node, r.address) for r in firsts]
            )
        except DomainError as exc:
            for group in wanted.values():
                for r in group:
                    r.add_domain(exc, "address")
            return
        for key, household in zip(wanted, made, strict=True):
            self.households[key[0]][key[1]] = household
            for r in wanted[key]:
                r.household = household

    def _create_persons(self, rows: list[Row]) -> None:
        wanted: dict[tuple, list[Row]] = {}
        for row in rows:
            data = row.person_input
            if data is None or row.person is not None:
                continue
            if data.id_number:
                key: tuple = ("doc", data.id_type, data.id_number)
            else:
                key = ("name", row.household.pk, normalize_name(data.name))
            wanted.setdefault(key, []).append(row)
        if not wanted:
            return
        inputs = []
        for group in wanted.values():
            first = group[0]
            data = first.person_input
            data.household = first.household
            data.node = first.household.node
            data.client_id = _content_id(
                "person", data.id_type, data.id_number, first.household.pk, data.name
            )
            inputs.append(data)
        result = persons_bulk_create(actor=self.actor, rows=inputs)
        failed: dict[int, dict] = dict(result.errors)
        made = {
            p.client_id: p
            for p in Person.objects.filter(
                client_id__in=[d.client_id for d in inputs]
            ).select_related("node", "household")
        }
        for i, (group, data) in enumerate(zip(wanted.values(), inputs, strict=True), start=1):
            person = made.get(data.client_id)
            for r in group:
                if person is not None:
                    r.person = person
                else:
                    r.add_domain(
                        DomainError("", errors=failed.get(i) or {"": [_("Not stored.")]}), "name"
                    )

    def _visit_at(self, day: dt.date) -> dt.datetime:
        now = timezone.now()
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
        return min(at, now)

    def _record_visits(self, rows: list[Row], assignments: dict[int, Any]) -> dict[tuple, Any]:
        if self.sweep is None:
            return {}
        from fangyi.screening.services import door_visit_record

        groups: dict[tuple, list[Row]] = defaultdict(list)
        for row in rows:
            groups[(row.household.pk, row.date, row.outcome)].append(row)
        visits = {}
        for key, group in groups.items():
            household_id, day, outcome = key
            assignment = assignments[household_id]
            notes = "；".join(
                dict.fromkeys(
                    _text(self.sheet.values(r.cells).get("notes"))
                    for r in group
                    if r.declaration is None and _text(self.sheet.values(r.cells).get("notes"))
                )
            )[:2000]
            try:
                visits[key] = door_visit_record(
                    actor=self.actor,
                    assignment=assignment,
                    outcome=outcome,
                    at=self._visit_at(day),
                    notes=notes,
                    client_id=_content_id("visit", assignment.pk, day, outcome),
                )
            except DomainError as exc:
                for r in group:
                    r.add_domain(exc, "outcome")
        return visits

    def _record_declarations(self, rows: list[Row], visits: dict[tuple, Any]) -> None:
        from fangyi.health.services import DeclarationRow, declarations_bulk_record

        todo = [r for r in rows if r.declaration is not None and r.person is not None]
        if not todo:
            return
        items = []
        for r in todo:
            d = r.declaration
            visit = visits.get((r.household.pk, r.date, r.outcome)) if self.sweep else None
            key = _content_id(
                "declaration",
                r.person.pk,
                d.declared_on,
                str(d.temperature),
                d.temperature_method,
                d.symptoms,
                d.travel,
                d.contacts,
                d.notes,
                visit.pk if visit is not None else None,
            )
            items.append(DeclarationRow(person=r.person, data=d, client_id=key, visit=visit))
        try:
            result = declarations_bulk_record(actor=self.actor, rows=items, source="import")
        except DomainError as exc:
            for r in todo:
                r.add_domain(exc, "")
            return
        for i, errors in result.errors:
            row = todo[i - 1]
            if set(errors) == {"client_id"}:
                # The same declaration twice in one file: the first one is stored.
                continue
            row.add_domain(DomainError("", errors=errors), "")


def _error_text(sheet: sheets.Sheet, row: Row) -> str:
    parts = []
    for column, messages in row.errors.items():
        header = sheet.header_for(column) if column else ""
        for m in dict.fromkeys(messages):
            parts.append(f"{header}: {m}" if header else m)
    return "；".join(parts)


def _batches(sheet: sheets.Sheet, size: int) -> list[list[Row]]:
    """Rows in batches of about `size`; a household's consecutive rows stay in one batch, so
    that its door visit is recorded once."""
    out: list[list[Row]] = []
    batch: list[Row] = []
    last_key = None
    for i, (line, cells) in enumerate(sheet.rows):
        v = sheet.values(cells)
        key = (_word(v.get("node")), _address_key(_text(v.get("address"))), _text(v.get("date")))
        if len(batch) >= size and key != last_key:
            out.append(batch)
            batch = []
        batch.append(Row(index=i, line=line, cells=list(cells)))
        last_key = key
    if batch:
        out.append(batch)
    return out


def import_process(
    job: ImportJob,
    *,
    batch_size: int = BATCH,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """The background task's work: every row of the job's sheet, a batch at a time; the job's
    processed / good / bad are saved after each batch, the errors file and the status at the
    end. Runs as the uploader, whose jurisdiction and role every service checks again."""
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, message="")
    job.refresh_from_db()
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            data = stored_path(job.stored).read_bytes()
            sheet = sheets.read_sheet(data, job.fmt, max_rows=MAX_ROWS)
        except (DomainError, OSError) as exc:
            return _finish(job, JobStatus.FAILED, getattr(exc, "message", str(exc)))
        job.total = len(sheet.rows)
        job.processed = job.good = job.bad = 0
        ImportJob.objects.filter(pk=job.pk).update(total=job.total, processed=0, good=0, bad=0)
        importer = Importer(job, sheet)
        bad_rows: list[Row] = []
        for batch in _batches(sheet, batch_size):
            try:
                importer.run_batch(batch)
            except DomainError as exc:
                for row in batch:
                    if not row.bad:
                        row.add_domain(exc, "")
            except Exception:
                # A fault of ours, not of the sheet: the job says so and where it stopped (the
                # rows before are stored; uploading the file again stores nothing twice).
                log.exception("import %s: a batch failed", job.pk)
                _finish(
                    job,
                    JobStatus.FAILED,
                    _(
                        "The import stopped on an unexpected error after %(n)d rows; those are "
                        "stored. Upload the file again to finish it."
                    )
                    % {"n": job.processed},
                )
                raise
            bad = [r for r in batch if r.bad]
            bad_rows.extend(bad)
            job.processed += len(batch)
            job.bad += len(bad)
            job.good += len(batch) - len(bad)
            ImportJob.objects.filter(pk=job.pk).update(
                processed=job.processed, good=job.good, bad=job.bad
            )
            if progress is not None:
                progress(job)
        if bad_rows:
            job.errors_file = _write_errors(job, sheet, bad_rows)
        return _finish(job, JobStatus.DONE, "")


def _write_errors(job: ImportJob, sheet: sheets.Sheet, rows: list[Row]) -> str:
    name = f"imports/{Path(job.stored).stem}-errors.{job.fmt}"
    headers = [*sheet.headers, sheets.ERROR_HEADER[sheet.script]]
    width = len(sheet.headers)
    out_rows = (
        [*(r.cells + [None] * (width - len(r.cells)))[:width], _error_text(sheet, r)] for r in rows
    )
    with stored_path(name).open("wb") as fh:
        sheets.write_sheet(
            fh, job.fmt, headers, out_rows, encoding=job.encoding or "utf-8-sig", title="errors"
        )
    return name


def _finish(job: ImportJob, status: str, message: str) -> ImportJob:
    job.status = status
    job.message = message
    job.finished = timezone.now()
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=status,
            message=message,
            finished=job.finished,
            errors_file=job.errors_file,
            total=job.total,
            processed=job.processed,
            good=job.good,
            bad=job.bad,
        )
        audit_record(
            job.created_by,
            "fangyi.importjob.finished",
            job,
            node_path=job.node.path,
            changes={
                "status": [JobStatus.RUNNING, status],
                "total": [None, job.total],
                "good": [None, job.good],
                "bad": [None, job.bad],
                **({"message": [None, message]} if message else {}),
            },
        )
    return job


def errors_content(job: ImportJob, fmt: str) -> bytes:
    """The errors file of a finished job, in `fmt` (converted if the upload had the other)."""
    if not job.errors_file:
        raise NotFound(_("This import has no rows with errors."))
    data = stored_path(job.errors_file).read_bytes()
    if fmt == job.fmt:
        return data
    headers, rows = _read_any(data, job.fmt)
    out = io.BytesIO()
    sheets.write_sheet(out, fmt, headers, rows, title="errors")
    return out.getvalue()


def _read_any(data: bytes, fmt: str) -> tuple[list[str], list[list[Any]]]:
    """An errors file back as headers and rows (no header checks: it is our own file)."""
    if fmt == sheets.CSV:
        import csv

        text, _enc = sheets.decode_csv(data)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        return rows[0], rows[1:]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    return [str(h or "") for h in rows[0]], rows[1:]


def template_content(fmt: str, script: str = "hant") -> bytes:
    out = io.BytesIO()
    sheets.write_sheet(
        out,
        fmt,
        sheets.template_headers(script),
        sheets.template_rows(script),
        title="排查表",
    )
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# exports


@dataclass
class Export:
    filename: str
    headers: list[str]
    rows: Any  # an iterable of rows, consumed once
    title: str = ""


def _export_audit(actor: User, what: str, obj, node_path: str, changes: dict) -> None:
    audit_record(
        actor,
        f"fangyi.export.{what}",
        obj,
        object_type=None if obj is not None else "export",
        object_repr=None if obj is not None else what,
        node_path=node_path,
        changes=changes,
    )


def _top_path(user: User) -> str:
    paths = access.user_paths(user)
    return paths[0] if paths else ""


# The list page's filters that the export takes as query parameters (those that
# observation_list accepts are passed on).
OBSERVATION_FILTERS = ("status", "node", "q", "kind")


def observations_export(user: User, params: dict[str, str]) -> Export:
    """The observation list the user may see, with the list page's filters, as rows. Audited:
    one audit row per export, with the filters and the number of rows."""
    access.require(user, "export.run")
    from fangyi.observation import selectors as obs

    kwargs = _observation_filters(user, obs.observation_list, params)
    qs = obs.observation_list(user, **kwargs)
    if hasattr(qs, "select_related"):
        qs = qs.select_related("person", "person__household", "node", "place", "responsible")
    if hasattr(qs, "iterator"):
        count, rows = qs.count(), qs.iterator(chunk_size=2000)
    else:
        rows = list(qs)
        count = len(rows)
    _export_audit(
        user,
        "observations",
        None,
        _top_path(user),
        {"filters": [None, {k: str(v) for k, v in params.items() if v}], "rows": [None, count]},
    )

    def lines():
        for o in rows:
            p = o.person
            yield [
                p.name,
                p.get_id_type_display(),
                p.id_number,
                p.phone,
                p.household.address if p.household_id else "",
                o.node.name,
                o.get_kind_display(),
                o.place.name if o.place_id else "",
                o.get_status_display(),
                o.starts,
                o.last_exposure,
                o.ends,
                o.responsible.display_name if o.responsible_id else "",
                o.missed_streak,
            ]

    return Export(
        filename=f"observations-{timezone.localdate():%Y%m%d}.xlsx",
        headers=[
            _("Name"),
            _("Document type"),
            _("Document number"),
            _("Phone"),
            _("Address"),
            _("Jurisdiction"),
            _("Where"),
            _("Place"),
            _("Status"),
            _("From"),
            _("Last exposure"),
            _("Until"),
            _("Responsible worker"),
            _("Missed in a row"),
        ],
        rows=lines(),
        title=_("Observations"),
    )


def _observation_filters(user: User, fn, params: dict[str, str]) -> dict[str, Any]:
    """The query parameters that observation_list takes, passed through by name; a node id
    is resolved in the user's scope."""
    import inspect

    names = {
        n
        for n, p in inspect.signature(fn).parameters.items()
        if p.kind == inspect.Parameter.KEYWORD_ONLY
    }
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in names or key not in OBSERVATION_FILTERS or value in (None, ""):
            continue
        if key == "node":
            try:
                value = access.node_get(user, int(value))
            except (TypeError, ValueError):
                raise NotFound(_("No such jurisdiction."), field=key) from None
            except NotFound:
                raise NotFound(_("No such jurisdiction."), field=key) from None
        out[key] = value
    return out


def coverage_export(user: User, sweep, *, level: str = "grid") -> Export:
    access.require(user, "export.run")
    from fangyi.screening.selectors import coverage

    rows = coverage(user, sweep, level=level)
    _export_audit(
        user,
        "coverage",
        sweep,
        sweep.node.path,
        {"level": [None, level], "rows": [None, len(rows)]},
    )

    def lines():
        for r in rows:
            yield [
                r.node.name if r.node is not None else _("Total"),
                r.households,
                r.visited,
                r.pending,
                r.nobody_home,
                r.refused,
                r.moved_away,
                r.revisits_due,
                r.percent,
            ]

    return Export(
        filename=f"coverage-{sweep.pk}-{level}-{timezone.localdate():%Y%m%d}.xlsx",
        headers=[
            _("Jurisdiction"),
            _("Households"),
            _("Visited"),
            _("Pending"),
            _("Nobody home"),
            _("Refused"),
            _("Moved away"),
            _("Revisits due"),
            _("Done (%)"),
        ],
        rows=lines(),
        title=_("Coverage"),
    )


def export_file(export: Export):
    """The workbook in a spooled temporary file (memory for small ones, disk for large),
    written in openpyxl's write-only mode, rewound for a FileResponse."""
    import tempfile

    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    sheets.write_xlsx(fh, export.headers, export.rows, title=export.title)
    fh.seek(0)
    return fh
