"""Tips and complaints: routing, every step of the lifecycle and the illegal ones, visits with
photos, merging duplicates, the public report and tracking pages, the staff pages."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path

import django.test
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AccessLog, AuditEntry, User
from fangyi.tips import selectors, services
from fangyi.tips.models import (
    Resolution,
    Tip,
    TipCategory,
    TipEvent,
    TipPhoto,
    TipStatus,
    TipVisit,
)
from tests.conftest import english_login as login  # the assertions read English


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
SCRIPT = "<script>alert('x')</script>"


def png(size=(40, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def upload(name="p.png", data=None, content_type="image/png"):
    return SimpleUploadedFile(name, png() if data is None else data, content_type=content_type)


def photo_files() -> set[Path]:
    root = Path(settings.DATA_DIR) / "photos"
    return set(root.rglob("*.*")) if root.exists() else set()


def cat(code: str) -> TipCategory:
    return TipCategory.objects.get(code=code)


def public_tip(node, *, code="poultry", description="3栋后面有人散养鸡", ip="198.51.100.1", **kw):
    return services.tip_submit_public(
        data=services.TipInput(category=cat(code), description=description, node=node, **kw),
        ip=ip,
    )


@pytest.fixture
def tip(jiwu) -> Tip:
    return public_tip(jiwu, reporter_name="陈女士", reporter_phone="13877112233")


def fields(exc: DomainError) -> set[str]:
    return set(exc.errors)


# --- routing --------------------------------------------------------------------------------


def test_poultry_goes_to_community_staff_and_police(tip, community_staff, officer):
    assert tip.status == TipStatus.ASSIGNED
    assert set(tip.assignees.all()) == {community_staff, officer}
    assert tip.due_at == tip.received_at + dt.timedelta(minutes=cat("poultry").response_minutes)
    statuses = list(tip.events.values_list("status", "public"))
    assert statuses == [(TipStatus.NEW, True), (TipStatus.ASSIGNED, True)]


def test_a_gathering_goes_to_the_police_at_once(nantie4, officer):
    t = public_tip(nantie4, code="gathering", description="7栋聚餐")
    assert t.urgent
    assert officer in t.assignees.all()
    assert t.due_at - t.received_at == dt.timedelta(minutes=15)


# --- the lifecycle --------------------------------------------------------------------------


def test_the_whole_way_with_events_audit_and_times(tip, community_staff, officer):
    audits = AuditEntry.objects.count()
    services.tip_accept(actor=community_staff, tip=tip)
    assert tip.status == TipStatus.ACCEPTED and tip.accepted_at
    services.tip_on_scene(actor=community_staff, tip=tip)
    assert tip.status == TipStatus.ON_SCENE and tip.on_scene_at
    visit = services.tip_visit_record(
        actor=community_staff,
        tip=tip,
        at=timezone.now(),
        found="散养鸡12只",
        actions=["persuaded", "notices"],
        people=2,
        notices=3,
    )
    assert visit.pk and tip.status == TipStatus.IN_PROGRESS
    services.tip_visit_record(
        actor=officer, tip=tip, at=None, found="再次上门", actions=["notices"], notices=2
    )
    assert tip.visits.count() == 2 and tip.status == TipStatus.IN_PROGRESS
    services.tip_resolve(actor=officer, tip=tip, resolution=Resolution.RECTIFIED, note="已圈养")
    assert tip.status == TipStatus.RESOLVED and tip.resolved_at
    services.tip_answer(actor=community_staff, tip=tip, answer="已整改,谢谢反映")
    assert tip.status == TipStatus.ANSWERED and tip.answered_at and tip.answer
    services.tip_close(actor=community_staff, tip=tip)
    tip.refresh_from_db()
    assert tip.status == TipStatus.CLOSED and tip.closed_at
    public = [s for s, p in tip.events.values_list("status", "public") if p]
    assert public == [
        "new",
        "assigned",
        "accepted",
        "on_scene",
        "in_progress",
        "resolved",
        "answered",
        "closed",
    ]
    notes = list(tip.events.filter(public=False).values_list("note", flat=True))
    assert "已圈养" in notes  # the staff note is not public
    actions = set(
        AuditEntry.objects.filter(object_id=tip.pk, action__startswith="fangyi.tip.").values_list(
            "action", flat=True
        )
    )
    assert {
        "fangyi.tip.accept",
        "fangyi.tip.on_scene",
        "fangyi.tip.visit",
        "fangyi.tip.resolve",
        "fangyi.tip.answer",
        "fangyi.tip.close",
    } <= actions
    assert AuditEntry.objects.count() - audits == 7


@pytest.mark.parametrize(
    "step",
    [
        lambda t, u: services.tip_answer(actor=u, tip=t, answer="太早"),
        lambda t, u: services.tip_close(actor=u, tip=t),
        lambda t, u: services.tip_reopen(actor=u, tip=t, note="again"),
    ],
    ids=["answer-before-resolved", "close-while-open", "reopen-while-open"],
)
def test_steps_out_of_order_are_a_conflict_on_status(tip, community_staff, step):
    before = tip.events.count()
    with pytest.raises(Conflict) as exc:
        step(tip, community_staff)
    assert fields(exc.value) == {"status"}
    tip.refresh_from_db()
    assert tip.status == TipStatus.ASSIGNED and tip.events.count() == before


def test_no_accept_twice_nor_visit_on_a_closed_tip(tip, community_staff):
    services.tip_accept(actor=community_staff, tip=tip)
    with pytest.raises(Conflict):
        services.tip_accept(actor=community_staff, tip=tip)
    services.tip_resolve(actor=community_staff, tip=tip, resolution="unfounded")
    with pytest.raises(Conflict):
        services.tip_resolve(actor=community_staff, tip=tip, resolution="unfounded")
    with pytest.raises(Conflict) as exc:
        services.tip_visit_record(actor=community_staff, tip=tip, at=None, found="x", actions=[])
    assert fields(exc.value) == {"status"}
    with pytest.raises(Conflict):
        services.tip_on_scene(actor=community_staff, tip=tip)


def test_duplicate_is_not_a_resolution_merge_instead(tip, community_staff):
    with pytest.raises(DomainError) as exc:
        services.tip_resolve(actor=community_staff, tip=tip, resolution=Resolution.DUPLICATE)
    assert fields(exc.value) == {"resolution"}
    with pytest.raises(DomainError) as exc:
        services.tip_resolve(actor=community_staff, tip=tip, resolution="done")
    assert fields(exc.value) == {"resolution"}


def test_only_assignees_or_managers_work_the_tip(tip, grid_worker, supervisor, auxiliary):
    with pytest.raises(Forbidden):
        services.tip_accept(actor=grid_worker, tip=tip)
    with pytest.raises(Forbidden):
        services.tip_resolve(actor=auxiliary, tip=tip, resolution="warned")
    services.tip_accept(actor=supervisor, tip=tip)
    assert supervisor in tip.assignees.all()


def test_a_tip_outside_the_jurisdiction_is_not_found(beihu_compound, officer, outsider):
    t = public_tip(beihu_compound, ip="198.51.100.9")
    for step in (
        lambda: services.tip_accept(actor=officer, tip=t),
        lambda: services.tip_close(actor=officer, tip=t),
        lambda: services.tip_visit_record(actor=officer, tip=t, at=None, found="x", actions=[]),
    ):
        with pytest.raises(NotFound):
            step()
    with pytest.raises(NotFound):
        selectors.tip_get(officer, t.pk)
    assert selectors.tip_get(outsider, t.pk) == t


def test_assign_only_to_field_users_who_hold_the_place(tip, officer, grid_worker, outsider, health):
    with pytest.raises(NotFound) as exc:
        services.tip_assign(actor=officer, tip=tip, users=[outsider])
    assert fields(exc.value) == {"users"}
    with pytest.raises(DomainError) as exc:
        services.tip_assign(actor=officer, tip=tip, users=[])
    assert fields(exc.value) == {"users"}
    with pytest.raises(Forbidden):
        services.tip_assign(actor=grid_worker, tip=tip, users=[grid_worker])
    services.tip_assign(actor=officer, tip=tip, users=[grid_worker, health])
    assert set(tip.assignees.all()) == {grid_worker, health}
    inactive = User.objects.create(username="gone", role="grid_worker", is_active=False)
    inactive.nodes.set([tip.node])
    with pytest.raises(NotFound):
        services.tip_assign(actor=officer, tip=tip, users=[inactive])


def test_reopen_keeps_the_history_and_visits_go_on(tip, community_staff):
    services.tip_accept(actor=community_staff, tip=tip)
    services.tip_resolve(actor=community_staff, tip=tip, resolution="rectified")
    services.tip_answer(actor=community_staff, tip=tip, answer="已整改")
    services.tip_close(actor=community_staff, tip=tip)
    events = tip.events.count()
    with pytest.raises(DomainError) as exc:
        services.tip_reopen(actor=community_staff, tip=tip, note="")
    assert fields(exc.value) == {"note"}
    services.tip_reopen(actor=community_staff, tip=tip, note="又散养了")
    tip.refresh_from_db()
    assert tip.status == TipStatus.ASSIGNED and tip.reopened == 1
    assert tip.answer == "" and tip.resolution == "" and tip.closed_at is None
    assert tip.events.count() == events + 2
    assert tip.events.filter(status=TipStatus.CLOSED).exists()  # history kept
    services.tip_visit_record(actor=community_staff, tip=tip, at=None, found="又见", actions=[])
    assert tip.status == TipStatus.IN_PROGRESS


def test_reopen_without_assignees_is_new(jiwu, community_staff):
    t = public_tip(jiwu, code="other", description="其他")
    t.assignees.clear()
    services.tip_resolve(actor=community_staff, tip=t, resolution="unfounded")
    services.tip_reopen(actor=community_staff, tip=t, note="再来")
    assert t.status == TipStatus.NEW


# --- visits --------------------------------------------------------------------------------


def test_a_visit_with_photos(tip, community_staff):
    before = photo_files()
    visit = services.tip_visit_record(
        actor=community_staff,
        tip=tip,
        at=None,
        found="有鸡",
        actions=["penned"],
        photos=[upload(), upload("b.png")],
    )
    assert visit.photos.count() == 2
    assert len(photo_files() - before) == 2


@pytest.mark.parametrize(
    "bad",
    [
        lambda: upload("big.png", data=png((400, 400)) + b"\0" * 5000),
        lambda: upload("note.png", data=b"not an image at all", content_type="image/png"),
        lambda: upload("page.html", data=b"<html></html>", content_type="text/html"),
    ],
    ids=["oversized", "not-an-image", "html"],
)
@override_settings(FANGYI_PHOTO_MAX_BYTES=4000)
def test_bad_photos_refused_and_nothing_stored(tip, community_staff, bad):
    before, visits, events = photo_files(), TipVisit.objects.count(), tip.events.count()
    with pytest.raises(DomainError) as exc:
        services.tip_visit_record(
            actor=community_staff,
            tip=tip,
            at=None,
            found="有鸡",
            actions=[],
            photos=[upload(), bad()],
        )
    assert fields(exc.value) == {"photos"}
    assert TipVisit.objects.count() == visits and TipPhoto.objects.count() == 0
    assert photo_files() == before
    tip.refresh_from_db()
    assert tip.status == TipStatus.ASSIGNED and tip.events.count() == events


def test_visit_bad_fields_each_named(tip, community_staff):
    with pytest.raises(DomainError) as exc:
        services.tip_visit_record(
            actor=community_staff,
            tip=tip,
            at=timezone.now() + dt.timedelta(hours=2),
            found="",
            actions=["fly"],
            people=-1,
            notices="many",
        )
    assert fields(exc.value) == {"at", "found", "actions", "people", "notices"}
    assert not TipVisit.objects.filter(tip=tip).exists()


def test_visit_client_id_twice_stores_one(tip, community_staff, jiwu):
    cid = uuid.uuid4()
    a = services.tip_visit_record(
        actor=community_staff, tip=tip, at=None, found="x", actions=[], client_id=cid
    )
    b = services.tip_visit_record(
        actor=community_staff, tip=tip, at=None, found="x", actions=[], client_id=cid
    )
    assert a.pk == b.pk and TipVisit.objects.filter(tip=tip).count() == 1
    other = public_tip(jiwu, description="另一处", ip="198.51.100.3")
    with pytest.raises(Conflict) as exc:
        services.tip_visit_record(
            actor=community_staff, tip=other, at=None, found="x", actions=[], client_id=cid
        )
    assert fields(exc.value) == {"client_id"}


# --- duplicates and merging ----------------------------------------------------------------


def test_duplicates_suggested_and_merged(tip, jiwu, community_staff, officer):
    second = public_tip(jiwu, description="又看到鸡", ip="198.51.100.2")
    assert tip in duplicates(second) and second in duplicates(tip)
    services.tip_accept(actor=community_staff, tip=tip)
    services.tip_merge(actor=community_staff, tip=second, into=tip)
    second.refresh_from_db()
    assert second.duplicate_of == tip and second.resolution == Resolution.DUPLICATE
    assert second.status == TipStatus.RESOLVED
    assert second not in duplicates(tip)
    view = selectors.public_view(second)
    assert view.merged and view.status == TipStatus.ACCEPTED and view.answer == ""
    services.tip_resolve(actor=community_staff, tip=tip, resolution="rectified")
    services.tip_answer(actor=community_staff, tip=tip, answer="已处理完毕")
    view = selectors.public_view(selectors.tip_public(second.code))
    assert view.status == TipStatus.ANSWERED and view.answer == "已处理完毕"
    with pytest.raises(Conflict):
        services.tip_reopen(actor=community_staff, tip=second, note="x")


def duplicates(t: Tip) -> list[Tip]:
    return list(services.duplicates_of(t))


def test_merge_refusals(tip, jiwu, beihu_compound, community_staff, grid_worker):
    other_cat = public_tip(jiwu, code="no_mask", description="不戴口罩", ip="198.51.100.4")
    with pytest.raises(DomainError) as exc:
        services.tip_merge(actor=community_staff, tip=other_cat, into=tip)
    assert fields(exc.value) == {"into"}
    with pytest.raises(DomainError) as exc:
        services.tip_merge(actor=community_staff, tip=tip, into=tip)
    assert fields(exc.value) == {"into"}
    far = public_tip(beihu_compound, ip="198.51.100.5")
    with pytest.raises(NotFound) as exc:
        services.tip_merge(actor=community_staff, tip=tip, into=far)
    assert fields(exc.value) == {"into"}
    with pytest.raises(Forbidden):
        services.tip_merge(actor=grid_worker, tip=other_cat, into=tip)
    assert Tip.objects.filter(duplicate_of__isnull=False).count() == 0


# --- throttling and the honeypot -----------------------------------------------------------


def report_post(client, category="poultry", **extra):
    data = {
        "category": category,
        "description": "3栋后有散养鸡",
        "node": "",
        "address": "机务小区3栋",
        "reporter_name": "",
        "reporter_phone": "",
        "website": "",
    }
    data.update(extra)
    return client.post("/report/", data, REMOTE_ADDR=extra.pop("ip", "192.0.2.50"))


def test_two_hundred_reports_in_a_minute_from_one_address(jiwu):
    client = Client()
    limit = settings.FANGYI_TIPS_PER_ADDRESS
    before = Tip.objects.count()
    codes = []
    for i in range(200):
        r = report_post(client, description=f"第{i}次举报 散养鸡")
        codes.append(r.status_code)
    assert codes[:limit] == [200] * limit
    assert set(codes[limit:]) == {429}
    assert Tip.objects.count() - before == limit
    last = r.content.decode()
    assert "Too many reports" in last or "太多" in last or "过多" in last
    assert "第199次举报 散养鸡" in last  # what was typed is kept
    # another address is not held back
    assert report_post(client, ip="192.0.2.51").status_code == 200


def test_the_honeypot_stores_nothing_and_looks_normal(jiwu):
    before = Tip.objects.count()
    r = report_post(Client(), website="http://spam.example")
    assert r.status_code == 200
    assert Tip.objects.count() == before
    code = r.context["code"]
    assert services.CODE_RE.match(code)
    assert Client().get(f"/track/{code}/").status_code == 404


# --- the public pages ----------------------------------------------------------------------


def test_report_page_offers_categories_then_questions():
    client = Client()
    page = client.get("/report/").content.decode()
    for c in services.categories_active():
        assert c.name in page and f"?category={c.code}" in page
    form = client.get("/report/?category=poultry").content.decode()
    assert "什么家禽" in form and 'value="鹅"' in form
    assert 'name="website"' in form and 'class="hp"' in form
    assert "机务小区" in form and "<optgroup" in form
    assert "北湖小区" in form  # every compound of the city, grouped by community


def test_a_resident_reports_and_tracks(jiwu):
    client = Client()
    r = report_post(
        client,
        node=str(jiwu.pk),
        address="",
        reporter_name="陈女士",
        reporter_phone="13877112233",
        **{"answers.kind": "鸭"},
    )
    assert r.status_code == 200
    tip = Tip.objects.latest("id")
    assert tip.node == jiwu and tip.answers == {"kind": "鸭"} and tip.reporter_name == "陈女士"
    assert tip.code in r.content.decode()
    page = client.get(f"/track/{tip.code}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert cat("poultry").name in text and "机务小区" in text
    for secret in ("陈女士", "13877112233", "3栋后有散养鸡", "徐", "李丽", "13877"):
        assert secret not in text
    # lower case and dashes are what people type
    typed = f"{tip.code[:5].lower()}-{tip.code[5:]}"
    assert client.get("/track/", {"code": typed})["Location"] == f"/track/{tip.code}/"


def test_report_errors_stay_next_to_their_fields(jiwu):
    client = Client()
    before = Tip.objects.count()
    r = report_post(client, description="", address="机务小区", reporter_name="陈")
    assert r.status_code == 400
    assert 'value="陈"' in r.content.decode()  # kept
    assert r.context["form"].errors.keys() == {"description"}
    r = report_post(client, address="", reporter_phone="12", **{"answers.kind": "龙"})
    assert r.status_code == 400
    assert set(r.context["form"].errors) == {"reporter_phone"}
    assert 'value="12"' in r.content.decode()
    assert [q["errors"] for q in r.context["questions"]][0]  # next to its question
    assert Tip.objects.count() == before


def test_unknown_and_malformed_codes_answer_the_same(tip):
    client = Client()
    unknown = client.get("/track/ABCDEFGHJK/")
    malformed = client.get("/track/0000/")
    typed_bad = client.get("/track/", {"code": "<b>x</b>"})
    assert unknown.status_code == malformed.status_code == typed_bad.status_code == 404
    texts = {page_text(r) for r in (unknown, malformed, typed_bad)}
    assert len(texts) == 1


def page_text(response) -> str:
    """The page without its own address (the language switch sends you back to it)."""
    import re

    text = response.content.decode().replace(response.wsgi_request.get_full_path(), "<path>")
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


def test_script_is_escaped_on_the_tracking_and_staff_pages(jiwu, community_staff):
    # The reporter's name differs from the answer: a name of the reporter in it is refused.
    name = SCRIPT.replace("'x'", "'r'")
    t = public_tip(jiwu, description=SCRIPT, reporter_name=name, ip="198.51.100.6")
    services.tip_accept(actor=community_staff, tip=t)
    services.tip_resolve(actor=community_staff, tip=t, resolution="rectified")
    services.tip_answer(actor=community_staff, tip=t, answer=SCRIPT)
    public = Client().get(f"/track/{t.code}/").content.decode()
    staff = login(community_staff).get(f"/tips/{t.pk}/").content.decode()
    listing = login(community_staff).get("/tips/?status=").content.decode()
    for text in (public, staff, listing):
        assert "<script>alert" not in text
    assert "&lt;script&gt;alert" in public  # the answer, escaped
    assert staff.count("&lt;script&gt;alert") >= 3


# --- the staff pages -----------------------------------------------------------------------


def test_staff_list_detail_and_every_step_through_the_pages(tip, community_staff, jiwu):
    client = login(community_staff)
    listing = client.get("/tips/")
    assert listing.status_code == 200 and tip.code in listing.content.decode()
    logged = AccessLog.objects.count()
    detail = client.get(f"/tips/{tip.pk}/").content.decode()
    assert AccessLog.objects.count() == logged + 1
    assert "陈女士" in detail and "13877112233" in detail
    assert f'hx-get="/tips/{tip.pk}/support/"' in detail
    assert f"/support/new/?tip={tip.pk}" in detail
    assert f"/enforcement/new/?tip={tip.pk}" not in detail  # community staff: no enforcement
    assert 'accept="image/*"' in detail and "capture" in detail

    def post(step, data=None, files=None, expect=302):
        r = client.post(f"/tips/{tip.pk}/{step}/", {**(data or {}), **(files or {})})
        assert r.status_code == expect, (step, r.status_code, r.content[:300])
        return r

    post("accept")
    post("on-scene")
    post(
        "visits",
        {"found": "有鸡12只", "actions": ["persuaded", "notices"], "notices": "3"},
        {"photos": [upload(), upload("c.png")]},
    )
    tip.refresh_from_db()
    assert tip.status == TipStatus.IN_PROGRESS
    assert '<span class="badge">Persuaded</span>' in client.get(f"/tips/{tip.pk}/").content.decode()
    photo = TipPhoto.objects.filter(visit__tip=tip, visit__notices=3).first()
    assert TipPhoto.objects.filter(visit__tip=tip).count() == 2
    assert client.get(f"/tips/photos/{photo.pk}/")["Content-Type"] == "image/png"
    # an answer before the tip is resolved: the page comes back with the message
    r = post("answer", {"answer": "太早了"}, expect=409)
    assert 'id="step-error"' in r.content.decode()
    post("resolve", {"resolution": "rectified"})
    r = post("answer", {"answer": ""}, expect=400)
    assert "This field is required" in r.content.decode()
    post("answer", {"answer": "已整改"})
    post("close")
    post("reopen", {"note": "又散养"})
    tip.refresh_from_db()
    assert tip.status == TipStatus.ASSIGNED and tip.reopened == 1


def test_staff_enter_a_tip_by_phone(grid_worker, jiwu, jiwu_household):
    client = login(grid_worker)
    assert client.get("/tips/new/").status_code == 200
    form = client.get(f"/tips/new/?category=no_mask&household={jiwu_household.pk}")
    assert jiwu_household.address in form.content.decode()
    r = client.post(
        "/tips/new/",
        {
            "category": "no_mask",
            "household": str(jiwu_household.pk),
            "source": "phone",
            "description": "楼下超市不戴口罩",
            "node": "",
            "answers.place": "超市",
        },
    )
    assert r.status_code == 302
    t = Tip.objects.latest("id")
    assert t.source == "phone" and t.household == jiwu_household and t.created_by == grid_worker
    assert t.answers == {"place": "超市"}


@pytest.mark.parametrize("household", ["beihu", "missing", "junk"])
def test_the_staff_form_refuses_a_household_of_another_jurisdiction_like_the_api(
    grid_worker, beihu_household, household
):
    """Issue 12, item 10: the page stored such a tip at the worker's own compound."""
    raw = {"beihu": str(beihu_household.pk), "missing": str(MISSING), "junk": "x1"}[household]
    body = {
        "category": "no_mask",
        "household": raw,
        "source": "phone",
        "description": "越界住户",
        "node": "",
        "answers.place": "超市",
    }
    before = Tip.objects.count()
    client = login(grid_worker)
    assert client.post("/tips/new/", body).status_code == 404
    assert Tip.objects.count() == before  # a refusal stores nothing
    if household != "junk":
        api = client.post(
            "/api/tips",
            {
                "category": "no_mask",
                "household_id": int(raw),
                "description": "越界住户",
                "source": "phone",
            },
            content_type="application/json",
        )
        assert api.status_code == 404
        assert Tip.objects.count() == before


def test_staff_of_another_jurisdiction_get_404(tip, outsider):
    client = login(outsider)
    for url in (f"/tips/{tip.pk}/", f"/tips/{MISSING}/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/tips/{tip.pk}/close/").status_code == 404
    assert tip.code not in client.get("/tips/?status=").content.decode()
    assert client.get(f"/api/tips/{tip.pk}").status_code == 404


def test_the_merge_button_on_the_page(tip, jiwu, officer):
    second = public_tip(jiwu, description="同一群鸡", ip="198.51.100.7")
    client = login(officer)
    page = client.get(f"/tips/{second.pk}/").content.decode()
    assert "Likely duplicates" in page and tip.code in page
    r = client.post(f"/tips/{second.pk}/merge/", {"into": tip.pk})
    assert r.status_code == 302
    second.refresh_from_db()
    assert second.duplicate_of == tip


def test_day_list_has_my_open_tips_urgent_first(nantie4, jiwu, officer):
    from fangyi.observation.selectors import daylist

    public_tip(jiwu, ip="198.51.100.8")
    urgent = public_tip(nantie4, code="gathering", description="聚餐", ip="198.51.100.8")
    day = daylist(officer)
    tips = [i for i in day.items if i.kind == "tip"]
    flags = [i.badge_css == "warn" for i in tips]
    assert flags == sorted(flags, reverse=True)  # the urgent ones first
    mine = next(i for i in tips if i.pk == urgent.pk)
    assert mine.url == f"/tips/{urgent.pk}/" and mine.badge_css == "warn"
    assert day.counts["tips"] == len(tips)
    assert selectors.daylist_section(User.objects.get(username="admin"), day.day) is None


def test_categories_configured_by_the_administrator(admin, officer):
    poultry = cat("poultry")
    client = login(admin)
    assert client.get("/tips/categories/").status_code == 200
    assert client.get(f"/tips/categories/{poultry.pk}/").status_code == 200
    base = {
        "name": "散养家禽",
        "description": "",
        "route_roles": ["community_staff", "police"],
        "response_minutes": "240",
        "duplicate_hours": "48",
        "active": "on",
    }
    bad = client.post(f"/tips/categories/{poultry.pk}/", {**base, "questions": "[{"})
    assert bad.status_code == 400 and "Not valid JSON" in bad.content.decode()
    bad = client.post(
        f"/tips/categories/{poultry.pk}/",
        {**base, "questions": '[{"code": "kind", "label": "?", "type": "colour"}]'},
    )
    assert bad.status_code == 400 and "text, number, yes_no or choice" in bad.content.decode()
    poultry.refresh_from_db()
    assert poultry.duplicate_hours == 72
    ok = client.post(
        f"/tips/categories/{poultry.pk}/",
        {**base, "questions": '[{"code": "count", "label": "几只", "type": "number"}]'},
    )
    assert ok.status_code == 302
    poultry.refresh_from_db()
    assert poultry.duplicate_hours == 48 and poultry.questions[0]["code"] == "count"
    assert login(officer).get("/tips/categories/").status_code == 403


def test_events_never_leak_into_the_public_view(tip, community_staff):
    services.tip_accept(actor=community_staff, tip=tip)
    services.tip_visit_record(
        actor=community_staff, tip=tip, at=None, found="饲养户张三", actions=[], notes="电话139"
    )
    view = selectors.public_view(tip)
    text = repr(view)
    for secret in ("张三", "139", "陈女士", "13877112233", community_staff.display_name):
        assert secret not in text
    assert [e.status for e in view.events] == ["new", "assigned", "accepted", "in_progress"]
    assert TipEvent.objects.filter(tip=tip, public=False).exists()


def test_the_list_pages_keep_the_filters_and_urgent_come_first(jiwu, community_staff):
    for i in range(42):
        public_tip(jiwu, code="other", description=f"其他{i}", ip=None)
    urgent = public_tip(jiwu, code="gathering", description="聚餐", ip=None)
    rows = list(selectors.tip_list(community_staff, status="open")[:3])
    assert rows[0] == urgent
    client = login(community_staff)
    page = client.get("/tips/", {"status": "open", "category": "other"}).content.decode()
    assert "status=open&amp;category=other&amp;page=2" in page
    second = client.get("/tips/", {"status": "open", "category": "other", "page": "2"})
    assert second.status_code == 200 and "其他" in second.content.decode()


def test_the_day_list_section_costs_one_query_at_any_size(jiwu, officer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangyi.core import access

    access.user_paths(officer)  # cached for the request, as a page would

    def cost() -> int:
        with CaptureQueriesContext(connection) as ctx:
            section = selectors.daylist_section(officer, timezone.localdate())
        assert section is not None and len(section.items) == min(section.count, 50)
        return len(ctx.captured_queries)

    public_tip(jiwu, ip=None)
    small = cost()
    for i in range(60):
        public_tip(jiwu, description=f"第{i}只鸡", ip=None)
    assert small == 1, small
    assert cost() == 2  # the full section counts the rest once


def test_the_list_page_costs_the_same_at_two_sizes(jiwu, community_staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(community_staff)
    client.get("/tips/")

    def cost() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/tips/").status_code == 200
        return len(ctx.captured_queries)

    public_tip(jiwu, ip=None)
    small = cost()
    for i in range(30):
        public_tip(jiwu, description=f"第{i}只鸡", ip=None)
    assert cost() == small


@override_settings(FANGYI_PHOTO_MAX_BYTES=3000)
def test_a_bad_photo_on_the_page_shows_next_to_the_photos(tip, community_staff):
    client = login(community_staff)
    before = photo_files()
    r = client.post(
        f"/tips/{tip.pk}/visits/",
        {"found": "有鸡", "photos": [upload("big.png", data=png((300, 300)) + b"\0" * 4000)]},
    )
    assert r.status_code == 400
    text = r.content.decode()
    section = text[text.index('id="fg-photos"') :]
    assert "at most" in section[: section.index("</div>")]
    assert 'value="有鸡"' in text or "有鸡</textarea>" in text  # what was typed is kept
    assert not TipVisit.objects.filter(tip=tip).exists() and photo_files() == before


def test_the_tip_page_shows_the_next_step_first_and_folds_the_rest(tip, officer):
    """Issue 12, item 15: every form was shown at once, resolve before accept."""
    client = login(officer)
    page = client.get(f"/tips/{tip.pk}/").content.decode()
    now = page[page.index('id="next-steps"') : page.index("</div>", page.index('id="next-steps"'))]
    assert 'id="accept-form"' in now and 'id="resolve-form"' not in now
    if 'id="other-steps"' in page:
        other = page[page.index('id="other-steps"') :]
        assert 'id="accept-form"' not in other.split("</details>")[0]
    # Accepted, then on scene: the visit and resolve come first.
    client.post(f"/tips/{tip.pk}/accept/")
    client.post(f"/tips/{tip.pk}/on-scene/")
    tip.refresh_from_db()
    assert tip.status == TipStatus.ON_SCENE
    page = client.get(f"/tips/{tip.pk}/").content.decode()
    now = page[page.index('id="next-steps"') : page.index('id="other-steps"')]
    assert 'id="visit-form"' in now and 'id="resolve-form"' in now
    assert 'id="accept-form"' not in page
