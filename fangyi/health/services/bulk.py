"""The bulk path: many declarations, their proposals and their audit rows in a few statements.
The encoders hand the database texts it stores as they are (see `_AS_TEXT`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import AuditRows, masked_items
from fangyi.core.bulk import insert_many
from fangyi.core.errors import (
    DomainError,
    NotFound,
)
from fangyi.core.models import AuditEntry, User
from fangyi.people.models import Person

from ..models import (
    Declaration,
    DeclarationSource,
    DeclarationStatus,
)
from .declarations import DeclarationInput, _check_visit, _evaluate, declaration_clean
from .rules import SOURCES, Proposal, rules_config


@dataclass
class DeclarationRow:
    person: Person
    data: DeclarationInput
    client_id: uuid.UUID | None = None
    visit: Any = None


class _EncodedJson(str):
    """A value already encoded as text for insert_many (JSON, or a temperature's text).
    Django's fields pass a value that has `as_sql` through untouched (Field.get_db_prep_save,
    as for expressions), so each JSON value of a bulk row is encoded once, here, and an empty
    list not at all. SQLite stores the text; on PostgreSQL insert_many COPYs it and the
    server reads it with the column's input function (jsonb, numeric), as it reads the text
    a Jsonb wrapper would send: wrapping each value in Jsonb and encoding it there cost
    several microseconds a value, for the same bytes on the wire."""

    as_sql = None


# Backends where insert_many sends these texts as they are (SQLite's executemany, PostgreSQL's
# COPY in text format); any other gets the ordinary values.
_AS_TEXT = {"sqlite", "postgresql"}
_EMPTY_JSON = _EncodedJson("[]")


def _json_encoder(vendor: str):
    if vendor not in _AS_TEXT:
        return lambda value: value
    encode = json.JSONEncoder(ensure_ascii=False).encode  # Chinese text stays as it is
    return lambda value: _EncodedJson(encode(value)) if value else _EMPTY_JSON


def _changes_encoder(vendor: str):
    """An audit row's changes, {key: [None, value]}, from (key, value, repeats) items.

    The JSON text is put together from fragments, each encoded once for the values that
    repeat across rows (the source, a proposal, a reason, a date...): encoding the whole dict
    per row was the largest cost of the bulk path after the inserts. Elsewhere the dict goes
    the ordinary way."""
    if vendor not in _AS_TEXT:
        return lambda items: {key: [None, value] for key, value, _repeats in items}
    encode = json.JSONEncoder(ensure_ascii=False).encode
    memo: dict[tuple[str, Any], str] = {}

    def fragment(key: str, value: Any, repeats: bool) -> str:
        if not repeats:
            return f"{encode(key)}: [null, {encode(value)}]"
        found = memo.get((key, value))
        if found is None:
            if len(memo) > 50_000:
                memo.clear()
            found = memo[(key, value)] = f"{encode(key)}: [null, {encode(value)}]"
        return found

    return lambda items: _EncodedJson(
        "{" + ", ".join([fragment(k, v, rep) for k, v, rep in items]) + "}"
    )


def _decimal_encoder(vendor: str):
    """Temperatures for insert_many: the text SQLite's Decimal adapter would send (Django
    registers `str`), which PostgreSQL's numeric input reads too, made once per value; a few
    dozen values fill a whole import."""
    if vendor not in _AS_TEXT:
        return lambda value: value
    memo: dict[Decimal, _EncodedJson] = {}

    def encode(value):
        if value is None:
            return None
        found = memo.get(value)
        if found is None:
            found = memo[value] = _EncodedJson(str(value))
        return found

    return encode


@dataclass
class DeclarationBulkResult:
    created: int = 0
    already: int = 0  # rows whose client_id was stored before: not stored twice
    errors: list[tuple[int, dict[str, list[str]]]] = field(default_factory=list)


_BULK_DECL_COLUMNS = (
    "person",
    "node",
    "visit",
    "source",
    "status",
    "declared_on",
    "temperature",
    "temperature_method",
    "symptoms",
    "travel_since",
    "travel",
    "contacts",
    "notes",
    "proposal",
    "proposal_reason",
    "last_exposure",
    "recorded_by",
    "recorded_at",
    "confirmed_by",
    "confirmed_at",
    "client_id",
)


def declarations_bulk_record(
    *,
    actor: User | None,
    rows: Iterable[DeclarationRow | tuple],
    source: str = DeclarationSource.IMPORT,
    batch_size: int = 2000,
    scoped: bool = True,
) -> DeclarationBulkResult:
    """Many declarations at once (imports, the benchmark): each row validated like a single
    declaration (`declaration_clean`, the person visible to the actor, a visit's household),
    the rules evaluated with one configuration read, then stored in batches of one prepared
    INSERT (core.bulk.insert_many) with one audit row each, a batch per transaction.

    Rows are DeclarationRow or (person, data[, client_id]) tuples; bad rows come back with
    their 1-based row number and field errors and do not stop the others. A row whose
    client_id is already stored is counted in `already` and not stored again. Persons should
    come with their node loaded (`select_related("node")`)."""
    if actor is not None:
        access.require(actor, "declaration.record")
    if source not in SOURCES:
        raise DomainError(_("Unknown source."), field="source")
    config = rules_config()
    today = timezone.localdate()
    result = DeclarationBulkResult()
    audit = AuditRows(actor)
    actor_id = audit.actor_id
    pending = source == DeclarationSource.SELF
    status = DeclarationStatus.PENDING if pending else DeclarationStatus.CONFIRMED
    batch: list[tuple[DeclarationRow, Proposal]] = []
    seen: set[uuid.UUID] = set()
    given_ids: set[uuid.UUID] = set()
    as_json = _json_encoder(connection.vendor)
    as_decimal = _decimal_encoder(connection.vendor)
    as_changes = _changes_encoder(connection.vendor)

    def flush() -> None:
        if not batch:
            return
        now = timezone.now()
        with transaction.atomic():
            # Only ids the caller gave can be stored already; ours are new uuid4s.
            given = [r.client_id for r, _p in batch if r.client_id in given_ids]
            stored = (
                set(
                    Declaration.objects.filter(client_id__in=given)
                    .order_by()
                    .values_list("client_id", flat=True)
                )
                if given
                else set()
            )
            before = Declaration.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            fresh = [(r, p) for r, p in batch if r.client_id not in stored]
            result.already += len(batch) - len(fresh)
            values = []
            for r, p in fresh:
                d = r.data
                values.append(
                    (
                        r.person.pk,
                        r.person.node_id,
                        r.visit.pk if r.visit is not None else None,
                        source,
                        status,
                        d.declared_on,
                        as_decimal(d.temperature),
                        d.temperature_method,
                        as_json(d.symptoms),
                        d.travel_since,
                        as_json(d.travel),
                        as_json(d.contacts),
                        d.notes,
                        p.outcome,
                        p.reason,
                        p.last_exposure,
                        None if pending else actor_id,
                        now,
                        None if pending else actor_id,
                        None if pending else now,
                        r.client_id,
                    )
                )
            insert_many(Declaration, _BULK_DECL_COLUMNS, values)
            # The new rows' ids, read back by the unique client id; the range keeps the read
            # to this batch's rows (and any that another writer added meanwhile).
            # The id as text (no UUID object per row): hex on SQLite, dashed on PostgreSQL.
            pks = {
                key.replace("-", ""): pk
                for key, pk in Declaration.objects.filter(pk__gt=before)
                .order_by()
                .annotate(key=Cast("client_id", CharField()))
                .values_list("key", "pk")
            }
            audit_rows = []
            for (r, p), v in zip(fresh, values, strict=True):
                # _created_changes of the single path, written out: it runs once per row.
                d = r.data
                items: list[tuple[str, Any, bool]] = [
                    ("person", v[0], False),
                    ("node", v[1], True),
                    ("source", source, True),
                    ("status", status, True),
                    ("declared_on", d.declared_on.isoformat(), True),  # type: ignore[union-attr]
                    ("proposal", p.outcome, True),
                    ("proposal_reason", p.reason, True),
                ]
                if v[2] is not None:
                    items.append(("visit", v[2], False))
                if d.temperature is not None:
                    items.append(("temperature", str(d.temperature), True))
                    items.append(("temperature_method", d.temperature_method, True))
                for key in ("symptoms", "travel", "contacts"):
                    if getattr(d, key):
                        items.append((key, getattr(d, key), False))
                if d.travel_since is not None:
                    items.append(("travel_since", d.travel_since.isoformat(), True))
                if d.notes:
                    items.append(("notes", d.notes, False))
                if p.last_exposure is not None:
                    items.append(("last_exposure", p.last_exposure.isoformat(), True))
                audit_rows.append(
                    audit.row(
                        now,
                        "fangyi.declaration.created",
                        "declaration",
                        pks[r.client_id.hex],
                        f"{r.person.name} {r.data.declared_on}",
                        r.person.node.path,
                        as_changes(masked_items(items)),
                    )
                )
            insert_many(AuditEntry, AuditRows.columns, audit_rows)
            result.created += len(fresh)
        batch.clear()

    for i, item in enumerate(rows, start=1):
        row = item if isinstance(item, DeclarationRow) else DeclarationRow(*item)
        try:
            if row.person is None:
                raise DomainError(_("No such person."), field="person")
            if (
                scoped
                and actor is not None
                and not access.path_visible(actor, row.person.node.path)
            ):
                raise NotFound(_("No such person."), field="person")
            _check_visit(row.person, row.visit)
            declaration_clean(row.data, today=today, config=config)
        except DomainError as exc:
            result.errors.append((i, exc.errors))
            continue
        if row.client_id is None:
            row.client_id = uuid.uuid4()
        elif row.client_id in seen:
            result.errors.append((i, {"client_id": [_("This row appears twice.")]}))
            continue
        else:
            given_ids.add(row.client_id)
        seen.add(row.client_id)
        batch.append((row, _evaluate(row.data, config)))
        if len(batch) >= batch_size:
            flush()
    flush()
    return result
