"""The apps' events that notify (issue 15): each through the real service or page, who got an
inbox row (and the SMS for urgent ones) and who did not (another jurisdiction, the wrong role,
a kind switched off), a retried request notifying once, a refused action storing nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangyi.core.errors import DomainError
from fangyi.core.models import Node, Role, User
from fangyi.linkage import services as linkage
from fangyi.notify.models import BlockedNumber, KindSetting, Message, Notification
from fangyi.notify.registry import KINDS
from fangyi.tips import services as tips
from fangyi.tips.models import TipCategory
from tests.conftest import login

pytestmark = pytest.mark.django_db

OFFICER_PHONE = "13907710001"


def phone(user: User, number: str) -> User:
    User.objects.filter(pk=user.pk).update(phone=number)
    user.refresh_from_db()
    return user


def notes(kind: str, **filters):
    return Notification.objects.filter(kind=kind, **filters)


def got(kind: str, obj) -> set[str]:
    """The usernames that got a notification of `kind` about `obj`."""
    return set(
        notes(kind, object_id=obj.pk, object_label=obj._meta.label).values_list(
            "recipient__username", flat=True
        )
    )


def off(kind: str) -> None:
    KindSetting.objects.update_or_create(key=kind, defaults={"enabled": False})


def make_user(username: str, role: str, *nodes: str, **more) -> User:
    user = User.objects.create(username=username, role=role, **more)
    user.nodes.set([Node.objects.get(name=n) for n in nodes])
    return user


# --- the registry ------------------------------------------------------------------------------


EXPECTED_KINDS = {
    "tip_assigned": (False, ()),
    "tip_assigned_urgent": (True, (Role.POLICE, Role.AUXILIARY)),
    "tip_answer": (False, ()),
    "support_requested": (False, ()),
    "support_requested_urgent": (True, (Role.POLICE,)),
    "support_overdue": (False, ()),
    "fever_alert": (True, (Role.HEALTH_STAFF,)),
    "missed_followups": (False, ()),
    "decision_needed": (False, ()),
    "guest_flagged": (True, (Role.POLICE,)),
    "arrival_overdue": (False, ()),
    "quarantine_refusal": (False, ()),
    "shift_unstaffed": (False, ()),
}


@pytest.mark.parametrize("key", sorted(EXPECTED_KINDS))
def test_the_apps_register_their_kinds_when_their_services_load(key):
    from fangyi.core.access import POLICY

    kind = KINDS[key]
    assert (kind.urgent, kind.sms_required) == EXPECTED_KINDS[key]
    assert kind.action in POLICY
    assert str(kind.label)


# --- tips --------------------------------------------------------------------------------------


def gathering(nantie4, **more):
    return tips.tip_submit_public(
        data=tips.TipInput(
            category=TipCategory.objects.get(code="gathering"),
            description="南铁北四区7栋有六七个人聚餐喝酒,没戴口罩",
            node=nantie4,
            address="南铁北四区7栋",
            reporter_phone=more.pop("reporter_phone", "13907712345"),
        ),
        ip=more.pop("ip", "203.0.113.7"),
        **more,
    )


def plain_tip(actor, jiwu):
    return tips.tip_record(
        actor=actor,
        data=tips.TipInput(
            category=TipCategory.objects.get(code="no_mask"),
            description="小区门口超市排队的人不戴口罩",
            node=jiwu,
        ),
    )


def test_a_gathering_tip_reaches_the_officers_phone_at_once(officer, auxiliary, outsider, nantie4):
    phone(officer, OFFICER_PHONE)
    phone(outsider, "13907710009")
    tip = gathering(nantie4)
    assert officer in tip.assignees.all()
    assert got("tip_assigned_urgent", tip) == {officer.username}
    note = notes("tip_assigned_urgent", object_id=tip.pk).get()
    assert note.urgent and note.url == f"/tips/{tip.pk}/" and note.node_path == nantie4.path
    assert note.params["code"] == tip.code
    sms = Message.objects.get(notification=note)
    assert (sms.channel, sms.to, sms.status) == ("sms", OFFICER_PHONE, "queued")
    assert sms.not_before <= timezone.now()
    # Nothing for the auxiliary (not assigned) nor the other station's officer.
    assert not Message.objects.filter(to="13907710009").exists()


def test_an_officer_in_quiet_hours_still_gets_the_gathering_sms(officer, nantie4):
    from fangyi.notify.models import Preference

    phone(officer, OFFICER_PHONE)
    Preference.objects.create(
        user=officer, sms=False, quiet_from=dt.time(0, 0), quiet_to=dt.time(23, 59)
    )
    tip = gathering(nantie4)
    sms = Message.objects.get(notification__object_id=tip.pk, kind="tip_assigned_urgent")
    assert sms.to == OFFICER_PHONE and sms.not_before <= timezone.now()


def test_a_tip_assigned_by_hand_tells_the_newly_assigned_once(
    officer, auxiliary, grid_worker, community_staff, jiwu
):
    phone(auxiliary, "13907710002")
    tip = plain_tip(grid_worker, jiwu)
    routed = got("tip_assigned", tip)
    tips.tip_assign(actor=officer, tip=tip, users=[auxiliary])
    assert got("tip_assigned", tip) == routed | {auxiliary.username}
    # Not urgent: the inbox only.
    assert not Message.objects.filter(notification__object_id=tip.pk).exists()
    # The same assignment again (a retried request): nobody new, nothing new.
    count = notes("tip_assigned").count()
    tips.tip_assign(actor=officer, tip=tip, users=[auxiliary])
    assert notes("tip_assigned").count() == count


def test_the_assign_page_notifies(officer, auxiliary, grid_worker, jiwu):
    tip = plain_tip(grid_worker, jiwu)
    r = login(officer).post(f"/tips/{tip.pk}/assign/", {"users": [auxiliary.pk]})
    assert r.status_code in (200, 302)
    assert auxiliary.username in got("tip_assigned", tip)


def test_a_refused_assignment_stores_no_notification(officer, outsider, grid_worker, jiwu):
    tip = plain_tip(grid_worker, jiwu)
    before = notes("tip_assigned").count()
    with pytest.raises(DomainError):
        tips.tip_assign(actor=officer, tip=tip, users=[outsider])
    assert notes("tip_assigned").count() == before
    assert outsider.username not in got("tip_assigned", tip)


def test_a_kind_switched_off_notifies_nobody(officer, nantie4):
    phone(officer, OFFICER_PHONE)
    off("tip_assigned_urgent")
    tip = gathering(nantie4)
    assert got("tip_assigned_urgent", tip) == set()
    assert not Message.objects.filter(to=OFFICER_PHONE).exists()


def answer(officer, tip, text="已到现场劝散,组织者承诺不再聚餐。"):
    tips.tip_accept(actor=officer, tip=tip)
    tips.tip_resolve(actor=officer, tip=tip, resolution="educated")
    return tips.tip_answer(actor=officer, tip=tip, answer=text)


def test_the_reporter_who_left_a_phone_gets_the_answer_by_sms(officer, nantie4):
    tip = gathering(nantie4, reporter_phone="139 0771 2345")
    answer(officer, tip)
    sms = Message.objects.get(kind="tip_answer", to="13907712345")
    assert sms.to == "13907712345" and sms.recipient is None
    assert f"/track/{tip.code}/" in sms.text
    assert "TD" in sms.text  # how to stop
    # A retried answer is refused: no second message.
    with pytest.raises(DomainError):
        tips.tip_answer(actor=officer, tip=tip, answer="再答一次")
    assert Message.objects.filter(kind="tip_answer", to="13907712345").count() == 1


@pytest.mark.parametrize(
    "number, blocked",
    [("", False), ("0771-3125888", False), ("13907712345", True)],
    ids=["no phone", "landline", "asked to stop"],
)
def test_a_reporter_without_a_mobile_or_blocked_gets_nothing(officer, nantie4, number, blocked):
    if blocked:
        BlockedNumber.objects.create(phone=number)
    tip = gathering(nantie4, reporter_phone=number)
    before = Message.objects.filter(kind="tip_answer").count()
    answer(officer, tip)
    assert Message.objects.filter(kind="tip_answer").count() == before


# --- linkage -----------------------------------------------------------------------------------

NEED = "住户拒不开门,请民警协助入户排查"


def ask(actor, *, agency="police", urgency="high", **subject):
    return linkage.support_request_create(
        actor=actor, agency=agency, urgency=urgency, need=NEED, **subject
    )


def test_a_support_request_tells_the_agency_of_the_place(
    grid_worker, officer, auxiliary, outsider, health, community_staff, jiwu_household
):
    s = ask(grid_worker, household=jiwu_household)
    # The station's police (officer and auxiliary), not the other station's, not the health
    # staff, not the requester.
    assert got("support_requested", s) == {officer.username, auxiliary.username}
    note = notes("support_requested", object_id=s.pk, recipient=officer).get()
    assert note.url == f"/support/{s.pk}/" and not note.urgent
    assert not Message.objects.filter(notification=note).exists()


def test_an_urgent_support_request_texts_the_officer(grid_worker, officer, jiwu_household):
    phone(officer, OFFICER_PHONE)
    s = ask(grid_worker, household=jiwu_household, urgency="urgent")
    assert officer.username in got("support_requested_urgent", s)
    sms = Message.objects.get(notification__object_id=s.pk, recipient=officer)
    assert sms.to == OFFICER_PHONE


def test_a_request_to_a_named_person_tells_only_him(
    grid_worker, officer, auxiliary, jiwu_household
):
    s = ask(grid_worker, agency="user", target_user=auxiliary, household=jiwu_household)
    assert got("support_requested", s) == {auxiliary.username}


def test_a_retried_support_request_notifies_once(grid_worker, officer, jiwu_household):
    import uuid

    cid = uuid.uuid4()
    s1 = ask(grid_worker, household=jiwu_household, client_id=cid)
    s2 = ask(grid_worker, household=jiwu_household, client_id=cid)
    assert s1.pk == s2.pk
    assert notes("support_requested", object_id=s1.pk, recipient=officer).count() == 1


def test_a_refused_support_request_stores_nothing(grid_worker, jiwu_household):
    before = Notification.objects.count()
    with pytest.raises(DomainError):
        linkage.support_request_create(
            actor=grid_worker, agency="police", urgency="soon", need=NEED, household=jiwu_household
        )
    assert Notification.objects.count() == before


def test_an_overdue_request_tells_the_supervisors_of_both_sides(
    health, grid_worker, supervisor, jiwu_household
):
    district = make_user("fenju-chief", Role.SUPERVISOR, "西乡塘区")
    beihu_chief = make_user("beihu-chief", Role.SUPERVISOR, "北湖派出所")
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        # Health staff of the district ask the station's police: the requesting side is the
        # district, the answering side the station.
        s = ask(health, household=jiwu_household, urgency="urgent")
        assert s.from_node.name == "西乡塘区"
    with time_machine.travel(t0 + dt.timedelta(minutes=11), tick=False):
        linkage.support_escalate_overdue()
        assert got("support_overdue", s) == {supervisor.username, district.username}
        assert beihu_chief.username not in got("support_overdue", s)
        note = notes("support_overdue", object_id=s.pk, recipient=supervisor).get()
        assert note.url == f"/support/{s.pk}/"
        linkage.support_escalate_overdue()  # idempotent: nothing more
        assert notes("support_overdue", object_id=s.pk).count() == 2


def test_an_overdue_request_switched_off_notifies_nobody(grid_worker, supervisor, jiwu_household):
    off("support_overdue")
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        s = ask(grid_worker, household=jiwu_household, urgency="urgent")
    with time_machine.travel(t0 + dt.timedelta(minutes=11), tick=False):
        linkage.support_escalate_overdue()
    assert got("support_overdue", s) == set()


# --- observation: fever and symptom alerts, missed follow-ups -------------------------------------


@pytest.fixture
def obs(health, grid_worker, jiwu):
    from tests.test_observation import DAY0, fresh_person, start

    return start(
        health,
        fresh_person(jiwu),
        exposure=DAY0 - dt.timedelta(days=1),
        starts=DAY0,
        responsible=grid_worker,
    )


def test_a_fever_alerts_health_staff_and_tells_the_responsible_worker(
    obs, grid_worker, health, officer, outsider
):
    from fangyi.observation.models import Alert
    from tests.test_observation import DAY0, generate, record

    phone(health, "13907710003")
    make_user("beihu-health", Role.HEALTH_STAFF, "北湖派出所")
    generate(DAY0)
    record(grid_worker, obs.followups.get(due=DAY0), status="seen_unwell", temperature="38.2")
    alert = Alert.objects.get(observation=obs)
    assert got("fever_alert", alert) == {health.username}
    assert got("fever_alert", obs) == {grid_worker.username}
    note = notes("fever_alert", recipient=health, object_id=alert.pk).get()
    assert note.urgent and note.url == f"/alerts/{alert.pk}/"
    assert "38" not in note.message + str(note.params)  # no temperature in the text
    assert Message.objects.get(notification=note).to == "13907710003"
    responsible = notes("fever_alert", recipient=grid_worker, object_id=obs.pk)
    assert responsible.get().url == f"/observations/{obs.pk}/"


def test_a_clean_followup_alerts_nobody(obs, grid_worker):
    from tests.test_observation import DAY0, generate, record

    generate(DAY0)
    before = notes("fever_alert").count()
    record(grid_worker, obs.followups.get(due=DAY0), temperature="36.5")
    assert notes("fever_alert").count() == before


def test_two_missed_in_a_row_tell_the_supervisor_and_the_responsible_once(
    obs, grid_worker, supervisor, health
):
    from fangyi.observation import services as observation
    from fangyi.observation.models import Alert
    from tests.test_observation import DAY0, at, generate

    beihu_chief = make_user("beihu-chief", Role.SUPERVISOR, "北湖派出所")
    d1, d2 = DAY0 + dt.timedelta(days=1), DAY0 + dt.timedelta(days=2)
    for day in (DAY0, d1, d2):
        generate(day)
        with time_machine.travel(at(day, 5), tick=False):
            observation.followups_mark_missed(day)
    alert = Alert.objects.get(observation=obs, kind="missed")
    assert got("missed_followups", alert) == {supervisor.username}
    assert got("missed_followups", obs) == {grid_worker.username}
    assert beihu_chief.username not in got("missed_followups", alert)
    with time_machine.travel(at(d2, 6), tick=False):
        observation.followups_mark_missed(d2)  # the job again: nothing new
    assert notes("missed_followups", object_id__in=[alert.pk, obs.pk]).count() == 2


# --- health: a decision to make ------------------------------------------------------------------


def test_a_flagged_declaration_asks_health_staff_for_a_decision(grid_worker, health, jiwu):
    from fangyi.health.services import DeclarationInput, declaration_record
    from tests.test_observation import fresh_person

    other = make_user("beihu-health", Role.HEALTH_STAFF, "北湖派出所")
    person = fresh_person(jiwu, "发热者")
    decl = declaration_record(
        actor=grid_worker,
        person=person,
        data=DeclarationInput(
            declared_on=timezone.localdate(), temperature="38.5", temperature_method="ear"
        ),
    )
    assert decl.proposal != "cleared"
    assert got("decision_needed", decl) == {health.username}
    assert other.username not in got("decision_needed", decl)
    note = notes("decision_needed", object_id=decl.pk).get()
    assert note.url == f"/declarations/{decl.pk}/" and not note.urgent


def test_a_cleared_declaration_asks_for_nothing(grid_worker, jiwu):
    from fangyi.health.services import DeclarationInput, declaration_record
    from tests.test_observation import fresh_person

    decl = declaration_record(
        actor=grid_worker,
        person=fresh_person(jiwu, "健康者"),
        data=DeclarationInput(
            declared_on=timezone.localdate(), temperature="36.4", temperature_method="ear"
        ),
    )
    assert decl.proposal == "cleared"
    assert got("decision_needed", decl) == set()


# --- guests ---------------------------------------------------------------------------------------


def test_a_flagged_guest_texts_the_station_police(hotel_clerk, officer, auxiliary, outsider):
    from fangyi.guests import services as guests
    from tests.test_guests import guest

    phone(officer, OFFICER_PHONE)
    report = guests.guest_report(actor=hotel_clerk, data=guest())
    assert report.flagged
    assert got("guest_flagged", report) == {officer.username, auxiliary.username}
    note = notes("guest_flagged", recipient=officer, object_id=report.pk).get()
    assert note.url == f"/guests/{report.pk}/" and note.urgent
    assert Message.objects.get(notification=note).to == OFFICER_PHONE
    assert "王武汉" not in Message.objects.get(notification=note).text  # no guest's name


def test_a_guest_not_flagged_tells_nobody(hotel_clerk):
    from fangyi.guests import services as guests
    from tests.test_guests import guest, resident_id

    report = guests.guest_report(
        actor=hotel_clerk,
        data=guest(
            name="黄南宁", id_number=resident_id("19900101", region="450103"), from_where="南宁市"
        ),
    )
    assert not report.flagged and got("guest_flagged", report) == set()


def test_a_retried_guest_report_notifies_once(hotel_clerk, officer):
    import uuid

    from fangyi.guests import services as guests
    from tests.test_guests import guest

    cid = uuid.uuid4()
    r1 = guests.guest_report(actor=hotel_clerk, data=guest(), client_id=cid)
    r2 = guests.guest_report(actor=hotel_clerk, data=guest(), client_id=cid)
    assert r1.pk == r2.pk
    assert notes("guest_flagged", object_id=r1.pk, recipient=officer).count() == 1


def test_an_arrival_not_confirmed_in_time_tells_police_and_supervisor(
    hotel_clerk, officer, supervisor, outsider
):
    from fangyi.guests import services as guests
    from fangyi.guests.models import GuestSettings
    from tests.test_guests import _referred

    report = _referred(hotel_clerk, officer)
    hours = GuestSettings.get().confirm_hours
    with time_machine.travel(timezone.now() + dt.timedelta(hours=hours, minutes=1), tick=False):
        guests.guests_check(timezone.now())
        guests.guests_check(timezone.now())
    told = got("arrival_overdue", report)
    assert {officer.username, supervisor.username} <= told
    assert outsider.username not in told
    assert notes("arrival_overdue", object_id=report.pk, recipient=officer).count() == 1


# --- quarantine: a refusal -----------------------------------------------------------------------


def test_a_refusal_tells_the_police_and_the_supervisor(
    jiwu_person, grid_worker, health, officer, supervisor, outsider
):
    from fangyi.quarantine import refusals
    from tests.test_refusals import make_site, reserve

    site, group = make_site()
    placement = reserve(jiwu_person, site, group, health)
    refusal = refusals.refusal_record(actor=grid_worker, placement=placement, reason="家里有老人")
    told = got("quarantine_refusal", refusal)
    assert told == {officer.username, supervisor.username}
    note = notes("quarantine_refusal", object_id=refusal.pk, recipient=officer).get()
    assert note.url == f"/refusals/{refusal.pk}/"
    assert "家里有老人" not in note.message + str(note.params)


def test_a_refusal_refused_stores_no_notification(jiwu_person, grid_worker, health):
    from fangyi.quarantine import refusals
    from tests.test_refusals import make_site, reserve

    site, group = make_site()
    placement = reserve(jiwu_person, site, group, health)
    before = notes("quarantine_refusal").count()
    with pytest.raises(DomainError):
        refusals.refusal_record(actor=grid_worker, placement=placement, reason="")
    assert notes("quarantine_refusal").count() == before


# --- patrols: an unstaffed duty shift ------------------------------------------------------------


def test_an_unstaffed_shift_tells_the_supervisors_once(supervisor, auxiliary):
    from fangyi.patrols import posts
    from fangyi.patrols.models import DutyShift

    DutyShift.objects.all().delete()
    district = make_user("fenju-chief", Role.SUPERVISOR, "西乡塘区")
    beihu_chief = make_user("beihu-chief", Role.SUPERVISOR, "北湖派出所")
    now = timezone.now().replace(microsecond=0)
    post = posts.post_create(
        actor=supervisor,
        data=posts.PostInput(
            node=Node.objects.get(name="北大路沿街"),
            name="北大路口卡点",
            kind="road",
            address="北大路口",
            latitude="22.8362",
            longitude="108.2846",
            staffed_from=dt.time(0, 0),
            staffed_to=dt.time(0, 0),
        ),
    )
    late = posts.shift_plan(
        actor=supervisor,
        post=post,
        starts=now - dt.timedelta(minutes=20),
        ends=now + dt.timedelta(hours=3),
        staff=[auxiliary],
    )
    assert posts.shifts_escalate(now) == 1
    assert got("shift_unstaffed", late) == {supervisor.username, district.username}
    assert beihu_chief.username not in got("shift_unstaffed", late)
    assert posts.shifts_escalate(now) == 0
    assert notes("shift_unstaffed", object_id=late.pk).count() == 2
    assert notes("shift_unstaffed", object_id=late.pk).first().url == f"/shifts/{late.pk}/"
