"""Medical observation: follow-ups generated each day, recorded, self-reported, missed;
alerts; release, referral, transfer. Dates are fixed with time_machine wherever they matter."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from fangyi.care import flows
from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AuditEntry
from fangyi.health.models import RiskSettings, SelfReportLink
from fangyi.observation import services
from fangyi.observation.models import (
    Alert,
    AlertKind,
    FollowUp,
    FollowUpStatus,
    Observation,
    ObservationKind,
    ObservationStatus,
)
from fangyi.people.models import Household, Person, Place, PlaceKind

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
DAY0 = dt.date(2020, 2, 1)  # the first day of observation in these tests


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def fresh_person(compound, name: str = "观察对象") -> Person:
    """A person of `compound` with no observation (a new household, so the demo's observed
    residents are never picked)."""
    from tests.test_permissions import make_person

    household = Household.objects.create(node=compound, address=f"{name}路{uuid.uuid4().hex[:6]}号")
    return make_person(name, household=household)


def start(actor, person, *, exposure: dt.date, starts: dt.date, **kw) -> Observation:
    with time_machine.travel(at(starts), tick=False):
        return services.observation_start(
            actor=actor,
            person=person,
            kind=kw.pop("kind", ObservationKind.HOME),
            last_exposure=exposure,
            starts=starts,
            **kw,
        )


@pytest.fixture
def obs(health, grid_worker, jiwu):
    """At home in 机务小区 from DAY0, exposed the day before: ends on DAY0 + 13."""
    return start(
        health,
        fresh_person(jiwu),
        exposure=DAY0 - dt.timedelta(days=1),
        starts=DAY0,
        responsible=grid_worker,
    )


def generate(day: dt.date) -> int:
    with time_machine.travel(at(day, 6), tick=False):
        return services.followups_generate(day)


def record(actor, followup, day=None, **kw):
    day = day or followup.due
    kw.setdefault("status", FollowUpStatus.SEEN_WELL)
    with time_machine.travel(at(day, 10), tick=False):
        return services.followup_record(actor=actor, followup=followup, **kw)


# --- generated follow-ups ----------------------------------------------------------------------


def test_the_end_date_is_last_exposure_plus_the_configured_days(obs):
    assert obs.ends == DAY0 - dt.timedelta(days=1) + dt.timedelta(days=14)
    assert obs.status == ObservationStatus.ACTIVE
    assert AuditEntry.objects.filter(action="fangyi.observation.started", object_id=obs.pk).exists()


def test_followups_are_generated_for_the_day_assigned_to_the_responsible(obs, grid_worker):
    # The start made DAY0's row already (issue 12, item 11); the daily run makes the next.
    assert FollowUp.objects.filter(observation=obs, due=DAY0).count() == 1
    day1 = DAY0 + dt.timedelta(days=1)
    audits = AuditEntry.objects.filter(action="fangyi.followup.generated").count()
    created = generate(day1)
    assert created >= 1
    row = FollowUp.objects.get(observation=obs, due=day1)
    assert (row.slot, row.status, row.assignee, row.node_id) == (
        1,
        FollowUpStatus.DUE,
        grid_worker,
        obs.node_id,
    )
    # One summary audit row, not one per follow-up.
    assert AuditEntry.objects.filter(action="fangyi.followup.generated").count() == audits + 1
    # A second run creates nothing.
    assert generate(day1) == 0
    assert FollowUp.objects.filter(observation=obs, due=day1).count() == 1


def test_twice_a_day_gives_two_slots(obs):
    Observation.objects.filter(pk=obs.pk).update(per_day=2)
    generate(DAY0)
    assert list(
        FollowUp.objects.filter(observation=obs, due=DAY0).values_list("slot", flat=True)
    ) == [1, 2]


def test_a_rerun_fills_in_only_the_missing_slots_and_audits_what_it_created(obs):
    # The database skips the slots that exist (ON CONFLICT DO NOTHING): a second slot added
    # after the day's run is created alone, counted alone, and nothing else moves.
    generate(DAY0)
    first = FollowUp.objects.get(observation=obs, due=DAY0)
    Observation.objects.filter(pk=obs.pk).update(per_day=2)
    before = set(FollowUp.objects.filter(due=DAY0).values_list("pk", flat=True))
    assert generate(DAY0) == 1
    rows = FollowUp.objects.filter(due=DAY0).exclude(pk__in=before)
    assert [(r.observation_id, r.slot, r.status, r.notes, r.symptoms) for r in rows] == [
        (obs.pk, 2, FollowUpStatus.DUE, "", [])
    ]
    assert FollowUp.objects.get(pk=first.pk).slot == 1
    entry = AuditEntry.objects.filter(action="fangyi.followup.generated").latest("pk")
    assert entry.changes["created"] == [None, 1]
    assert generate(DAY0) == 0


def test_only_the_given_observations_are_generated(obs):
    other = Observation.objects.exclude(pk=obs.pk).filter(
        status=ObservationStatus.ACTIVE, starts__lte=DAY0, ends__gte=DAY0
    )
    day1 = DAY0 + dt.timedelta(days=1)
    with time_machine.travel(at(day1, 6), tick=False):
        assert services.followups_generate(day1, observations=[obs.pk], audit=False) == 1
        assert services.followups_generate(day1, observations=[]) == 0
    assert not FollowUp.objects.filter(observation__in=other, due=day1).exists()


def test_no_followups_outside_the_observation_or_after_it_ended(obs):
    before = DAY0 - dt.timedelta(days=1)
    after = obs.ends + dt.timedelta(days=1)
    generate(before)
    generate(after)
    generate(obs.ends)  # the last day still has one (the first was made at the start)
    assert list(obs.followups.order_by("due").values_list("due", flat=True)) == [DAY0, obs.ends]
    Observation.objects.filter(pk=obs.pk).update(status=ObservationStatus.REFERRED)
    generate(obs.ends - dt.timedelta(days=1))
    assert obs.followups.count() == 2


def test_the_day_list_makes_sure_todays_rows_exist(obs, grid_worker, officer):
    with time_machine.travel(at(DAY0 + dt.timedelta(days=3)), tick=False):
        assert services.followups_ensure(officer, DAY0 + dt.timedelta(days=3)) == 0
        assert services.followups_ensure(grid_worker, DAY0 + dt.timedelta(days=3)) >= 1
        assert obs.followups.filter(due=DAY0 + dt.timedelta(days=3)).count() == 1
        assert services.followups_ensure(grid_worker, DAY0 + dt.timedelta(days=3)) == 0


def test_the_daily_command_and_the_task_run_both_steps(obs, capsys):
    day = DAY0 + dt.timedelta(days=1)
    generate(DAY0)
    with time_machine.travel(at(day, 5), tick=False):
        call_command("fangyi_daily")
    out = capsys.readouterr().out
    assert '"missed": ' in out and '"generated": ' in out
    assert obs.followups.get(due=DAY0).status == FollowUpStatus.MISSED
    assert obs.followups.filter(due=day).count() == 1
    # The same work as a django-tasks task: callable here, and it can be queued.
    from fangyi.observation.tasks import daily_rounds

    result = daily_rounds.call((day + dt.timedelta(days=1)).isoformat())
    assert result["generated"] >= 1
    assert obs.followups.get(due=day).status == FollowUpStatus.MISSED
    queued = daily_rounds.enqueue(day.isoformat())
    assert queued.id


# --- missed follow-ups --------------------------------------------------------------------------


def test_a_followup_is_missed_only_once_its_day_is_over(obs):
    generate(DAY0)
    services.followups_mark_missed(DAY0)  # the same day: still due
    assert obs.followups.get(due=DAY0).status == FollowUpStatus.DUE
    services.followups_mark_missed(DAY0 + dt.timedelta(days=1))
    assert obs.followups.get(due=DAY0).status == FollowUpStatus.MISSED
    obs.refresh_from_db()
    assert obs.missed_streak == 1
    assert not obs.escalated
    assert not Alert.objects.filter(observation=obs).exists()


def test_two_missed_in_a_row_go_to_a_supervisor_and_a_recorded_one_resets(obs, grid_worker):
    assert RiskSettings.current().missed_escalation == 2
    d1, d2, d3 = (DAY0 + dt.timedelta(days=i) for i in range(3))
    for day in (d1, d2, d3):
        generate(day)
        with time_machine.travel(at(day, 5), tick=False):
            services.followups_mark_missed(day)
    obs.refresh_from_db()
    # DAY0 and d1 missed by the start of d2: escalated at d2.
    assert obs.missed_streak == 2
    assert obs.escalated
    alert = Alert.objects.get(observation=obs)
    assert alert.kind == AlertKind.MISSED
    assert obs.person.name in alert.message
    # Recording today's resets the count (and the flag, so a new streak escalates again).
    record(grid_worker, obs.followups.get(due=d3), status=FollowUpStatus.NOT_REACHED)
    obs.refresh_from_db()
    assert (obs.missed_streak, obs.escalated) == (0, False)
    # Only one alert for one streak, however many days the job runs.
    with time_machine.travel(at(d3, 6), tick=False):
        services.followups_mark_missed(d3)
    assert Alert.objects.filter(observation=obs).count() == 1


def test_one_missed_then_one_recorded_then_one_missed_is_no_streak(obs, grid_worker):
    d1, d2 = DAY0 + dt.timedelta(days=1), DAY0 + dt.timedelta(days=2)
    for day in (DAY0, d1, d2):
        generate(day)
    services.followups_mark_missed(d1)
    record(grid_worker, obs.followups.get(due=d1))
    services.followups_mark_missed(d2 + dt.timedelta(days=1))
    obs.refresh_from_db()
    assert obs.missed_streak == 1
    assert not Alert.objects.filter(observation=obs, kind=AlertKind.MISSED).exists()


def test_a_late_record_of_a_missed_followup_counts_the_streak_again(obs, grid_worker):
    d1, d2 = DAY0 + dt.timedelta(days=1), DAY0 + dt.timedelta(days=2)
    for day in (DAY0, d1):
        generate(day)
    services.followups_mark_missed(d2)
    record(grid_worker, obs.followups.get(due=DAY0), day=d2)  # recorded late
    obs.refresh_from_db()
    assert obs.missed_streak == 1  # d1 is still missed, after the recorded one


# --- recording -----------------------------------------------------------------------------------


@pytest.fixture
def today_followup(obs):
    generate(DAY0)
    return obs.followups.get(due=DAY0)


def test_a_worker_records_a_clean_followup(today_followup, grid_worker):
    record(grid_worker, today_followup, temperature="36.6", notes="在家")
    today_followup.refresh_from_db()
    assert today_followup.status == FollowUpStatus.SEEN_WELL
    assert today_followup.temperature == Decimal("36.6")
    assert today_followup.recorded_by == grid_worker
    assert today_followup.recorded_at == at(DAY0, 10)
    entry = AuditEntry.objects.get(action="fangyi.followup.recorded", object_id=today_followup.pk)
    assert entry.changes["status"] == ["due", "seen_well"]
    assert not Alert.objects.filter(followup=today_followup).exists()


@pytest.mark.parametrize(
    "temperature,alert",
    [("37.2", None), ("37.3", AlertKind.FEVER), ("37.8", AlertKind.FEVER)],
)
def test_the_fever_threshold_counts_from_its_own_value(
    today_followup, grid_worker, temperature, alert
):
    record(grid_worker, today_followup, temperature=temperature)
    today_followup.refresh_from_db()
    alerts = Alert.objects.filter(followup=today_followup)
    if alert is None:
        assert not alerts.exists()
        assert today_followup.status == FollowUpStatus.SEEN_WELL
    else:
        a = alerts.get()
        assert (a.kind, a.proposal) == (alert, "fever_clinic")
        assert temperature in a.message
        # A fever is "seen, unwell" even when "seen, well" was tapped.
        assert today_followup.status == FollowUpStatus.SEEN_UNWELL


def test_a_symptom_raises_a_symptom_alert_with_its_name(today_followup, grid_worker):
    record(grid_worker, today_followup, status=FollowUpStatus.SEEN_UNWELL, symptoms=["dry_cough"])
    a = Alert.objects.get(followup=today_followup)
    assert a.kind == AlertKind.SYMPTOMS
    assert "干咳" in a.message
    assert AuditEntry.objects.get(
        action="fangyi.followup.recorded", object_id=today_followup.pk
    ).changes["alert"] == [None, a.pk]


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"temperature": "3.5"}, "temperature"),
        ({"temperature": "375"}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"symptoms": ["sneezing_badly"]}, "symptoms"),
        ({"status": "self_reported"}, "status"),
        ({"status": "missed"}, "status"),
        ({"status": "not_reached", "temperature": "36.5"}, "status"),
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_bad_input_names_the_field_and_stores_nothing(today_followup, grid_worker, kw, field):
    with pytest.raises(DomainError) as exc:
        record(grid_worker, today_followup, **kw)
    assert field in exc.value.errors
    today_followup.refresh_from_db()
    assert today_followup.status == FollowUpStatus.DUE
    assert (
        not AuditEntry.objects.filter(action="fangyi.followup.recorded")
        .filter(object_id=today_followup.pk)
        .exists()
    )


def test_the_same_client_id_twice_stores_once(today_followup, grid_worker):
    cid = uuid.uuid4()
    first = record(grid_worker, today_followup, temperature="38.0", client_id=cid)
    again = record(grid_worker, today_followup, temperature="38.0", client_id=cid)
    assert first.pk == again.pk
    assert Alert.objects.filter(followup=today_followup).count() == 1
    assert (
        AuditEntry.objects.filter(
            action="fangyi.followup.recorded", object_id=today_followup.pk
        ).count()
        == 1
    )


def test_recording_twice_is_a_conflict_and_the_first_stays(today_followup, grid_worker, officer):
    record(grid_worker, today_followup, temperature="36.4")
    with pytest.raises(Conflict) as exc:
        record(officer, today_followup, temperature="36.9")
    assert "status" in exc.value.errors
    today_followup.refresh_from_db()
    assert today_followup.temperature == Decimal("36.4")


def test_a_followup_of_tomorrow_cannot_be_recorded_today(obs, grid_worker):
    generate(DAY0 + dt.timedelta(days=1))
    tomorrow = obs.followups.get(due=DAY0 + dt.timedelta(days=1))
    with pytest.raises(DomainError) as exc:
        record(grid_worker, tomorrow, day=DAY0)
    assert "due" in exc.value.errors


def test_outside_the_jurisdiction_a_followup_is_not_found(today_followup, outsider, hotel_clerk):
    with pytest.raises(NotFound):
        record(outsider, today_followup)
    # Site staff record the checks of their own site only; the hotel clerk's hotel has none.
    with pytest.raises(NotFound):
        record(hotel_clerk, today_followup)
    today_followup.refresh_from_db()
    assert today_followup.status == FollowUpStatus.DUE


# --- self-reports ---------------------------------------------------------------------------------


def link_for(actor, person, day=DAY0):
    from fangyi.health.services import selfreport_link_create

    with time_machine.travel(at(day, 8), tick=False):
        return selfreport_link_create(actor=actor, person=person)


def test_a_self_report_fills_todays_followup(obs, grid_worker):
    link, token = link_for(grid_worker, obs.person)
    from fangyi.health.services import selfreport_resolve

    with time_machine.travel(at(DAY0, 20), tick=False):
        followup = services.followup_self_report(
            link=selfreport_resolve(token), data={"temperature": "36.8", "symptoms": []}
        )
    assert (followup.status, followup.due, followup.recorded_by) == (
        FollowUpStatus.SELF_REPORTED,
        DAY0,
        None,
    )
    assert AuditEntry.objects.filter(action="fangyi.followup.self_reported").exists()
    # Today's is done: a second one is refused, nothing changes.
    with time_machine.travel(at(DAY0, 21), tick=False), pytest.raises(Conflict):
        services.followup_self_report(link=link, data={"temperature": "36.9"})
    assert FollowUp.objects.get(pk=followup.pk).temperature == Decimal("36.8")


def test_a_self_reported_fever_alerts_health_staff(obs, grid_worker):
    link, _token = link_for(grid_worker, obs.person)
    with time_machine.travel(at(DAY0, 20), tick=False):
        followup = services.followup_self_report(link=link, data={"temperature": "38.1"})
    assert followup.status == FollowUpStatus.SELF_REPORTED
    assert Alert.objects.get(followup=followup).kind == AlertKind.FEVER


def test_a_self_report_needs_a_temperature_in_range(obs, grid_worker):
    link, _token = link_for(grid_worker, obs.person)
    with time_machine.travel(at(DAY0, 20), tick=False):
        for value, field in ((None, "temperature"), ("42.5", "temperature")):
            with pytest.raises(DomainError) as exc:
                services.followup_self_report(link=link, data={"temperature": value})
            assert field in exc.value.errors
        with pytest.raises(DomainError) as exc:
            services.followup_self_report(
                link=link, data={"temperature": "36.5", "symptoms": ["nope"]}
            )
        assert "symptoms" in exc.value.errors
    assert not obs.followups.exclude(status=FollowUpStatus.DUE).exists()


def test_an_expired_or_replaced_link_is_not_found(obs, grid_worker):
    from fangyi.health.services import selfreport_resolve

    _link, old = link_for(grid_worker, obs.person)
    _link2, new = link_for(grid_worker, obs.person)
    with time_machine.travel(at(DAY0, 20), tick=False):
        with pytest.raises(NotFound):
            selfreport_resolve(old)
        assert selfreport_resolve(new).person == obs.person
    with time_machine.travel(at(DAY0 + dt.timedelta(days=60)), tick=False), pytest.raises(NotFound):
        selfreport_resolve(new)


def test_no_running_observation_no_self_report(grid_worker, jiwu):
    person = fresh_person(jiwu, "未观察者")
    link, _ = link_for(grid_worker, person)
    with time_machine.travel(at(DAY0, 20), tick=False), pytest.raises(NotFound):
        services.followup_self_report(link=link, data={"temperature": "36.5"})
    assert isinstance(link, SelfReportLink)


# --- release, referral, transfer -----------------------------------------------------------------


def test_release_is_refused_before_the_end_date_and_allowed_on_it(obs, health, grid_worker):
    last_day = obs.ends
    generate(last_day - dt.timedelta(days=1))
    record(grid_worker, obs.followups.get(due=last_day - dt.timedelta(days=1)))
    with time_machine.travel(at(last_day - dt.timedelta(days=1), 18), tick=False):
        with pytest.raises(DomainError) as exc:
            services.observation_release(actor=health, observation=obs, note="早了")
    assert "ends" in exc.value.errors
    assert last_day.isoformat() in exc.value.message
    obs.refresh_from_db()
    assert obs.status == ObservationStatus.ACTIVE and obs.ended_at is None
    generate(last_day)
    with time_machine.travel(at(last_day, 18), tick=False):
        services.observation_release(actor=health, observation=obs, note="期满解除")
    obs.refresh_from_db()
    assert obs.status == ObservationStatus.RELEASED
    assert obs.ended_by == health
    assert obs.ended_at == at(last_day, 18)
    assert obs.end_note == "期满解除"
    # Today's open follow-up is removed: nothing left to do for a released person.
    assert not obs.followups.filter(status=FollowUpStatus.DUE).exists()
    entry = AuditEntry.objects.get(action="fangyi.observation.released", object_id=obs.pk)
    assert entry.changes["status"] == ["active", "released"]
    assert entry.actor == health


@pytest.mark.parametrize(
    "kw",
    [
        None,  # nothing recorded at all
        {"status": FollowUpStatus.NOT_REACHED},
        {"status": FollowUpStatus.SEEN_WELL, "temperature": "37.5"},
        {"status": FollowUpStatus.SEEN_UNWELL, "symptoms": ["fatigue"]},
    ],
)
def test_release_needs_a_clean_last_followup(obs, health, grid_worker, kw):
    generate(obs.ends)
    if kw is not None:
        record(grid_worker, obs.followups.get(due=obs.ends), **kw)
    with time_machine.travel(at(obs.ends, 20), tick=False), pytest.raises(DomainError) as exc:
        services.observation_release(actor=health, observation=obs)
    assert "followups" in exc.value.errors
    obs.refresh_from_db()
    assert obs.status == ObservationStatus.ACTIVE


def test_only_health_staff_and_supervisors_release(obs, grid_worker, officer):
    with pytest.raises(Forbidden):
        services.observation_release(actor=grid_worker, observation=obs)


def test_referral_ends_the_observation_with_a_note(obs, health):
    generate(DAY0)
    clinic = Place.objects.filter(kind=PlaceKind.FEVER_CLINIC).first()
    with time_machine.travel(at(DAY0, 15), tick=False):
        with pytest.raises(DomainError) as exc:
            flows.observation_refer(actor=health, observation=obs, note="  ")
        assert "note" in exc.value.errors
        flows.observation_refer(actor=health, observation=obs, note="发热", place=clinic)
    obs.refresh_from_db()
    assert (obs.status, obs.ended_by, obs.end_note) == (ObservationStatus.REFERRED, health, "发热")
    assert not obs.followups.filter(status=FollowUpStatus.DUE).exists()
    with pytest.raises(DomainError):
        flows.observation_refer(actor=health, observation=obs, note="again")


def test_transfer_home_to_a_quarantine_point_keeps_the_last_exposure(obs, health):
    site = Place.objects.get(kind=PlaceKind.QUARANTINE_SITE, name="西乡塘区集中隔离点")
    day = DAY0 + dt.timedelta(days=3)
    with time_machine.travel(at(day, 11), tick=False):
        with pytest.raises(DomainError) as exc:
            flows.observation_transfer(actor=health, observation=obs, kind="place")
        assert "place" in exc.value.errors
        with pytest.raises(DomainError) as exc:
            flows.observation_transfer(actor=health, observation=obs, kind="home")
        assert "kind" in exc.value.errors
        nxt = flows.observation_transfer(
            actor=health, observation=obs, kind="place", place=site, note="不便居家"
        )
    obs.refresh_from_db()
    assert obs.status == ObservationStatus.TRANSFERRED
    assert obs.transferred_to == nxt
    assert (nxt.kind, nxt.place, nxt.status) == ("place", site, ObservationStatus.ACTIVE)
    assert nxt.last_exposure == obs.last_exposure and nxt.ends == obs.ends
    assert nxt.starts == day
    assert nxt.followups.filter(due=day).count() == 1
    assert AuditEntry.objects.filter(
        action="fangyi.observation.transferred", object_id=obs.pk
    ).exists()


def test_a_hotel_is_not_a_place_of_observation(health, jiwu, hotel):
    with pytest.raises(DomainError) as exc:
        services.observation_start(
            actor=health,
            person=fresh_person(jiwu),
            kind="place",
            place=hotel,
            last_exposure=DAY0,
        )
    assert "place" in exc.value.errors


# --- alerts ---------------------------------------------------------------------------------------


def test_health_staff_handle_an_alert_and_may_refer_in_the_same_step(
    today_followup, grid_worker, health
):
    record(grid_worker, today_followup, temperature="38.2")
    alert = Alert.objects.get(followup=today_followup)
    with pytest.raises(Forbidden):
        flows.alert_resolve(actor=grid_worker, alert=alert, resolution="看过了")
    with time_machine.travel(at(DAY0, 12), tick=False):
        with pytest.raises(DomainError) as exc:
            flows.alert_resolve(actor=health, alert=alert, resolution="")
        assert "resolution" in exc.value.errors
        flows.alert_resolve(actor=health, alert=alert, resolution="送发热门诊", refer=True)
    alert.refresh_from_db()
    assert (alert.resolved_by, alert.resolved_at) == (health, at(DAY0, 12))
    assert alert.observation.status == ObservationStatus.REFERRED
    with pytest.raises(Conflict):
        flows.alert_resolve(actor=health, alert=alert, resolution="again")


def test_an_alert_outside_the_jurisdiction_is_not_found(
    grid_worker, health, outsider, supervisor, beihu_compound
):
    from fangyi.observation import selectors

    beihu = start(health, fresh_person(beihu_compound), exposure=DAY0, starts=DAY0)
    generate(DAY0)
    record(health, beihu.followups.get(due=DAY0), temperature="38.2")
    alert = Alert.objects.get(observation=beihu)
    with pytest.raises(NotFound):
        selectors.alert_get(supervisor, alert.pk)  # 北湖 is not Wuliting station's
    with pytest.raises(Forbidden):
        selectors.alert_get(outsider, alert.pk)  # an officer does not handle alerts
    assert selectors.alert_get(health, alert.pk) == alert
    with pytest.raises(NotFound):
        flows.alert_resolve(actor=supervisor, alert=alert, resolution="x")


# --- pages ----------------------------------------------------------------------------------------


def test_the_followup_form_records_and_keeps_what_was_typed_on_error(
    today_followup, grid_worker, time_machine
):
    from tests.conftest import login

    time_machine.move_to(at(DAY0, 21), tick=False)
    client = login(grid_worker)
    url = f"/followups/{today_followup.pk}/"
    page = client.get(url).content.decode()
    assert 'name="status"' in page and 'inputmode="decimal"' in page and "干咳" in page
    cid = str(uuid.uuid4())
    bad = client.post(
        url,
        {
            "status": "seen_well",
            "temperature": "375",
            "symptoms": ["dry_cough"],
            "notes": "晚上在家",
            "client_id": cid,
        },
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert 'value="375"' in text and "晚上在家" in text
    assert (
        'value="dry_cough" checked' in text
        or 'checked value="dry_cough"' in text
        or ("dry_cough" in text and "checked" in text)
    )
    assert "field-error" in text.split('name="temperature"')[0].rsplit('class="fg', 1)[1]
    today_followup.refresh_from_db()
    assert today_followup.status == FollowUpStatus.DUE
    ok = client.post(
        url, {"status": "seen_well", "temperature": "37.5", "notes": "晚上在家", "client_id": cid}
    )
    assert ok.status_code == 302 and ok["Location"] == "/"
    today_followup.refresh_from_db()
    assert (today_followup.status, today_followup.temperature) == ("seen_unwell", Decimal("37.5"))
    assert Alert.objects.filter(followup=today_followup, kind=AlertKind.FEVER).exists()
    # Sent twice (a double tap, a retry on a bad network): stored once.
    again = client.post(url, {"status": "seen_well", "temperature": "37.5", "client_id": cid})
    assert again.status_code == 302
    assert Alert.objects.filter(followup=today_followup).count() == 1


def test_observation_pages_for_health_staff(obs, health, grid_worker, time_machine):
    from tests.conftest import login

    time_machine.move_to(at(DAY0 + dt.timedelta(days=2), 9), tick=False)
    client = login(health)
    listing = client.get("/observations/", {"status": "active", "q": obs.person.name})
    assert obs.person.name in listing.content.decode()
    assert "/exports/observations.xlsx" in listing.content.decode()
    detail = client.get(f"/observations/{obs.pk}/").content.decode()
    for action in ("extend", "release", "refer", "transfer"):
        assert f"/observations/{obs.pk}/{action}/" in detail
    # The grid worker sees the observation but none of the actions.
    worker_page = login(grid_worker).get(f"/observations/{obs.pk}/").content.decode()
    assert f"/observations/{obs.pk}/release/" not in worker_page
    assert (
        login(grid_worker).post(f"/observations/{obs.pk}/refer/", {"note": "x"}).status_code == 403
    )
    # A release before the end date: the error shows, the note typed is kept, nothing ends.
    early = client.post(f"/observations/{obs.pk}/release/", {"note": "想早点解除"})
    assert early.status_code == 200
    assert "想早点解除" in early.content.decode()
    assert obs.ends.isoformat() in early.content.decode()
    obs.refresh_from_db()
    assert obs.status == ObservationStatus.ACTIVE
    extend = client.post(
        f"/observations/{obs.pk}/extend/",
        {"last_exposure": (DAY0 + dt.timedelta(days=1)).isoformat()},
    )
    assert extend.status_code == 302
    obs.refresh_from_db()
    assert obs.ends == DAY0 + dt.timedelta(days=15)
    site = Place.objects.get(name="西乡塘区集中隔离点")
    moved = client.post(
        f"/observations/{obs.pk}/transfer/", {"kind": "place", "place": site.pk, "note": "集中"}
    )
    obs.refresh_from_db()
    assert moved["Location"] == f"/observations/{obs.transferred_to_id}/"
    refer = client.post(f"/observations/{obs.transferred_to_id}/refer/", {"note": ""})
    assert refer.status_code == 200 and "errorlist" in refer.content.decode()


def test_a_new_observation_by_hand_and_the_person_panel(health, jiwu, time_machine, officer):
    from tests.conftest import login

    time_machine.move_to(at(DAY0, 9), tick=False)
    person = fresh_person(jiwu, "手工登记")
    client = login(health)
    panel = client.get(f"/people/{person.pk}/observation/").content.decode()
    assert f"/observations/new/?person={person.pk}" in panel
    form = client.get(f"/observations/new/?person={person.pk}")
    assert "西乡塘区集中隔离点" in form.content.decode()
    assert "北大路宾馆" not in form.content.decode()  # a hotel is no place of observation
    bad = client.post(
        f"/observations/new/?person={person.pk}", {"kind": "place", "last_exposure": "2020-01-30"}
    )
    assert bad.status_code == 200 and 'value="2020-01-30"' in bad.content.decode()
    assert not Observation.objects.filter(person=person).exists()
    ok = client.post(
        f"/observations/new/?person={person.pk}", {"kind": "home", "last_exposure": "2020-01-30"}
    )
    obs = Observation.objects.get(person=person)
    assert ok["Location"] == f"/observations/{obs.pk}/"
    panel = login(officer).get(f"/people/{person.pk}/observation/").content.decode()
    assert f"/observations/{obs.pk}/" in panel
    assert "/observations/new/" not in panel  # officers do not start observations


def test_the_alert_page_handles_the_alert(today_followup, grid_worker, health, time_machine):
    from tests.conftest import login

    record(grid_worker, today_followup, temperature="38.5")
    alert = Alert.objects.get(followup=today_followup)
    time_machine.move_to(at(DAY0, 11), tick=False)
    client = login(health)
    assert "38.5" in client.get(f"/alerts/{alert.pk}/").content.decode()
    assert login(grid_worker).get(f"/alerts/{alert.pk}/").status_code == 403
    empty = client.post(f"/alerts/{alert.pk}/", {"resolution": ""})
    assert empty.status_code == 200
    done = client.post(f"/alerts/{alert.pk}/", {"resolution": "已送发热门诊", "refer": "on"})
    assert done.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_by == health
    assert alert.observation.status == ObservationStatus.REFERRED


def test_the_public_daily_check(obs, grid_worker, time_machine):
    from django.test import Client

    _link, token = link_for(grid_worker, obs.person)
    time_machine.move_to(at(DAY0, 19), tick=False)
    public = Client()
    page = public.get(f"/r/{token}/daily/")
    text = page.content.decode()
    assert page.status_code == 200
    assert obs.person.name not in text  # the given name only
    assert obs.person.name[1:] in text
    bad = public.post(f"/r/{token}/daily/", {"temperature": "3.65", "notes": "有点累"})
    assert bad.status_code == 200 and "有点累" in bad.content.decode()
    done = public.post(
        f"/r/{token}/daily/", {"temperature": "36.5", "client_id": str(uuid.uuid4())}
    )
    assert done.status_code == 200
    followup = obs.followups.get(due=DAY0)
    assert followup.status == FollowUpStatus.SELF_REPORTED
    again = public.get(f"/r/{token}/daily/")
    assert "36.5" in again.content.decode()
    invalid = public.get(f"/r/{'x' * 32}/daily/")
    health_invalid = public.get(f"/r/{'x' * 32}/")
    assert invalid.status_code == health_invalid.status_code == 404
    from tests.test_permissions import _page_text

    assert _page_text(invalid) == _page_text(health_invalid)
