"""Every write of sweeps, assignments and door visits. Each validates everything first, then
writes and audits in one transaction; the pages and the API both call these."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_entry, audit_record, created, snapshot
from fangyi.core.bulk import insert_many
from fangyi.core.errors import Conflict, DomainError, FieldErrors, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import FIELD_ROLES, AuditEntry, Node, NodeKind, Role, User, subtree_q
from fangyi.core.selectors import nearest_workers
from fangyi.core.validators import check_length
from fangyi.health.services import declaration_clean, declaration_record
from fangyi.people.models import Household, Person

from .models import DONE_STATUSES, Assignment, DoorStatus, DoorVisit, Sweep, SweepStatus

# Who takes a grid's doors when a sweep opens: the grid worker, else police.
ASSIGNEE_ROLES = (Role.GRID_WORKER, Role.POLICE, Role.AUXILIARY)
# Who may be given doors by hand: any field role that records visits (FIELD_ROLES, imported
# from fangyi.core.models above, in the order a door's worker is looked for).
OUTCOMES = frozenset(DoorStatus.values) - {DoorStatus.PENDING}
# A device's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)
# How far back a sweep may start, and how long it may run.
MAX_START_BACK = dt.timedelta(days=30)
MAX_LENGTH = dt.timedelta(days=92)

SWEEP_FIELDS = ["node", "purpose", "starts", "ends", "status"]
VISIT_FIELDS = [
    "assignment",
    "household",
    "outcome",
    "at",
    "by",
    "latitude",
    "longitude",
    "accuracy",
    "notes",
]


# ---------------------------------------------------------------------------------------------
# sweeps


def grid_of(node: Node, parents: dict[int, Node]) -> Node:
    """The grid a household's node belongs to: itself if a grid, else its parent grid.

    A household hangs on a compound (whose parent is a grid) or on a grid. Anything else falls
    back to the node itself, so every assignment has a grid to be counted under."""
    if node.kind == NodeKind.GRID:
        return node
    parent = parents.get(node.parent_id) if node.parent_id else None
    if parent is not None and parent.kind == NodeKind.GRID:
        return parent
    return node


def sweep_open(
    *,
    actor: User | None,
    node: Node,
    purpose: str,
    starts: dt.date | None,
    ends: dt.date | None,
    scoped: bool = True,
) -> Sweep:
    """Open a sweep over `node`: one assignment per household under it, each given to the
    nearest grid worker of its grid (else the officer or auxiliary police there).

    `scoped=False` with `actor=None` is the system's path (the demo city, test fixtures)."""
    if scoped or actor is not None:
        access.require(actor, "sweep.manage")
    today = timezone.localdate()
    e = FieldErrors()
    if node is None:
        e.add("node", _("Choose the jurisdiction to sweep."))
    elif scoped and not access.path_visible(actor, node.path):
        raise NotFound(_("This jurisdiction is not one of yours."), field="node")
    purpose = e.run(check_length, purpose, "purpose", 200, required=True) or ""
    if starts is None:
        e.add("starts", _("This date is required."))
    if ends is None:
        e.add("ends", _("This date is required."))
    if starts is not None and ends is not None:
        if starts < today - MAX_START_BACK:
            e.add(
                "starts",
                _("A sweep may start at most %(days)d days ago.") % {"days": MAX_START_BACK.days},
            )
        if ends < starts:
            e.add("ends", _("The sweep cannot end before it starts."))
        elif ends < today:
            e.add("ends", _("This sweep would already be over: choose an end date from today."))
        elif ends - starts > MAX_LENGTH:
            e.add(
                "ends",
                _("A sweep runs at most %(days)d days.") % {"days": MAX_LENGTH.days},
            )
    e.raise_if_any()

    households = list(
        Household.objects.filter(subtree_q(node.path, "node__path"))
        .order_by("id")
        .values_list("id", "node_id")
    )
    if not households:
        raise DomainError(_("There are no households under this jurisdiction."), field="node")

    # The households' nodes and their parents, then each grid's worker: one query per grid.
    node_ids = {nid for _hid, nid in households}
    nodes = {n.pk: n for n in Node.objects.filter(pk__in=node_ids)}
    parents = {
        p.pk: p
        for p in Node.objects.filter(pk__in={n.parent_id for n in nodes.values() if n.parent_id})
    }
    grid_by_node = {nid: grid_of(n, parents) for nid, n in nodes.items()}
    assignee_by_grid: dict[int, int | None] = {}
    for grid in {g.pk: g for g in grid_by_node.values()}.values():
        workers = nearest_workers(grid, ASSIGNEE_ROLES)
        assignee_by_grid[grid.pk] = workers[0].pk if workers else None

    with transaction.atomic():
        sweep = Sweep.objects.create(
            node=node,
            purpose=purpose,
            starts=starts,
            ends=ends,
            created_by=actor if actor is not None and actor.pk else None,
        )
        rows = []
        for hid, nid in households:
            gid = grid_by_node[nid].pk
            rows.append(
                (sweep.pk, hid, nid, gid, assignee_by_grid[gid], DoorStatus.PENDING, 0, False)
            )
        insert_many(
            Assignment,
            [
                "sweep",
                "household",
                "node",
                "grid",
                "assignee",
                "status",
                "attempts",
                "needs_police",
            ],
            rows,
        )
        changes = created(snapshot(sweep, SWEEP_FIELDS))
        changes["households"] = [None, len(rows)]
        changes["unassigned"] = [
            None,
            sum(1 for r in rows if r[4] is None),
        ]
        audit_record(actor, "fangyi.sweep.opened", sweep, changes=changes, node_path=node.path)
    sweep.household_count = len(rows)
    return sweep


def sweep_close(*, actor: User, sweep: Sweep) -> Sweep:
    access.require(actor, "sweep.manage")
    if not access.path_visible(actor, sweep.node.path):
        raise NotFound(_("No such sweep."))
    if sweep.status == SweepStatus.CLOSED:
        raise Conflict(_("This sweep is already closed."))
    before = snapshot(sweep, ["status", "closed"])
    with transaction.atomic():
        sweep.status = SweepStatus.CLOSED
        sweep.closed = timezone.now()
        sweep.save(update_fields=["status", "closed"])
        left = Assignment.objects.filter(sweep=sweep).exclude(status__in=DONE_STATUSES).count()
        audit_record(
            actor,
            "fangyi.sweep.closed",
            sweep,
            changes={
                "status": [before["status"], sweep.status],
                "closed": [None, sweep.closed.isoformat()],
                "not_done": [None, left],
            },
            node_path=sweep.node.path,
        )
    return sweep


# ---------------------------------------------------------------------------------------------
# assignments


def _holds(user: User, path: str) -> bool:
    return access.path_visible(user, path)


def assignments_reassign(
    *,
    actor: User,
    assignee: User | None,
    assignments: Iterable[Assignment] | None = None,
    sweep: Sweep | None = None,
    grid: Node | None = None,
) -> int:
    """Give households of an open sweep to `assignee`: the `assignments` given, or every
    household of `grid` in `sweep` that the actor may see. Returns how many changed hands.

    The assignee must be an active field user whose jurisdiction holds every household."""
    access.require(actor, "sweep.manage")
    if assignments is not None:
        ids = [a.pk for a in assignments]
        qs = Assignment.objects.filter(pk__in=ids)
    elif sweep is not None and grid is not None:
        qs = Assignment.objects.filter(sweep=sweep, grid=grid)
    else:
        raise DomainError(_("Choose the households or the grid to reassign."))
    qs = qs.visible_to(actor)
    rows = list(
        qs.select_related("sweep", "node").only(
            "pk", "assignee_id", "sweep__status", "sweep__purpose", "node__path", "node_id"
        )
    )
    if assignments is not None and len(rows) != len(set(ids)):
        raise NotFound(_("No such household in this sweep."), field="assignments")
    if not rows:
        raise DomainError(_("There are no households to reassign."), field="grid")
    if any(a.sweep.status != SweepStatus.OPEN for a in rows):
        raise Conflict(_("This sweep is closed: its households can no longer be reassigned."))
    if assignee is None:
        raise DomainError(_("Choose who takes these households."), field="assignee")
    if not assignee.is_active or assignee.role not in FIELD_ROLES:
        raise DomainError(
            _("%(name)s cannot knock on doors: choose an active field worker.")
            % {"name": assignee.display_name},
            field="assignee",
        )
    outside = [a for a in rows if not _holds(assignee, a.node.path)]
    if outside:
        # Exactly what an id that does not exist answers: a supervisor cannot walk user ids
        # across the city to learn names and roles.
        raise NotFound(_("No such field worker."), field="assignee")
    moving = [a for a in rows if a.assignee_id != assignee.pk]
    with transaction.atomic():
        # By the same filter, not a list of ids: a grid may hold thousands of households.
        qs.exclude(assignee=assignee).update(assignee=assignee)
        AuditEntry.objects.bulk_create(
            [
                audit_entry(
                    actor,
                    "fangyi.assignment.reassigned",
                    a,
                    object_repr=f"{a.sweep.purpose} #{a.pk}",
                    changes={"assignee": [a.assignee_id, assignee.pk]},
                    node_path=a.node.path,
                )
                for a in moving
            ],
            batch_size=1000,
        )
    return len(moving)


# ---------------------------------------------------------------------------------------------
# door visits


def visit_changes(visit: DoorVisit) -> dict[str, list[Any]]:
    """The audit changes of a new visit; coordinates as text (JSON has no decimals)."""
    values = snapshot(visit, VISIT_FIELDS)
    for key in ("latitude", "longitude"):
        if values[key] is not None:
            values[key] = str(values[key])
    return created(values)


def _coordinate(value: Any, field: str, limit: int, e: FieldErrors) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        e.add(field, _("Enter a number."))
        return None
    if not number.is_finite() or not -limit <= number <= limit:
        e.add(
            field,
            _("Must lie between -%(limit)d and %(limit)d degrees.") % {"limit": limit},
        )
        return None
    return number.quantize(Decimal("0.000001"))


def _another_household() -> Conflict:
    return Conflict(
        _("This submission was already stored for another household."), field="client_id"
    )


def _declaration_key(client_id: uuid.UUID | None, person: Person) -> uuid.UUID | None:
    """A retried visit re-sends its declarations: each gets an id derived from the visit's."""
    if client_id is None:
        return None
    return uuid.uuid5(client_id, f"declaration:{person.pk}")


@dataclass(frozen=True)
class VisitInput:
    """A door visit's input, checked (door_visit_clean): what door_visit_record writes."""

    outcome: str
    at: dt.datetime
    latitude: Decimal | None
    longitude: Decimal | None
    accuracy: int | None
    notes: str
    declarations: list[tuple[Person, Any]]


def door_visit_clean(
    assignment: Assignment,
    *,
    outcome: str,
    at: dt.datetime | None,
    latitude: Any,
    longitude: Any,
    accuracy: Any,
    notes: str,
    declarations: Sequence[tuple[Person, Any]],
    now: dt.datetime,
) -> VisitInput:
    """Every field of a visit checked at once, each error named (the declarations' as
    `declarations[i].field`); raises the FieldErrors, writes nothing."""
    sweep = assignment.sweep
    e = FieldErrors()
    if outcome not in OUTCOMES:
        e.add(
            "outcome",
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for value, label in DoorStatus.choices[1:])},
        )
    if at is None:
        at = now
    elif timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + CLOCK_SKEW:
        e.add("at", _("The time of the visit is in the future."))
    elif timezone.localtime(at).date() < sweep.starts:
        e.add(
            "at",
            _("The sweep starts on %(date)s: a visit cannot be earlier.")
            % {"date": sweep.starts.isoformat()},
        )
    lat = _coordinate(latitude, "latitude", 90, e)
    lon = _coordinate(longitude, "longitude", 180, e)
    if (
        (lat is None) != (lon is None)
        and "latitude" not in e.errors
        and ("longitude" not in e.errors)
    ):
        e.add("latitude" if lat is None else "longitude", _("Give both latitude and longitude."))
    acc = _accuracy(accuracy, e)
    notes = e.run(check_length, notes, "notes", 2000) or ""
    declarations = list(declarations or ())
    if declarations:
        if outcome != DoorStatus.VISITED:
            e.add("declarations", _("Declarations are taken only at a door that was visited."))
        else:
            today = timezone.localtime(at).date() if "at" not in e.errors else now.date()
            _declarations_clean(assignment, declarations, today, e)
    e.raise_if_any()
    return VisitInput(outcome, at, lat, lon, acc, notes, declarations)


def _accuracy(value: Any, e: FieldErrors) -> int | None:
    if value in (None, ""):
        return None
    try:
        acc = round(float(value))
        if not 0 <= acc <= 100_000:
            raise ValueError
    except (TypeError, ValueError):
        e.add("accuracy", _("The accuracy is a number of metres from 0 to 100000."))
        return None
    return acc


def _declarations_clean(
    assignment: Assignment, declarations: list[tuple[Person, Any]], today: dt.date, e: FieldErrors
) -> None:
    seen: set[int] = set()
    for i, (person, data) in enumerate(declarations):
        field = f"declarations[{i}]"
        if person.household_id != assignment.household_id:
            e.add(
                f"{field}.person",
                _("%(name)s is not a member of this household.") % {"name": person.name},
            )
            continue
        if person.pk in seen:
            e.add(f"{field}.person", _("%(name)s is declared twice.") % {"name": person.name})
            continue
        seen.add(person.pk)
        try:
            declaration_clean(data, today=today)
        except DomainError as exc:
            e.merge(exc, field)


def door_next_state(
    outcome: str, at: dt.datetime, last_attempt: dt.datetime | None
) -> dict[str, Any]:
    """What a door becomes after a visit at `at` with `outcome` (a pure function: the rule of
    the sweep, tested without a database). Nobody home: another visit is due the next day;
    refused: police support is needed, and a revisit the next day; visited or moved away:
    done. A visit recorded late (an offline phone) counts as an attempt but does not overrule
    a later one: then nothing but the attempt changes ({})."""
    if last_attempt is not None and at < last_attempt:
        return {}
    state: dict[str, Any] = {"status": outcome, "last_attempt": at}
    next_day = timezone.localtime(at).date() + dt.timedelta(days=1)
    if outcome == DoorStatus.NOBODY_HOME:
        state["revisit_due"] = next_day
    elif outcome == DoorStatus.REFUSED:
        state["revisit_due"] = next_day
        state["needs_police"] = True
    else:
        state["revisit_due"] = None
        state["needs_police"] = False
    return state


def door_visit_record(
    *,
    actor: User,
    assignment: Assignment,
    outcome: str,
    at: dt.datetime | None = None,
    latitude: Any = None,
    longitude: Any = None,
    accuracy: Any = None,
    notes: str = "",
    declarations: Sequence[tuple[Person, Any]] = (),
    client_id: uuid.UUID | None = None,
) -> DoorVisit:
    """One attempt at a door, whatever its outcome; the household's status follows the latest
    (door_next_state). Declarations taken at a visited door (a list of (Person,
    DeclarationInput)) are stored with it in the same transaction: if one is wrong, nothing is
    stored. The same client_id twice stores one visit."""
    access.require(actor, "visit.record")
    if not access.path_visible(actor, assignment.node.path):
        raise NotFound(_("No such household in this sweep."))

    def same_door(done: DoorVisit) -> bool:
        return done.assignment_id == assignment.pk

    done = replay(DoorVisit, client_id, same_door, refuse=_another_household)
    if done is not None:
        return done
    if assignment.sweep.status != SweepStatus.OPEN:
        raise Conflict(_("This sweep is closed: no more visits can be recorded."))
    data = door_visit_clean(
        assignment,
        outcome=outcome,
        at=at,
        latitude=latitude,
        longitude=longitude,
        accuracy=accuracy,
        notes=notes,
        declarations=declarations,
        now=timezone.now(),
    )
    try:
        with transaction.atomic():
            return _visit_write(actor, assignment, data, client_id)
    except IntegrityError:
        # The same client_id sent twice at once: the first one won.
        done = replay(DoorVisit, client_id, same_door, refuse=_another_household)
        if done is None:
            raise
        return done


def _visit_write(
    actor: User, assignment: Assignment, data: VisitInput, client_id: uuid.UUID | None
) -> DoorVisit:
    """The visit, the door's new state, its declarations and the audit row (in the caller's
    transaction)."""
    visit = DoorVisit.objects.create(
        assignment=assignment,
        household_id=assignment.household_id,
        node_id=assignment.node_id,
        outcome=data.outcome,
        at=data.at,
        by=actor,
        latitude=data.latitude,
        longitude=data.longitude,
        accuracy=data.accuracy,
        notes=data.notes,
        client_id=client_id,
    )
    before = snapshot(assignment, ["status", "revisit_due", "needs_police"])
    update = {
        "attempts": F("attempts") + 1,
        **door_next_state(data.outcome, data.at, assignment.last_attempt),
    }
    Assignment.objects.filter(pk=assignment.pk).update(**update)
    assignment.refresh_from_db(
        fields=["status", "attempts", "last_attempt", "revisit_due", "needs_police"]
    )
    e = FieldErrors()
    for i, (person, declared) in enumerate(data.declarations):
        try:
            declaration_record(
                actor=actor,
                person=person,
                data=declared,
                visit=visit,
                client_id=_declaration_key(client_id, person),
            )
        except DomainError as exc:
            e.merge(exc, f"declarations[{i}]")
            e.raise_if_any()
    changes = visit_changes(visit)
    after = snapshot(assignment, ["status", "revisit_due", "needs_police"])
    for key in after:
        if before[key] != after[key]:
            changes[f"door_{key}"] = [before[key], after[key]]
    if data.declarations:
        changes["declarations"] = [None, len(data.declarations)]
    audit_record(
        actor,
        "fangyi.doorvisit.created",
        visit,
        changes=changes,
        node_path=visit_path(assignment),
    )
    return visit


def visit_path(assignment: Assignment) -> str:
    return assignment.node.path


def doors_for(actor: User, sweep: Sweep, pks: list[int]) -> list[Assignment]:
    """Assignments of `sweep` by id, those the actor may see; NotFound if any is missing."""
    rows = list(Assignment.objects.filter(sweep=sweep, pk__in=pks).visible_to(actor))
    if len(rows) != len(set(pks)):
        raise NotFound(_("No such household in this sweep."), field="assignment_ids")
    return rows
