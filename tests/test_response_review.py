"""What a review of the response apps (tips, linkage, enforcement) found, pinned down: who may
read enforcement records through the audit, what the public tip form accepts and from whom,
times that cannot be backdated, merged tips, reads that must reach the access log, and who may
answer a support request."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from fangyi.core.models import AccessLog, AuditEntry
from fangyi.people.models import Person
from tests.conftest import english_login as login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def public(ip: str, **headers) -> Client:
    """A resident's browser (no account), reading the answers in English."""
    from django.conf import settings

    client = Client(REMOTE_ADDR=ip, **headers)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def post_json(client, path, body=None, **extra):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json", **extra)


# --- 1. enforcement records stay out of the audit of those who may not read them -------------


def _enforcement_record(officer, jiwu_person: Person) -> int:
    response = post_json(
        login(officer),
        "/api/enforcement-records",
        {
            "person_id": jiwu_person.pk,
            "measure": "education",
            "facts": "SECRETFACTS the organiser said he drank",
            "statements": "SECRETSTATEMENT",
            "described_people": "SECRETDESC",
            "person_ids": [jiwu_person.pk],
        },
    )
    assert response.status_code == 201, response.content
    record_id = response.json()["id"]
    # The officer reads it once, so the access log holds a row about it too.
    assert login(officer).get(f"/api/enforcement-records/{record_id}").status_code == 200
    return record_id


def test_the_administrator_does_not_read_enforcement_records_through_the_audit(
    officer, admin, supervisor, grid_worker, jiwu_person
):
    record_id = _enforcement_record(officer, jiwu_person)
    assert AuditEntry.objects.filter(object_type="enforcementrecord", object_id=record_id)
    assert AccessLog.objects.filter(object_type="enforcementrecord", object_id=record_id)
    a = login(admin)
    page = a.get("/audit/").content.decode()
    assert "SECRETFACTS" not in page and "SECRETSTATEMENT" not in page
    api = a.get("/api/audit?action=fangyi.enforcement&limit=500").json()
    assert api["items"] == []
    everything = a.get("/api/audit?limit=500").json()["items"]
    assert not [e for e in everything if e["object_type"] == "enforcementrecord"]
    assert "SECRETDESC" not in json.dumps(everything)
    reads = a.get("/api/access-log?limit=500").json()["items"]
    assert not [r for r in reads if r["object_type"].startswith("enforcement")]
    assert "enforcement" not in a.get("/audit/?tab=reads").content.decode().lower()
    # Nor through the history of the person the record is about, for those who read it.
    history = login(grid_worker).get(f"/api/persons/{jiwu_person.pk}/history")
    assert history.status_code == 200
    assert "enforcement" not in history.content.decode()
    for page in (f"/people/{jiwu_person.pk}/", f"/people/{jiwu_person.pk}/history/"):
        response = login(grid_worker).get(page)
        assert response.status_code == 200
        assert "SECRET" not in response.content.decode()
    # A supervisor (who may read enforcement records) still sees their trail and their reads.
    s = login(supervisor)
    theirs = s.get("/api/audit?action=fangyi.enforcement&limit=500").json()["items"]
    assert record_id in [e["object_id"] for e in theirs]
    reads = s.get("/api/access-log?limit=500").json()["items"]
    assert [r for r in reads if r["object_type"] == "enforcementrecord"]


# --- 2. the public report API answers this site's page only -------------------------------------


def _report(jiwu) -> dict:
    return {"category": "gathering", "description": "fake gathering", "node_id": jiwu.pk}


def test_a_report_sent_as_text_plain_is_refused_and_stores_nothing(jiwu):
    from fangyi.tips.models import Tip

    before = Tip.objects.count()
    client = public("198.51.100.50")
    body = json.dumps(_report(jiwu))
    response = client.post("/api/public/tips", data=body, content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Send the report as JSON")
    form = client.post("/api/public/tips", data=_report(jiwu))  # form-encoded
    assert form.status_code == 415
    assert Tip.objects.count() == before


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "http://testserver"},
    ],
)
def test_a_report_another_site_makes_is_refused(jiwu, headers):
    from fangyi.tips.models import Tip

    before = Tip.objects.count()
    response = post_json(public("198.51.100.51", **headers), "/api/public/tips", _report(jiwu))
    assert response.status_code == 403
    assert "other sites" in response.json()["detail"]
    assert Tip.objects.count() == before


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a script, an app: no Origin
        {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
        {"HTTP_ORIGIN": "https://report.example.org"},  # a trusted origin
        {"HTTP_ORIGIN": "https://m.example.net"},  # a trusted wildcard
    ],
)
def test_this_sites_page_and_apps_still_report(jiwu, settings, headers):
    from fangyi.tips.models import Tip

    settings.CSRF_TRUSTED_ORIGINS = ["https://report.example.org", "https://*.example.net"]
    response = post_json(public("198.51.100.52", **headers), "/api/public/tips", _report(jiwu))
    assert response.status_code == 201, response.content
    assert Tip.objects.filter(code=response.json()["code"]).exists()


# --- 3. the public rate limit counts an IPv6 home (its /64) as one sender ----------------------


@override_settings(FANGYI_TIPS_PER_ADDRESS=3, FANGYI_TIPS_WINDOW_SECONDS=600)
def test_a_new_ipv6_address_in_the_same_64_is_the_same_sender(jiwu):
    def report(ip: str) -> int:
        return post_json(public(ip), "/api/public/tips", _report(jiwu)).status_code

    codes = [report(f"2001:db8:1:2::{i:x}") for i in range(1, 6)]
    assert codes == [201, 201, 201, 429, 429]
    # Another /64 is another home; an IPv4 address counts by itself.
    assert report("2001:db8:1:3::1") == 201
    assert [report("198.51.100.7") for _ in range(4)] == [201, 201, 201, 429]
    assert report("198.51.100.8") == 201


def test_the_sender_key_of_addresses():
    from fangyi.tips.services import sender_of

    assert sender_of("2001:db8:1:2::1") == sender_of("2001:db8:1:2:ffff:1:2:3")
    assert sender_of("2001:db8:1:2::1") != sender_of("2001:db8:1:3::1")
    assert sender_of("::ffff:198.51.100.7") == sender_of("198.51.100.7")
    assert sender_of("198.51.100.7") != sender_of("198.51.100.8")
    assert sender_of("") == sender_of(None) == ""


# --- 4. a merge does not cross into another jurisdiction through a merged tip ------------------


def _public_tip(node_name: str, category: str = "poultry", *, ip: str = ""):
    from fangyi.core.models import Node
    from fangyi.tips import services as ts
    from fangyi.tips.models import TipCategory

    return ts.tip_submit_public(
        data=ts.TipInput(
            category=TipCategory.objects.get(code=category),
            description="鸡在楼道",
            node=Node.objects.get(name=node_name),
        ),
        ip=ip or str(uuid.uuid4()),
    )


def test_merging_into_a_duplicate_whose_main_tip_is_out_of_scope_is_refused(officer):
    from fangyi.core.models import Node, User
    from fangyi.tips import services as ts

    district = User.objects.create(username="district_sup", role="supervisor")
    district.nodes.add(Node.objects.get(name="西乡塘区"))
    duplicate, elsewhere, mine = (
        _public_tip("机务小区"),
        _public_tip("北湖小区"),
        _public_tip("机务小区"),
    )
    ts.tip_merge(actor=district, tip=duplicate, into=elsewhere)
    c = login(officer)
    assert c.get(f"/tips/{elsewhere.pk}/").status_code == 404  # not the officer's
    response = post_json(c, f"/api/tips/{mine.pk}/merge", {"into_id": duplicate.pk})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "into"
    assert elsewhere.code not in response.content.decode()
    page = c.post(f"/tips/{mine.pk}/merge/", {"into": duplicate.pk}, follow=True)
    assert elsewhere.code not in page.content.decode()
    mine.refresh_from_db()
    assert mine.duplicate_of_id is None and mine.status != "resolved"


# --- 5. times a device sends cannot be backdated before the step they follow -----------------


def _support_request(grid_worker, jiwu_household, *, hours_ago: float = 1):
    from fangyi.linkage.models import SupportRequest

    made = post_json(
        login(grid_worker),
        "/api/support-requests",
        {"agency": "police", "need": "协助劝返", "household_id": jiwu_household.pk},
    )
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    earlier = timezone.now() - dt.timedelta(hours=hours_ago)
    SupportRequest.objects.filter(pk=rid).update(created_at=earlier)
    return rid


def _ago(minutes: float) -> str:
    return (timezone.now() - dt.timedelta(minutes=minutes)).isoformat()


def test_a_support_request_is_not_marked_arrived_before_it_was_accepted(
    grid_worker, officer, jiwu_household
):
    from fangyi.linkage.models import SupportRequest

    rid = _support_request(grid_worker, jiwu_household)
    police = login(officer)
    assert post_json(police, f"/api/support-requests/{rid}/accept").status_code == 200
    SupportRequest.objects.filter(pk=rid).update(
        accepted_at=timezone.now() - dt.timedelta(minutes=30)
    )
    early = post_json(police, f"/api/support-requests/{rid}/arrive", {"at": _ago(50)})
    assert early.status_code == 400
    assert early.json()["errors"] == [
        {"field": "at", "message": "This time is before the request was accepted."}
    ]
    assert SupportRequest.objects.get(pk=rid).status == "accepted"
    future = post_json(police, f"/api/support-requests/{rid}/arrive", {"at": _ago(-3)})
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "at"
    arrived = post_json(police, f"/api/support-requests/{rid}/arrive", {"at": _ago(20)})
    assert arrived.status_code == 200, arrived.content
    done_early = post_json(
        police, f"/api/support-requests/{rid}/done", {"outcome": "已劝返", "at": _ago(25)}
    )
    assert done_early.status_code == 400
    assert done_early.json()["errors"] == [
        {"field": "at", "message": "This time is before the arrival."}
    ]
    sr = SupportRequest.objects.get(pk=rid)
    assert sr.status == "arrived" and sr.done_at is None
    done = post_json(
        police, f"/api/support-requests/{rid}/done", {"outcome": "已劝返", "at": _ago(10)}
    )
    assert done.status_code == 200
    sr.refresh_from_db()
    assert sr.accepted_at <= sr.arrived_at <= sr.done_at


def test_a_tip_is_not_on_scene_before_it_was_accepted_nor_visited_before_it_came(officer):
    from fangyi.tips.models import Tip, TipVisit

    tip = _public_tip("南铁北四区", "gathering")
    Tip.objects.filter(pk=tip.pk).update(received_at=timezone.now() - dt.timedelta(hours=2))
    c = login(officer)
    assert post_json(c, f"/api/tips/{tip.pk}/accept").status_code == 200
    early = post_json(c, f"/api/tips/{tip.pk}/on-scene", {"at": _ago(110)})
    assert early.status_code == 400
    assert early.json()["errors"] == [
        {"field": "at", "message": "This is before the tip was accepted."}
    ]
    tip.refresh_from_db()
    assert tip.status == "accepted" and tip.on_scene_at is None
    future = post_json(c, f"/api/tips/{tip.pk}/on-scene", {"at": _ago(-3)})
    assert future.status_code == 400 and future.json()["errors"][0]["field"] == "at"
    assert post_json(c, f"/api/tips/{tip.pk}/on-scene", {"at": _ago(-1)}).status_code == 200
    tip.refresh_from_db()
    assert tip.on_scene_at >= tip.accepted_at
    # A visit 4 minutes before the tip came is refused (the old tolerance let 5 through).
    before = (tip.received_at - dt.timedelta(minutes=4)).isoformat()
    visit = post_json(
        c, f"/api/tips/{tip.pk}/visits", {"at": before, "found": "无人", "actions": []}
    )
    assert visit.status_code == 400
    assert visit.json()["errors"][0]["field"] == "at"
    assert not TipVisit.objects.filter(tip=tip).exists()


# --- 6. a merged duplicate is answered and closed through its main tip ---------------------------


def test_a_merged_duplicate_cannot_be_answered_or_closed(officer):
    from fangyi.tips.models import Tip

    main, duplicate = _public_tip("机务小区"), _public_tip("机务小区")
    c = login(officer)
    assert post_json(c, f"/api/tips/{duplicate.pk}/merge", {"into_id": main.pk}).status_code == 200
    for path, body in (("answer", {"answer": "已处理"}), ("close", {})):
        response = post_json(c, f"/api/tips/{duplicate.pk}/{path}", body)
        assert response.status_code == 409, (path, response.content)
        assert response.json()["errors"][0]["field"] == "status"
        assert response.json()["detail"].startswith("Answer the main tip")
    stored = Tip.objects.get(pk=duplicate.pk)
    assert stored.status == "resolved" and stored.answer == "" and stored.closed_at is None
    # The page says the same.
    page = c.post(f"/tips/{duplicate.pk}/answer/", {"answer": "已处理"}, follow=True)
    assert "Answer the main tip" in page.content.decode()
    assert Tip.objects.get(pk=duplicate.pk).answer == ""


# --- 7. reads of tips reach the access log ----------------------------------------------------


def test_reading_a_tips_visits_through_the_api_is_logged(officer):
    from fangyi.tips.models import Tip

    tip = Tip.objects.filter(node__name="机务小区").first()
    before = AccessLog.objects.filter(user=officer, object_type="tip", object_id=tip.pk).count()
    assert login(officer).get(f"/api/tips/{tip.pk}/visits").status_code == 200
    rows = AccessLog.objects.filter(user=officer, object_type="tip", object_id=tip.pk)
    assert rows.count() == before + 1
    assert rows.order_by("-id").first().via == "api"


def test_the_open311_list_logs_every_tip_it_shows_in_one_insert(officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    before = AccessLog.objects.filter(user=officer, via="open311").count()
    with CaptureQueriesContext(connection) as queries:
        response = login(officer).get("/api/open311/v2/requests.json")
    assert response.status_code == 200
    shown = response.json()
    assert shown and any(r["description"] for r in shown)
    rows = AccessLog.objects.filter(user=officer, via="open311").order_by("-id")[: len(shown)]
    assert AccessLog.objects.filter(user=officer, via="open311").count() == before + len(shown)
    from fangyi.tips.models import Tip

    codes = set(
        Tip.objects.filter(pk__in=[r.object_id for r in rows]).values_list("code", flat=True)
    )
    assert codes == {r["service_request_id"] for r in shown}
    inserts = [
        q
        for q in queries.captured_queries
        if "core_accesslog" in q["sql"].lower() and q["sql"].lstrip().upper().startswith("INSERT")
    ]
    assert len(inserts) == 1


# --- 8. help is asked of someone else: the requester does not answer his own request ----------


def _ask(user, household, agency="police") -> int:
    made = post_json(
        login(user),
        "/api/support-requests",
        {"agency": agency, "need": "协助", "urgency": "urgent", "household_id": household.pk},
    )
    assert made.status_code == 201, made.content
    return made.json()["id"]


def test_the_requester_cannot_accept_or_mark_arrived_his_own_request(
    officer, auxiliary, supervisor, jiwu_household
):
    from fangyi.linkage.models import SupportRequest

    rid = _ask(officer, jiwu_household)
    mine = login(officer)
    accepted = post_json(mine, f"/api/support-requests/{rid}/accept")
    assert accepted.status_code == 403
    assert accepted.json()["detail"] == "You cannot answer your own request."
    assert SupportRequest.objects.get(pk=rid).status == "open"
    page = mine.post(f"/support/{rid}/accept/")
    assert "You cannot answer your own request." in page.content.decode()
    assert SupportRequest.objects.get(pk=rid).accepted_by_id is None
    # Another officer accepts; the requester still does not mark it arrived.
    assert post_json(login(auxiliary), f"/api/support-requests/{rid}/accept").status_code == 200
    arrived = post_json(mine, f"/api/support-requests/{rid}/arrive")
    assert arrived.status_code == 403
    assert arrived.json()["detail"] == "You cannot answer your own request."
    sr = SupportRequest.objects.get(pk=rid)
    assert sr.status == "accepted" and sr.arrived_at is None
    # A supervisor may answer a request he made himself, for his area.
    own = _ask(supervisor, jiwu_household)
    assert post_json(login(supervisor), f"/api/support-requests/{own}/accept").status_code == 200


@pytest.mark.parametrize(
    "agency, wrong_role, message",
    [
        ("police", "health", "This request is addressed to the police."),
        ("health", "officer", "This request is addressed to health staff."),
        ("community", "health", "This request is addressed to community staff."),
    ],
)
def test_the_refusal_names_the_agency_in_words_that_read_right(
    request, grid_worker, officer, jiwu_household, agency, wrong_role, message
):
    rid = _ask(officer if agency != "police" else grid_worker, jiwu_household, agency)
    answer = post_json(
        login(request.getfixturevalue(wrong_role)), f"/api/support-requests/{rid}/accept"
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == message
