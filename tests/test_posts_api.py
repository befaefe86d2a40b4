"""The duty posts' API operation by operation, asserting on what is stored as well as on the
statuses; the pages of the posts (the shift log's counters by HTMX and by a plain POST); and
the query counts of the posts list and the shift page, fixed at two sizes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangyi.core.models import AuditEntry
from fangyi.health.models import Declaration, Outcome
from fangyi.health.services import DeclarationInput
from fangyi.patrols import posts
from fangyi.patrols.models import DutyPost, DutyShift, PostRegistration, ShiftTally, Tally
from fangyi.people.models import Person
from tests.conftest import english_login as login  # the assertions read English
from tests.conftest import node
from tests.test_api import call, field_names, schema_operations

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)
MISSING = 987_654_321


def iso(value: dt.datetime) -> str:
    return timezone.localtime(value).isoformat()


def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def beida(db):
    return node("北大路沿街")


@pytest.fixture
def free(db) -> None:
    """The demo city's shifts (fangyi.patrols.demo_posts: 黃明 and 徐紅心 on 北大路 now) taken
    away, so that the shifts a test plans for them do not overlap them."""
    DutyShift.objects.all().delete()


def test_every_posts_operation_answers(free, supervisor, auxiliary, officer, health, beida):
    seen: set[tuple[str, str]] = set()
    boss, aux = login(supervisor), login(auxiliary)

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    made = c(
        boss,
        "POST",
        "/api/duty-posts",
        201,
        {
            "node_id": beida.pk,
            "name": "北大路接口卡点",
            "kind": "road",
            "latitude": "22.8362",
            "longitude": "108.2846",
            "staffed_from": "00:00",
            "staffed_to": "00:00",
        },
    )
    assert made["node_id"] == beida.pk and made["node_name"] == "北大路沿街"
    assert AuditEntry.objects.filter(action="fangyi.dutypost.created", object_id=made["id"])
    changed = c(
        boss,
        "PUT",
        "/api/duty-posts/{post_id}",
        body={"node_id": beida.pk, "name": "北大路卡点(接口)", "kind": "road"},
        post_id=made["id"],
    )
    assert changed["name"] == "北大路卡点(接口)" and changed["latitude"] is None
    listed = c(aux, "GET", "/api/duty-posts", params={"node_id": beida.pk})
    assert made["id"] in [p["id"] for p in listed["items"]]
    assert c(aux, "GET", "/api/duty-posts/{post_id}", post_id=made["id"])["kind"] == "road"

    start = now() - HOUR
    key = str(uuid.uuid4())
    body = {
        "starts": iso(start),
        "ends": iso(start + 6 * HOUR),
        "staff_ids": [auxiliary.pk, officer.pk],
        "client_id": key,
    }
    shift = c(boss, "POST", "/api/duty-posts/{post_id}/shifts", 201, body, post_id=made["id"])
    assert shift["staff_ids"] == sorted([auxiliary.pk, officer.pk]) and shift["taken_at"] is None
    again = c(boss, "POST", "/api/duty-posts/{post_id}/shifts", 201, body, post_id=made["id"])
    assert again["id"] == shift["id"] and DutyShift.objects.filter(client_id=key).count() == 1
    mine = c(aux, "GET", "/api/duty-shifts", params={"mine": "true", "post_id": made["id"]})
    assert [s["id"] for s in mine["items"]] == [shift["id"]]

    sid = shift["id"]
    taken = c(aux, "POST", "/api/duty-shifts/{shift_id}/take", body={}, shift_id=sid)
    assert taken["taken_by_id"] == auxiliary.pk and taken["unstaffed"] is False
    tap = {"kind": "persons", "client_id": str(uuid.uuid4())}
    one = c(aux, "POST", "/api/duty-shifts/{shift_id}/tallies", 201, tap, shift_id=sid)
    assert one["counts"]["persons"] == 1 and one["delta"] == 1
    retried = c(aux, "POST", "/api/duty-shifts/{shift_id}/tallies", 201, tap, shift_id=sid)
    assert retried["id"] == one["id"] and retried["counts"]["persons"] == 1
    typed = c(
        aux,
        "POST",
        "/api/duty-shifts/{shift_id}/tallies",
        201,
        {"kind": "vehicles", "delta": 12},
        shift_id=sid,
    )
    assert typed["counts"] == {
        "persons": 1,
        "vehicles": 12,
        "temperatures": 0,
        "turned_back": 0,
        "outsiders": 0,
    }

    came = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    reg_body = {
        "person": {"name": "陈武汉", "id_type": "none", "phone": "13800000017"},
        "temperature": "36.9",
        "temperature_method": "forehead",
        "travel": [{"place": "湖北省武汉市", "from": came, "to": came}],
        "contacts": [{"kind": "confirmed", "who": "同车旅客", "date": came}],
        "client_id": str(uuid.uuid4()),
    }
    reg = c(aux, "POST", "/api/duty-shifts/{shift_id}/registrations", 201, reg_body, shift_id=sid)
    assert reg["proposal"] == Outcome.CENTRAL and reg["person_name"] == "陈武汉"
    assert Declaration.objects.get(pk=reg["declaration_id"]).source == "post"
    same = c(aux, "POST", "/api/duty-shifts/{shift_id}/registrations", 201, reg_body, shift_id=sid)
    assert same["id"] == reg["id"] and Person.objects.filter(name="陈武汉").count() == 1
    regs = c(aux, "GET", "/api/duty-shifts/{shift_id}/registrations", shift_id=sid)
    assert [r["id"] for r in regs] == [reg["id"]]
    detail = c(aux, "GET", "/api/duty-shifts/{shift_id}", shift_id=sid)
    assert detail["counts"]["outsiders"] == 1

    nxt = c(
        boss,
        "POST",
        "/api/duty-posts/{post_id}/shifts",
        201,
        {
            "starts": iso(start + 6 * HOUR),
            "ends": iso(start + 12 * HOUR),
            "staff_ids": [officer.pk],
        },
        post_id=made["id"],
    )
    done = c(
        aux,
        "POST",
        "/api/duty-shifts/{shift_id}/handover",
        body={"note": "测温枪两把已交接", "next_shift_id": nxt["id"]},
        shift_id=sid,
    )
    assert done["ended_at"] and done["handover_note"] == "测温枪两把已交接"

    assert seen == schema_operations(aux, {"posts"})


@pytest.fixture
def shift(free, supervisor, auxiliary, officer, beida):
    post = posts.post_create(
        actor=supervisor, data=posts.PostInput(node=beida, name="北大路测试卡点", kind="road")
    )
    start = now() - HOUR
    s = posts.shift_plan(
        actor=supervisor,
        post=post,
        starts=start,
        ends=start + 6 * HOUR,
        staff=[auxiliary, officer],
    )
    return posts.shift_take(actor=auxiliary, shift=s)


def test_bad_fields_are_named_by_their_api_names_and_nothing_is_stored(
    supervisor, auxiliary, outsider, shift, beida, beihu_compound, beihu_person
):
    boss, aux = login(supervisor), login(auxiliary)

    def stored():
        return (
            DutyPost.objects.count(),
            DutyShift.objects.count(),
            ShiftTally.objects.count(),
            PostRegistration.objects.count(),
        )

    before = stored()

    def post(client, path, body, expect):
        r = client.post(path, body, content_type="application/json")
        assert r.status_code == expect, r.content
        return field_names(r.json())

    base = {"node_id": beida.pk, "name": "坐标卡点", "kind": "road"}
    assert "latitude" in post(
        boss, "/api/duty-posts", {**base, "latitude": 123, "longitude": 1}, 400
    )
    assert "node_id" in post(boss, "/api/duty-posts", {**base, "node_id": beihu_compound.pk}, 404)
    assert "kind" in post(boss, "/api/duty-posts", {**base, "kind": "castle"}, 422)
    shifts = f"/api/duty-posts/{shift.post_id}/shifts"
    assert "ends" in post(
        boss, shifts, {"starts": iso(now() + 2 * HOUR), "ends": iso(now() + HOUR)}, 400
    )
    overlap = {
        "starts": iso(shift.ends - HOUR),
        "ends": iso(shift.ends + HOUR),
        "staff_ids": [auxiliary.pk],
    }
    assert "staff_ids" in post(boss, shifts, overlap, 400)
    assert "staff_ids" in post(
        boss, shifts, {**overlap, "starts": iso(shift.ends), "staff_ids": [outsider.pk]}, 404
    )
    tallies = f"/api/duty-shifts/{shift.pk}/tallies"
    assert "delta" in post(aux, tallies, {"kind": "persons", "delta": -3}, 400)
    assert "delta" in post(aux, tallies, {"kind": "persons", "delta": 100_000}, 400)
    regs = f"/api/duty-shifts/{shift.pk}/registrations"
    assert "person_id" in post(aux, regs, {"person_id": beihu_person.pk}, 404)
    assert {"name", "temperature"} <= post(
        aux, regs, {"person": {"name": ""}, "temperature": "45"}, 400
    )
    assert stored() == before
    # A shift outside the caller's jurisdiction answers like one that does not exist.
    them = login(outsider)
    a = them.post(tallies, {"kind": "persons"}, content_type="application/json")
    b = them.post(
        f"/api/duty-shifts/{MISSING}/tallies", {"kind": "persons"}, content_type="application/json"
    )
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    assert stored() == before


# --- pages -------------------------------------------------------------------------------------


def test_a_counter_counts_in_place_with_htmx_and_by_a_plain_post(auxiliary, shift):
    client = login(auxiliary)
    page = client.get(f"/shifts/{shift.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="c-persons"' in html and "hx-post" in html
    url = f"/shifts/{shift.pk}/tally/"
    r = client.post(
        url,
        {"kind": "persons", "delta": "1", "client_id": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert body.lstrip().startswith('<div class="counter" id="c-persons">')
    assert '<output class="c-count" aria-live="polite">1</output>' in body
    plain = client.post(url, {"kind": "persons", "delta": "1"})
    assert plain.status_code == 302 and plain["Location"].endswith("#c-persons")
    assert posts.shift_counts(shift)["persons"] == 2
    # A correction below zero comes back on the counter with its reason, nothing stored.
    refused = client.post(url, {"kind": "vehicles", "delta": "-1"}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "below 0" in refused.content.decode()
    assert posts.shift_counts(shift)["vehicles"] == 0


def test_the_registration_page_registers_and_shows_the_proposal(auxiliary, shift):
    client = login(auxiliary)
    assert client.get(f"/shifts/{shift.pk}/register/?q=chenwuhan").status_code == 200
    came = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    r = client.post(
        f"/shifts/{shift.pk}/register/",
        {
            "name": "陈武汉",
            "id_type": "none",
            "temperature": "38.2",
            "temperature_method": "forehead",
            "travel-place": ["湖北省武汉市"],
            "travel-from": [came],
            "travel-to": [came],
            "client_id": str(uuid.uuid4()),
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    page = client.get(r["Location"]).content.decode()
    reg = PostRegistration.objects.get(shift=shift)
    assert f'id="reg-{reg.pk}"' in page and "Fever clinic" in page
    # someone of the registry, picked from the search
    known = Person.objects.filter(node=shift.node).order_by("pk").first()
    found = client.get(f"/shifts/{shift.pk}/register/", {"q": known.name}).content.decode()
    assert f"?person={known.pk}" in found
    assert (
        known.name in client.get(f"/shifts/{shift.pk}/register/?person={known.pk}").content.decode()
    )
    r = client.post(
        f"/shifts/{shift.pk}/register/",
        {"person": known.pk, "temperature": "36.4", "temperature_method": "forehead"},
    )
    assert r.status_code == 302
    assert PostRegistration.objects.filter(shift=shift, person=known).count() == 1
    assert posts.shift_counts(shift)["outsiders"] == 2
    # a refused form keeps nothing and names the field
    bad = client.post(f"/shifts/{shift.pk}/register/", {"name": "", "temperature": "51"})
    assert bad.status_code == 400 and PostRegistration.objects.filter(shift=shift).count() == 2


def test_the_plan_and_handover_pages(supervisor, auxiliary, officer, shift):
    boss = login(supervisor)
    assert boss.get(f"/posts/{shift.post_id}/").status_code == 200
    # the next whole minute after the shift on duty (the form counts in minutes)
    start = timezone.localtime(shift.ends).replace(second=0) + dt.timedelta(minutes=1)
    r = boss.post(
        f"/posts/{shift.post_id}/shifts/new/",
        {
            "starts": start.strftime("%Y-%m-%dT%H:%M"),
            "ends": (start - HOUR).strftime("%Y-%m-%dT%H:%M"),
            "staff": [str(officer.pk)],
        },
    )
    assert r.status_code == 400 and "must end after it starts" in r.content.decode()
    r = boss.post(
        f"/posts/{shift.post_id}/shifts/new/",
        {
            "starts": start.strftime("%Y-%m-%dT%H:%M"),
            "ends": (start + 4 * HOUR).strftime("%Y-%m-%dT%H:%M"),
            "staff": [str(officer.pk)],
        },
    )
    assert r.status_code == 302
    aux = login(auxiliary)
    assert aux.get(f"/shifts/{shift.pk}/handover/").status_code == 200
    r = aux.post(f"/shifts/{shift.pk}/handover/", {"note": "一切正常"})
    assert r.status_code == 302
    shift.refresh_from_db()
    assert shift.ended_at and shift.handover_note == "一切正常"


def _cost(client, url: str) -> tuple[int, int]:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response.status_code, len(ctx)


def test_the_posts_list_and_the_shift_page_cost_the_same_at_two_sizes(
    supervisor, auxiliary, shift, beida
):
    boss = login(supervisor)
    aux = login(auxiliary)
    person = Person.objects.filter(node=beida).order_by("pk").first()
    # one registration from the start: the page's reads of the people shown are logged in one
    # insert, whatever their number
    posts.registration_record(
        actor=auxiliary, shift=shift, person=person, declaration=DeclarationInput()
    )
    list_before = _cost(boss, "/posts/")
    shift_before = _cost(aux, f"/shifts/{shift.pk}/")
    api_before = _cost(aux, "/api/duty-shifts")
    assert list_before[0] == shift_before[0] == api_before[0] == 200
    # More posts with running shifts, more taps and registrations on the shift.
    for i in range(4):
        p = posts.post_create(
            actor=supervisor, data=posts.PostInput(node=beida, name=f"加设卡点{i}", kind="gate")
        )
        start = now() - HOUR
        s = posts.shift_plan(actor=supervisor, post=p, starts=start, ends=start + 2 * HOUR)
        s.staff.add(supervisor)
    for kind in Tally.values:
        posts.shift_tally(actor=auxiliary, shift=shift, kind=kind, delta=3)
    for _i in range(2):
        posts.registration_record(
            actor=auxiliary, shift=shift, person=person, declaration=DeclarationInput()
        )
    assert _cost(boss, "/posts/") == list_before
    assert _cost(aux, f"/shifts/{shift.pk}/") == shift_before
    assert _cost(aux, "/api/duty-shifts") == api_before


def test_the_post_form_names_a_bad_latitude_and_stores_nothing(supervisor, beida, beihu_compound):
    client = login(supervisor)
    assert client.get("/posts/new/").status_code == 200
    body = {
        "node": beida.pk,
        "name": "坐标卡点",
        "kind": "road",
        "latitude": "123",
        "longitude": "108.3",
        "staffed_from": "07:00",
        "staffed_to": "22:00",
    }
    before = DutyPost.objects.count()
    r = client.post("/posts/new/", body)
    assert r.status_code == 400 and "between -90 and 90" in r.content.decode()
    assert (
        client.post(
            "/posts/new/", {**body, "latitude": "", "longitude": "", "node": beihu_compound.pk}
        ).status_code
        == 404
    )
    assert DutyPost.objects.count() == before
    r = client.post("/posts/new/", {**body, "latitude": "22.8362"})
    assert r.status_code == 302 and DutyPost.objects.count() == before + 1


def test_a_shift_elsewhere_is_the_not_found_page(outsider, shift):
    client = login(outsider)
    assert client.get(f"/shifts/{shift.pk}/").status_code == 404
    assert (
        client.post(f"/shifts/{shift.pk}/tally/", {"kind": "persons", "delta": "1"}).status_code
        == 404
    )
    assert posts.shift_counts(shift)["persons"] == 0


def test_checking_in_too_early_says_when(free, supervisor, auxiliary, beida):
    post = posts.post_create(
        actor=supervisor, data=posts.PostInput(node=beida, name="晚班卡点", kind="road")
    )
    later = posts.shift_plan(
        actor=supervisor,
        post=post,
        starts=now() + 3 * HOUR,
        ends=now() + 5 * HOUR,
        staff=[auxiliary],
    )
    client = login(auxiliary)
    page = client.get(f"/shifts/{later.pk}/").content.decode()
    assert "You can check in from" in page and 'id="take"' not in page
    r = client.post(f"/shifts/{later.pk}/take/")
    assert r.status_code == 409
    later.refresh_from_db()
    assert later.taken_at is None
