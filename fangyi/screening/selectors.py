"""Reads of sweeps, doors and coverage, scoped to the acting user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.models import FIELD_ROLES, PATH_STEP, Node, User
from fangyi.core.selectors import ancestor_paths, nearest_workers

from .models import DONE_STATUSES, Assignment, DoorStatus, DoorVisit, Sweep, SweepStatus

OPEN_DOOR_STATUSES = [DoorStatus.PENDING, DoorStatus.NOBODY_HOME, DoorStatus.REFUSED]


def doors_due(user: User, day: dt.date) -> QuerySet[Assignment]:
    """The user's doors still to knock on `day` in open sweeps, most urgent first: refused
    doors (police support), then revisits that are due, then the rest by address."""
    return (
        Assignment.objects.filter(
            assignee=user,
            status__in=OPEN_DOOR_STATUSES,
            sweep__status=SweepStatus.OPEN,
            sweep__starts__lte=day,
        )
        .filter(Q(revisit_due__isnull=True) | Q(revisit_due__lte=day))
        .visible_to(user)
        .annotate(
            urgency=Case(
                When(status=DoorStatus.REFUSED, then=Value(0)),
                When(revisit_due__lt=day, then=Value(1)),
                When(revisit_due=day, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .select_related("household", "sweep")
        .order_by("urgency", "household__address", "id")
    )


# ---------------------------------------------------------------------------------------------
# sweeps


def _sweep_scope(user: User) -> Q:
    """Sweeps over a node inside the user's jurisdiction, or over a node that holds it (a grid
    worker sees the station's sweep, since his grid is in it)."""
    above = {p for path in access.user_paths(user) for p in ancestor_paths(path)}
    return Sweep.objects.scope_q(user) | Q(node__path__in=above)


def sweep_list(user: User, *, status: str = "") -> QuerySet[Sweep]:
    """The sweeps the user takes part in, newest first, each with the user's share counted:
    `households` in scope and `done` (visited or moved away)."""
    access.require(user, "sweep.view")
    mine = Sweep.objects.scope_q(user, "assignments__node__path")
    qs = (
        Sweep.objects.filter(_sweep_scope(user))
        .select_related("node", "created_by")
        .annotate(
            households=Count("assignments", filter=mine),
            done=Count("assignments", filter=mine & Q(assignments__status__in=DONE_STATUSES)),
        )
    )
    if status:
        if status not in SweepStatus.values:
            raise DomainError(_("Unknown status filter."), field="status")
        qs = qs.filter(status=status)
    return qs.order_by("-starts", "-id")


def sweep_get(user: User, pk: int) -> Sweep:
    sweep = sweep_list(user).filter(pk=pk).first()
    if sweep is None:
        raise NotFound(_("No such sweep."))
    return sweep


# ---------------------------------------------------------------------------------------------
# the households of a sweep


def _share(user: User, sweep: Sweep) -> QuerySet[Assignment]:
    """The households of the sweep in the user's jurisdiction. When the sweep lies wholly
    inside it (a supervisor's), no filter on the households' nodes is needed: the counts then
    read the assignment table alone."""
    qs = Assignment.objects.filter(sweep=sweep)
    if access.path_visible(user, sweep.node.path):
        return qs
    return qs.visible_to(user)


DOOR_FILTERS = {
    "pending": Q(status=DoorStatus.PENDING),
    "nobody_home": Q(status=DoorStatus.NOBODY_HOME),
    "refused": Q(status=DoorStatus.REFUSED),
    "done": Q(status__in=DONE_STATUSES),
    "visited": Q(status=DoorStatus.VISITED),
    "moved_away": Q(status=DoorStatus.MOVED_AWAY),
    "open": Q(status__in=OPEN_DOOR_STATUSES),
}


def assignment_list(
    user: User,
    sweep: Sweep,
    *,
    status: str = "",
    grid: Node | None = None,
    mine: bool = False,
    day: dt.date | None = None,
) -> QuerySet[Assignment]:
    """The households of `sweep` the user may see. `status` is one of DOOR_FILTERS or
    "revisits" (a revisit due by `day`, today by default). The most urgent come first."""
    access.require(user, "sweep.view")
    day = day or timezone.localdate()
    qs = Assignment.objects.filter(sweep=sweep).visible_to(user)
    if status == "revisits":
        qs = qs.filter(status__in=OPEN_DOOR_STATUSES, revisit_due__lte=day)
    elif status:
        if status not in DOOR_FILTERS:
            raise DomainError(_("Unknown status filter."), field="status")
        qs = qs.filter(DOOR_FILTERS[status])
    if grid is not None:
        qs = qs.filter(grid=grid)
    if mine:
        qs = qs.filter(assignee=user)
    # The doors to knock on first: refused (police support), revisits due, never tried, not
    # yet due again; the done ones last.
    urgency = Case(
        When(status=DoorStatus.REFUSED, then=Value(0)),
        When(status=DoorStatus.NOBODY_HOME, revisit_due__lte=day, then=Value(1)),
        When(status=DoorStatus.PENDING, then=Value(2)),
        When(status=DoorStatus.NOBODY_HOME, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )
    return (
        qs.annotate(urgency=urgency)
        .select_related("household", "assignee", "grid", "node")
        .order_by("urgency", "household__address", "id")
    )


def assignment_get(user: User, pk: int, *, via: str | None = None) -> Assignment:
    """One household in a sweep, else NotFound (also when outside the user's jurisdiction).

    With `via` ("ui" or "api") the read of the household is written to the access log."""
    access.require(user, "sweep.view")
    assignment = (
        Assignment.objects.filter(pk=pk)
        .visible_to(user)
        .select_related("household", "assignee", "grid", "node", "sweep", "sweep__node")
        .first()
    )
    if assignment is None:
        raise NotFound(_("No such household in this sweep."))
    if via:
        access_record(user, assignment.household, node_path=assignment.node.path, via=via)
    return assignment


def visit_list(user: User, assignment: Assignment) -> QuerySet[DoorVisit]:
    """Every attempt at the door, latest first. `assignment` comes from assignment_get."""
    access.require(user, "sweep.view")
    return (
        DoorVisit.objects.filter(assignment=assignment)
        .visible_to(user)
        .select_related("by")
        .annotate(declaration_count=Count("declarations"))
        .order_by("-at", "-id")
    )


def doors_summary(user: User, sweep: Sweep, *, day: dt.date | None = None) -> dict[str, int]:
    """How many of the user's households of the sweep stand in each filter; one query."""
    day = day or timezone.localdate()
    qs = _share(user, sweep)
    agg = {key: Count("id", filter=q) for key, q in DOOR_FILTERS.items()}
    agg["revisits"] = Count("id", filter=Q(status__in=OPEN_DOOR_STATUSES, revisit_due__lte=day))
    agg["all"] = Count("id")
    agg["mine"] = Count("id", filter=Q(assignee=user))
    return qs.aggregate(**agg)


def assignee_choices(user: User, node: Node) -> list[User]:
    """Field workers who could take the doors under `node`: their jurisdiction holds it."""
    access.require(user, "sweep.manage")
    return nearest_workers(node, FIELD_ROLES)


def grid_assignees(user: User, sweep: Sweep) -> dict[int, list[tuple[User | None, int]]]:
    """Per grid id, who holds how many of its households (the user's share); two queries."""
    rows = list(
        _share(user, sweep)
        .values("grid_id", "assignee_id")
        .annotate(n=Count("id"))
        .order_by("grid_id", "-n")
    )
    users = User.objects.in_bulk({r["assignee_id"] for r in rows if r["assignee_id"]})
    out: dict[int, list[tuple[User | None, int]]] = {}
    for r in rows:
        out.setdefault(r["grid_id"], []).append((users.get(r["assignee_id"]), r["n"]))
    return out


# ---------------------------------------------------------------------------------------------
# coverage

LEVELS = ("grid", "community", "station", "district")
COUNTS = (
    "households",
    "visited",
    "pending",
    "nobody_home",
    "refused",
    "moved_away",
    "revisits_due",
)


@dataclass
class CoverageRow:
    """One line of the coverage table; `node` None is the total."""

    node: Node | None
    households: int = 0
    visited: int = 0
    pending: int = 0
    nobody_home: int = 0
    refused: int = 0
    moved_away: int = 0
    revisits_due: int = 0
    needs_police: int = 0
    parent: Node | None = None  # the node one level up, for the table's captions

    @property
    def done(self) -> int:
        return self.visited + self.moved_away

    @property
    def percent(self) -> float:
        if not self.households:
            return 0.0
        return round(100 * self.done / self.households, 1)

    def add(self, other: CoverageRow) -> None:
        for name in (*COUNTS, "needs_police"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def coverage(
    user: User, sweep: Sweep, *, level: str = "grid", day: dt.date | None = None
) -> list[CoverageRow]:
    """Households in scope, visited, pending, nobody home, refused, moved away and revisits due,
    per grid / community / station / district, and a total row last (`node` None).

    Three queries whatever the size: the counts grouped by grid, the grids, their ancestors;
    the roll-up to higher levels walks the node paths in Python. A user sees his own share only
    (a grid worker his grids, a supervisor his whole subtree)."""
    access.require(user, "sweep.view")
    if level not in LEVELS:
        raise DomainError(_("Choose a level: grid, community, station or district."), field="level")
    day = day or timezone.localdate()
    S = DoorStatus
    grouped = list(
        _share(user, sweep)
        .values("grid_id")
        .annotate(
            households=Count("id"),
            visited=Count("id", filter=Q(status=S.VISITED)),
            pending=Count("id", filter=Q(status=S.PENDING)),
            nobody_home=Count("id", filter=Q(status=S.NOBODY_HOME)),
            refused=Count("id", filter=Q(status=S.REFUSED)),
            moved_away=Count("id", filter=Q(status=S.MOVED_AWAY)),
            revisits_due=Count("id", filter=Q(status__in=OPEN_DOOR_STATUSES, revisit_due__lte=day)),
            needs_police=Count("id", filter=Q(needs_police=True)),
        )
        .order_by("grid_id")
    )
    grid_paths = dict(
        Node.objects.filter(pk__in=[r["grid_id"] for r in grouped if r["grid_id"]]).values_list(
            "pk", "path"
        )
    )
    paths = {p for path in grid_paths.values() for p in ancestor_paths(path)}
    nodes = {n.path: n for n in Node.objects.filter(path__in=paths)} if paths else {}

    total = CoverageRow(node=None)
    rows: dict[str, CoverageRow] = {}
    for r in grouped:
        gpath = grid_paths.get(r["grid_id"], "")
        chain = [nodes[p] for p in ancestor_paths(gpath) if p in nodes]  # nearest first
        target = next((n for n in chain if n.kind == level), None)
        if target is None:
            # A household hung outside the usual tree: counted under its own grid node.
            target = chain[0] if chain else None
        if target is None:
            continue
        row = rows.get(target.path)
        if row is None:
            parent = nodes.get(target.path[:-PATH_STEP]) if len(target.path) > PATH_STEP else None
            row = rows[target.path] = CoverageRow(node=target, parent=parent)
        part = CoverageRow(node=None, **{k: r[k] for k in (*COUNTS, "needs_police")})
        row.add(part)
        total.add(part)
    return [rows[p] for p in sorted(rows)] + [total]


def household_doors(user: User, household) -> QuerySet[Assignment]:
    """The household's doors in every sweep the user may see, the newest sweep first."""
    access.require(user, "sweep.view")
    return (
        Assignment.objects.filter(household=household)
        .visible_to(user)
        .select_related("sweep", "assignee")
        .order_by("-sweep__starts", "-sweep_id")
    )


def door_visit_get(user: User, pk: int, *, field: str | None = None) -> DoorVisit:
    """A door visit in the user's jurisdiction (a declaration taken at it names it)."""
    visit = DoorVisit.objects.visible_to(user).filter(pk=pk).first()
    if visit is None:
        raise NotFound(_("No such door visit."), field=field)
    return visit
