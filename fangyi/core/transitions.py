"""Lifecycles as tables: each step of a record's life (a tip accepted, a support request
declined, a placement released) is one row saying where it starts, where it leads, who may take
it and what it writes; `transition` is the one function that takes a step.

Every step used to write out the same twenty lines (require the permission, check the scope,
lock the row, check the status again inside the transaction, set the fields, save, write the
event, audit), and the pages and the API re-derived from the roles and statuses which buttons
to show. They drifted: a page offered a step its service refused. Now the table is the
reference: `transition` reads it to guard and write, `allowed_steps` reads it to answer which
steps a user may take on a record (the pages show those buttons), and the docs and the tests
render it.

The messages and status codes are each lifecycle's own (a tip's "This cannot be done while the
tip is closed." is not a placement's "This placement changed meanwhile."): the table carries
them as functions, so moving a step onto the table changes no answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from . import access
from .audit import audit_record
from .errors import DomainError
from .models import User

Hook = Callable[["Move"], Any]


@dataclass(frozen=True)
class Step:
    """One row of a lifecycle's table.

    `sources` are the statuses the step starts from; `when` adds a condition on the record that
    the status alone does not say (a placement at a site, not at home; a tip not merged into
    another). `target` is the status it leads to: a status, None when the status stays, or a
    function of the move (a reopened tip goes back to assigned or to new).

    `action` is the permission of `fangyi.core.access.POLICY` the step requires; `who` adds
    what the role alone does not decide (a tip's assignee, the agency a request is addressed
    to) by raising the Forbidden that names why; it runs after the scope check, so a record
    outside the jurisdiction still answers 404.

    `stamp` is the time field set to the move's time; `sets` the fields the step writes from
    the values given (`transition(..., resolution="warned")`). `clean` says whether the
    caller's input is checked before the status (the default: a bad form answers 400 whatever
    the status) or after it (a closed tip answers 409 before its time is looked at).

    `prepare` runs on the locked record before it is written and returns more fields to write
    (those that depend on the record: a reopened tip's new due time);
    `apply` after it is written and its event made (the step's own work: a merge's other tips,
    a bed freed). `only` says in words what `when` checks, for the docs. `changes` gives the audit row's changes; by default the status, before and
    after. `verb` names the audit action (`fangyi.<kind>.<verb>`) when it is not the step's
    name."""

    name: str
    sources: tuple[str, ...]
    target: str | Callable[[Move], str] | None
    action: str
    who: Callable[[User, Any], None] | None = None
    when: Callable[[Any], bool] | None = None
    stamp: str | None = None
    sets: tuple[str, ...] = ()
    clean: str = "first"
    prepare: Hook | None = None
    apply: Hook | None = None
    changes: Callable[[Move], dict] | None = None
    verb: str | None = None
    event: bool = True
    only: str = ""  # what `when` checks, in words, for the docs


@dataclass(frozen=True)
class Lifecycle:
    """A record's table of steps and what every step of it shares.

    `in_scope` raises the NotFound of a record outside the user's jurisdiction; `refused`
    builds the error of a step taken from the wrong status (checked on the caller's copy,
    before any lock); `changed` the error when the status changed by the time the row was
    locked (two answers at once: one wins). `lock` re-reads the row with select_for_update and
    whatever the steps read (its node for the audit row). `event` writes the history row of a
    step (tips keep one; support requests and placements have their stamps and the audit).
    `audit_kind` is the middle of the audit action, `node_path` where the audit row is filed."""

    model: type[models.Model]
    audit_kind: str
    steps: dict[str, Step]
    in_scope: Callable[[User, Any], None]
    refused: Callable[[Any, Step], DomainError]
    changed: Callable[[Any, Step], DomainError]
    lock: Callable[[Any], Any]
    node_path: Callable[[Any], str]
    event: Hook | None = None
    status_field: str = "status"

    def __post_init__(self):
        for name, step in self.steps.items():
            assert step.name == name, f"{self.audit_kind}: step {name} is named {step.name}"
            assert step.action in access.POLICY, f"{self.audit_kind}.{name}: {step.action}"

    def statuses(self) -> list[str]:
        return [value for value, _label in self.model._meta.get_field(self.status_field).choices]


@dataclass
class Move:
    """One step being taken: what the hooks read and write. `obj` is the caller's copy,
    `fresh` the locked row (None until locked), `data` the values given and cleaned."""

    actor: User
    obj: Any
    step: Step
    at: dt.datetime
    data: dict[str, Any] = field(default_factory=dict)
    fresh: Any = None
    before: str = ""
    after: str = ""


TABLES: dict[type[models.Model], Lifecycle] = {}


def register(table: Lifecycle) -> Lifecycle:
    """Make `transition` and `allowed_steps` know the model's table."""
    TABLES[table.model] = table
    return table


def table_of(obj_or_model) -> Lifecycle:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return TABLES[model]


def _status(table: Lifecycle, obj) -> str:
    return getattr(obj, table.status_field)


def _stands(table: Lifecycle, step: Step, obj) -> bool:
    """The record stands where the step starts."""
    return _status(table, obj) in step.sources and (step.when is None or step.when(obj))


def guard(actor: User, obj, step_name: str, *, clean: Callable[[], dict] | None = None) -> dict:
    """The checks of a step, in the order every step answers them: the role (403), the scope
    (404), who among the role (403), the caller's input (400), the status (409 or the
    lifecycle's own). Returns the cleaned input. For a step whose write is not a plain change
    of fields (a visit on a tip) and for `transition`."""
    table = table_of(obj)
    step = table.steps[step_name]
    access.require(actor, step.action)
    table.in_scope(actor, obj)
    if step.who is not None:
        step.who(actor, obj)
    data: dict = {}
    if clean is not None and step.clean == "first":
        data = clean() or {}
    if not _stands(table, step, obj):
        raise table.refused(obj, step)
    if clean is not None and step.clean == "after_status":
        data = clean() or {}
    return data


def transition(
    actor: User,
    obj,
    step_name: str,
    *,
    at: dt.datetime | None = None,
    clean: Callable[[], dict] | None = None,
    **values,
):
    """Take one step of the record's lifecycle: require → scope → who → input → status, then
    in one transaction lock → status again → set → save → event → the step's work → audit.

    `values` (and what `clean` returns, checked at the step's point) are what the hooks read;
    those the step `sets` are written on the row, and a cleaned `at` is the step's time. The row is written with one conditional
    UPDATE on the status it was locked in: on PostgreSQL the lock already holds, and where
    select_for_update is not a lock (SQLite) two steps at once still cannot both win. The
    caller's copy shows the new state afterwards; it is returned."""
    table = table_of(obj)
    step = table.steps[step_name]
    data = {**values, **guard(actor, obj, step_name, clean=clean)}
    # A time the caller's input gave (checked against the record) is the step's time.
    at = data.pop("at", None) or at
    move = Move(actor=actor, obj=obj, step=step, at=at or timezone.now(), data=data)
    with transaction.atomic():
        fresh = table.lock(obj)
        if not _stands(table, step, fresh):
            raise table.changed(fresh, step)
        move.fresh = fresh
        move.before = _status(table, fresh)
        written: dict[str, Any] = {}
        for name in step.sets:
            if name in data:
                written[name] = data[name]
        if step.stamp:
            written[step.stamp] = move.at
        for name, value in written.items():
            setattr(fresh, name, value)
        target = step.target(move) if callable(step.target) else step.target
        move.after = target or move.before
        setattr(fresh, table.status_field, move.after)
        if step.prepare is not None:
            for name, value in (step.prepare(move) or {}).items():
                setattr(fresh, name, value)
                written[name] = value
        written[table.status_field] = move.after
        attnames = [table.model._meta.get_field(k).attname for k in written]
        row = {a: getattr(fresh, a) for a in attnames}
        updated = table.model._default_manager.filter(
            pk=fresh.pk, **{table.status_field: move.before}
        ).update(**row)
        if not updated:
            raise table.changed(table.lock(obj), step)
        if step.event and table.event is not None:
            table.event(move)
        if step.apply is not None:
            step.apply(move)
        changes = (
            step.changes(move)
            if step.changes is not None
            else {table.status_field: [move.before, move.after]}
        )
        audit_record(
            actor,
            f"fangyi.{table.audit_kind}.{step.verb or step.name}",
            fresh,
            node_path=table.node_path(fresh),
            changes=changes,
        )
    copy_back(obj, fresh)
    return obj


def copy_back(obj, fresh) -> None:
    """The caller's instance shows the new state (its cached relations are kept)."""
    if obj is fresh:
        return
    for f in type(obj)._meta.concrete_fields:
        setattr(obj, f.attname, getattr(fresh, f.attname))


def allows(user: User, obj, step_name: str) -> bool:
    """Whether `guard` lets the user take the step now (input aside)."""
    try:
        guard(user, obj, step_name)
    except DomainError:
        return False
    return True


def allowed_steps(user: User, obj) -> list[str]:
    """The steps the user may take on the record now, in the table's order: what the page shows
    as buttons and the API answers, from the same checks the service guards with."""
    return [name for name in table_of(obj).steps if allows(user, obj, name)]


def table_rows(table: Lifecycle) -> Iterable[tuple[str, str, str, str]]:
    """(step, from, to, permission) for the docs and the tests."""
    labels = dict(table.model._meta.get_field(table.status_field).choices)
    for step in table.steps.values():
        if callable(step.target):
            target = "(depends)"
        elif step.target is None:
            target = "(unchanged)"
        else:
            target = str(labels.get(step.target, step.target))
        sources = ", ".join(str(labels.get(s, s)) for s in step.sources)
        yield step.name, sources, target, step.action


def table_markdown(table: Lifecycle) -> str:
    """The lifecycle as the docs show it (docs/lifecycles.md; a test keeps them equal)."""
    rows = ["| step | from | only when | to | permission |", "|---|---|---|---|---|"]
    for (a, b, c, d), step in zip(table_rows(table), table.steps.values(), strict=True):
        rows.append(f"| {a} | {b} | {step.only} | {c} | `{d}` |")
    return "\n".join(rows)
