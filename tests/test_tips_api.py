"""The tips API: every operation of the "tips" tag, the public intake and tracking, bad input
naming its field, throttling, and what the public side never shows."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import django.test
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from fangyi.core.models import AccessLog
from fangyi.tips import services
from fangyi.tips.models import Tip, TipCategory, TipPhoto, TipVisit
from tests.conftest import english_login as login  # the assertions read English
from tests.test_api import call, field_names, schema_operations


class Client(django.test.Client):
    """A resident's or a city system's client, reading messages in English (the source
    language); the public pages and API default to Chinese."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    """Photos go to this test's own directory: what is left there is this test's."""
    settings.DATA_DIR = tmp_path


MISSING = 987_654_321


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 20), (10, 120, 10)).save(buf, format="PNG")
    return buf.getvalue()


def photo_files() -> set[Path]:
    root = Path(settings.DATA_DIR) / "photos"
    return set(root.rglob("*.*")) if root.exists() else set()


def post_public(client, body, ip="192.0.2.80"):
    return client.post(
        "/api/public/tips", json.dumps(body), content_type="application/json", REMOTE_ADDR=ip
    )


POULTRY = {"category": "poultry", "description": "3栋后散养鸡", "address": "机务小区3栋"}


def test_every_tips_operation_answers(community_staff, officer, admin, jiwu):
    seen: set[tuple[str, str]] = set()
    anon, cs, po = Client(), login(community_staff), login(officer)

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    cats = c(anon, "GET", "/api/public/tip-categories")
    assert "poultry" in [x["code"] for x in cats]
    done = c(
        anon,
        "POST",
        "/api/public/tips",
        201,
        {**POULTRY, "answers": {"kind": "鸡"}, "reporter_name": "陈女士"},
    )
    assert done["track_url"] == f"/track/{done['code']}/" and done["status"] == "assigned"
    public = c(anon, "GET", "/api/public/tips/{code}", code=done["code"])
    assert public["place"] == "机务小区" and "陈女士" not in json.dumps(public, ensure_ascii=False)

    tip = Tip.objects.get(code=done["code"])
    listed = c(cs, "GET", "/api/tips", params={"status": "open", "category": "poultry"})
    assert tip.pk in [t["id"] for t in listed["items"]]
    second = c(
        po,
        "POST",
        "/api/tips",
        201,
        {"category": "poultry", "description": "又见散养鸡", "node_id": jiwu.pk},
    )
    assert second["source"] == "phone" and second["node_name"] == "机务小区"
    got = c(cs, "GET", "/api/tips/{tip_id}", tip_id=tip.pk)
    assert got["reporter_name"] == "陈女士" and officer.pk in got["assignee_ids"]
    # The buttons the page shows, for a program: the assignee may accept; nothing to reopen.
    steps = c(po, "GET", "/api/tips/{tip_id}/steps", tip_id=tip.pk)
    assert steps["status"] == "assigned" and "accept" in steps["allowed_steps"]
    assert "reopen" not in steps["allowed_steps"] and "answer" not in steps["allowed_steps"]
    dups = c(cs, "GET", "/api/tips/{tip_id}/duplicates", tip_id=second["id"])
    assert tip.pk in [d["id"] for d in dups]

    t = "/api/tips/{tip_id}"
    assigned = c(cs, "POST", t + "/assign", body={"user_ids": [community_staff.pk]}, tip_id=tip.pk)
    assert assigned["assignee_ids"] == [community_staff.pk]
    assert c(cs, "POST", t + "/accept", tip_id=tip.pk)["status"] == "accepted"
    assert c(cs, "POST", t + "/on-scene", body={}, tip_id=tip.pk)["status"] == "on_scene"
    visit = c(
        cs,
        "POST",
        t + "/visits",
        201,
        {"found": "有鸡", "actions": ["notices"], "notices": 3},
        tip_id=tip.pk,
    )
    assert visit["notices"] == 3 and visit["photos"] == []
    # with photos: multipart
    r = cs.post(
        f"/api/tips/{tip.pk}/visits",
        {
            "found": "再访",
            "actions": ["persuaded", "notices"],
            "photos": [SimpleUploadedFile("a.png", png(), content_type="image/png")],
        },
    )
    assert r.status_code == 201, r.content
    photo_id = r.json()["photos"][0]["id"]
    visits = c(cs, "GET", t + "/visits", tip_id=tip.pk)
    assert len(visits) == 2 and visits[1]["actions"] == ["persuaded", "notices"]
    response = cs.get(f"/api/tip-photos/{photo_id}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    seen.add(("GET", "/api/tip-photos/{photo_id}"))

    merged = c(po, "POST", t + "/merge", body={"into_id": tip.pk}, tip_id=second["id"])
    assert merged["duplicate_of_id"] == tip.pk and merged["resolution"] == "duplicate"
    resolved = c(cs, "POST", t + "/resolve", body={"resolution": "rectified"}, tip_id=tip.pk)
    assert resolved["status"] == "resolved"
    answered = c(cs, "POST", t + "/answer", body={"answer": "已整改"}, tip_id=tip.pk)
    assert answered["answer"] == "已整改"
    corrected = c(
        cs, "POST", t + "/answer/correct", body={"answer": "已整改,鸡已圈养"}, tip_id=tip.pk
    )
    assert corrected["answer"] == "已整改,鸡已圈养" and corrected["status"] == "answered"
    assert c(cs, "POST", t + "/close", tip_id=tip.pk)["status"] == "closed"
    again = c(cs, "POST", t + "/reopen", body={"note": "又散养"}, tip_id=tip.pk)
    assert again["status"] == "assigned" and again["reopened"] == 1

    staff_cats = c(cs, "GET", "/api/tip-categories")
    poultry = next(x for x in staff_cats if x["code"] == "poultry")
    body = {k: poultry[k] for k in ("name", "description", "route_roles", "urgent", "active")}
    body.update(questions=poultry["questions"], response_minutes=200, duplicate_hours=48)
    updated = c(
        login(admin),
        "PUT",
        "/api/tip-categories/{category_id}",
        body=body,
        category_id=poultry["id"],
    )
    assert updated["response_minutes"] == 200

    assert seen == schema_operations(cs, {"tips"})


# --- the public side -----------------------------------------------------------------------------


def test_public_tip_never_shows_personal_data(community_staff, officer):
    client = Client()
    done = post_public(
        client,
        {**POULTRY, "reporter_name": "陈女士", "reporter_phone": "13877112233"},
    ).json()
    tip = Tip.objects.get(code=done["code"])
    services.tip_accept(actor=community_staff, tip=tip)
    services.tip_visit_record(
        actor=community_staff, tip=tip, at=None, found="饲养户王五", actions=[], notes="私下"
    )
    services.tip_resolve(actor=community_staff, tip=tip, resolution="rectified", note="内部")
    services.tip_answer(actor=community_staff, tip=tip, answer="已整改")
    for response in (client.get(f"/api/public/tips/{tip.code}"), client.get(f"/track/{tip.code}/")):
        text = response.content.decode()
        if response["Content-Type"].startswith("application/json"):
            text = json.dumps(response.json(), ensure_ascii=False)
        assert response.status_code == 200 and "已整改" in text
        for secret in (
            "陈女士",
            "13877112233",
            "3栋后散养鸡",
            "王五",
            "私下",
            "内部",
            community_staff.display_name,
            officer.display_name,
        ):
            assert secret not in text, secret


def test_unknown_and_malformed_codes_answer_the_same_json():
    client = Client()
    a = client.get("/api/public/tips/ABCDEFGHJK")
    b = client.get("/api/public/tips/0O1")
    assert a.status_code == b.status_code == 404
    assert a.json() == b.json()


def test_public_tip_bad_input_names_the_field_and_stores_nothing():
    client = Client()
    before = Tip.objects.count()
    r = post_public(client, {**POULTRY, "category": "dragons"})
    assert r.status_code == 400 and field_names(r.json()) == {"category"}
    r = post_public(client, {**POULTRY, "description": "", "reporter_phone": "12"})
    assert r.status_code == 400 and field_names(r.json()) == {"description", "reporter_phone"}
    r = post_public(client, {**POULTRY, "address": "不知道哪里"})
    assert r.status_code == 400 and field_names(r.json()) == {"node"}
    r = post_public(client, {**POULTRY, "answers": {"kind": "龙"}})
    assert r.status_code == 400 and field_names(r.json()) == {"answers.kind"}
    r = post_public(client, {**POULTRY, "node_id": MISSING})
    assert r.status_code == 404 and field_names(r.json()) == {"node_id"}
    assert Tip.objects.count() == before


def test_public_api_honeypot_and_client_id():
    client = Client()
    before = Tip.objects.count()
    fake = post_public(client, {**POULTRY, "website": "http://x.example"})
    assert fake.status_code == 201 and services.CODE_RE.match(fake.json()["code"])
    assert Tip.objects.count() == before
    cid = str(uuid.uuid4())
    a = post_public(client, {**POULTRY, "client_id": cid}).json()
    b = post_public(client, {**POULTRY, "client_id": cid}).json()
    assert a["code"] == b["code"] and Tip.objects.count() == before + 1


def test_two_hundred_tips_a_minute_through_the_api():
    client = Client()
    limit = settings.FANGYI_TIPS_PER_ADDRESS
    before = Tip.objects.count()
    codes = [post_public(client, POULTRY, ip="192.0.2.99").status_code for _ in range(200)]
    assert codes.count(201) == limit and codes[:limit] == [201] * limit
    assert set(codes[limit:]) == {429}
    assert Tip.objects.count() - before == limit
    last = post_public(client, POULTRY, ip="192.0.2.99").json()
    assert "Too many reports" in last["detail"]


@override_settings(FANGYI_TIPS_PER_ADDRESS=2, FANGYI_TIPS_WINDOW_SECONDS=60)
def test_the_limit_comes_from_the_settings():
    client = Client()
    codes = [post_public(client, POULTRY, ip="192.0.2.98").status_code for _ in range(4)]
    assert codes == [201, 201, 429, 429]


# --- staff bad input -----------------------------------------------------------------------------


@pytest.fixture
def tip(jiwu) -> Tip:
    return services.tip_submit_public(
        data=services.TipInput(
            category=TipCategory.objects.get(code="poultry"), description="散养鸡", node=jiwu
        ),
        ip="198.51.100.77",
    )


@override_settings(FANGYI_PHOTO_MAX_BYTES=3000)
@pytest.mark.parametrize(
    "data,name",
    [(png() + b"\0" * 4000, "big.png"), (b"%PDF-1.4 not a photo", "x.png")],
    ids=["oversized", "not-an-image"],
)
def test_bad_photos_through_the_api(tip, community_staff, data, name):
    before, visits = photo_files(), TipVisit.objects.count()
    r = login(community_staff).post(
        f"/api/tips/{tip.pk}/visits",
        {
            "found": "有鸡",
            "photos": [
                SimpleUploadedFile("ok.png", png(), content_type="image/png"),
                SimpleUploadedFile(name, data, content_type="image/png"),
            ],
        },
    )
    assert r.status_code == 400 and field_names(r.json()) == {"photos"}
    assert TipVisit.objects.count() == visits and not TipPhoto.objects.exists()
    assert photo_files() == before


def test_illegal_steps_through_the_api_are_409_on_status(tip, community_staff):
    client = login(community_staff)
    for step, body in (
        ("answer", {"answer": "太早"}),
        ("close", None),
        ("reopen", {"note": "x"}),
    ):
        r = client.post(
            f"/api/tips/{tip.pk}/{step}",
            json.dumps(body) if body else b"",
            content_type="application/json",
        )
        assert r.status_code == 409, (step, r.content)
        assert field_names(r.json()) == {"status"}
    r = client.post(
        f"/api/tips/{tip.pk}/resolve",
        {"resolution": "duplicate"},
        content_type="application/json",
    )
    assert r.status_code == 400 and field_names(r.json()) == {"resolution"}


def test_visit_json_errors_name_their_fields(tip, community_staff):
    client = login(community_staff)
    r = client.post(
        f"/api/tips/{tip.pk}/visits",
        {"found": "", "actions": ["fly"], "people": -3},
        content_type="application/json",
    )
    assert r.status_code == 400 and field_names(r.json()) == {"found", "actions", "people"}
    r = client.post(f"/api/tips/{tip.pk}/visits", {"actions": []}, content_type="application/json")
    assert r.status_code == 422 and field_names(r.json()) == {"found"}
    assert not TipVisit.objects.filter(tip=tip).exists()


def test_other_jurisdiction_is_not_found(tip, outsider):
    client = login(outsider)
    logged = AccessLog.objects.count()
    a, b = client.get(f"/api/tips/{tip.pk}"), client.get(f"/api/tips/{MISSING}")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    r = client.post(f"/api/tips/{tip.pk}/close", b"", content_type="application/json")
    assert r.status_code == 404
    assert AccessLog.objects.count() == logged
    assert (
        client.get("/api/tips").json()["count"] == Tip.objects.filter(node__name="北湖小区").count()
    )


def test_a_read_through_the_api_is_logged(tip, community_staff):
    logged = AccessLog.objects.count()
    login(community_staff).get(f"/api/tips/{tip.pk}")
    entry = AccessLog.objects.latest("id")
    assert AccessLog.objects.count() == logged + 1 and entry.via == "api"
