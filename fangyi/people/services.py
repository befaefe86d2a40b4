"""Every write of households, persons and places. Each validates, writes and audits in one
transaction; the UI and the API both call these."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import zhconv
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from fangyi.core import access
from fangyi.core.audit import AuditRows, audit_entry, audit_record, created, diff, snapshot
from fangyi.core.bulk import insert_many
from fangyi.core.errors import Conflict, DomainError, FieldErrors, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import AuditEntry, Node, User
from fangyi.core.validators import (
    check_length,
    check_past_date,
    fold_width,
    normalize_phone,
    parse_resident_id,
)

from .models import Household, IdType, Person, Place, PlaceKind, Sex

# Django's enum `.values` builds a new list on every access; these are looked up per row.
SEXES = frozenset(Sex.values)
ID_TYPES = frozenset(IdType.values)

# ---------------------------------------------------------------------------------------------
# search keys


@lru_cache(maxsize=200_000)
def normalize_name(name: str) -> str:
    """Simplified script, no spaces: 徐紅心 and 徐红心 give the same key.

    Cached: names repeat a great deal in a population, and conversion is the slow part of a
    bulk import."""
    return zhconv.convert(re.sub(r"\s+", "", name), "zh-hans").lower()


_HANZI_OR_RUN = re.compile(r"[\u3400-\u9fff]|[^\u3400-\u9fff]+")


@lru_cache(maxsize=20_000)
def _char_syllable(ch: str) -> str:
    return lazy_pinyin(ch)[0].lower()


def _syllables(text: str) -> list[str]:
    """Pinyin per character (cached: a population uses a few thousand characters), with a run
    of latin letters kept as one word, so "Anna" has the initial a, not a-n-n-a."""
    out = []
    for token in _HANZI_OR_RUN.findall(text):
        if len(token) == 1 and "\u3400" <= token <= "\u9fff":
            out.append(_char_syllable(token))
        elif token.strip():
            out.append(token.strip().lower())
    return out


# Surnames read differently from the same character in ordinary words (覃 is Qín in 覃秀英, not
# tán). Two-character compound surnames first.
SURNAME_READINGS = {
    "万俟": ["mo", "qi"],
    "尉迟": ["yu", "chi"],
    "单于": ["chan", "yu"],
    "覃": ["qin"],
    "单": ["shan"],
    "曾": ["zeng"],
    "解": ["xie"],
    "查": ["zha"],
    "仇": ["qiu"],
    "区": ["ou"],
    "朴": ["piao"],
    "乐": ["yue"],
    "缪": ["miao"],
    "盖": ["ge"],
    "秘": ["bi"],
    "种": ["chong"],
    "繁": ["po"],
    "员": ["yun"],
    "牟": ["mu"],
    "翟": ["zhai"],
    "祭": ["zhai"],
    "召": ["shao"],
    "谌": ["chen"],
    "冼": ["xian"],
    "折": ["she"],
    "句": ["gou"],
    "纪": ["ji"],
}


# Two-character surnames, so that 欧阳娜娜's given name is 娜娜 (the readings above list only the
# ones read unusually).
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫 "
    "西门 百里 呼延 万俟 申屠 澹台 公羊 太史 闻人 赫连 钟离 宗政 濮阳 淳于 单于 拓跋 司空".split()
)


def given_key(norm: str) -> str:
    """The given name of a normalised Chinese name (红心 of 徐红心, 娜娜 of 欧阳娜娜), the
    search's second key: people are asked for by their given name as often as by the whole.
    Empty for a name that does not start with a hanzi, or has nothing after the surname."""
    if not norm or not ("\u3400" <= norm[0] <= "\u9fff"):
        return ""
    return norm[2:] if norm[:2] in COMPOUND_SURNAMES else norm[1:]


def name_keys(name: str) -> tuple[str, str, str]:
    norm = normalize_name(name)
    head: list[str] = []
    for surname in (norm[:2], norm[:1]):
        if surname in SURNAME_READINGS:
            head, norm_rest = SURNAME_READINGS[surname], norm[len(surname) :]
            break
    else:
        norm_rest = norm
    syllables = head + _syllables(norm_rest)
    initials = [s[0] for s in syllables if s]
    # Latin letters in the name stay as they are (foreign names).
    return norm, "".join(syllables)[:200], "".join(initials)[:50]


def _digits_rev(value: str) -> str:
    return value[::-1]


# ---------------------------------------------------------------------------------------------
# validation


@dataclass
class PersonInput:
    name: str
    id_type: str = IdType.RESIDENT
    id_number: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    phone: str = ""
    household: Household | None = None
    node: Node | None = None
    relation: str = ""
    notes: str = ""
    client_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)


PERSON_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "id_type",
    "id_number",
    "phone",
    "household",
    "relation",
    "node",
    "notes",
]


def person_clean(
    data: PersonInput, *, actor: User | None, scoped: bool = True, today: dt.date | None = None
) -> PersonInput:
    """Validate and normalise one person's fields. Raises DomainError with every field error.

    `today` lets a bulk caller look the date up once instead of once per row."""
    today = today or timezone.localdate()
    e = FieldErrors()
    data.name = e.run(check_length, data.name, "name", 50, required=True) or ""
    data.relation = e.run(check_length, data.relation, "relation", 20) or ""
    data.notes = e.run(check_length, data.notes, "notes", 2000) or ""
    if data.sex and data.sex not in SEXES:
        e.add("sex", _("Choose male or female."))
    if data.id_type not in ID_TYPES:
        e.add("id_type", _("Unknown document type."))
    e.run(check_past_date, data.birth_date, "birth_date", today=today)
    phone = e.run(normalize_phone, data.phone)
    data.phone = phone if phone is not None else data.phone

    number = fold_width(data.id_number or "").strip()
    if data.id_type == IdType.RESIDENT and number:
        rid = e.run(parse_resident_id, number, today=today)
        if rid is not None:
            data.id_number = rid.number
            if data.birth_date and data.birth_date != rid.birth_date:
                e.add(
                    "birth_date",
                    _("The ID number says this person was born on %(date)s.")
                    % {"date": rid.birth_date.isoformat()},
                )
            if data.sex and data.sex != rid.sex:
                e.add(
                    "sex",
                    _("The ID number says this person is %(sex)s.") % {"sex": Sex(rid.sex).label},
                )
            data.birth_date = data.birth_date or rid.birth_date
            data.sex = data.sex or rid.sex
    elif data.id_type == IdType.NONE:
        data.id_number = ""
    elif number:
        number = number.upper().replace(" ", "")
        if not re.fullmatch(r"[A-Z0-9-]{4,32}", number):
            e.add("id_number", _("A document number has 4 to 32 letters, digits or dashes."))
        data.id_number = number
    elif data.id_type != IdType.NONE and data.id_type in ID_TYPES:
        data.id_number = ""

    if data.household is not None:
        data.node = data.household.node
    if data.node is None:
        e.add("node", _("Choose the household or the jurisdiction this person belongs to."))
    elif scoped and actor is not None and not access.path_visible(actor, data.node.path):
        e.not_yours("household" if data.household else "node")
    e.raise_if_any()
    return data


def _apply_keys(person: Person) -> None:
    person.name_norm, person.name_pinyin, person.name_initials = name_keys(person.name)
    person.name_given = given_key(person.name_norm)
    person.id_number_rev = _digits_rev(person.id_number)
    person.phone_rev = _digits_rev(re.sub(r"\D", "", person.phone))


def _existing_document(data: PersonInput, exclude_pk: int | None = None) -> Person | None:
    if not data.id_number:
        return None
    qs = Person.objects.filter(id_type=data.id_type, id_number=data.id_number)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


def _document_conflict(actor: User, existing: Person) -> Conflict:
    visible = access.can(actor, "person.view") and access.path_visible(actor, existing.node.path)
    return Conflict(
        _("A person with this document number is already registered."),
        field="id_number",
        details={"person_id": existing.pk} if visible else {},
    )


# ---------------------------------------------------------------------------------------------
# persons


def person_duplicates(
    actor: User,
    *,
    name: str,
    birth_date: dt.date | None,
    phone: str,
    exclude_pk: int | None = None,
    limit: int = 10,
) -> list[Person]:
    """Likely duplicates the user may see: same name and birth date, or same phone."""
    access.require(actor, "person.view")
    from django.db.models import Q

    q = Q(pk__in=[])
    norm = normalize_name(name or "")
    if norm and birth_date:
        q |= Q(name_norm=norm, birth_date=birth_date)
    if phone:
        try:
            q |= Q(phone=normalize_phone(phone))
        except DomainError:
            pass
    qs = Person.objects.filter(q).visible_to(actor).select_related("household")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return list(qs[:limit])


class DuplicatesFound(Conflict):
    """Likely duplicates exist; the caller shows them and asks before saving."""

    def __init__(self, persons: list[Person]):
        self.persons = persons
        super().__init__(
            _("Likely duplicates exist: check them before saving a new person."),
            field="name",
            details={
                "duplicates": [
                    {
                        "id": p.pk,
                        "name": p.name,
                        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
                        "phone": p.phone,
                        "household_id": p.household_id,
                    }
                    for p in persons
                ]
            },
        )


@transaction.atomic
def person_create(*, actor: User, data: PersonInput, allow_duplicates: bool = True) -> Person:
    """Register a person. With allow_duplicates=False, likely duplicates (same name and birth
    date, or same phone) raise DuplicatesFound instead of saving."""
    access.require(actor, "person.edit")
    if data.client_id:
        # A retry of a submission that already landed: hand back what was stored.
        done = Person.objects.filter(client_id=data.client_id).first()
        if done is not None:
            if not access.path_visible(actor, done.node.path):
                raise NotFound(_("No such person."))
            return done
    person_clean(data, actor=actor)
    if existing := _existing_document(data):
        raise _document_conflict(actor, existing)
    if not allow_duplicates:
        dups = person_duplicates(
            actor, name=data.name, birth_date=data.birth_date, phone=data.phone
        )
        if dups:
            raise DuplicatesFound(dups)
    person = Person(client_id=data.client_id, **{f: getattr(data, f) for f in PERSON_FIELDS})
    _apply_keys(person)
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        # Another request stored the same document between our check and our insert.
        raise Conflict(
            _("A person with this document number is already registered."), field="id_number"
        ) from None
    audit_record(
        actor,
        "fangyi.person.created",
        person,
        node_path=person.node.path,
        changes=created(snapshot(person, PERSON_FIELDS)),
    )
    return person


@transaction.atomic
def person_update(*, actor: User, person: Person, data: PersonInput) -> Person:
    access.require(actor, "person.edit")
    person_clean(data, actor=actor)
    if existing := _existing_document(data, exclude_pk=person.pk):
        raise _document_conflict(actor, existing)
    before = snapshot(person, PERSON_FIELDS)
    for f in PERSON_FIELDS:
        setattr(person, f, getattr(data, f))
    _apply_keys(person)
    person.save()
    changes = diff(before, snapshot(person, PERSON_FIELDS))
    if changes:
        audit_record(
            actor, "fangyi.person.changed", person, node_path=person.node.path, changes=changes
        )
    return person


@transaction.atomic
def person_delete(*, actor: User, person: Person) -> None:
    access.require(actor, "person.delete")
    before = snapshot(person, PERSON_FIELDS)
    pk, path, label = person.pk, person.node.path, str(person)
    person.delete()
    audit_record(
        actor,
        "fangyi.person.deleted",
        None,
        object_type="person",
        object_id=pk,
        object_repr=label,
        node_path=path,
        changes=diff(before, {}),
    )


def _relations_to(model) -> list:
    """Every foreign key in the project that points at `model`, so a merge moves them all,
    including those that later apps add."""
    return [
        rel
        for rel in model._meta.related_objects
        if (rel.one_to_many or rel.one_to_one) and not rel.related_model._meta.abstract
    ]


@transaction.atomic
def person_merge(*, actor: User, keep: Person, remove: Person) -> Person:
    """Fold `remove` into `keep`: every link moves to `keep`, blanks are filled from `remove`,
    then `remove` is deleted. Both must be visible to the actor."""
    access.require(actor, "person.merge")
    if keep.pk == remove.pk:
        raise DomainError(_("Choose two different persons."), field="other")
    for p, f in ((keep, "person"), (remove, "other")):
        if not access.path_visible(actor, p.node.path):
            raise NotFound(_("No such person."), field=f)
    if (
        keep.id_number
        and remove.id_number
        and (keep.id_type, keep.id_number) != (remove.id_type, remove.id_number)
    ):
        raise DomainError(_("These two persons have different document numbers."), field="other")
    before = snapshot(keep, PERSON_FIELDS)
    moved: dict[str, int] = {}
    for rel in _relations_to(Person):
        n = rel.related_model._base_manager.filter(**{rel.field.name: remove}).update(
            **{rel.field.name: keep}
        )
        if n:
            moved[rel.related_model._meta.label_lower] = n
    removed_doc = (remove.id_type, remove.id_number)
    removed = snapshot(remove, PERSON_FIELDS)
    removed_pk, removed_label = remove.pk, str(remove)
    remove.delete()
    for f in ("sex", "birth_date", "phone", "household", "relation", "notes"):
        if not getattr(keep, f) and getattr(remove, f):
            setattr(keep, f, getattr(remove, f))
    if not keep.id_number and removed_doc[1]:
        keep.id_type, keep.id_number = removed_doc
    _apply_keys(keep)
    keep.save()
    audit_record(
        actor,
        "fangyi.person.merged",
        keep,
        node_path=keep.node.path,
        changes={
            **diff(before, snapshot(keep, PERSON_FIELDS)),
            "merged_from": [removed_pk, None],
            "links_moved": [moved, None],
        },
    )
    audit_record(
        actor,
        "fangyi.person.deleted",
        None,
        object_type="person",
        object_id=removed_pk,
        object_repr=removed_label,
        node_path=remove.node.path,
        changes={**diff(removed, {}), "merged_into": [None, keep.pk]},
    )
    return keep


@dataclass
class BulkResult:
    created: int = 0
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)


# Columns written by the bulk path, in order.
_BULK_PERSON_COLUMNS = (
    *PERSON_FIELDS,
    "name_norm",
    "name_pinyin",
    "name_initials",
    "name_given",
    "id_number_rev",
    "phone_rev",
    "client_id",
    "created",
    "updated",
)


def _person_values(data: PersonInput) -> dict[str, Any]:
    """PERSON_FIELDS of a cleaned input, in order, links as ids."""
    values = {f: getattr(data, f) for f in PERSON_FIELDS}
    values["household"] = data.household.pk if data.household else None
    values["node"] = data.node.pk  # type: ignore[union-attr]
    return values


def _bulk_person_row(values: dict[str, Any], data: PersonInput, now) -> tuple:
    keys = name_keys(data.name)
    return (
        *values.values(),
        *keys,
        given_key(keys[0]),
        _digits_rev(data.id_number),
        _digits_rev(re.sub(r"\D", "", data.phone)),
        data.client_id,
        now,
        now,
    )


def _bulk_changes(values: dict[str, Any]) -> dict:
    birth = values["birth_date"]
    return created({**values, "birth_date": birth.isoformat() if birth else None})


def persons_bulk_create(
    *, actor: User | None, rows: Iterable[PersonInput], batch_size: int = 2000, scoped: bool = True
) -> BulkResult:
    """The registry's bulk path (imports, the demo city, the benchmark).

    Each row is validated like a single create (person_clean); good rows are stored in batches,
    each batch in one transaction with one audit row per person; bad rows come back with their
    row number (1-based) and field errors, and do not stop the rest. Rows are written with one
    prepared INSERT per table (core.bulk.insert_many), not through model instances.
    """
    result = BulkResult()
    batch: list[tuple[int, PersonInput]] = []
    audit_rows = AuditRows(actor)

    def flush() -> None:
        if not batch:
            return
        now = timezone.now()
        with transaction.atomic():
            # Documents already registered, per type so that the unique (id_type, id_number)
            # index answers: a filter on id_number alone scans the table, batch after batch.
            by_type: dict[str, list[str]] = {}
            for _i, d in batch:
                if d.id_number:
                    by_type.setdefault(d.id_type, []).append(d.id_number)
            taken: set[tuple[str, str]] = set()
            for id_type, numbers in by_type.items():
                taken.update(
                    Person.objects.filter(id_type=id_type, id_number__in=numbers)
                    .order_by()
                    .values_list("id_type", "id_number")
                )
            fresh = []
            for i, d in batch:
                if d.id_number and (d.id_type, d.id_number) in taken:
                    result.errors.append(
                        (
                            i,
                            {
                                "id_number": [
                                    _("A person with this document number is already registered.")
                                ]
                            },
                        )
                    )
                else:
                    fresh.append(d)
            values = [_person_values(d) for d in fresh]
            insert_many(
                Person,
                _BULK_PERSON_COLUMNS,
                [_bulk_person_row(v, d, now) for v, d in zip(values, fresh, strict=True)],
            )
            ids = dict(
                Person.objects.filter(client_id__in=[d.client_id for d in fresh])
                .order_by()
                .values_list("client_id", "pk")
            )
            insert_many(
                AuditEntry,
                AuditRows.columns,
                [
                    audit_rows.row(
                        now,
                        "fangyi.person.created",
                        "person",
                        ids[d.client_id],
                        d.name,
                        d.node.path,  # type: ignore[union-attr]
                        _bulk_changes(v),
                    )
                    for v, d in zip(values, fresh, strict=True)
                ],
            )
            result.created += len(fresh)
        batch.clear()

    seen: set[tuple[str, str]] = set()
    today = timezone.localdate()
    for i, data in enumerate(rows, start=1):
        try:
            person_clean(data, actor=actor, scoped=scoped and actor is not None, today=today)
        except DomainError as exc:
            result.errors.append((i, exc.errors))
            continue
        key = (data.id_type, data.id_number)
        if data.id_number and key in seen:
            result.errors.append((i, {"id_number": [_("This document number appears twice.")]}))
            continue
        seen.add(key)
        data.client_id = data.client_id or uuid.uuid4()
        batch.append((i, data))
        if len(batch) >= batch_size:
            flush()
    flush()
    return result


# ---------------------------------------------------------------------------------------------
# households

HOUSEHOLD_FIELDS = ["node", "address", "notes"]


def _household_clean(
    actor: User | None, node: Node | None, address: str, notes: str, scoped: bool = True
) -> tuple[Node, str, str]:
    e = FieldErrors()
    address = e.run(check_length, address, "address", 200, required=True) or ""
    notes = e.run(check_length, notes, "notes", 2000) or ""
    if node is None:
        e.add("node", _("Choose the compound or grid."))
    elif node.kind not in ("compound", "grid"):
        e.add("node", _("A household hangs on a compound or a grid."))
    elif scoped and actor is not None and not access.path_visible(actor, node.path):
        e.not_yours("node")
    e.raise_if_any()
    return node, address, notes  # type: ignore[return-value]


@transaction.atomic
def household_create(
    *,
    actor: User,
    node: Node | None,
    address: str,
    notes: str = "",
    client_id: uuid.UUID | None = None,
) -> Household:
    access.require(actor, "household.edit")
    done = replay(
        Household,
        client_id,
        lambda done: access.path_visible(actor, done.node.path),
        refuse=lambda: NotFound(_("No such household.")),
    )
    if done is not None:
        return done
    node, address, notes = _household_clean(actor, node, address, notes)
    household = Household.objects.create(
        node=node, address=address, notes=notes, client_id=client_id
    )
    audit_record(
        actor,
        "fangyi.household.created",
        household,
        node_path=node.path,
        changes=created(snapshot(household, HOUSEHOLD_FIELDS)),
    )
    return household


@transaction.atomic
def household_update(
    *, actor: User, household: Household, node: Node | None, address: str, notes: str = ""
) -> Household:
    access.require(actor, "household.edit")
    node, address, notes = _household_clean(actor, node, address, notes)
    before = snapshot(household, HOUSEHOLD_FIELDS)
    household.node, household.address, household.notes = node, address, notes
    household.save()
    if before["node"] != node.pk:
        # Members follow their household to its new place in the tree.
        household.members.update(node=node)
    audit_record(
        actor,
        "fangyi.household.changed",
        household,
        node_path=node.path,
        changes=diff(before, snapshot(household, HOUSEHOLD_FIELDS)),
    )
    return household


@transaction.atomic
def household_delete(*, actor: User, household: Household) -> None:
    access.require(actor, "household.delete")
    if household.members.exists():
        raise DomainError(_("Move or remove the members first."), field="members")
    before = snapshot(household, HOUSEHOLD_FIELDS)
    pk, path, label = household.pk, household.node.path, str(household)
    household.delete()
    audit_record(
        actor,
        "fangyi.household.deleted",
        None,
        object_type="household",
        object_id=pk,
        object_repr=label,
        node_path=path,
        changes=diff(before, {}),
    )


def households_bulk_create(
    *, actor: User | None, rows: list[tuple[Node, str]], batch_size: int = 2000
) -> list[Household]:
    """Bulk path for imports, the demo city and benchmarks: validated, audited per row."""
    out: list[Household] = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        objs = []
        for node, address in chunk:
            node, address, _notes = _household_clean(actor, node, address, "", scoped=False)
            objs.append(Household(node=node, address=address, client_id=uuid.uuid4()))
        with transaction.atomic():
            Household.objects.bulk_create(objs, batch_size=batch_size)
            if objs and objs[0].pk is None:
                ids = dict(
                    Household.objects.filter(client_id__in=[h.client_id for h in objs]).values_list(
                        "client_id", "pk"
                    )
                )
                for h in objs:
                    h.pk = ids[h.client_id]
            AuditEntry.objects.bulk_create(
                [
                    audit_entry(
                        actor,
                        "fangyi.household.created",
                        h,
                        node_path=h.node.path,
                        changes=created(snapshot(h, HOUSEHOLD_FIELDS)),
                    )
                    for h in objs
                ],
                batch_size=batch_size,
            )
        out.extend(objs)
    return out


# ---------------------------------------------------------------------------------------------
# places

PLACE_FIELDS = ["kind", "name", "node", "address", "phone", "capacity", "notes", "is_active"]
CAPACITY_KINDS = {PlaceKind.DESIGNATED_HOTEL, PlaceKind.QUARANTINE_SITE}


def _place_apply(actor: User | None, place: Place, data: dict[str, Any]) -> None:
    e = FieldErrors()
    place.kind = data.get("kind") or ""
    if place.kind not in PlaceKind.values:
        e.add("kind", _("Unknown kind of place."))
    place.name = e.run(check_length, data.get("name", ""), "name", 100, required=True) or ""
    place.address = (
        e.run(check_length, data.get("address", ""), "address", 200, required=True) or ""
    )
    place.notes = e.run(check_length, data.get("notes", ""), "notes", 2000) or ""
    phone = e.run(normalize_phone, data.get("phone", ""))
    place.phone = phone or ""
    capacity = data.get("capacity")
    if capacity is not None and (
        not isinstance(capacity, int) or capacity < 0 or capacity > 100000
    ):
        e.add("capacity", _("Beds are a whole number from 0 to 100000."))
        capacity = None
    if place.kind in CAPACITY_KINDS and capacity is None and "capacity" not in e.errors:
        e.add("capacity", _("Quarantine points and designated hotels need their number of beds."))
    place.capacity = capacity
    place.is_active = bool(data.get("is_active", True))
    node = data.get("node")
    if node is None:
        e.add("node", _("Choose the jurisdiction."))
    elif actor is not None and not access.path_visible(actor, node.path):
        e.not_yours("node")
    else:
        place.node = node
    e.raise_if_any()


@transaction.atomic
def place_create(*, actor: User | None, data: dict[str, Any], scoped: bool = True) -> Place:
    if actor is not None:
        access.require(actor, "place.edit")
    place = Place()
    _place_apply(actor if scoped else None, place, data)
    place.save()
    audit_record(
        actor,
        "fangyi.place.created",
        place,
        node_path=place.node.path,
        changes=created(snapshot(place, PLACE_FIELDS)),
    )
    return place


@transaction.atomic
def place_update(*, actor: User, place: Place, data: dict[str, Any]) -> Place:
    access.require(actor, "place.edit")
    before = snapshot(place, PLACE_FIELDS)
    _place_apply(actor, place, data)
    place.save()
    audit_record(
        actor,
        "fangyi.place.changed",
        place,
        node_path=place.node.path,
        changes=diff(before, snapshot(place, PLACE_FIELDS)),
    )
    return place
