"""Duty posts (卡点 / 值守): posts, their shifts, the shift log (tallies), the registration of a
person found at a post with a declaration, the handover, and what is left unstaffed.

Reads are scoped like every record on the tree (`Model.objects.visible_to(user)`); a post or
shift outside the user's jurisdiction answers 404, as one that does not exist does. Writes
check the policy first (`post.manage` for posts and planned shifts, `shift.record` for the
shift log), validate every field at once, then write and audit in one transaction.

The unstaffed rule (`unstaffed_q`, `gap_posts`): a shift not handed over whose start passed
more than GRACE ago and that nobody has taken (or that has nobody on it), while it still runs;
and an active post inside its staffed hours (local time) that no running shift covers. The
worker's minute loop calls `shifts_escalate(now)`, which marks `escalated_at` on each unstaffed
shift once and audits it; the day list of supervisors and the station's police and the
dispatch board show both kinds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from fangyi.core import access
from fangyi.core.audit import audit_entry, audit_record, created, current_ip, diff, snapshot
from fangyi.core.errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import AccessLog, AuditEntry, Node, NodeKind, Role, User, subtree_q
from fangyi.core.scoping import scoped_get
from fangyi.core.selectors import nearest_workers
from fangyi.core.validators import check_coordinate, check_length
from fangyi.health.models import Declaration, DeclarationSource
from fangyi.health.services import (
    DeclarationInput,
    declaration_clean,
    declaration_record,
    rules_config,
)
from fangyi.linkage.selectors import BOARD_LIMIT, BoardPanel
from fangyi.observation.selectors import DAYLIST_LIMIT, URGENCY, DayItem, DaySection
from fangyi.people.models import Person
from fangyi.people.services import PersonInput, person_clean, person_create

from . import notices
from .models import DutyPost, DutyShift, PostKind, PostRegistration, ShiftTally, Tally

# A shift is unstaffed once its start passed this long ago with nobody checked in.
GRACE = dt.timedelta(minutes=15)
# A shift may be taken this long before it starts.
TAKE_EARLY = dt.timedelta(hours=1)
# The longest shift, and how far ahead one may be planned.
MAX_SHIFT = dt.timedelta(hours=24)
MAX_AHEAD = dt.timedelta(days=60)
# One tap (or a number typed in) counts at most this many; a correction at most as many back.
MAX_DELTA = 5000
MAX_STAFF = 10
# A device's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)
# Who may stand on a shift (shift.record's roles).
STAFF_ROLES = (Role.POLICE, Role.AUXILIARY, Role.COMMUNITY_STAFF, Role.GRID_WORKER, Role.SUPERVISOR)
# Where a post may stand.
POST_NODE_KINDS = (NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.COMPOUND)
TALLY_KINDS = tuple(Tally.values)
# Urgency on the day list when the lead's table has no row for shifts yet.
SHIFT_URGENCY = URGENCY.get("shift", 4)

POST_FIELDS = [
    "node",
    "name",
    "kind",
    "address",
    "latitude",
    "longitude",
    "staffed_from",
    "staffed_to",
    "active",
]
SHIFT_FIELDS = ["post", "node", "starts", "ends", "created_by"]


# --- reads -----------------------------------------------------------------------------------


def post_list(
    user: User, *, node: Node | None = None, active: bool | None = None
) -> QuerySet[DutyPost]:
    """The posts in the user's jurisdiction, in tree order."""
    access.require(user, "post.view")
    qs = DutyPost.objects.visible_to(user).select_related("node")
    if node is not None:
        qs = qs.filter(subtree_q(node.path, "node__path"))
    if active is not None:
        qs = qs.filter(active=active)
    return qs.order_by("node__path", "name", "id")


def post_get(user: User, pk: int | None, *, field: str | None = None) -> DutyPost:
    """One post the user may see, else NotFound naming `field`."""
    access.require(user, "post.view")
    return scoped_get(
        DutyPost, user, pk, field=field, message=_("No such duty post."), related=("node",)
    )


def shift_list(
    user: User,
    *,
    post: DutyPost | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    mine: bool = False,
) -> QuerySet[DutyShift]:
    """Shifts at posts in the user's jurisdiction, earliest first; `since`/`until` keep those
    that run at some time between them."""
    access.require(user, "post.view")
    qs = DutyShift.objects.visible_to(user).select_related("post", "taken_by")
    if post is not None:
        qs = qs.filter(post=post)
    if since is not None:
        qs = qs.filter(ends__gt=since)
    if until is not None:
        qs = qs.filter(starts__lt=until)
    if mine:
        qs = qs.filter(staff=user)
    return qs.order_by("starts", "id")


def shift_get(user: User, pk: int | None, *, field: str | None = None) -> DutyShift:
    """One shift the user may see, else NotFound naming `field`."""
    access.require(user, "post.view")
    return scoped_get(
        DutyShift,
        user,
        pk,
        field=field,
        message=_("No such shift."),
        related=("post__node", "node", "taken_by"),
    )


def shift_staff(shift: DutyShift) -> list[User]:
    return list(shift.staff.order_by("username"))


def shift_counts(shift: DutyShift) -> dict[str, int]:
    """The shift's counters: the sum of its taps per kind, every kind present. One query."""
    counts = dict.fromkeys(TALLY_KINDS, 0)
    for kind, total in (
        ShiftTally.objects.filter(shift=shift).values_list("kind").annotate(n=Sum("delta"))
    ):
        counts[kind] = total or 0
    return counts


def counts_of(shift_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Counters of several shifts in one query."""
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TALLY_KINDS, 0))
    ids = list(shift_ids)
    if not ids:
        return out
    for sid, kind, total in (
        ShiftTally.objects.filter(shift_id__in=ids)
        .values_list("shift_id", "kind")
        .annotate(n=Sum("delta"))
    ):
        out[sid][kind] = total or 0
    return out


def shift_registrations(
    shift: DutyShift, user: User, *, via: str | None = None
) -> list[PostRegistration]:
    """The people registered on the shift whom `user` may see (a traveller registered at a
    post in grid 1 but living in grid 2 is not shown to grid 1's worker), with their
    declarations' proposals; the proposal only to those who may read declarations. With `via`
    each person shown goes to the access log (one bulk insert). Two queries."""
    rows = list(
        PostRegistration.objects.filter(shift=shift)
        .filter(person__in=Person.objects.visible_to(user))
        .select_related("person__node", "declaration", "by")
        .order_by("-at", "-id")
    )
    if not access.can(user, "declaration.view"):
        for r in rows:
            r.declaration = None
    if via and rows:
        AccessLog.objects.bulk_create(
            [
                AccessLog(
                    user=user,
                    user_name=user.username,
                    object_type="person",
                    object_id=r.person_id,
                    object_repr=str(r.person)[:200],
                    node_path=r.person.node.path if r.person.node_id else "",
                    via=via,
                    ip=current_ip.get(),
                )
                for r in rows
            ]
        )
    return rows


def registration_get(user: User, pk: int | None, *, field: str | None = None) -> PostRegistration:
    access.require(user, "post.view")
    return scoped_get(
        PostRegistration,
        user,
        pk,
        field=field,
        message=_("No such registration."),
        related=("shift__post", "person", "declaration", "node"),
    )


def handed_over_before(shift: DutyShift) -> DutyShift | None:
    """The last shift at the same post handed over before this one began (its note is what
    this shift was told)."""
    return (
        DutyShift.objects.filter(post_id=shift.post_id, ended_at__isnull=False)
        .exclude(pk=shift.pk)
        .filter(starts__lte=shift.starts)
        .select_related("taken_by")
        .order_by("-ended_at", "-id")
        .first()
    )


def local_time(now: dt.datetime) -> dt.time:
    return timezone.localtime(now).time().replace(tzinfo=None)


def in_hours(post: DutyPost, now: dt.datetime) -> bool:
    """Is `now` (local time) inside the post's staffed hours? From > to runs over midnight;
    from == to is round the clock."""
    t = local_time(now)
    a, b = post.staffed_from, post.staffed_to
    if a == b:
        return True
    if a < b:
        return a <= t < b
    return t >= a or t < b


def in_hours_q(now: dt.datetime, prefix: str = "") -> Q:
    """in_hours as a condition on posts (or on `prefix`post__ of shifts)."""
    t = local_time(now)
    f, to = f"{prefix}staffed_from", f"{prefix}staffed_to"
    return (
        Q(**{f"{f}__lte": t, f"{to}__gt": t, f"{f}__lt": F(to)})
        | (Q(**{f"{f}__gt": F(to)}) & (Q(**{f"{f}__lte": t}) | Q(**{f"{to}__gt": t})))
        | Q(**{f: F(to)})
    )


def running_q(now: dt.datetime, prefix: str = "") -> Q:
    """Shifts running at `now`: begun, not over, not handed over."""
    return Q(
        **{f"{prefix}starts__lte": now, f"{prefix}ends__gt": now, f"{prefix}ended_at__isnull": True}
    )


def unstaffed_q(now: dt.datetime) -> Q:
    """Shifts that are unstaffed at `now` (see the module's docstring)."""
    nobody = ~Exists(DutyShift.staff.through.objects.filter(dutyshift_id=OuterRef("pk")))
    return (
        Q(ended_at__isnull=True, starts__lte=now - GRACE, ends__gt=now)
        & (Q(taken_at__isnull=True) | nobody)
        & Q(post__active=True)
    )


def gap_posts(qs: QuerySet[DutyPost], now: dt.datetime) -> QuerySet[DutyPost]:
    """Of `qs`, the active posts inside their staffed hours that no running shift covers."""
    covered = DutyShift.objects.filter(running_q(now), post_id=OuterRef("pk"))
    return qs.filter(in_hours_q(now), active=True).filter(~Exists(covered))


def is_unstaffed(shift: DutyShift, now: dt.datetime, staffed: bool | None = None) -> bool:
    """unstaffed_q for one shift in hand; `staffed`: whether anyone is on it, when known."""
    if shift.ended_at is not None or not (shift.starts <= now - GRACE and now < shift.ends):
        return False
    if staffed is None:
        staffed = shift.staff.exists()
    return shift.taken_at is None or not staffed


@dataclass
class PostState:
    """A post as the list and the board show it now."""

    post: DutyPost
    shift: DutyShift | None = None  # the running shift, if any
    staff: list[User] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    status: str = "closed"  # on_duty, waiting (within the grace), unstaffed, gap, closed

    @property
    def problem(self) -> bool:
        return self.status in ("unstaffed", "gap")

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])


STATUS_LABELS = {
    "on_duty": gettext_lazy("On duty"),
    "waiting": gettext_lazy("Not taken yet"),
    "unstaffed": gettext_lazy("Unstaffed"),
    "gap": gettext_lazy("No shift"),
    "closed": gettext_lazy("Outside hours"),
}


def posts_state(posts: Sequence[DutyPost], now: dt.datetime) -> list[PostState]:
    """Each post with its running shift (the earliest taken one first), who is on it and its
    counters. Three queries whatever the number of posts: the shifts, their staff, the sums."""
    posts = list(posts)
    by_post: dict[int, DutyShift] = {}
    if posts:
        shifts = (
            DutyShift.objects.filter(running_q(now), post_id__in=[p.pk for p in posts])
            .prefetch_related("staff")
            .order_by(F("taken_at").asc(nulls_last=True), "starts", "id")
        )
        for s in shifts:
            by_post.setdefault(s.post_id, s)
    counts = counts_of(s.pk for s in by_post.values())
    out = []
    for p in posts:
        s = by_post.get(p.pk)
        state = PostState(post=p, shift=s)
        if s is not None:
            state.staff = sorted(s.staff.all(), key=lambda u: u.username)
            state.counts = counts[s.pk]
            if s.taken_at is not None and state.staff:
                state.status = "on_duty"
            elif is_unstaffed(s, now, staffed=bool(state.staff)):
                state.status = "unstaffed"
            else:
                state.status = "waiting"
        elif p.active and in_hours(p, now):
            state.status = "gap"
        out.append(state)
    return out


# --- the day list and the dispatch board -------------------------------------------------------


def _sees_unstaffed(user: User) -> bool:
    return user.role in (Role.SUPERVISOR, Role.POLICE)


def daylist_section(user, day):
    """This part's section of the day list (observation's DAYLIST_SOURCES), key "shifts": the
    user's own shifts today not handed over ("the shift to take", or the one he is on), and,
    for supervisors and the station's police, the unstaffed shifts and the posts without a
    shift now under their jurisdiction. At most four queries whatever the size."""
    if not access.can(user, "shift.record"):
        return None
    now = timezone.now()
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tz)
    end = start + dt.timedelta(days=1)
    items: list[DayItem] = []
    count = 0

    mine = DutyShift.objects.visible_to(user).filter(
        staff=user, ended_at__isnull=True, starts__lt=end, ends__gt=max(start, now)
    )
    rows = list(
        mine.order_by("starts", "id").values_list("pk", "post__name", "starts", "ends", "taken_at")[
            :DAYLIST_LIMIT
        ]
    )
    count += len(rows) if len(rows) < DAYLIST_LIMIT else mine.count()
    take, on_duty, planned = _("Take the shift"), _("On duty"), _("Planned")
    for pk, name, starts, ends, taken in rows:
        badge = on_duty if taken else (take if now >= starts - TAKE_EARLY else planned)
        item = DayItem(
            "shift",
            SHIFT_URGENCY,
            name,
            _("Shift %(from)s–%(to)s")
            % {
                "from": timezone.localtime(starts).strftime("%H:%M"),
                "to": timezone.localtime(ends).strftime("%H:%M"),
            },
            f"/shifts/{pk}/",
            badge,
            pk,
        )
        if taken is None and starts <= now - GRACE:
            item.badge_css = "warn"
        items.append(item)

    if _sees_unstaffed(user) and access.can(user, "post.view"):
        shown = {pk for pk, *_rest in rows}
        qs = DutyShift.objects.visible_to(user).filter(unstaffed_q(now)).exclude(pk__in=shown)
        found = list(
            qs.order_by("starts", "id").values_list("pk", "post__name", "starts", "ends")[
                :DAYLIST_LIMIT
            ]
        )
        count += len(found) if len(found) < DAYLIST_LIMIT else qs.count()
        for pk, name, starts, ends in found:
            items.append(
                DayItem(
                    "shift",
                    SHIFT_URGENCY,
                    name,
                    _("Nobody has taken the shift %(from)s–%(to)s")
                    % {
                        "from": timezone.localtime(starts).strftime("%H:%M"),
                        "to": timezone.localtime(ends).strftime("%H:%M"),
                    },
                    f"/shifts/{pk}/",
                    _("Unstaffed"),
                    pk,
                    badge_css="warn",
                )
            )
        posts = gap_posts(DutyPost.objects.visible_to(user), now)
        gaps = list(
            posts.order_by("node__path", "name", "id").values_list("pk", "name")[:DAYLIST_LIMIT]
        )
        count += len(gaps)
        for pk, name in gaps:
            items.append(
                DayItem(
                    "shift",
                    SHIFT_URGENCY,
                    name,
                    _("No shift at this post now"),
                    f"/posts/{pk}/",
                    _("No shift"),
                    pk,
                    badge_css="warn",
                )
            )
    if not count:
        return None
    return DaySection(
        key="shifts",
        label=ngettext("%(n)d shift", "%(n)d shifts", count) % {"n": count},
        count=count,
        items=items[:DAYLIST_LIMIT],
        more_url="/posts/",
        more_label=_("All duty posts"),
        badge_css="warn" if any(i.badge_css == "warn" for i in items) else "",
    )


def _counts_text(counts: dict[str, int]) -> str:
    labels = dict(Tally.choices)
    return " · ".join(f"{labels[k]} {counts.get(k, 0)}" for k in TALLY_KINDS if counts.get(k))


def board_section(user, station, now):
    """The dispatch board's panel (linkage's BOARD_SOURCES): the posts under `station` that
    should be or are staffed now: who is on duty since when and the counters; the unstaffed
    ones flagged and first. Four queries whatever the size."""
    if not access.can(user, "post.view"):
        return None
    posts = list(
        DutyPost.objects.visible_to(user)
        .filter(subtree_q(station.path, "node__path"), active=True)
        .select_related("node")
        .order_by("node__path", "name", "id")[: BOARD_LIMIT * 4]
    )
    states = [s for s in posts_state(posts, now) if s.status != "closed"]
    states.sort(key=lambda s: not s.problem)
    rows = []
    for s in states[:BOARD_LIMIT]:
        if s.shift is not None and s.status == "on_duty":
            detail = _("%(names)s since %(time)s") % {
                "names": "、".join(u.display_name for u in s.staff),
                "time": timezone.localtime(s.shift.taken_at).strftime("%H:%M"),
            }
            counts = _counts_text(s.counts)
            if counts:
                detail = f"{detail} · {counts}"
        elif s.shift is not None:
            detail = _("Shift %(from)s–%(to)s, nobody checked in") % {
                "from": timezone.localtime(s.shift.starts).strftime("%H:%M"),
                "to": timezone.localtime(s.shift.ends).strftime("%H:%M"),
            }
        elif s.post.staffed_from == s.post.staffed_to:
            detail = _("No shift now (staffed round the clock)")
        else:
            detail = _("No shift now (staffed %(from)s–%(to)s)") % {
                "from": s.post.staffed_from.strftime("%H:%M"),
                "to": s.post.staffed_to.strftime("%H:%M"),
            }
        rows.append(
            {
                "label": f"{s.post.name} · {s.post.node.name}",
                "detail": detail,
                "url": f"/shifts/{s.shift.pk}/" if s.shift else f"/posts/{s.post.pk}/",
                "badge": s.status_label,
                "badge_css": "warn" if s.problem else "",
            }
        )
    if not rows:
        return None
    return BoardPanel(
        key="posts",
        title=_("Duty posts"),
        count=len(states),
        rows=rows,
        more_url="/posts/",
        more_label=_("All duty posts"),
    )


# --- posts -----------------------------------------------------------------------------------


@dataclass
class PostInput:
    node: Node | None = None
    name: str = ""
    kind: str = PostKind.GATE
    address: str = ""
    latitude: Any = None
    longitude: Any = None
    staffed_from: dt.time | None = dt.time(7, 0)
    staffed_to: dt.time | None = dt.time(22, 0)
    active: bool = True


def _post_snapshot(post: DutyPost) -> dict[str, Any]:
    """The audited values of a post, JSON-ready (coordinates and hours as text)."""
    values = snapshot(post, POST_FIELDS)
    for key in ("latitude", "longitude", "staffed_from", "staffed_to"):
        if values[key] is not None:
            value = values[key]
            values[key] = value.strftime("%H:%M") if isinstance(value, dt.time) else str(value)
    return values


def _post_clean(actor: User, data: PostInput) -> dict[str, Any]:
    e = FieldErrors()
    out: dict[str, Any] = {}
    if data.node is None:
        e.add("node", _("Choose where the post is."))
    elif not access.path_visible(actor, data.node.path):
        raise NotFound(_("This jurisdiction is not one of yours."), field="node")
    elif data.node.kind not in POST_NODE_KINDS:
        e.add("node", _("A post stands in a community, a grid or a compound."))
    out["node"] = data.node
    out["name"] = e.run(check_length, data.name, "name", 100, required=True) or ""
    if data.kind not in PostKind.values:
        e.add(
            "kind",
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for _v, label in PostKind.choices)},
        )
    out["kind"] = data.kind
    out["address"] = e.run(check_length, data.address, "address", 200) or ""
    lat = e.run(check_coordinate, data.latitude, "latitude", 90)
    lon = e.run(check_coordinate, data.longitude, "longitude", 180)
    if (
        (lat is None) != (lon is None)
        and "latitude" not in e.errors
        and "longitude" not in e.errors
    ):
        e.add("latitude" if lat is None else "longitude", _("Give both latitude and longitude."))
    out["latitude"], out["longitude"] = lat, lon
    for name in ("staffed_from", "staffed_to"):
        value = getattr(data, name)
        if not isinstance(value, dt.time):
            e.add(name, _("Enter a time, e.g. 07:00."))
        out[name] = value
    out["active"] = bool(data.active)
    e.raise_if_any()
    return out


def post_create(*, actor: User, data: PostInput) -> DutyPost:
    """A new duty post at a community, grid or compound of the actor's jurisdiction."""
    access.require(actor, "post.manage")
    clean = _post_clean(actor, data)
    with transaction.atomic():
        post = DutyPost.objects.create(**clean, created_by=actor)
        audit_record(
            actor,
            "fangyi.dutypost.created",
            post,
            changes=created(_post_snapshot(post)),
            node_path=post.node.path,
        )
    return post


def post_update(*, actor: User, post: DutyPost, data: PostInput) -> DutyPost:
    """Change a post: its place, name, hours; `active=False` retires it (its shifts stay)."""
    access.require(actor, "post.manage")
    if not access.path_visible(actor, post.node.path):
        raise NotFound(_("No such duty post."))
    clean = _post_clean(actor, data)
    before = _post_snapshot(post)
    if clean.get("node") is not None and clean["node"].pk != post.node_id and post.shifts.exists():
        # Moving it would move its past shifts, their tallies and who may see them.
        raise DomainError(
            _("This post has shifts: retire it and set up a new post at the other place."),
            field="node",
        )
    with transaction.atomic():
        for key, value in clean.items():
            setattr(post, key, value)
        post.save()
        changes = diff(before, _post_snapshot(post))
        if changes:
            audit_record(
                actor, "fangyi.dutypost.changed", post, changes=changes, node_path=post.node.path
            )
    return post


# --- shifts ----------------------------------------------------------------------------------


def staff_choices(post: DutyPost) -> list[User]:
    """Who may be put on a shift at the post: the roles of shift.record whose jurisdiction
    holds the post's place, nearest first."""
    return nearest_workers(post.node, STAFF_ROLES)


def staff_for(post: DutyPost, pks: Iterable[int], *, field_name: str = "staff") -> list[User]:
    """Users by id, each one who may stand at the post; any other id answers as one that does
    not exist (no names from elsewhere)."""
    pks = list(dict.fromkeys(pks))
    allowed = {u.pk: u for u in staff_choices(post)} if pks else {}
    out = []
    for pk in pks:
        if pk not in allowed:
            raise NotFound(_("No such person on duty."), field=field_name)
        out.append(allowed[pk])
    return out


def _overlapping(user: User, starts: dt.datetime, ends: dt.datetime, exclude: int | None = None):
    """The first of the user's other shifts, not handed over before `starts`, that overlaps."""
    qs = (
        DutyShift.objects.filter(staff=user, starts__lt=ends, ends__gt=starts)
        .exclude(ended_at__isnull=False, ended_at__lte=starts)
        .select_related("post")
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("starts").first()


def _overlap_message(user: User, other: DutyShift) -> str:
    return _("%(name)s is already on duty at %(post)s from %(from)s to %(to)s.") % {
        "name": user.display_name,
        "post": other.post.name,
        "from": timezone.localtime(other.starts).strftime("%m-%d %H:%M"),
        "to": timezone.localtime(other.ends).strftime("%H:%M"),
    }


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


def shift_plan(
    *,
    actor: User,
    post: DutyPost,
    starts: dt.datetime | None,
    ends: dt.datetime | None,
    staff: Sequence[User] = (),
    client_id: uuid.UUID | None = None,
) -> DutyShift:
    """Plan a shift at a post: from–to (at most 24 hours, ending after now, within 60 days)
    and who is on duty (each one who may stand at the post, none on another shift at the same
    time). The same client_id twice stores one shift."""
    access.require(actor, "post.manage")
    if not access.path_visible(actor, post.node.path):
        raise NotFound(_("No such duty post."), field="post")

    def same(done: DutyShift) -> bool:
        return done.post_id == post.pk

    if (done := replay(DutyShift, client_id, same)) is not None:
        return done
    now = timezone.now()
    starts, ends = _aware(starts), _aware(ends)
    e = FieldErrors()
    if not post.active:
        e.add("post", _("This post is retired: plan no shifts at it."))
    if starts is None:
        e.add("starts", _("Enter when the shift starts."))
    if ends is None:
        e.add("ends", _("Enter when the shift ends."))
    if starts is not None and ends is not None:
        if ends <= starts:
            e.add("ends", _("The shift must end after it starts."))
        elif ends - starts > MAX_SHIFT:
            e.add("ends", _("A shift lasts at most 24 hours."))
        elif ends <= now:
            e.add("ends", _("This shift would already be over."))
        elif starts > now + MAX_AHEAD:
            e.add("starts", _("Plan shifts at most 60 days ahead."))
    people = list(dict.fromkeys(staff))
    if len(people) > MAX_STAFF:
        e.add("staff", _("At most %(n)d people on one shift.") % {"n": MAX_STAFF})
    allowed = {u.pk for u in staff_choices(post)} if people else set()
    for u in people:
        if u.pk not in allowed:
            raise NotFound(_("No such person on duty."), field="staff")
    if starts is not None and ends is not None and "ends" not in e.errors:
        for u in people:
            other = _overlapping(u, starts, ends)
            if other is not None:
                e.add("staff", _overlap_message(u, other))
    e.raise_if_any()
    assert starts is not None and ends is not None
    try:
        with transaction.atomic():
            # Two supervisors planning the same person at once: his row is locked and the
            # overlap checked again under the lock.
            _lock_people(people)
            for u in people:
                other = _overlapping(u, starts, ends)
                if other is not None:
                    raise DomainError(_overlap_message(u, other), field="staff")
            shift = DutyShift.objects.create(
                post=post,
                node=post.node,
                starts=starts,
                ends=ends,
                created_by=actor,
                created_at=now,
                client_id=client_id,
            )
            shift.staff.set(people)
            changes = created(snapshot(shift, SHIFT_FIELDS))
            changes["staff"] = [None, [u.pk for u in people]]
            audit_record(
                actor, "fangyi.dutyshift.created", shift, changes=changes, node_path=post.node.path
            )
    except IntegrityError:
        again = replay(DutyShift, client_id, same)
        if again is None:
            raise
        return again
    return shift


def _lock_people(people: Sequence[User]) -> None:
    """Lock the users' rows (in pk order, so two transactions never wait on each other): the
    overlap of their shifts is then checked by one transaction at a time."""
    if people:
        list(User.objects.select_for_update().filter(pk__in=[u.pk for u in people]).order_by("pk"))


def _visible_shift(actor: User, shift: DutyShift) -> None:
    if not access.path_visible(actor, shift.node.path):
        raise NotFound(_("No such shift."))


def _lock(shift: DutyShift) -> DutyShift:
    """The shift's row, locked for the rest of the transaction (the taps of two phones on the
    same shift wait for each other, so a correction never takes a counter below zero)."""
    qs = DutyShift.objects.filter(pk=shift.pk)
    if connection.features.has_select_for_update:
        qs = qs.select_for_update(of=("self",))
    return qs.select_related("post", "node").get()


def on_shift(user: User, shift: DutyShift) -> bool:
    return shift.staff.filter(pk=user.pk).exists()


def can_record(user: User, shift: DutyShift) -> bool:
    """May the user keep this shift's log: one on it (or a supervisor of the place), the shift
    taken and not handed over."""
    if not access.can(user, "shift.record") or not access.path_visible(user, shift.node.path):
        return False
    if shift.taken_at is None or shift.ended_at is not None:
        return False
    return user.role == Role.SUPERVISOR or on_shift(user, shift)


def _check_recording(actor: User, shift: DutyShift) -> None:
    if shift.ended_at is not None:
        raise Conflict(_("This shift was handed over: nothing more can be recorded on it."))
    if shift.taken_at is None:
        raise Conflict(_("Take the shift first."))
    if actor.role != Role.SUPERVISOR and not on_shift(actor, shift):
        raise Conflict(_("You are not on this shift: take it first."))


def shift_take(*, actor: User, shift: DutyShift, at: dt.datetime | None = None) -> DutyShift:
    """Check in on a shift: from an hour before it starts until it ends. The one who takes it
    joins its staff (a second one checking in joins too); the first check-in sets `taken_at`.
    Taking a shift one is already on and has taken answers it unchanged."""
    access.require(actor, "shift.record")
    _visible_shift(actor, shift)
    now = timezone.now()
    at = _aware(at) or now
    if at > now + CLOCK_SKEW:
        raise DomainError(_("The time is in the future."), field="at")
    # A check-in claims presence: one sent more than the grace after the phone says it was
    # made counts from when it reached the server (a shift taken at 10:00 is not made 08:00).
    at = max(at, now - GRACE)
    with transaction.atomic():
        _lock_people([actor])
        shift = _lock(shift)
        if shift.ended_at is not None:
            raise Conflict(_("This shift was handed over already."))
        if at >= shift.ends:
            raise Conflict(_("This shift is over."))
        if at < shift.starts - TAKE_EARLY:
            raise Conflict(
                _("This shift starts at %(time)s: take it at most an hour before.")
                % {"time": timezone.localtime(shift.starts).strftime("%m-%d %H:%M")}
            )
        joined = on_shift(actor, shift)
        if joined and shift.taken_at is not None:
            return shift
        if actor.role not in STAFF_ROLES or actor.pk not in {
            u.pk for u in staff_choices(shift.post)
        }:
            raise Forbidden(_("You cannot stand at this post."))
        if not joined:
            other = _overlapping(actor, max(at, shift.starts), shift.ends, exclude=shift.pk)
            if other is not None:
                raise Conflict(_overlap_message(actor, other), field="staff")
        changes: dict[str, list[Any]] = {}
        if shift.taken_at is None:
            shift.taken_at, shift.taken_by = at, actor
            shift.save(update_fields=["taken_at", "taken_by"])
            changes["taken_at"] = [None, at.isoformat()]
            changes["taken_by"] = [None, actor.pk]
        if not joined:
            shift.staff.add(actor)
            changes["staff"] = [None, [actor.pk]]
        audit_record(
            actor, "fangyi.dutyshift.taken", shift, changes=changes, node_path=shift.node.path
        )
    return shift


def _tally_clean(kind: str, delta: Any, e: FieldErrors) -> int | None:
    if kind not in TALLY_KINDS:
        e.add(
            "kind",
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for _v, label in Tally.choices)},
        )
    try:
        number = int(str(delta).strip()) if not isinstance(delta, int) else delta
    except (TypeError, ValueError):
        e.add("delta", _("Enter a whole number."))
        return None
    if isinstance(delta, bool) or number == 0:
        e.add("delta", _("Enter a number other than 0."))
        return None
    if abs(number) > MAX_DELTA:
        e.add(
            "delta",
            _("At most %(n)d at a time: count in smaller steps.") % {"n": MAX_DELTA},
        )
        return None
    return number


def shift_tally(
    *,
    actor: User,
    shift: DutyShift,
    kind: str,
    delta: Any = 1,
    client_id: uuid.UUID | None = None,
) -> tuple[ShiftTally, dict[str, int]]:
    """One tap on a counter of a shift: +1, or a number typed in, or a negative number to
    correct a wrong tap (never below 0). Kept by one on the shift (or a supervisor), on a shift
    taken and not handed over. Answers the tap and the shift's counters. The same client_id
    twice counts once."""
    access.require(actor, "shift.record")
    _visible_shift(actor, shift)

    def same(done: ShiftTally) -> bool:
        return done.shift_id == shift.pk

    if (done := replay(ShiftTally, client_id, same)) is not None:
        return done, shift_counts(shift)
    e = FieldErrors()
    number = _tally_clean(kind, delta, e)
    e.raise_if_any()
    assert number is not None
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = _lock(shift)
            _check_recording(actor, locked)
            total = (
                ShiftTally.objects.filter(shift=locked, kind=kind).aggregate(n=Sum("delta"))["n"]
                or 0
            )
            if total + number < 0:
                raise DomainError(
                    _("The counter is at %(n)d: a correction cannot take it below 0.")
                    % {"n": total},
                    field="delta",
                )
            tap = ShiftTally.objects.create(
                shift=locked, kind=kind, delta=number, at=now, by=actor, client_id=client_id
            )
            audit_record(
                actor,
                "fangyi.shifttally.created",
                tap,
                changes={
                    "kind": [None, kind],
                    "delta": [None, number],
                    "total": [total, total + number],
                },
                node_path=locked.node.path,
            )
    except IntegrityError:
        again = replay(ShiftTally, client_id, same)
        if again is None:
            raise
        return again, shift_counts(shift)
    return tap, shift_counts(shift)


def shift_handover(
    *,
    actor: User,
    shift: DutyShift,
    note: str = "",
    next_shift: DutyShift | None = None,
) -> DutyShift:
    """Hand the shift over: it ends now, with the note for whoever comes next (optionally
    naming the next shift at the same post, which then shows the note). By one on the shift or
    a supervisor; once."""
    access.require(actor, "shift.record")
    _visible_shift(actor, shift)
    e = FieldErrors()
    note = e.run(check_length, note, "note", 2000) or ""
    if next_shift is not None:
        if next_shift.post_id != shift.post_id or next_shift.pk == shift.pk:
            e.add("next_shift", _("Name a later shift at the same post."))
        elif next_shift.ended_at is not None:
            e.add("next_shift", _("That shift was handed over already."))
        elif next_shift.starts < shift.starts:
            e.add("next_shift", _("Name a later shift at the same post."))
    e.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(shift)
        _check_recording(actor, locked)
        locked.ended_at = now
        locked.handover_note = note
        locked.save(update_fields=["ended_at", "handover_note"])
        changes: dict[str, list[Any]] = {"ended_at": [None, now.isoformat()]}
        if note:
            changes["handover_note"] = [None, note]
        if next_shift is not None:
            changes["next_shift"] = [None, next_shift.pk]
        audit_record(
            actor,
            "fangyi.dutyshift.handed_over",
            locked,
            changes=changes,
            node_path=locked.node.path,
        )
    return locked


def shifts_escalate(now: dt.datetime | None = None) -> int:
    """Mark `escalated_at` on every unstaffed shift not marked yet, one audit row each (the
    supervisors' day list and the board show them). Idempotent; the worker runs it every
    minute (fangyi.patrols.tasks.shifts_escalate)."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = DutyShift.objects.filter(unstaffed_q(now), escalated_at__isnull=True)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.values_list("pk", "post__name", "starts", "node__path"))
        if not rows:
            return 0
        ids = [r[0] for r in rows]
        n = 0
        for start in range(0, len(ids), 900):  # SQLite's parameter cap
            n += DutyShift.objects.filter(
                pk__in=ids[start : start + 900], escalated_at__isnull=True
            ).update(escalated_at=now)
        AuditEntry.objects.bulk_create(
            [
                audit_entry(
                    None,
                    "fangyi.dutyshift.escalate",
                    None,
                    object_type="dutyshift",
                    object_id=pk,
                    object_repr=f"{name} {timezone.localtime(starts):%m-%d %H:%M}",
                    changes={"escalated_at": [None, now.isoformat()]},
                    node_path=path,
                )
                for pk, name, starts, path in rows
            ],
            batch_size=500,
        )
        # The supervisors above each post are told (the rows just marked: once each).
        for start in range(0, len(ids), 900):
            notices.shifts_unstaffed(
                DutyShift.objects.filter(
                    pk__in=ids[start : start + 900], escalated_at=now
                ).select_related("node", "post"),
                now,
            )
    return n


# --- a person registered at a post -------------------------------------------------------------


def _key(client_id: uuid.UUID | None, what: str) -> uuid.UUID | None:
    """The ids of what a registration stores beside it, derived from its own: a retry stores
    none of them twice."""
    return uuid.uuid5(client_id, f"post-registration:{what}") if client_id else None


def registration_record(
    *,
    actor: User,
    shift: DutyShift,
    declaration: DeclarationInput,
    person: Person | None = None,
    new_person: PersonInput | None = None,
    client_id: uuid.UUID | None = None,
) -> PostRegistration:
    """A person found at the post (from a risk area, with a fever...) registered there: found
    in the registry (`person`) or registered now (`new_person`, at the post's place), with the
    declaration taken on the spot (source "post"): the rules' proposal is evaluated at once and
    health staff decide as after any declaration. Counts one "outsiders" on the shift. Every
    field error at once (the person's and the declaration's); nothing is stored if one is
    wrong. The same client_id twice stores one of each."""
    access.require(actor, "shift.record")
    access.require(actor, "declaration.record")
    _visible_shift(actor, shift)

    def same(done: PostRegistration) -> bool:
        return done.shift_id == shift.pk

    if (done := replay(PostRegistration, client_id, same)) is not None:
        return done
    e = FieldErrors()
    if (person is None) == (new_person is None):
        e.add("person", _("Find the person in the registry or register them."))
    if person is not None and not access.path_visible(actor, person.node.path):
        raise NotFound(_("No such person."), field="person")
    if new_person is not None:
        access.require(actor, "person.edit")
        new_person.node = shift.node
        new_person.household = None
        new_person.client_id = _key(client_id, "person")
        e.run(person_clean, new_person, actor=actor)
    config = rules_config()
    e.run(declaration_clean, declaration, config=config)
    e.raise_if_any()
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = _lock(shift)
            _check_recording(actor, locked)
            who = person
            if new_person is not None:
                who = person_create(actor=actor, data=new_person)
            assert who is not None
            decl: Declaration = declaration_record(
                actor=actor,
                person=who,
                data=declaration,
                source=DeclarationSource.POST,
                client_id=_key(client_id, "declaration"),
            )
            reg = PostRegistration.objects.create(
                shift=locked,
                node=locked.node,
                person=who,
                declaration=decl,
                at=now,
                by=actor,
                client_id=client_id,
            )
            ShiftTally.objects.create(
                shift=locked,
                kind=Tally.OUTSIDERS,
                delta=1,
                at=now,
                by=actor,
                client_id=_key(client_id, "tally"),
            )
            audit_record(
                actor,
                "fangyi.postregistration.created",
                reg,
                changes={
                    "shift": [None, locked.pk],
                    "person": [None, who.pk],
                    "declaration": [None, decl.pk],
                    "proposal": [None, decl.proposal],
                    "new_person": [None, new_person is not None],
                },
                node_path=locked.node.path,
            )
    except IntegrityError:
        again = replay(PostRegistration, client_id, same)
        if again is None:
            raise
        return again
    return reg
