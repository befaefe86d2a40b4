"""拒絕集中隔離: a close contact's household in 机务小区 is given a bed at the district's
quarantine point (西鄉塘區集中隔離點) and refuses to go. The grid worker records the refusal
(the bed is free again at once) and calls police support with one tap; the station's officer
comes and explains the rules (the law on infectious diseases, what refusing leads to), health
staff explain the incubation period; both attempts are kept. The person agrees: a bed is
reserved again at the quarantine point, the notice is issued, and the site confirms the
arrival."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangyi.core.models import AuditEntry, User
from fangyi.linkage.models import SupportRequest
from fangyi.linkage.services import support_accept, support_arrive, support_done
from fangyi.people.models import Household
from fangyi.quarantine.models import BedState, Group, Placement, Refusal, Site
from fangyi.quarantine.services import placement_arrive, placement_reserve
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
EVENING = dt.datetime(2020, 2, 6, 18, 0, tzinfo=TZ)


def _at(clock, hour: int, minute: int) -> dt.datetime:
    when = EVENING.replace(hour=hour, minute=minute)
    clock.move_to(when)
    return when


def test_the_household_refuses_the_quarantine_point_then_agrees(grid_worker, officer, health, jiwu):
    site = Site.objects.select_related("place").get(place__name="西乡塘区集中隔离点")
    group = Group.objects.get(code="close_contact")
    taken = set(Placement.objects.values_list("person_id", flat=True))
    household = next(
        h
        for h in Household.objects.filter(node=jiwu).order_by("pk")[5:40]
        if h.members.exists() and not h.members.filter(pk__in=taken).exists()
    )
    person = household.members.order_by("pk").first()
    site_staff = User.objects.create(
        username="geliandian", role="site_staff", place=site.place, first_name="隔离点"
    )

    def free() -> int:
        return site.beds.filter(state=BedState.FREE).count()

    with time_machine.travel(EVENING, tick=False) as clock:
        # 18:00 health staff reserve a bed for the close contact.
        first = placement_reserve(
            actor=health, person=person, site=site, group=group, source="decision"
        )
        beds_free = free()

        # 18:40 at the door: the household refuses to go.
        _at(clock, 18, 40)
        worker = english_login(grid_worker)
        form = worker.get(f"/placements/{first.pk}/refuse/")
        assert form.status_code == 200 and person.name in form.content.decode()
        response = worker.post(
            f"/placements/{first.pk}/refuse/",
            {"reason": "家中有老人小孩,担心隔离点条件,全家拒绝前往"},
        )
        refusal = Refusal.objects.get(placement=first)
        assert response.status_code == 302
        assert response["Location"] == f"/refusals/{refusal.pk}/"
        first.refresh_from_db()
        assert first.status == "refused" and free() == beds_free + 1  # the bed is free at once

        # 18:42 one tap: police support.
        _at(clock, 18, 42)
        assert worker.post(f"/refusals/{refusal.pk}/call-police/").status_code == 302
        refusal.refresh_from_db()
        request = SupportRequest.objects.get(pk=refusal.support_request_id)
        assert (request.agency, request.urgency, request.person_id) == ("police", "high", person.pk)
        # The officer sees it on the day list: the request, and the refusal itself.
        day = english_login(officer).get("/").content.decode()
        assert f"/support/{request.pk}/" in day and f"/refusals/{refusal.pk}/" in day

        _at(clock, 19, 0)
        support_accept(actor=officer, request=request)
        _at(clock, 19, 5)
        support_arrive(actor=officer, request=request)

        # 19:10 the officer explains the rules; still refusing.
        rules = _at(clock, 19, 10)
        police = english_login(officer)
        assert (
            police.post(
                f"/refusals/{refusal.pk}/attempts/",
                {
                    "at": rules.strftime("%Y-%m-%dT%H:%M"),
                    "explained": "讲解《传染病防治法》第三十九条:拒绝隔离的,公安机关可协助强制隔离",
                    "outcome": "still_refuses",
                },
            ).status_code
            == 302
        )
        # 19:25 health staff explain the incubation period; the person agrees.
        incubation = _at(clock, 19, 25)
        doctor = english_login(health)
        assert (
            doctor.post(
                f"/refusals/{refusal.pk}/attempts/",
                {
                    "at": incubation.strftime("%Y-%m-%dT%H:%M"),
                    "explained": "讲解潜伏期最长十四天,居家隔离会传染家中老人小孩",
                    "outcome": "agreed",
                },
            ).status_code
            == 302
        )
        page = police.get(f"/refusals/{refusal.pk}/").content.decode()
        assert page.index("第三十九条") < page.index("潜伏期")  # a timeline, oldest first
        assert officer.display_name in page and health.display_name in page
        refusal.refresh_from_db()
        assert refusal.status == "open"  # an attempt alone places nobody

        # 19:30 agreed: placed again at the quarantine point.
        _at(clock, 19, 30)
        assert police.post(f"/refusals/{refusal.pk}/agree/", {}).status_code == 302
        refusal.refresh_from_db()
        again = refusal.new_placement
        assert refusal.status == "agreed" and refusal.ended_by == officer
        assert (again.site, again.group, again.status, again.source) == (
            site,
            group,
            "reserved",
            "refusal",
        )
        assert free() == beds_free
        notice = login(officer).post(f"/placements/{again.pk}/notice/").content.decode()
        assert "西乡塘区集中隔离点" in notice and person.name in notice and "<svg" in notice
        support_done(actor=officer, request=request, outcome="劝导后同意前往隔离点")

        # 20:15 the quarantine point confirms the arrival.
        _at(clock, 20, 15)
        placement_arrive(actor=site_staff, placement=again)
        again.refresh_from_db()
        assert again.status == "active" and again.bed.state == BedState.OCCUPIED
        assert again.arrival_confirmed_by == site_staff

    attempts = list(refusal.attempts.order_by("at"))
    assert [(a.by, a.outcome) for a in attempts] == [
        (officer, "still_refuses"),
        (health, "agreed"),
    ]
    assert [a.at for a in attempts] == [rules, incubation]
    trail = set(
        AuditEntry.objects.filter(object_type__in=["refusal", "persuasion"]).values_list(
            "action", flat=True
        )
    )
    assert {
        "fangyi.refusal.created",
        "fangyi.refusal.police_called",
        "fangyi.persuasion.created",
        "fangyi.refusal.agreed",
    } <= trail
