"""The work log (工作日志): what each person did each day, read from the records every app
already keeps. There is no copy: each kind of work is one row of SOURCES (the model, the field
that names who did it, the field that says when), and the log is one aggregate query per row,
grouped by the local day (settings.TIME_ZONE). A new app adds its kind with one row.

Who reads whose log (action "worklog.view"):
- everyone with the action reads his own: every record he did counts, wherever it lies;
- a supervisor reads the log of anyone under him (an active or former user of a role that
  keeps a log, with at least one of his nodes inside the supervisor's jurisdiction); then only
  the records the supervisor may see count (each model's `visible_to`), so a subordinate's
  work in another station is not shown to this station's supervisor;
- anyone else's log answers 404, as a user who does not exist does.
Reading someone else's log writes the access log (object: the user read).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Model, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from fangyi.core import access
from fangyi.core.audit import access_record, current_ip
from fangyi.core.errors import FieldErrors, Forbidden, NotFound
from fangyi.core.models import AccessLog, Role, User
from fangyi.core.scoping import path_q
from fangyi.enforcement.models import EnforcementRecord
from fangyi.guests.models import GuestReport
from fangyi.health.models import Decision, Declaration
from fangyi.linkage.models import RequestStatus, SupportRequest
from fangyi.observation.models import WORKER_STATUSES, FollowUp
from fangyi.patrols.models import DutyShift, Patrol, PatrolEvent, ShiftTally, Tally
from fangyi.quarantine.models import Persuasion, Placement
from fangyi.screening.models import DoorVisit
from fangyi.tips.models import TipEvent, TipVisit

# The default period: the last 20 days, today included (the seed's "twenty days and more").
DEFAULT_DAYS = 20
MAX_DAYS = 366
# The roles that keep a work log (and may be read by their supervisor).
LOG_ROLES = sorted(access.POLICY["worklog.view"])


@dataclass(frozen=True)
class Source:
    """One kind of work: rows of `model` whose `user` field names the person and whose `time`
    field says when. `where` narrows the rows; `distinct` counts different values of a field
    per day instead of rows (a tip with five steps in a day is one tip handled that day);
    `total` sums a field instead (a tally's taps). `link(subject, day)` may give the URL of
    the list behind a day's figure, where such a list exists."""

    key: str
    label: Promise
    model: type[Model]
    user: str
    time: str
    where: Q | None = None
    distinct: str | None = None
    total: str | None = None
    link: Callable[[User, dt.date], str | None] | None = None

    def rows(self, reader: User, subject: User | None):
        """The rows that count for `reader` (all his own when he is the subject)."""
        manager = self.model._default_manager
        own = subject is not None and reader.pk == subject.pk
        qs = manager.all() if own else manager.visible_to(reader)  # type: ignore[attr-defined]
        if self.where is not None:
            qs = qs.filter(self.where)
        return qs

    def measure(self):
        if self.total:
            return Sum(self.total)
        if self.distinct:
            return Count(self.distinct, distinct=True)
        return Count("pk")


SOURCES: list[Source] = [
    Source("doors", gettext_lazy("Doors visited"), DoorVisit, "by", "at"),
    Source(
        "followups",
        gettext_lazy("Follow-ups recorded"),
        FollowUp,
        "recorded_by",
        "recorded_at",
        where=Q(status__in=WORKER_STATUSES),
    ),
    Source(
        "declarations",
        gettext_lazy("Declarations recorded"),
        Declaration,
        "recorded_by",
        "recorded_at",
    ),
    Source("decisions", gettext_lazy("Decisions made"), Decision, "decided_by", "decided_at"),
    Source("tips", gettext_lazy("Tips handled"), TipEvent, "by", "at", distinct="tip"),
    Source("tip_visits", gettext_lazy("Visits on tips"), TipVisit, "by", "at"),
    Source(
        "support",
        gettext_lazy("Support requests answered"),
        SupportRequest,
        "accepted_by",
        "accepted_at",
        where=~Q(status=RequestStatus.DECLINED),
    ),
    Source("patrols_led", gettext_lazy("Patrols led"), Patrol, "leader", "started_at"),
    Source("patrols_joined", gettext_lazy("Patrols joined"), Patrol, "companions", "started_at"),
    Source(
        "patrol_events", gettext_lazy("Patrol events recorded"), PatrolEvent, "recorded_by", "at"
    ),
    # A shift counts once it was taken (someone checked in), not as planned: a planned shift
    # nobody came to is no one's work.
    Source(
        "shifts",
        gettext_lazy("Duty shifts"),
        DutyShift,
        "staff",
        "starts",
        where=Q(taken_at__isnull=False),
    ),
    Source(
        "persons_checked",
        gettext_lazy("Persons checked at posts"),
        ShiftTally,
        "by",  # the taps he made himself: planned staff who never came counted nothing
        "at",
        where=Q(kind=Tally.PERSONS),
        total="delta",
    ),
    Source(
        "vehicles_checked",
        gettext_lazy("Vehicles checked at posts"),
        ShiftTally,
        "by",
        "at",
        where=Q(kind=Tally.VEHICLES),
        total="delta",
    ),
    Source("enforcement", gettext_lazy("Enforcement records"), EnforcementRecord, "officers", "at"),
    Source(
        "guests",
        gettext_lazy("Hotel guests registered"),
        GuestReport,
        "registered_by",
        "registered_at",
    ),
    Source(
        "referrals",
        gettext_lazy("Guests referred to a designated hotel"),
        GuestReport,
        "placement__reserved_by",
        "referred_at",
    ),
    Source("placements", gettext_lazy("Placements made"), Placement, "reserved_by", "reserved_at"),
    Source("persuasions", gettext_lazy("Persuasion attempts"), Persuasion, "by", "at"),
]
SUPPORT = "support"

# The period's sentence: the kinds it names, in this order, each with its words.
SUMMARY: list[tuple[tuple[str, ...], Callable[[int], str]]] = [
    (("patrols_led", "patrols_joined"), lambda n: ngettext("%(n)d patrol", "%(n)d patrols", n)),
    (("doors",), lambda n: ngettext("%(n)d door", "%(n)d doors", n)),
    (("followups",), lambda n: ngettext("%(n)d follow-up", "%(n)d follow-ups", n)),
    (("tips",), lambda n: ngettext("%(n)d tip", "%(n)d tips", n)),
    (("shifts",), lambda n: ngettext("%(n)d duty shift", "%(n)d duty shifts", n)),
    (("enforcement",), lambda n: ngettext("%(n)d enforcement", "%(n)d enforcements", n)),
    (("referrals",), lambda n: ngettext("%(n)d referral", "%(n)d referrals", n)),
]


def source_keys() -> list[str]:
    return [s.key for s in SOURCES]


# --- the period ----------------------------------------------------------------------------------


def _date(raw: str | dt.date | None, name: str, errors: FieldErrors) -> dt.date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.add(name, _("Enter a date as YYYY-MM-DD."))
        return None


def period_clean(
    start: str | dt.date | None, end: str | dt.date | None, *, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The period asked for: both days included. Without `end`, today; without `start`, the
    20 days ending on `end`. Raises DomainError with every field's error at once: a date that
    is not YYYY-MM-DD, an end after today, an end before the start, more than 366 days."""
    today = today or timezone.localdate()
    errors = FieldErrors()
    first, last = _date(start, "start", errors), _date(end, "end", errors)
    errors.raise_if_any()
    last = last or today
    first = first or last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if last > today:
        errors.add("end", _("The work log ends today at the latest."))
    if last < first:
        errors.add("end", _("The end must not be before the start."))
    elif (last - first).days + 1 > MAX_DAYS:
        errors.add("start", _("At most %(n)d days at once.") % {"n": MAX_DAYS})
    errors.raise_if_any()
    return first, last


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_default_timezone()
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
    )


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# --- who may be read -----------------------------------------------------------------------------


def _team_q(reader: User) -> Q:
    return Q(role__in=LOG_ROLES) & path_q(reader, "nodes__path")


def _peers(reader: User) -> Q:
    """Supervisors at the reader's own nodes are his peers, not his people."""
    return Q(role=Role.SUPERVISOR, nodes__path__in=access.user_paths(reader))


def subject_get(reader: User, user_id: int | None) -> User:
    """The person whose log `reader` asks for: himself, or (for a supervisor) someone under
    him; anyone else is not found, like a user that does not exist."""
    access.require(reader, "worklog.view")
    if user_id is None or user_id == reader.pk:
        return reader
    if reader.role != Role.SUPERVISOR:
        raise NotFound(_("No such user."))
    subject = (
        User.objects.filter(_team_q(reader), pk=user_id).exclude(_peers(reader)).distinct().first()
    )
    if subject is None:
        raise NotFound(_("No such user."))
    subject._worklog_reader = reader.pk  # type: ignore[attr-defined]
    return subject


def team_require(reader: User) -> None:
    """The people's page is a supervisor's: everyone else may read only his own log."""
    access.require(reader, "worklog.view")
    if reader.role != Role.SUPERVISOR:
        raise Forbidden(_("Only supervisors read the work logs of their people."))


def team_members(reader: User) -> list[User]:
    """The active people under a supervisor (himself left out), by role then name."""
    team_require(reader)
    order = {r: i for i, r in enumerate(Role.values)}
    members = list(
        User.objects.filter(_team_q(reader), is_active=True)
        .exclude(pk=reader.pk)
        .exclude(_peers(reader))
        .distinct()
        .prefetch_related("nodes")
    )
    members.sort(key=lambda u: (order.get(u.role, 99), u.display_name, u.pk))
    return members


def _inside_path(reader: User, paths: Iterable[str]) -> str:
    for p in sorted(paths):
        if access.path_visible(reader, p):
            return p
    return ""


def _log_read(reader: User, subjects: list[User], via: str | None) -> None:
    """One access-log row per other person whose log (or totals) `reader` read."""
    others = [u for u in subjects if u.pk != reader.pk]
    if not via or not others:
        return
    ip = current_ip.get()
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                user=reader,
                user_name=reader.username,
                object_type="user",
                object_id=u.pk,
                object_repr=f"{u.username} {u.display_name}"[:200],
                node_path=_inside_path(reader, (n.path for n in u.nodes.all())),
                via=via,
                ip=ip,
            )
            for u in others
        ]
    )


# --- the log -------------------------------------------------------------------------------------


@dataclass
class Day:
    date: dt.date
    counts: dict[str, int]

    @property
    def any(self) -> bool:
        return any(self.counts.values())


@dataclass
class WorkLog:
    subject: User
    start: dt.date
    end: dt.date
    sources: list[Source]
    days: list[Day]  # oldest first, every day of the period
    totals: dict[str, int]
    support_minutes: float | None  # median minutes from asked to on scene
    support_timed: int  # the answered requests with an arrival (the median's rows)

    @property
    def day_count(self) -> int:
        return len(self.days)

    @property
    def summary(self) -> str:
        return summary_text(self.day_count, self.totals, self.support_minutes)

    @property
    def kinds(self) -> list[tuple[Source, int]]:
        return [(s, self.totals[s.key]) for s in self.sources]


def minutes_text(minutes: float | None) -> str:
    if minutes is None:
        return ""
    return f"{round(minutes, 1):g}"


def summary_text(days: int, totals: dict[str, int], support_minutes: float | None) -> str:
    """ "20 days: 41 patrols, 236 doors, 17 tips, 9 support requests answered in 6 minutes
    median": the kinds of SUMMARY that are not zero, and the support answered."""
    parts = []
    for keys, words in SUMMARY:
        n = sum(totals.get(k, 0) for k in keys)
        if n:
            parts.append(words(n) % {"n": n})
    n = totals.get(SUPPORT, 0)
    if n and support_minutes is not None:
        parts.append(
            ngettext(
                "%(n)d support request answered in %(m)s minutes median",
                "%(n)d support requests answered in %(m)s minutes median",
                n,
            )
            % {"n": n, "m": minutes_text(support_minutes)}
        )
    elif n:
        parts.append(
            ngettext("%(n)d support request answered", "%(n)d support requests answered", n)
            % {"n": n}
        )
    if not parts:
        return ngettext("%(n)d day: nothing recorded", "%(n)d days: nothing recorded", days) % {
            "n": days
        }
    items = pgettext("list separator", ", ").join(parts)
    return ngettext("%(n)d day: %(items)s", "%(n)d days: %(items)s", days) % {
        "n": days,
        "items": items,
    }


def _support_rows(reader: User, subject: User | None, lo, hi, users_in=None):
    source = next(s for s in SOURCES if s.key == SUPPORT)
    qs = source.rows(reader, subject).filter(
        **{f"{source.time}__gte": lo, f"{source.time}__lt": hi}, arrived_at__isnull=False
    )
    if subject is not None:
        qs = qs.filter(**{source.user: subject})
    else:
        qs = qs.filter(**{f"{source.user}__in": users_in})
    return qs.values_list(source.user, "created_at", "arrived_at").order_by()


def _median_minutes(pairs: Iterable[tuple[dt.datetime, dt.datetime]]) -> tuple[float | None, int]:
    values = [max(0.0, (b - a).total_seconds() / 60) for a, b in pairs]
    if not values:
        return None, 0
    return statistics.median(values), len(values)


def worklog(
    reader: User,
    subject: User,
    start: dt.date,
    end: dt.date,
    *,
    via: str | None = None,
) -> WorkLog:
    """The subject's log of the period (both days included) as `reader` may read it:
    per day and kind, the period's sums and the support's median response. One aggregate
    query per source plus one for the response times, whatever the size; reading someone
    else's log with `via` ("ui", "api", "xlsx") writes the access log."""
    access.require(reader, "worklog.view")
    if subject.pk != reader.pk and getattr(subject, "_worklog_reader", None) != reader.pk:
        subject_get(reader, subject.pk)  # a supervisor's subordinate, or NotFound
    lo, hi = _bounds(start, end)
    tz = timezone.get_default_timezone()
    per_day: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for source in SOURCES:
        qs = (
            source.rows(reader, subject)
            .filter(**{source.user: subject, f"{source.time}__gte": lo, f"{source.time}__lt": hi})
            .annotate(day=TruncDate(source.time, tzinfo=tz))
            .values("day")
            .annotate(n=source.measure())
            .order_by()
        )
        for row in qs:
            per_day[row["day"]][source.key] = int(row["n"] or 0)
    minutes, timed = _median_minutes((a, b) for _u, a, b in _support_rows(reader, subject, lo, hi))
    keys = source_keys()
    days = [Day(d, {k: per_day.get(d, {}).get(k, 0) for k in keys}) for d in _days(start, end)]
    totals = {k: sum(day.counts[k] for day in days) for k in keys}
    if via and subject.pk != reader.pk:
        path = _inside_path(reader, access.user_paths(subject))
        access_record(reader, subject, node_path=path, via=via)
    return WorkLog(subject, start, end, list(SOURCES), days, totals, minutes, timed)


# --- a supervisor's people -----------------------------------------------------------------------


@dataclass
class TeamRow:
    user: User
    totals: dict[str, int]
    support_minutes: float | None

    @property
    def any(self) -> bool:
        return any(self.totals.values())


@dataclass
class Team:
    start: dt.date
    end: dt.date
    sources: list[Source]
    rows: list[TeamRow] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        return {s.key: sum(r.totals[s.key] for r in self.rows) for s in self.sources}


def team(reader: User, start: dt.date, end: dt.date, *, via: str | None = None) -> Team:
    """The period's totals of each person under a supervisor: one query for the people, one
    aggregate query per source grouped by person, one for the response times; the records
    counted are those the supervisor may see. With `via`, one access-log row per person."""
    members = team_members(reader)
    lo, hi = _bounds(start, end)
    tz = timezone.get_default_timezone()
    ids = [u.pk for u in members]
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if ids:
        for source in SOURCES:
            qs = source.rows(reader, None).filter(
                **{
                    f"{source.user}__in": ids,
                    f"{source.time}__gte": lo,
                    f"{source.time}__lt": hi,
                }
            )
            # A distinct count is per day (as in the log), so the period's is the days' sum.
            group: list[Any] = [source.user]
            if source.distinct:
                qs = qs.annotate(day=TruncDate(source.time, tzinfo=tz))
                group.append("day")
            for row in qs.values(*group).annotate(n=source.measure()).order_by():
                sums[row[source.user]][source.key] += int(row["n"] or 0)
    times: dict[int, list] = defaultdict(list)
    if ids:
        for user_id, a, b in _support_rows(reader, None, lo, hi, users_in=ids):
            times[user_id].append((a, b))
    keys = source_keys()
    rows = [
        TeamRow(
            u,
            {k: sums.get(u.pk, {}).get(k, 0) for k in keys},
            _median_minutes(times.get(u.pk, []))[0],
        )
        for u in members
    ]
    _log_read(reader, members, via)
    return Team(start, end, list(SOURCES), rows)
