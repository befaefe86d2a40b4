"""Duty posts (卡点 / 值守), issue 17 item 2: posts, shifts, the shift log's counters, a person
registered at a post with a declaration, the handover, and what is left unstaffed (the day list,
the dispatch board, the escalation). Scenarios on the demo city; every refusal stores nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AuditEntry, Node
from fangyi.health.models import Declaration, DeclarationSource, Outcome
from fangyi.health.selectors import awaiting_decision
from fangyi.health.services import DeclarationInput
from fangyi.patrols import posts
from fangyi.patrols.models import DutyPost, DutyShift, PostRegistration, ShiftTally, Tally
from fangyi.patrols.tasks import shifts_escalate as escalate_task
from fangyi.people.models import Person
from fangyi.people.selectors import person_list
from fangyi.people.services import PersonInput
from tests.conftest import node

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def beida(db) -> Node:
    """北大路沿街: the compound along the road with the hotel, in 北大社区 of Wuliting station."""
    return node("北大路沿街")


@pytest.fixture
def free(db) -> None:
    """The demo city's shifts (fangyi.patrols.demo_posts: 黃明 and 徐紅心 on 北大路 now) taken
    away, so that the shifts a test plans for them do not overlap them."""
    DutyShift.objects.all().delete()


@pytest.fixture
def post(free, supervisor, beida) -> DutyPost:
    return posts.post_create(
        actor=supervisor,
        data=posts.PostInput(
            node=beida,
            name="北大路口卡点",
            kind="road",
            address="北大路口",
            latitude="22.8362",
            longitude="108.2846",
            staffed_from=dt.time(0, 0),
            staffed_to=dt.time(0, 0),
        ),
    )


@pytest.fixture
def shift(supervisor, post, auxiliary, officer) -> DutyShift:
    """The shift on duty now at the 北大路 post: 輔警 and the officer, not taken yet."""
    start = now() - HOUR
    return posts.shift_plan(
        actor=supervisor, post=post, starts=start, ends=start + 6 * HOUR, staff=[auxiliary, officer]
    )


@pytest.fixture
def taken(shift, auxiliary) -> DutyShift:
    return posts.shift_take(actor=auxiliary, shift=shift)


def counts(shift) -> dict[str, int]:
    return posts.shift_counts(shift)


def stored() -> tuple[int, ...]:
    return (
        DutyPost.objects.count(),
        DutyShift.objects.count(),
        ShiftTally.objects.count(),
        PostRegistration.objects.count(),
        Person.objects.count(),
        Declaration.objects.count(),
        AuditEntry.objects.count(),
    )


# --- the seed's scene: a traveller from 武漢 at the 北大路 post --------------------------------


def test_a_traveller_from_wuhan_is_registered_declared_and_proposed_for_central_observation(
    taken, auxiliary, health, beida
):
    # The shift log: each tap counts once, a retried tap too.
    key = uuid.uuid4()
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.PERSONS, client_id=key)
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.PERSONS, client_id=key)
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.PERSONS)
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.VEHICLES, delta=3)
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.TEMPERATURES, delta=2)
    assert counts(taken)[Tally.PERSONS] == 2
    assert ShiftTally.objects.filter(client_id=key).count() == 1

    # A man from 武漢 is not in the registry: he is registered on the spot with his declaration.
    assert not person_list(auxiliary, q="陈武汉").exists()
    today = timezone.localdate()
    came = (today - dt.timedelta(days=3)).isoformat()
    declaration = DeclarationInput(
        temperature=Decimal("36.8"),
        temperature_method="forehead",
        travel=[{"place": "湖北省武汉市", "from": came, "to": came, "transport": "G1501"}],
        contacts=[{"kind": "confirmed", "who": "同行的妻子", "date": came, "place": "武汉"}],
    )
    reg_key = uuid.uuid4()
    reg = posts.registration_record(
        actor=auxiliary,
        shift=taken,
        new_person=PersonInput(name="陈武汉", id_type="none", phone="13800000017"),
        declaration=declaration,
        client_id=reg_key,
    )
    person, decl = reg.person, reg.declaration
    assert person.node == beida and person.household is None
    assert decl.source == DeclarationSource.POST and decl.person == person
    assert decl.proposal == Outcome.CENTRAL
    assert "武汉" in decl.proposal_reason
    # Health staff find it among the decisions to make, as after any declaration.
    assert awaiting_decision(health).filter(pk=decl.pk).exists()
    # The registration counts one outsider; a retry stores nothing more.
    assert counts(taken)[Tally.OUTSIDERS] == 1
    before = stored()
    again = posts.registration_record(
        actor=auxiliary,
        shift=taken,
        new_person=PersonInput(name="陈武汉", id_type="none", phone="13800000017"),
        declaration=declaration,
        client_id=reg_key,
    )
    assert again.pk == reg.pk and stored() == before
    assert AuditEntry.objects.filter(
        action="fangyi.postregistration.created", object_id=reg.pk
    ).exists()
    assert AuditEntry.objects.filter(action="fangyi.person.created", object_id=person.pk).exists()


def test_someone_already_in_the_registry_is_registered_with_a_fever(taken, officer, beida):
    person = Person.objects.filter(node=beida).order_by("pk").first()
    reg = posts.registration_record(
        actor=officer,
        shift=taken,
        person=person,
        declaration=DeclarationInput(temperature=Decimal("38.1"), temperature_method="ear"),
    )
    assert reg.person == person and reg.declaration.proposal == Outcome.FEVER_CLINIC
    assert counts(taken)[Tally.OUTSIDERS] == 1


def test_a_bad_declaration_and_a_bad_new_person_are_refused_together_storing_nothing(
    taken, auxiliary
):
    before = stored()
    with pytest.raises(DomainError) as exc:
        posts.registration_record(
            actor=auxiliary,
            shift=taken,
            new_person=PersonInput(name="", id_number="123", id_type="resident"),
            declaration=DeclarationInput(temperature="51"),
        )
    assert {"name", "id_number", "temperature"} <= set(exc.value.errors)
    assert stored() == before


def test_registering_needs_a_person_found_or_new(taken, auxiliary, beihu_person):
    with pytest.raises(DomainError) as exc:
        posts.registration_record(actor=auxiliary, shift=taken, declaration=DeclarationInput())
    assert "person" in exc.value.errors
    with pytest.raises(NotFound) as missing:
        posts.registration_record(
            actor=auxiliary, shift=taken, person=beihu_person, declaration=DeclarationInput()
        )
    assert "person" in missing.value.errors


# --- the shift's life -----------------------------------------------------------------------


def test_taking_a_shift_checks_in_and_whoever_takes_it_joins(shift, community_staff, officer):
    assert shift.taken_at is None
    # shequ holds 機務社區 only: not the 北大路 post (its shift is not hers to see).
    with pytest.raises(NotFound):
        posts.shift_take(actor=community_staff, shift=shift)
    done = posts.shift_take(actor=officer, shift=shift)
    assert done.taken_by == officer and done.taken_at is not None
    assert posts.shift_take(actor=officer, shift=shift).taken_at == done.taken_at  # once
    assert (
        AuditEntry.objects.filter(action="fangyi.dutyshift.taken", object_id=shift.pk).count() == 1
    )


def test_a_shift_is_taken_at_most_an_hour_early_and_not_after_it_is_over(
    supervisor, post, auxiliary
):
    later = posts.shift_plan(
        actor=supervisor,
        post=post,
        starts=now() + 3 * HOUR,
        ends=now() + 5 * HOUR,
        staff=[auxiliary],
    )
    with pytest.raises(Conflict):
        posts.shift_take(actor=auxiliary, shift=later)
    assert DutyShift.objects.get(pk=later.pk).taken_at is None


def test_a_tap_on_a_shift_not_taken_or_by_someone_not_on_it_is_refused(
    supervisor, post, auxiliary, officer
):
    start = now() - HOUR
    alone = posts.shift_plan(
        actor=supervisor, post=post, starts=start, ends=start + 2 * HOUR, staff=[auxiliary]
    )
    with pytest.raises(Conflict):
        posts.shift_tally(actor=auxiliary, shift=alone, kind=Tally.PERSONS)
    posts.shift_take(actor=auxiliary, shift=alone)
    with pytest.raises(Conflict):  # the officer is not on it (he may take it and join)
        posts.shift_tally(actor=officer, shift=alone, kind=Tally.PERSONS)
    # the supervisor of the place may count
    posts.shift_tally(actor=supervisor, shift=alone, kind=Tally.PERSONS)
    assert counts(alone)[Tally.PERSONS] == 1
    posts.shift_take(actor=officer, shift=alone)
    posts.shift_tally(actor=officer, shift=alone, kind=Tally.PERSONS)
    assert counts(alone)[Tally.PERSONS] == 2
    assert set(alone.staff.values_list("username", flat=True)) == {"fujing", "xuhongxin"}


def test_handover_ends_the_shift_with_its_note_for_the_next(
    taken, auxiliary, supervisor, post, officer
):
    nxt = posts.shift_plan(
        actor=supervisor, post=post, starts=taken.ends, ends=taken.ends + 4 * HOUR, staff=[officer]
    )
    done = posts.shift_handover(
        actor=auxiliary, shift=taken, note="卡点物资:体温枪2把,口罩一箱", next_shift=nxt
    )
    assert done.ended_at is not None and done.handover_note.startswith("卡点物资")
    assert posts.handed_over_before(nxt).pk == taken.pk
    entry = AuditEntry.objects.get(action="fangyi.dutyshift.handed_over", object_id=taken.pk)
    assert entry.changes["next_shift"] == [None, nxt.pk]
    # Nothing more is recorded on it; it is not handed over twice.
    before = stored()
    with pytest.raises(Conflict):
        posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.PERSONS)
    with pytest.raises(Conflict):
        posts.shift_handover(actor=auxiliary, shift=taken, note="again")
    assert stored() == before


# --- unstaffed -------------------------------------------------------------------------------


def test_an_unstaffed_shift_is_escalated_once_and_shows_to_the_supervisor(
    supervisor, post, auxiliary, officer
):
    late = posts.shift_plan(
        actor=supervisor,
        post=post,
        starts=now() - 20 * dt.timedelta(minutes=1),
        ends=now() + 3 * HOUR,
        staff=[auxiliary],
    )
    fresh = posts.shift_plan(
        actor=supervisor,
        post=post,
        starts=now() - 5 * dt.timedelta(minutes=1),
        ends=now() + 3 * HOUR,
        staff=[officer],
    )
    assert posts.shifts_escalate(now()) == 1  # the one past the 15 minutes' grace
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.escalated_at is not None and fresh.escalated_at is None
    entry = AuditEntry.objects.get(action="fangyi.dutyshift.escalate", object_id=late.pk)
    assert entry.actor_name == "system" and entry.node_path == post.node.path
    assert posts.shifts_escalate(now()) == 0  # once
    assert escalate_task.call() == 0  # the task runs the same function

    section = posts.daylist_section(supervisor, timezone.localdate())
    assert section.key == "shifts"
    warn = [i for i in section.items if i.badge_css == "warn" and i.url == f"/shifts/{late.pk}/"]
    assert warn and all(i.kind == "shift" for i in section.items)
    assert f"/shifts/{fresh.pk}/" not in [i.url for i in section.items if i.badge_css == "warn"]

    station = node("五里亭派出所")
    panel = posts.board_section(supervisor, station, timezone.now())
    row = next(r for r in panel.rows if r["label"].startswith("北大路口卡点"))
    # the board shows the post's earliest running shift: the late one, flagged
    assert row["badge_css"] == "warn" and row["url"] == f"/shifts/{late.pk}/"
    assert posts.is_unstaffed(late, timezone.now())
    assert not posts.is_unstaffed(fresh, timezone.now())

    # Taken in the end, it is staffed; a shift taken but left with nobody on it is not.
    posts.shift_take(actor=auxiliary, shift=late)
    assert not DutyShift.objects.filter(posts.unstaffed_q(now()), pk=late.pk).exists()
    late.staff.clear()
    assert DutyShift.objects.filter(posts.unstaffed_q(now()), pk=late.pk).exists()


def test_a_post_without_a_shift_in_its_hours_is_flagged_on_the_day_list_and_the_board(
    supervisor, post, officer, auxiliary
):
    station = node("五里亭派出所")
    section = posts.daylist_section(supervisor, timezone.localdate())
    assert f"/posts/{post.pk}/" in [i.url for i in section.items]
    panel = posts.board_section(officer, station, timezone.now())
    row = next(r for r in panel.rows if r["label"].startswith("北大路口卡点"))
    assert row["badge_css"] == "warn" and row["url"] == f"/posts/{post.pk}/"
    # Auxiliary police see their own shifts on the day list, not the supervisors' gaps.
    mine = posts.daylist_section(auxiliary, timezone.localdate())
    assert mine is None or f"/posts/{post.pk}/" not in [i.url for i in mine.items]


def test_a_post_outside_its_hours_is_not_a_gap(supervisor, beida):
    t = timezone.localtime()
    quiet = posts.post_create(
        actor=supervisor,
        data=posts.PostInput(
            node=beida,
            name="北大路夜间卡点",
            kind="road",
            staffed_from=(t + HOUR).time().replace(second=0, microsecond=0),
            staffed_to=(t + 2 * HOUR).time().replace(second=0, microsecond=0),
        ),
    )
    assert not posts.in_hours(quiet, timezone.now())
    assert not posts.gap_posts(DutyPost.objects.filter(pk=quiet.pk), timezone.now()).exists()
    overnight = DutyPost(staffed_from=dt.time(22, 0), staffed_to=dt.time(6, 0))
    tz = timezone.get_current_timezone()
    assert posts.in_hours(overnight, dt.datetime(2020, 2, 1, 23, 30, tzinfo=tz))
    assert posts.in_hours(overnight, dt.datetime(2020, 2, 2, 5, 59, tzinfo=tz))
    assert not posts.in_hours(overnight, dt.datetime(2020, 2, 2, 6, 0, tzinfo=tz))
    for hour, expected in ((23, True), (5, True), (12, False), (22, True), (6, False)):
        assert posts.in_hours(overnight, dt.datetime(2020, 2, 2, hour, 0, tzinfo=tz)) is expected


def test_the_shift_to_take_is_on_the_workers_day_list(shift, auxiliary):
    section = posts.daylist_section(auxiliary, timezone.localdate())
    item = next(i for i in section.items if i.url == f"/shifts/{shift.pk}/")
    assert item.kind == "shift" and item.badge == "Take the shift"
    posts.shift_take(actor=auxiliary, shift=shift)
    item = next(
        i
        for i in posts.daylist_section(auxiliary, timezone.localdate()).items
        if i.url == f"/shifts/{shift.pk}/"
    )
    assert item.badge == "On duty"


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def test_the_day_list_section_and_the_board_cost_the_same_for_more_posts(
    supervisor, beida, auxiliary
):
    station = node("五里亭派出所")
    supervisor.nodes.all()  # the user's paths are cached on first use
    day = timezone.localdate()

    def more(i):
        p = posts.post_create(
            actor=supervisor, data=posts.PostInput(node=beida, name=f"加设卡点{i}", kind="road")
        )
        start = now() - HOUR
        s = posts.shift_plan(actor=supervisor, post=p, starts=start, ends=start + 2 * HOUR)
        s.staff.add(auxiliary) if i % 2 else None

    more(0)
    posts.daylist_section(supervisor, day)
    a = _queries(lambda: posts.daylist_section(supervisor, day))
    b = _queries(lambda: posts.board_section(supervisor, station, timezone.now()))
    for i in range(1, 6):
        more(i)
    assert _queries(lambda: posts.daylist_section(supervisor, day)) == a
    assert _queries(lambda: posts.board_section(supervisor, station, timezone.now())) == b


# --- bad input: clear field errors, nothing stored, 404 for what is outside --------------------


def test_a_shift_that_ends_before_it_starts_is_refused(supervisor, post, auxiliary):
    before = stored()
    with pytest.raises(DomainError) as exc:
        posts.shift_plan(
            actor=supervisor,
            post=post,
            starts=now() + 2 * HOUR,
            ends=now() + HOUR,
            staff=[auxiliary],
        )
    assert set(exc.value.errors) == {"ends"}
    assert stored() == before


def test_a_shift_overlapping_the_same_persons_other_shift_is_refused(
    supervisor, shift, post, auxiliary
):
    before = stored()
    with pytest.raises(DomainError) as exc:
        posts.shift_plan(
            actor=supervisor,
            post=post,
            starts=shift.ends - HOUR,
            ends=shift.ends + 3 * HOUR,
            staff=[auxiliary],
        )
    assert "staff" in exc.value.errors and "already on duty" in exc.value.errors["staff"][0]
    assert stored() == before
    # Back to back is no overlap.
    posts.shift_plan(
        actor=supervisor, post=post, starts=shift.ends, ends=shift.ends + HOUR, staff=[auxiliary]
    )


@pytest.mark.parametrize("delta", [-3, 100_000, 0, "many"])
def test_a_count_below_zero_or_too_big_is_refused(taken, auxiliary, delta):
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.PERSONS, delta=2)
    before = stored()
    with pytest.raises(DomainError) as exc:
        posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.PERSONS, delta=delta)
    assert set(exc.value.errors) == {"delta"}
    assert stored() == before
    assert counts(taken)[Tally.PERSONS] == 2


def test_a_correction_down_to_zero_is_fine(taken, auxiliary):
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.TURNED_BACK, delta=2)
    posts.shift_tally(actor=auxiliary, shift=taken, kind=Tally.TURNED_BACK, delta=-2)
    assert counts(taken)[Tally.TURNED_BACK] == 0


def test_an_unknown_counter_is_refused(taken, auxiliary):
    with pytest.raises(DomainError) as exc:
        posts.shift_tally(actor=auxiliary, shift=taken, kind="chickens")
    assert "kind" in exc.value.errors


def test_recording_on_a_post_outside_ones_jurisdiction_answers_404(taken, outsider, beihu_person):
    before = stored()
    for call in (
        lambda: posts.shift_take(actor=outsider, shift=taken),
        lambda: posts.shift_tally(actor=outsider, shift=taken, kind=Tally.PERSONS),
        lambda: posts.shift_handover(actor=outsider, shift=taken, note="x"),
        lambda: posts.registration_record(
            actor=outsider, shift=taken, person=beihu_person, declaration=DeclarationInput()
        ),
    ):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(NotFound):
        posts.shift_get(outsider, taken.pk)
    with pytest.raises(NotFound):
        posts.post_get(outsider, taken.post_id)
    assert stored() == before


def test_a_post_at_latitude_123_is_refused(supervisor, beida):
    before = stored()
    with pytest.raises(DomainError) as exc:
        posts.post_create(
            actor=supervisor,
            data=posts.PostInput(
                node=beida, name="坐标错的卡点", latitude="123", longitude="108.3"
            ),
        )
    assert set(exc.value.errors) == {"latitude"}
    assert stored() == before


def test_a_post_elsewhere_or_with_no_name_is_refused(supervisor, beihu_compound, beida):
    before = stored()
    with pytest.raises(NotFound) as exc:
        posts.post_create(
            actor=supervisor, data=posts.PostInput(node=beihu_compound, name="北湖卡点")
        )
    assert "node" in exc.value.errors
    with pytest.raises(DomainError) as bad:
        posts.post_create(actor=supervisor, data=posts.PostInput(node=beida, name="", kind="x"))
    assert {"name", "kind"} <= set(bad.value.errors)
    assert stored() == before


def test_only_supervisors_set_up_posts_and_shifts(officer, post, beida):
    with pytest.raises(Forbidden):
        posts.post_create(actor=officer, data=posts.PostInput(node=beida, name="自设卡点"))
    with pytest.raises(Forbidden):
        posts.shift_plan(actor=officer, post=post, starts=now(), ends=now() + HOUR)


def test_staff_from_elsewhere_are_not_found(supervisor, post, outsider):
    with pytest.raises(NotFound) as exc:
        posts.shift_plan(
            actor=supervisor, post=post, starts=now(), ends=now() + HOUR, staff=[outsider]
        )
    assert "staff" in exc.value.errors
    with pytest.raises(NotFound):
        posts.staff_for(post, [outsider.pk])


def test_a_post_with_shifts_keeps_its_place_and_a_change_is_audited(supervisor, shift, post):
    """Moving a post would move its past shifts, their tallies and who may see them."""
    jiwu = node("机务小区")
    place = post.node
    with pytest.raises(DomainError) as info:
        posts.post_update(
            actor=supervisor,
            post=post,
            data=posts.PostInput(node=jiwu, name="改设卡点", kind="gate"),
        )
    assert "node" in info.value.errors
    shift.refresh_from_db()
    post.refresh_from_db()
    assert shift.node == place and post.node == place
    posts.post_update(
        actor=supervisor, post=post, data=posts.PostInput(node=place, name="改名卡点", kind="gate")
    )
    assert AuditEntry.objects.filter(action="fangyi.dutypost.changed", object_id=post.pk).exists()


# --- the demo city's posts ----------------------------------------------------------------------


def test_the_demo_posts_put_the_seed_on_duty(officer, auxiliary, community_staff):
    """fangyi.patrols.demo_posts: the 北大路 checkpoint on duty with its counters, the gate of
    機務小區 with community staff's shift to take (loaded here unless the demo already has it)."""
    from fangyi.core.models import User
    from fangyi.patrols import demo_posts

    if not DutyPost.objects.filter(name="北大路卡点").exists():
        tree = {"beida_st": node("北大路沿街"), "jiwu_xq": node("机务小区")}
        demo_posts.build(tree, {u.username: u for u in User.objects.all()})
    assert demo_posts.load is demo_posts.build
    beida = DutyPost.objects.get(name="北大路卡点")
    on_duty = posts.posts_state([beida], timezone.now())[0]
    assert on_duty.status == "on_duty"
    assert {u.username for u in on_duty.staff} == {"fujing", "xuhongxin"}
    assert on_duty.counts[Tally.PERSONS] == demo_posts.BEIDA_COUNTS[Tally.PERSONS]
    mine = posts.daylist_section(community_staff, timezone.localdate())
    assert [i.badge for i in mine.items if i.title == "机务小区北门"] == ["Take the shift"]
    panel = posts.board_section(officer, node("五里亭派出所"), timezone.now())
    assert any(r["label"].startswith("北大路卡点") and r["badge"] == "On duty" for r in panel.rows)


# --- from the review of issue 17 --------------------------------------------------------------


def test_a_late_check_in_counts_from_when_it_reached_the_server(shift, auxiliary):
    """A check-in claims presence: the phone's 08:00 sent at 10:00 is not an 08:00 arrival."""
    claimed = shift.starts
    taken = posts.shift_take(actor=auxiliary, shift=shift, at=claimed)
    assert taken.taken_at >= now() - posts.GRACE - dt.timedelta(seconds=5)
    assert taken.taken_at > claimed


def test_the_people_registered_are_shown_only_to_who_may_see_them(
    supervisor, auxiliary, grid_worker, free
):
    """A person living in 南铁北四区, registered at a post in 机务小区: grid 1's worker sees the
    shift but not the person; the officer sees him, and his reading is logged."""
    from fangyi.core.models import AccessLog

    jiwu_post = posts.post_create(
        actor=supervisor,
        data=posts.PostInput(
            node=node("机务小区"), name="机务小区大门", kind="gate",
            staffed_from=dt.time(0, 0), staffed_to=dt.time(0, 0),
        ),
    )  # fmt: skip
    start = now() - HOUR
    gate = posts.shift_plan(
        actor=supervisor, post=jiwu_post, starts=start, ends=start + 4 * HOUR, staff=[auxiliary]
    )
    posts.shift_take(actor=auxiliary, shift=gate)
    elsewhere = Person.objects.filter(node__name="南铁北四区").order_by("pk").first()
    posts.registration_record(
        actor=auxiliary, shift=gate, person=elsewhere, declaration=DeclarationInput()
    )
    assert posts.shift_registrations(gate, grid_worker) == []
    reads = AccessLog.objects.count()
    shown = posts.shift_registrations(gate, auxiliary, via="ui")
    assert [r.person_id for r in shown] == [elsewhere.pk]
    assert AccessLog.objects.count() == reads + 1
