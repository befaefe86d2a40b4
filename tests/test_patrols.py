"""Patrols and publicity (巡逻宣传): the seed's morning patrol in 机务小区, every bad input
refused with its field and nothing stored, what an event leads to, the plans and their
coverage, and this part's share of the day list and the dispatch board."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.utils import timezone
from PIL import Image

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AuditEntry, Node
from fangyi.linkage.models import SupportRequest
from fangyi.linkage.selectors import board
from fangyi.observation.selectors import daylist
from fangyi.patrols import selectors, services
from fangyi.patrols.models import Patrol, PatrolEvent, PatrolPhoto, PatrolPlan, RoutePoint
from fangyi.patrols.services import EventInput, Position
from fangyi.tips.models import Tip, TipCategory
from fangyi.tips.services import new_code
from tests.conftest import english_login as login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _no_demo_patrols(db):
    """The demo city's morning patrol and plans are not these tests' (rolled back after)."""
    Patrol.objects.all().delete()
    PatrolPlan.objects.all().delete()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def community(jiwu) -> Node:
    return Node.objects.get(name="机务社区")


def start(officer, jiwu, auxiliary=None, **kw):
    return services.patrol_start(
        actor=officer,
        node=jiwu,
        companions=[auxiliary] if auxiliary else [],
        others="志愿者2名",
        position=Position("22.817000", "108.366000", 12),
        **kw,
    )


def counts() -> tuple[int, int, int, int]:
    return (
        Patrol.objects.count(),
        PatrolEvent.objects.count(),
        RoutePoint.objects.count(),
        PatrolPhoto.objects.count(),
    )


# --- the seed's morning patrol ----------------------------------------------------------------


def test_the_morning_patrol_in_jiwu(officer, auxiliary, jiwu, tmp_path):
    """The officer leads his auxiliary round 机务小区: the elders playing cards go home, the
    residents hear the publicity, a man without a mask is persuaded; the patrol ends with its
    route, and its sums are what was recorded."""
    t0 = timezone.now() - dt.timedelta(minutes=50)
    patrol = start(officer, jiwu, auxiliary, at=t0)
    assert patrol.under_way and list(patrol.compounds.all()) == [jiwu]
    cards = services.patrol_event_record(
        actor=officer,
        patrol=patrol,
        data=EventInput(
            kind="gathering",
            at=t0 + dt.timedelta(minutes=10),
            address="机务小区3栋楼下",
            position=Position("22.817300", "108.366400", 8),
            people=4,
            activity="cards",
            statements="老人们表示马上回家,不再聚集打牌",
            outcome="went_home",
        ),
        photos=[io.BytesIO(png())],
        client_id=uuid.uuid4(),
    )
    services.patrol_event_record(
        actor=auxiliary,
        patrol=patrol,
        data=EventInput(
            kind="publicity",
            at=t0 + dt.timedelta(minutes=20),
            methods=["loudspeaker", "leaflets"],
            reached=60,
            materials=40,
            notes="出门戴口罩、勤洗手、少出门",
        ),
    )
    services.patrol_event_record(
        actor=officer,
        patrol=patrol,
        data=EventInput(kind="masks", at=t0 + dt.timedelta(minutes=30), people=1),
    )
    added = services.route_add(
        actor=auxiliary,
        patrol=patrol,
        points=[
            (t0 + dt.timedelta(minutes=15), "22.817500", "108.366800", 10),
            (t0 + dt.timedelta(minutes=25), "22.818000", "108.367200", 10),
            (t0 + dt.timedelta(minutes=25), "22.818000", "108.367200", 10),  # a retry
        ],
    )
    assert added.added == 2 and added.refused == {}
    services.patrol_end(
        actor=officer,
        patrol=patrol,
        summary="机务小区巡逻一圈",
        position=Position("22.817000", "108.366000", 10),
    )
    patrol.refresh_from_db()
    assert not patrol.under_way
    detail = selectors.patrol_detail(patrol)
    assert detail["totals"] == {
        "gatherings": 1,
        "gathered": 4,
        "publicity": 1,
        "reached": 60,
        "masks": 1,
        "checks": 0,
    }
    # start, the gathering, two route points and the end: the route in time order
    assert [str(p[1]) for p in detail["route"]] == [
        "22.817000",
        "22.817300",
        "22.817500",
        "22.818000",
        "22.817000",
    ]
    assert [e.kind for e in detail["events"]] == ["gathering", "publicity", "masks"]
    assert cards.photos.count() == 1
    actions = set(
        AuditEntry.objects.filter(object_id__in=[patrol.pk, cards.pk]).values_list(
            "action", flat=True
        )
    )
    assert {
        "fangyi.patrol.started",
        "fangyi.patrol.ended",
        "fangyi.patrolevent.recorded",
    } <= actions


def test_the_same_client_id_twice_stores_one(officer, jiwu):
    cid = uuid.uuid4()
    a = start(officer, jiwu, client_id=cid)
    b = start(officer, jiwu, client_id=cid)
    assert a.pk == b.pk and Patrol.objects.filter(leader=officer).count() == 1
    eid = uuid.uuid4()
    data = EventInput(kind="masks", people=2)
    e1 = services.patrol_event_record(actor=officer, patrol=a, data=data, client_id=eid)
    e2 = services.patrol_event_record(actor=officer, patrol=a, data=data, client_id=eid)
    assert e1.pk == e2.pk and a.events.count() == 1


def test_one_patrol_under_way_per_leader(officer, jiwu, nantie4):
    start(officer, jiwu)
    with pytest.raises(Conflict):
        start(officer, nantie4)


# --- bad input: field errors and nothing stored -------------------------------------------------


def _refused(call, *fields):
    before = counts()
    with pytest.raises(DomainError) as info:
        call()
    assert set(fields) <= set(info.value.errors), info.value.errors
    assert counts() == before
    return info.value


@pytest.mark.parametrize(
    "data, field",
    [
        (EventInput(kind="gathering", people=-3, activity="cards", outcome="went_home"), "people"),
        (
            EventInput(kind="gathering", people=100_000, activity="cards", outcome="dispersed"),
            "people",
        ),
        (
            EventInput(kind="gathering", people=4, activity="dancing", outcome="went_home"),
            "activity",
        ),
        (EventInput(kind="gathering", people=4, activity="cards"), "outcome"),
        (EventInput(kind="publicity", reached=10), "methods"),
        (EventInput(kind="publicity", methods=["smoke signals"], reached=3), "methods"),
        (EventInput(kind="publicity", methods=["talk"]), "reached"),
        (EventInput(kind="masks"), "people"),
        (EventInput(kind="inspection"), "result"),
        (EventInput(kind="other"), "notes"),
        (EventInput(kind="riot"), "kind"),
        (EventInput(kind="masks", people=1, position=Position("123", "108.3")), "latitude"),
        (EventInput(kind="masks", people=1, position=Position("22.8", "200")), "longitude"),
        (EventInput(kind="masks", people=1, position=Position("22.8", None)), "longitude"),
        (EventInput(kind="masks", people=1, address="楼" * 201), "address"),
    ],
)
def test_a_bad_event_is_refused_with_its_field(officer, jiwu, data, field):
    patrol = start(officer, jiwu)
    _refused(lambda: services.patrol_event_record(actor=officer, patrol=patrol, data=data), field)


def test_an_event_in_the_future_or_before_the_patrol_is_refused(officer, jiwu):
    patrol = start(officer, jiwu, at=timezone.now() - dt.timedelta(minutes=30))
    for at in (
        timezone.now() + dt.timedelta(hours=1),
        patrol.started_at - dt.timedelta(minutes=1),
    ):
        data = EventInput(kind="masks", people=1, at=at)
        _refused(
            lambda d=data: services.patrol_event_record(actor=officer, patrol=patrol, data=d),
            "at",
        )


def test_a_photo_that_is_not_an_image_is_refused_and_no_file_kept(officer, jiwu, tmp_path):
    patrol = start(officer, jiwu)
    _refused(
        lambda: services.patrol_event_record(
            actor=officer,
            patrol=patrol,
            data=EventInput(kind="masks", people=1),
            photos=[io.BytesIO(b"%PDF-1.4 not an image")],
        ),
        "photos",
    )
    folder = tmp_path / "photos"
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]


def test_an_event_outside_the_patrol_area_is_not_found(officer, jiwu, nantie4, beihu_compound):
    patrol = start(officer, jiwu)
    before = counts()
    for where in (nantie4, beihu_compound):
        with pytest.raises(NotFound) as info:
            services.patrol_event_record(
                actor=officer, patrol=patrol, data=EventInput(kind="masks", people=1, node=where)
            )
        assert "node" in info.value.errors
    assert counts() == before


def test_a_patrol_elsewhere_cannot_be_started_or_seen(officer, outsider, jiwu, beihu_compound):
    before = counts()
    with pytest.raises(NotFound):
        services.patrol_start(actor=officer, node=beihu_compound)
    assert counts() == before
    patrol = start(officer, jiwu)
    with pytest.raises(NotFound):
        selectors.patrol_get(outsider, patrol.pk)
    with pytest.raises(NotFound):
        services.patrol_event_record(
            actor=outsider, patrol=patrol, data=EventInput(kind="masks", people=1)
        )


def test_bad_starts_are_refused(
    officer, auxiliary, grid_worker, outsider, jiwu, nantie4, community
):
    _refused(
        lambda: services.patrol_start(
            actor=officer, node=jiwu, at=timezone.now() + dt.timedelta(hours=2)
        ),
        "at",
    )
    _refused(
        lambda: services.patrol_start(
            actor=officer, node=jiwu, at=timezone.now() - dt.timedelta(days=3)
        ),
        "at",
    )
    _refused(
        lambda: services.patrol_start(actor=officer, node=jiwu, position=Position("123", "108")),
        "latitude",
    )
    # a compound outside the area chosen
    _refused(
        lambda: services.patrol_start(actor=officer, node=jiwu, compounds=[nantie4]), "compounds"
    )
    # a colleague from another station answers like one that does not exist
    with pytest.raises(NotFound) as info:
        services.patrol_start(actor=officer, node=community, companions=[outsider])
    assert "companions" in info.value.errors
    # grid workers do not lead patrols
    with pytest.raises(Forbidden):
        services.patrol_start(actor=grid_worker, node=jiwu)
    assert Patrol.objects.count() == 0


def test_the_end_comes_after_the_start_and_the_last_event(officer, jiwu):
    t0 = timezone.now() - dt.timedelta(minutes=40)
    patrol = start(officer, jiwu, at=t0)
    services.patrol_event_record(
        actor=officer,
        patrol=patrol,
        data=EventInput(kind="masks", people=1, at=t0 + dt.timedelta(minutes=30)),
    )
    for at in (t0 - dt.timedelta(minutes=1), t0 + dt.timedelta(minutes=20)):
        with pytest.raises(DomainError) as info:
            services.patrol_end(actor=officer, patrol=patrol, at=at)
        assert "at" in info.value.errors
    patrol.refresh_from_db()
    assert patrol.under_way
    services.patrol_end(actor=officer, patrol=patrol)
    with pytest.raises(Conflict):
        services.patrol_end(actor=officer, patrol=patrol)


def test_route_points_outside_the_patrol_time_or_the_globe_are_kept_out(officer, jiwu):
    """A bad fix in an offline backlog is named and kept out; the good points are stored."""
    patrol = start(officer, jiwu)
    before = RoutePoint.objects.count()
    result = services.route_add(
        actor=officer,
        patrol=patrol,
        points=[
            (timezone.now(), "22.8", "108.3", 5),
            (timezone.now() - dt.timedelta(days=1), "22.8", "108.3", 5),
            (timezone.now() + dt.timedelta(seconds=1), "123", "108.3", 5),
            (timezone.now() + dt.timedelta(hours=2), "22.8", "108.3", 5),
        ],
    )
    assert set(result.refused) == {"points.1.at", "points.2.latitude", "points.3.at"}
    assert result.added == 1 and RoutePoint.objects.count() == before + 1


def test_a_supervisor_reading_the_patrol_adds_nothing_to_its_route(officer, supervisor, jiwu):
    patrol = start(officer, jiwu)
    with pytest.raises(Forbidden):
        services.route_add(
            actor=supervisor, patrol=patrol, points=[(timezone.now(), "22.9", "108.4", 5)]
        )
    page = login(supervisor).get(f"/patrols/{patrol.pk}/").content.decode()
    assert "patrols.js" not in page and "a.kind" not in page
    assert "patrols.js" in login(officer).get(f"/patrols/{patrol.pk}/").content.decode()


def test_a_forgotten_patrol_can_still_be_ended(officer, jiwu):
    """Events stop 16 hours after the start, so an end within 16 hours always remains."""
    patrol = start(officer, jiwu, at=timezone.now() - dt.timedelta(hours=20))
    with pytest.raises(DomainError) as info:
        services.patrol_event_record(
            actor=officer, patrol=patrol, data=EventInput(kind="masks", people=1)
        )
    assert "at" in info.value.errors
    services.patrol_end(actor=officer, patrol=patrol, at=patrol.started_at + dt.timedelta(hours=2))
    patrol.refresh_from_db()
    assert patrol.ended_at is not None


def test_an_event_after_a_concurrent_end_is_refused(officer, jiwu):
    """The event's request read the patrol before the end committed: the write reads it again
    under its lock."""
    patrol = start(officer, jiwu, at=timezone.now() - dt.timedelta(minutes=30))
    stale = Patrol.objects.get(pk=patrol.pk)  # as the event's request read it
    services.patrol_end(actor=officer, patrol=patrol, at=timezone.now() - dt.timedelta(minutes=5))
    before = counts()
    with pytest.raises(DomainError) as info:
        services.patrol_event_record(
            actor=officer, patrol=stale, data=EventInput(kind="masks", people=1)
        )
    assert "at" in info.value.errors and counts() == before


def test_only_the_people_on_the_patrol_record_on_it(officer, community_staff, jiwu):
    patrol = start(officer, jiwu)
    with pytest.raises(Forbidden):
        services.patrol_event_record(
            actor=community_staff, patrol=patrol, data=EventInput(kind="masks", people=1)
        )


# --- what an event leads to ---------------------------------------------------------------------


def test_a_refused_gathering_asks_the_police_in_one_tap(officer, community_staff, jiwu):
    patrol = services.patrol_start(actor=community_staff, node=jiwu)
    event = services.patrol_event_record(
        actor=community_staff,
        patrol=patrol,
        data=EventInput(
            kind="gathering", people=7, activity="meal", outcome="refused", statements="不听劝阻"
        ),
    )
    req = services.event_support(actor=community_staff, event=event)
    again = services.event_support(actor=community_staff, event=event)
    assert req.pk == again.pk
    assert req.agency == "police" and req.urgency == "urgent" and req.tip is not None
    assert req.tip.source == "patrol" and req.tip.category.code == "gathering"
    assert "7" in req.need and "不听劝阻" in req.need
    event.refresh_from_db()
    assert event.support_id == req.pk and event.tip_id == req.tip_id
    assert SupportRequest.objects.filter(tip=req.tip).count() == 1


def test_the_enforcement_form_opens_prefilled_from_the_event(officer, jiwu):
    patrol = start(officer, jiwu)
    event = services.patrol_event_record(
        actor=officer,
        patrol=patrol,
        data=EventInput(
            kind="gathering", people=6, activity="meal", outcome="refused", statements="拒不散去"
        ),
    )
    client = login(officer)
    response = client.post(f"/patrols/events/{event.pk}/enforcement/")
    assert response.status_code == 302
    event.refresh_from_db()
    assert response["Location"] == f"/enforcement/new/?tip={event.tip_id}&patrol_event={event.pk}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "拒不散去" in body and "6 people" in body
    # saving it links the record to the event
    from fangyi.enforcement.models import LegalBasis

    basis = LegalBasis.objects.filter(active=True).first()
    saved = client.post(
        response["Location"],
        {
            "tip": event.tip_id,
            "measure": "verbal_warning",
            "legal_bases": [basis.pk],
            "facts": "现场警告",
            "described_people": "6人",
            "officers": [officer.pk],
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    event.refresh_from_db()
    assert event.enforcement is not None and event.enforcement.tip_id == event.tip_id


def test_something_noticed_resolves_the_tip_open_there(officer, jiwu):
    tip = Tip.objects.create(
        code=new_code(),
        category=TipCategory.objects.get(code="gathering"),
        node=jiwu,
        description="有人在小区打牌",
        source="phone",
        status="on_scene",
    )
    patrol = start(officer, jiwu)
    event = services.patrol_event_record(
        actor=officer, patrol=patrol, data=EventInput(kind="other", notes="已劝散打牌人员")
    )
    assert tip in selectors.open_tips_at(officer, event)
    services.event_resolves_tip(actor=officer, event=event, tip=tip, resolution="educated")
    tip.refresh_from_db()
    event.refresh_from_db()
    assert tip.status == "resolved" and event.resolved_tip_id == tip.pk and event.tip_id is None


def test_something_noticed_becomes_a_tip(officer, jiwu):
    patrol = start(officer, jiwu)
    event = services.patrol_event_record(
        actor=officer, patrol=patrol, data=EventInput(kind="other", notes="散养鸡鸭在公共区域")
    )
    tip = services.event_tip(actor=officer, event=event)
    assert tip.source == "patrol" and "散养鸡鸭" in tip.description and tip.node_id == jiwu.pk
    assert services.event_tip(actor=officer, event=event).pk == tip.pk


# --- plans, coverage, the day list and the board -----------------------------------------------


def test_a_plan_makes_overdue_compounds_reach_the_officer(officer, supervisor, jiwu, community):
    n = services.plan_set(actor=supervisor, node=community, times_per_day=2)
    assert n == PatrolPlan.objects.filter(node__path__startswith=community.path).count() > 0
    plan = PatrolPlan.objects.get(node=jiwu)
    assert plan.responsible is not None and plan.responsible.role in ("police", "community_staff")
    responsible = plan.responsible
    # set 13 hours ago and never patrolled: overdue
    PatrolPlan.objects.filter(node__path__startswith=community.path).update(
        set_at=timezone.now() - dt.timedelta(hours=13), responsible=officer
    )
    rows = {r.node_id: r for r in selectors.coverage(supervisor)}
    assert rows[jiwu.pk].overdue and rows[jiwu.pk].last_at is None
    day = daylist(officer)
    assert any(i.kind == "patrol" and i.title == "机务小区" for i in day.items)
    # a patrol of jiwu: no longer overdue, counted today
    start(officer, jiwu)
    rows = {r.node_id: r for r in selectors.coverage(supervisor)}
    assert not rows[jiwu.pk].overdue and rows[jiwu.pk].today == 1
    assert responsible is not None


def test_plan_input_is_checked(supervisor, officer, community, outsider):
    with pytest.raises(DomainError) as info:
        services.plan_set(actor=supervisor, node=community, times_per_day=13)
    assert "times_per_day" in info.value.errors
    with pytest.raises(NotFound):
        services.plan_set(actor=supervisor, node=community, times_per_day=2, responsible=outsider)
    with pytest.raises(Forbidden):
        services.plan_set(actor=officer, node=community, times_per_day=2)
    assert PatrolPlan.objects.count() == 0


def test_the_board_shows_the_patrols_under_way(officer, supervisor, jiwu):
    patrol = start(officer, jiwu)
    station = Node.objects.get(kind="station", name="五里亭派出所")
    b = board(supervisor, station)
    panel = next(p for p in b.panels if p.key == "patrols")
    assert panel.count == 1 and panel.rows[0]["url"] == f"/patrols/{patrol.pk}/"
    services.patrol_end(actor=officer, patrol=patrol)
    b = board(supervisor, station)
    assert next(p for p in b.panels if p.key == "patrols").count == 0


def test_the_day_list_brings_back_the_patrol_under_way(officer, jiwu):
    patrol = start(officer, jiwu)
    items = [i for i in daylist(officer).items if i.kind == "patrol"]
    assert items and items[0].url == f"/patrols/{patrol.pk}/"


def test_the_coverage_costs_the_same_at_two_sizes(supervisor, officer, community, jiwu):
    """Two queries for the coverage whatever the number of compounds and patrols (and the
    user's nodes once per request); the same for the API list."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangyi.core.services import node_create

    services.plan_set(actor=supervisor, node=community, times_per_day=2)
    start(officer, jiwu)

    def cost() -> tuple[int, int]:
        fresh = type(supervisor).objects.get(pk=supervisor.pk)
        with CaptureQueriesContext(connection) as q:
            rows = selectors.coverage(fresh)
        return len(q.captured_queries), len(rows)

    small, n_small = cost()
    grid = Node.objects.get(name="机务第一网格")
    for i in range(30):
        node_create(actor=None, kind="compound", name=f"机务{i}栋", parent=grid, audit=False)
    services.plan_set(actor=supervisor, node=community, times_per_day=3)
    for patrol in Patrol.objects.filter(leader=officer, ended_at__isnull=True):
        services.patrol_end(actor=officer, patrol=patrol)
    for c in Node.objects.filter(name__startswith="机务", kind="compound")[:10]:
        p = services.patrol_start(actor=officer, node=c)
        services.patrol_end(actor=officer, patrol=p)
    large, n_large = cost()
    assert n_large == n_small + 30
    assert small == large == 2


# --- the pages ------------------------------------------------------------------------------------


def test_the_pages_show_field_errors_and_store_nothing(officer, jiwu):
    client = login(officer)
    r = client.post(
        f"/patrols/new/?node={jiwu.pk}", {"node": jiwu.pk, "latitude": "123", "longitude": "1"}
    )
    assert r.status_code == 400 and "Must lie between -90 and 90 degrees." in r.content.decode()
    assert Patrol.objects.count() == 0
    patrol = start(officer, jiwu)
    before = counts()
    r = client.post(
        f"/patrols/{patrol.pk}/event/",
        {"kind": "gathering", "node": jiwu.pk, "people": "100000", "activity": "cards"},
    )
    body = r.content.decode()
    assert r.status_code == 400 and 'id="fg-people"' in body and 'id="fg-outcome"' in body
    assert counts() == before


def test_the_patrol_page_is_logged_as_a_read(officer, jiwu):
    from fangyi.core.models import AccessLog

    patrol = start(officer, jiwu)
    r = login(officer).get(f"/patrols/{patrol.pk}/")
    assert r.status_code == 200 and "机务小区" in r.content.decode()
    assert AccessLog.objects.filter(object_type="patrol", object_id=patrol.pk).count() == 1


def test_the_supervisor_plans_from_the_page(supervisor, officer, community):
    client = login(supervisor)
    page = client.get("/patrols/plans/").content.decode()
    assert f'value="{officer.pk}"' in page  # the officer can be named
    r = client.post(
        "/patrols/plans/",
        {"node": community.pk, "times_per_day": 3, "responsible": officer.pk},
    )
    assert r.status_code == 302 and r["Location"] == "/patrols/coverage/"
    plans = PatrolPlan.objects.filter(node__path__startswith=community.path)
    assert plans.count() == 2 and {p.responsible_id for p in plans} == {officer.pk}
    assert {p.times_per_day for p in plans} == {3}
    r = client.post("/patrols/plans/", {"node": community.pk, "times_per_day": 30})
    assert r.status_code == 400 and set(plans.values_list("times_per_day", flat=True)) == {3}
    coverage = client.get("/patrols/coverage/").content.decode()
    assert "机务小区" in coverage and "机务新村" in coverage


def test_a_named_officer_must_hold_every_compound_of_the_plan(supervisor, community_staff):
    """Community staff of 机务社区 can answer for its compounds, not for the whole station."""
    station = Node.objects.get(name="五里亭派出所")
    with pytest.raises(DomainError) as info:
        services.plan_set(
            actor=supervisor, node=station, times_per_day=2, responsible=community_staff
        )
    assert "responsible" in info.value.errors and PatrolPlan.objects.count() == 0
    community = Node.objects.get(name="机务社区")
    n = services.plan_set(
        actor=supervisor, node=community, times_per_day=2, responsible=community_staff
    )
    assert n == 2


def test_support_is_asked_only_from_a_refused_gathering(officer, jiwu):
    patrol = start(officer, jiwu)
    went_home = services.patrol_event_record(
        actor=officer,
        patrol=patrol,
        data=EventInput(kind="gathering", people=3, activity="cards", outcome="went_home"),
    )
    tips, requests = Tip.objects.count(), SupportRequest.objects.count()
    with pytest.raises(DomainError) as info:
        services.event_support(actor=officer, event=went_home)
    assert "outcome" in info.value.errors
    assert (Tip.objects.count(), SupportRequest.objects.count()) == (tips, requests)
