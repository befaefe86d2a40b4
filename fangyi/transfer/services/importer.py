"""The import itself: a batch of rows validated whole, then stored through the other apps'
services."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any

import zhconv
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.errors import DomainError
from fangyi.core.models import Node, NodeKind, User
from fangyi.core.validators import check_length
from fangyi.health.services import (
    DeclarationInput,
    DeclarationRow,
    declaration_clean,
    declarations_bulk_record,
    rules_config,
)
from fangyi.people.models import Household, IdType, Person
from fangyi.people.services import (
    PersonInput,
    households_bulk_create,
    normalize_name,
    person_clean,
    persons_bulk_create,
)
from fangyi.screening.models import Assignment
from fangyi.screening.services import door_visit_record

from .. import sheets
from ..models import ImportJob
from .cells import (
    _SPLIT,
    CONTACT_WORDS,
    ID_TYPE_WORDS,
    METHOD_WORDS,
    NONE_WORDS,
    OUTCOME_WORDS,
    Row,
    _address_key,
    _content_id,
    _text,
    _word,
    parse_date,
)


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
