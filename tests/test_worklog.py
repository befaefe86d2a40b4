"""The work log (工作日志, issue 17 item 4): a 20-day log of the officer whose sums match the
records created, read by himself and by his supervisor, refused to everyone else, with bad
periods answered as field errors, a fixed number of queries, and the xlsx in Chinese."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangyi.core.errors import DomainError, Forbidden, NotFound
from fangyi.core.models import AccessLog, AuditEntry, Node, Role, User
from fangyi.enforcement.models import EnforcementRecord
from fangyi.guests.models import GuestReport
from fangyi.health.models import Decision, Declaration
from fangyi.linkage.models import SupportRequest
from fangyi.observation.models import FollowUp, Observation
from fangyi.patrols.models import DutyPost, DutyShift, Patrol, PatrolEvent, ShiftTally
from fangyi.people.models import Household, Person
from fangyi.people.services import name_keys
from fangyi.quarantine.models import Persuasion, Placement, Refusal
from fangyi.screening.models import Assignment, DoorVisit, Sweep
from fangyi.tips.models import Tip, TipCategory, TipEvent, TipVisit
from fangyi.tips.services import new_code
from fangyi.worklog import selectors
from fangyi.worklog.selectors import SOURCES, period_clean, subject_get, team, worklog
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TZ = timezone.get_default_timezone()
# The seed's twenty days: 1 to 20 February 2020 (long before the demo city's own records).
START = dt.date(2020, 2, 1)
END = dt.date(2020, 2, 20)
_seq = itertools.count(1)


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """Local time on day `day` of the period (0 = 1 February)."""
    return dt.datetime.combine(START + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=TZ)


class Records:
    """Makes records of each kind with explicit times, and counts what each should add to
    whose log: expected[user.pk][date][kind]."""

    def __init__(self, compound: Node):
        self.compound = compound
        self.household = Household.objects.filter(node=compound).order_by("pk").first()
        self.person = self.household.members.order_by("pk").first()
        self.expected: dict[int, dict[dt.date, Counter]] = defaultdict(lambda: defaultdict(Counter))
        self._sweep = None
        self._tip = None
        self._post = None
        self._observation = None

    def count(self, user: User, when: dt.datetime, kind: str, n: int = 1) -> None:
        self.expected[user.pk][timezone.localtime(when, TZ).date()][kind] += n

    # each kind -------------------------------------------------------------------------------

    def door(self, user: User, when: dt.datetime) -> None:
        if self._sweep is None:
            sweep = Sweep.objects.create(
                node=self.compound, purpose="全面排查", starts=START, ends=END
            )
            self._sweep = Assignment.objects.create(
                sweep=sweep,
                household=self.household,
                node=self.compound,
                grid=self.compound.parent,
                assignee=user,
            )
        DoorVisit.objects.create(
            assignment=self._sweep,
            household=self.household,
            node=self.compound,
            outcome="visited",
            at=when,
            by=user,
        )
        self.count(user, when, "doors")

    def followup(self, user: User, when: dt.datetime, status: str = "seen_well") -> None:
        if self._observation is None:
            self._observation = Observation.objects.create(
                person=self.person,
                node=self.compound,
                kind="home",
                starts=START,
                last_exposure=START,
                ends=END,
            )
        FollowUp.objects.create(
            observation=self._observation,
            node=self.compound,
            due=timezone.localtime(when, TZ).date(),
            slot=next(_seq),
            assignee=user,
            status=status,
            recorded_by=user,
            recorded_at=when,
        )
        if status != "self_reported":
            self.count(user, when, "followups")

    def tip(self) -> Tip:
        return Tip.objects.create(
            code=new_code(),
            category=TipCategory.objects.order_by("pk").first(),
            node=self.compound,
            description="老人聚集打牌",
            source="phone",
            status="accepted",
            received_at=at(0, 8),
        )

    def tip_steps(self, user: User, when: dt.datetime, steps: int = 1, tip=None) -> None:
        """`steps` events on one tip on one day: one tip handled that day."""
        tip = tip or self.tip()
        for i in range(steps):
            TipEvent.objects.create(
                tip=tip, at=when + dt.timedelta(minutes=i), by=user, status="in_progress"
            )
        self.count(user, when, "tips")

    def tip_visit(self, user: User, when: dt.datetime) -> None:
        TipVisit.objects.create(
            tip=self.tip(), node=self.compound, at=when, by=user, found="家禽散养"
        )
        self.count(user, when, "tip_visits")

    def support(
        self, user: User, asked: dt.datetime, minutes: int | None, status: str = "arrived"
    ) -> None:
        """A request asked at `asked`, accepted by `user` a minute later, on scene after
        `minutes` (None: not arrived yet)."""
        SupportRequest.objects.create(
            node=self.compound,
            agency="police",
            requested_by=User.objects.get(username="wanggeyuan"),
            need="闭门不配合",
            urgency="urgent",
            target_minutes=10,
            status=status,
            created_at=asked,
            due_at=asked + dt.timedelta(minutes=10),
            accepted_at=asked + dt.timedelta(minutes=1),
            accepted_by=user,
            arrived_at=None if minutes is None else asked + dt.timedelta(minutes=minutes),
        )
        if status != "declined":
            self.count(user, asked + dt.timedelta(minutes=1), "support")

    def patrol(self, leader: User, when: dt.datetime, companions=(), events: int = 0) -> Patrol:
        patrol = Patrol.objects.create(node=self.compound, leader=leader, started_at=when)
        patrol.companions.set(companions)
        self.count(leader, when, "patrols_led")
        for c in companions:
            self.count(c, when, "patrols_joined")
        for i in range(events):
            moment = when + dt.timedelta(minutes=10 * (i + 1))
            PatrolEvent.objects.create(
                patrol=patrol,
                node=self.compound,
                kind="gathering",
                at=moment,
                recorded_by=leader,
                people=4,
            )
            self.count(leader, moment, "patrol_events")
        return patrol

    def shift(
        self, staff, when: dt.datetime, persons=(), vehicles=(), taken: bool = True
    ) -> DutyShift:
        if self._post is None:
            self._post = DutyPost.objects.create(
                node=self.compound,
                name="机务小区大门",
                kind="gate",
                created_by=User.objects.get(username="suozhang"),
            )
        shift = DutyShift.objects.create(
            post=self._post,
            node=self.compound,
            starts=when,
            ends=when + dt.timedelta(hours=4),
            created_by=User.objects.get(username="suozhang"),
            taken_at=when if taken else None,
            taken_by=staff[0] if taken else None,
        )
        shift.staff.set(staff)
        if not taken:
            return shift  # planned, nobody came: no one's work
        for user in staff:
            self.count(user, when, "shifts")
        tapper = staff[0]
        for kind, deltas in (("persons", persons), ("vehicles", vehicles)):
            for i, delta in enumerate(deltas):
                moment = when + dt.timedelta(minutes=5 * (i + 1))
                ShiftTally.objects.create(shift=shift, kind=kind, delta=delta, at=moment, by=tapper)
                # the taps count for the one who made them
                self.count(tapper, moment, f"{kind}_checked", delta)
        return shift

    def enforcement(self, officers, when: dt.datetime) -> None:
        record = EnforcementRecord.objects.create(
            node=self.compound,
            measure="education",
            at=when,
            facts="聚餐6人,说服教育后散去",
            recorded_by=officers[0],
        )
        record.officers.set(officers)
        for user in officers:
            self.count(user, when, "enforcement")

    def guest(self, user: User, registered: dt.datetime, referred: dt.datetime | None = None):
        placement = None
        if referred is not None:
            placement = self.placement(user, referred)
        report = GuestReport.objects.create(
            place=self.hotel(),
            node=self.hotel().node,
            reported_by=User.objects.get(username="jiudian"),
            reported_at=registered - dt.timedelta(minutes=30),
            name="武汉旅客",
            id_type="resident",
            id_number="420102199001011234",
            from_where="湖北省武汉市",
            arrived_on=registered.date(),
            registered_at=registered,
            registered_by=user,
            placement=placement,
            referred_at=referred,
            status="referred" if referred else "registered",
        )
        self.count(user, registered, "guests")
        if referred is not None:
            self.count(user, referred, "referrals")
        return report

    def hotel(self):
        from fangyi.people.models import Place

        return Place.objects.get(name="北大路宾馆")

    def placement(self, user: User, when: dt.datetime) -> Placement:
        name = f"被安置者{next(_seq)}"
        norm, pinyin, initials = name_keys(name)
        person = Person.objects.create(
            name=name,
            id_type="none",
            node=self.compound,
            name_norm=norm,
            name_pinyin=pinyin,
            name_initials=initials,
        )
        made = Placement.objects.create(
            person=person,
            node=self.compound,
            kind="home",
            source="referral",
            status="released",
            reserved_at=when,
            reserved_by=user,
        )
        self.count(user, when, "placements")
        return made

    def declaration(self, user: User, when: dt.datetime) -> None:
        Declaration.objects.create(
            person=self.person,
            node=self.compound,
            declared_on=when.date(),
            proposal="none",
            recorded_by=user,
            recorded_at=when,
        )
        self.count(user, when, "declarations")

    def decision(self, user: User, when: dt.datetime) -> None:
        Decision.objects.create(
            person=self.person,
            node=self.compound,
            outcome="home",
            reason="密切接触者",
            decided_by=user,
            decided_at=when,
        )
        self.count(user, when, "decisions")

    def persuasion(self, user: User, when: dt.datetime) -> None:
        placement = self.placement(User.objects.get(username="weijian"), when)
        refusal = Refusal.objects.create(
            placement=placement,
            person=placement.person,
            node=self.compound,
            reason="无症状",
            by=user,
        )
        Persuasion.objects.create(
            refusal=refusal, at=when, by=user, explained="潜伏期", outcome="agreed"
        )
        self.count(user, when, "persuasions")

    # reading ---------------------------------------------------------------------------------

    def days(self, user: User, keys=None) -> dict[dt.date, dict[str, int]]:
        """The expected per-day counts of `user`, for the days that have any."""
        keys = keys or [s.key for s in SOURCES]
        return {
            d: {k: c[k] for k in keys if c[k]}
            for d, c in self.expected[user.pk].items()
            if any(c[k] for k in keys)
        }


def got(log) -> dict[dt.date, dict[str, int]]:
    return {d.date: {k: n for k, n in d.counts.items() if n} for d in log.days if d.any}


@pytest.fixture
def records(jiwu) -> Records:
    return Records(jiwu)


def officer_twenty_days(r: Records, officer, auxiliary, supervisor, beihu_compound) -> None:
    """The officer's twenty days: patrols with auxiliary police most mornings, doors, tips,
    support, a shift at the gate, enforcement, a hotel guest referred; some work by others,
    some outside the period, and one record outside the supervisor's station."""
    for day in range(20):
        r.patrol(officer, at(day, 8), companions=[auxiliary], events=day % 3)
        if day % 2 == 0:
            r.patrol(auxiliary, at(day, 15), companions=[officer])
        for i in range(day % 4 + 1):
            r.door(officer, at(day, 9, 10 * i))
    for day in (2, 5, 9, 13, 17):
        r.tip_steps(officer, at(day, 11), steps=3)  # three steps on one tip: one tip handled
    tip = r.tip()
    r.tip_steps(officer, at(6, 11), tip=tip)
    r.tip_steps(officer, at(7, 11), tip=tip)  # the same tip on another day counts that day
    r.tip_visit(officer, at(6, 12))
    r.tip_visit(officer, at(7, 12))
    # Support: answered in 4, 6 and 9 minutes (median 6), one not on scene yet (not timed),
    # one declined (not answered).
    r.support(officer, at(3, 14), 4)
    r.support(officer, at(8, 14), 9)
    r.support(officer, at(12, 14), 6)
    r.support(officer, at(16, 14), None, status="accepted")
    r.support(officer, at(18, 14), None, status="declined")
    r.shift([officer, auxiliary], at(10, 18), persons=[5, 3, -1], vehicles=[2])
    r.shift([officer], at(12, 8), taken=False)  # planned, never taken: not counted
    r.enforcement([officer, auxiliary], at(4, 20))
    r.guest(officer, at(11, 21), referred=at(11, 22))
    r.followup(officer, at(14, 10))
    r.followup(officer, at(14, 11), status="not_reached")
    r.declaration(officer, at(15, 9))
    r.persuasion(officer, at(15, 10))
    # Local days: 23:30 and 00:15 are different days, though the same UTC day (15:30, 16:15).
    r.door(officer, at(19, 23, 30))
    r.door(officer, at(18, 0, 15))
    # Outside the period: the day before and the day after.
    r.door(officer, at(-1, 23, 59))
    r.door(officer, at(20, 0, 0))
    r.expected[officer.pk].pop(START - dt.timedelta(days=1))
    r.expected[officer.pk].pop(END + dt.timedelta(days=1))
    # Somebody else's work.
    r.door(supervisor, at(3, 9))
    r.enforcement([auxiliary], at(5, 20))
    # The officer's work in 北湖 (outside his supervisor's station): his, not the supervisor's.
    far = Records(beihu_compound)
    far.door(officer, at(1, 16))
    far.door(officer, at(1, 17))
    for d, c in far.expected[officer.pk].items():
        r.expected[officer.pk][d].update(c)
    r.outside = far  # type: ignore[attr-defined]


@pytest.fixture
def twenty_days(records, officer, auxiliary, supervisor, beihu_compound) -> Records:
    officer_twenty_days(records, officer, auxiliary, supervisor, beihu_compound)
    return records


# --- the log -----------------------------------------------------------------------------------


def test_the_officers_twenty_days_match_the_records(twenty_days, officer):
    r = twenty_days
    log = worklog(officer, officer, START, END)
    assert [d.date for d in log.days] == [START + dt.timedelta(days=i) for i in range(20)]
    assert got(log) == r.days(officer)
    # The period's sums are the days' sums, and they are what was made.
    expected_totals = Counter()
    for c in r.expected[officer.pk].values():
        expected_totals.update(c)
    assert {k: v for k, v in log.totals.items() if v} == {
        k: v for k, v in expected_totals.items() if v
    }
    assert log.totals["patrols_led"] == 20
    assert log.totals["patrols_joined"] == 10
    assert log.totals["doors"] == sum(d % 4 + 1 for d in range(20)) + 2 + 2  # + 北湖 + midnight
    assert log.totals["tips"] == 7 and log.totals["tip_visits"] == 2
    assert log.totals["patrol_events"] == sum(d % 3 for d in range(20))
    assert log.totals["support"] == 4  # the declined one is not support given
    assert log.totals["persons_checked"] == 7 and log.totals["vehicles_checked"] == 2
    assert log.totals["followups"] == 2
    # The median of 4, 6 and 9 minutes, over the three that arrived.
    assert log.support_minutes == 6 and log.support_timed == 3
    # The local day: 00:15 on the 19th and 23:30 on the 20th.
    assert log.days[18].counts["doors"] == (18 % 4 + 1) + 1
    assert log.days[19].counts["doors"] == (19 % 4 + 1) + 1


def test_the_period_in_one_sentence(twenty_days, officer):
    log = worklog(officer, officer, START, END)
    patrols = log.totals["patrols_led"] + log.totals["patrols_joined"]
    doors = log.totals["doors"]
    assert log.summary.startswith(f"20 days: {patrols} patrols, {doors} doors, 2 follow-ups, ")
    assert "7 tips, 1 duty shift, 1 enforcement, 1 referral" in log.summary
    assert log.summary.endswith("4 support requests answered in 6 minutes median")
    assert selectors.summary_text(1, {}, None) == "1 day: nothing recorded"


def test_an_empty_period_is_twenty_zero_days(officer):
    log = worklog(officer, officer, START, END)
    assert len(log.days) == 20 and not any(d.any for d in log.days)
    assert set(log.totals.values()) == {0}
    assert log.support_minutes is None and log.support_timed == 0


def test_the_supervisor_reads_his_officer_but_only_inside_his_station(
    twenty_days, officer, supervisor
):
    r = twenty_days
    subject = subject_get(supervisor, officer.pk)
    reads = AccessLog.objects.count()
    log = worklog(supervisor, subject, START, END, via="ui")
    inside = r.days(officer)
    for d, c in r.outside.expected[officer.pk].items():
        for k, n in c.items():
            inside[d][k] -= n
            if not inside[d][k]:
                del inside[d][k]
        if not inside[d]:
            del inside[d]
    assert got(log) == inside
    assert log.totals["doors"] == worklog(officer, officer, START, END).totals["doors"] - 2
    # The read is in the access log, under the officer, in the supervisor's station.
    assert AccessLog.objects.count() == reads + 1
    entry = AccessLog.objects.order_by("-pk").first()
    assert (entry.user_id, entry.object_type, entry.object_id, entry.via) == (
        supervisor.pk,
        "user",
        officer.pk,
        "ui",
    )
    assert entry.node_path == Node.objects.get(name="五里亭派出所").path


def test_reading_ones_own_log_is_no_access_log_entry(twenty_days, officer):
    reads = AccessLog.objects.count()
    worklog(officer, officer, START, END, via="ui")
    assert AccessLog.objects.count() == reads


def test_an_officer_may_not_read_another_officers_log(officer, auxiliary, outsider):
    with pytest.raises(NotFound):
        subject_get(officer, auxiliary.pk)
    with pytest.raises(NotFound):
        worklog(officer, auxiliary, START, END)
    with pytest.raises(NotFound):
        subject_get(outsider, officer.pk)


def test_a_supervisor_reads_nobody_of_another_station(supervisor, outsider, admin):
    with pytest.raises(NotFound):
        subject_get(supervisor, outsider.pk)
    with pytest.raises(NotFound):
        subject_get(supervisor, 987_654_321)
    with pytest.raises(NotFound):
        subject_get(supervisor, admin.pk)  # administrators keep no work log


def test_roles_without_the_action_are_refused(hotel_clerk, admin):
    with pytest.raises(Forbidden):
        subject_get(hotel_clerk, None)
    with pytest.raises(Forbidden):
        subject_get(admin, None)


def test_the_team_sums_each_person_with_one_query_per_source(
    twenty_days, officer, auxiliary, supervisor, outsider, grid_worker
):
    r = twenty_days
    team(supervisor, START, END)  # the supervisor's own paths read once, then cached
    with CaptureQueriesContext(connection) as few:
        data = team(supervisor, START, END, via="ui")
    people = {row.user.pk: row for row in data.rows}
    assert officer.pk in people and auxiliary.pk in people and grid_worker.pk in people
    assert outsider.pk not in people and supervisor.pk not in people
    mine = worklog(supervisor, subject_get(supervisor, officer.pk), START, END)
    assert people[officer.pk].totals == mine.totals
    assert people[officer.pk].support_minutes == 6
    aux = Counter()
    for c in r.expected[auxiliary.pk].values():
        aux.update(c)
    assert {k: v for k, v in people[auxiliary.pk].totals.items() if v} == dict(aux)
    # One access-log row per person listed.
    assert AccessLog.objects.filter(user=supervisor, object_type="user").count() >= len(people)
    # A field role has no team.
    with pytest.raises(Forbidden):
        team(officer, START, END)
    # More people and more records: the same number of queries.
    for i in range(5):
        u = User.objects.create(username=f"wl-extra-{i}", role=Role.GRID_WORKER)
        u.nodes.set([r.compound.parent])
        r.door(u, at(i, 9))
        r.patrol(u, at(i, 8), companions=[officer], events=2)
    with CaptureQueriesContext(connection) as many:
        team(supervisor, START, END, via="ui")
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the period ----------------------------------------------------------------------------------


def test_the_default_period_is_the_last_twenty_days():
    today = dt.date(2020, 2, 20)
    assert period_clean("", "", today=today) == (dt.date(2020, 2, 1), today)
    assert period_clean("", "2020-02-10", today=today) == (
        dt.date(2020, 1, 22),
        dt.date(2020, 2, 10),
    )
    assert period_clean("2020-02-18", None, today=today) == (dt.date(2020, 2, 18), today)


@pytest.mark.parametrize(
    "start, end, fields",
    [
        ("2020-02-30", "", {"start"}),
        ("yesterday", "2020-02-10", {"start"}),
        ("2020-2-1", "2020-02-10", {"start"}),
        ("2020-02-01", "02/10/2020", {"end"}),
        ("x", "y", {"start", "end"}),
        ("2020-02-10", "2020-02-01", {"end"}),  # the end before the start
        ("2019-02-19", "2020-02-20", {"start"}),  # 367 days
        ("2020-02-01", "2020-02-21", {"end"}),  # after today
    ],
)
def test_bad_periods_are_field_errors(start, end, fields):
    with pytest.raises(DomainError) as exc:
        period_clean(start, end, today=dt.date(2020, 2, 20))
    assert set(exc.value.errors) == fields
    assert exc.value.status == 400


def test_366_days_are_allowed():
    assert period_clean("2019-02-20", "2020-02-20", today=dt.date(2020, 2, 20))[0] == dt.date(
        2019, 2, 20
    )


# --- a fixed number of queries ---------------------------------------------------------------------


def test_the_log_costs_the_same_queries_with_few_and_many_records(
    records, officer, auxiliary, supervisor
):
    records.door(officer, at(0))
    subject_get(supervisor, officer.pk)  # the supervisor's paths, read once and cached

    def boss_reads():
        # A fresh subject each time, as in a request: his paths are read for the access log.
        worklog(supervisor, subject_get(supervisor, officer.pk), START, END, via="ui")

    with CaptureQueriesContext(connection) as few_own:
        worklog(officer, officer, START, END)
    with CaptureQueriesContext(connection) as few_boss:
        boss_reads()
    for day in range(20):
        for i in range(6):
            records.door(officer, at(day, 9, i))
        records.patrol(officer, at(day, 8), companions=[auxiliary], events=3)
        records.tip_steps(officer, at(day, 11), steps=2)
        records.support(officer, at(day, 14), day % 7 + 2)
    records.shift([officer], at(3, 18), persons=[1, 2, 3, 4])
    with CaptureQueriesContext(connection) as many_own:
        log = worklog(officer, officer, START, END)
    with CaptureQueriesContext(connection) as many_boss:
        boss_reads()
    assert log.totals["doors"] == 121
    assert len(few_own.captured_queries) == len(many_own.captured_queries)
    assert len(few_boss.captured_queries) == len(many_boss.captured_queries)
    # One aggregate query per source and one for the response times.
    assert len(many_own.captured_queries) == len(SOURCES) + 1


def test_the_pages_cost_the_same_queries_with_few_and_many_records(records, officer, supervisor):
    path = f"/worklog/?start={START}&end={END}"
    team_path = f"/worklog/team/?start={START}&end={END}"
    own, boss = login(officer), login(supervisor)
    own.get(path), boss.get(team_path)  # the session and caches filled

    def cost(client, url) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    before = (cost(own, path), cost(boss, team_path), cost(boss, f"/worklog/{officer.pk}/"))
    for day in range(20):
        for i in range(5):
            records.door(officer, at(day, 9, i))
        records.patrol(officer, at(day, 8), events=2)
    after = (cost(own, path), cost(boss, team_path), cost(boss, f"/worklog/{officer.pk}/"))
    assert before == after


# --- the pages ---------------------------------------------------------------------------------


def test_my_log_page_shows_the_days_and_the_sums(twenty_days, officer):
    response = english_login(officer).get("/worklog/", {"start": START, "end": END})
    assert response.status_code == 200
    body = response.content.decode()
    log = worklog(officer, officer, START, END)
    assert log.summary in body
    assert body.count("data-day=") == 20
    assert f'data-day="{END}"' in body
    assert "Download xlsx" in body and f"/worklog/xlsx/?start={START}" in body


def test_the_default_page_is_the_last_twenty_days(officer):
    response = english_login(officer).get("/worklog/")
    assert response.status_code == 200
    body = response.content.decode()
    today = timezone.localdate()
    assert body.count("data-day=") == 20
    assert f'data-day="{today}"' in body
    assert f'data-day="{today - dt.timedelta(days=19)}"' in body
    assert f'value="{today - dt.timedelta(days=19)}"' in body  # the form shows the period


def test_bad_dates_on_the_page_are_field_errors(officer):
    client = english_login(officer)
    response = client.get("/worklog/", {"start": "2020-02-30", "end": "2020-02-10"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter a date as YYYY-MM-DD." in body
    assert 'id="fg-start"' in body and 'class="fg field-error" id="fg-start"' in body
    assert "data-day=" not in body
    response = client.get("/worklog/", {"start": "2019-01-01", "end": "2020-02-10"})
    assert response.status_code == 400
    assert "At most 366 days at once." in response.content.decode()


def test_the_supervisor_opens_his_officers_log_and_the_team(twenty_days, officer, supervisor):
    client = english_login(supervisor)
    page = client.get("/worklog/team/", {"start": START, "end": END})
    assert page.status_code == 200
    body = page.content.decode()
    assert f'data-user="{officer.pk}"' in body
    assert f"/worklog/{officer.pk}/?start={START}" in body
    one = client.get(f"/worklog/{officer.pk}/", {"start": START, "end": END})
    assert one.status_code == 200
    assert officer.display_name in one.content.decode()


def test_other_peoples_logs_are_not_found_on_the_pages(officer, auxiliary, outsider, supervisor):
    assert login(officer).get(f"/worklog/{auxiliary.pk}/").status_code == 404
    assert login(outsider).get(f"/worklog/{officer.pk}/").status_code == 404
    assert login(supervisor).get(f"/worklog/{outsider.pk}/").status_code == 404
    assert login(officer).get(f"/worklog/{auxiliary.pk}/xlsx/").status_code == 404
    assert login(officer).get("/worklog/team/").status_code == 403
    # His own id is his own log.
    assert login(officer).get(f"/worklog/{officer.pk}/").status_code == 200


# --- the xlsx ---------------------------------------------------------------------------------


def _sheet(response):
    from openpyxl import load_workbook

    data = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(data), read_only=True).active


def test_the_xlsx_has_one_row_a_day_and_the_totals_in_chinese(twenty_days, officer, supervisor):
    client = login(supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    audits, reads = AuditEntry.objects.count(), AccessLog.objects.count()
    response = client.get(f"/worklog/{officer.pk}/xlsx/", {"start": START, "end": END})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "worklog-xuhongxin-20200201-20200220.xlsx" in response["Content-Disposition"]
    rows = list(_sheet(response).values)
    head = rows[0]
    assert head[0] == "日期"
    assert len(head) == len(SOURCES) + 2
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in str(h)) for h in head), head
    assert len(rows) == 1 + 20 + 1
    assert rows[1][0].date() == START and rows[20][0].date() == END
    log = worklog(supervisor, subject_get(supervisor, officer.pk), START, END)
    keys = [s.key for s in SOURCES]
    for i, day in enumerate(log.days, start=1):
        assert list(rows[i][1 : 1 + len(keys)]) == [day.counts[k] for k in keys]
    assert rows[-1][0] == "合计"
    assert list(rows[-1][1 : 1 + len(keys)]) == [log.totals[k] for k in keys]
    assert rows[-1][-1] == "6"
    # Audited as an export, and the read of another person's log is in the access log.
    assert AuditEntry.objects.count() == audits + 1
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.object_id) == ("fangyi.export.worklog", officer.pk)
    assert AccessLog.objects.filter(via="xlsx", object_id=officer.pk).count() >= 1
    assert AccessLog.objects.count() > reads


def test_my_own_xlsx(officer):
    response = login(officer).get("/worklog/xlsx/", {"start": START, "end": END})
    assert response.status_code == 200
    rows = list(_sheet(response).values)
    assert len(rows) == 22


# --- the benchmark ------------------------------------------------------------------------------


def test_the_worklog_benchmark_runs_at_a_tiny_size():
    import json

    code = (
        "import sys; from bench import __main__ as m; "
        "m.BENCHES.setdefault('worklog', 'bench.worklog'); "
        "sys.exit(m.main(['worklog', '--n', '600']))"
    )
    proc = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["bench"] == "worklog" and result["n"] == 600
    assert result["seconds"] > 0 and result["raw_seconds"] > 0
    # The work log and the raw SQL agree on every sum, with the same query count at any size.
    assert result["totals"] == result["raw_totals"]
    assert result["totals"]["doors"] > 0 and result["totals"]["patrols_led"] > 0
    assert result["queries"] == len(SOURCES) + 1
