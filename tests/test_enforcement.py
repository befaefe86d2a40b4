"""Enforcement records: the rules of a record, its evidence photos, the follow-up check on the
officers' day list, the pages and panels, and the legal bases (configuration)."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from fangyi.core.errors import Conflict, DomainError, Forbidden, NotFound
from fangyi.core.models import AccessLog, AuditEntry, User
from fangyi.enforcement import selectors, services
from fangyi.enforcement.models import EnforcementPhoto, EnforcementRecord, LegalBasis, Measure
from fangyi.enforcement.services import EnforcementInput, enforcement_record
from fangyi.people.models import Person
from fangyi.tips.models import Tip, TipCategory
from fangyi.tips.services import new_code
from tests.conftest import english_login, login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Photos go to a folder of this test's own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


def today() -> dt.date:
    return timezone.localdate()


def image(fmt: str = "PNG", size=(64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(buf, fmt)
    return buf.getvalue()


def upload(data: bytes, name: str = "scene.png", content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def photo_files(root) -> list:
    folder = root / "photos"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def notice(db) -> LegalBasis:
    return LegalBasis.objects.get(title="西乡塘区公安分局关于严禁聚集聚餐的通告")


@pytest.fixture
def tip(nantie4) -> Tip:
    return Tip.objects.create(
        code=new_code(),
        category=TipCategory.objects.get(code="gathering"),
        node=nantie4,
        address="南铁北四区7栋302",
        description="有一户居民顶风聚餐",
        source="phone",
    )


@pytest.fixture
def nb4_person(nantie4) -> Person:
    return Person.objects.filter(node=nantie4).order_by("pk").first()


def data(**kw) -> EnforcementInput:
    values = dict(
        measure=Measure.EDUCATION,
        facts="现场6人聚餐,说服教育后散去",
        described_people="居民6名",
    )
    values.update(kw)
    return EnforcementInput(**values)


def counts() -> tuple[int, int, int]:
    return (
        EnforcementRecord.objects.count(),
        EnforcementPhoto.objects.count(),
        AuditEntry.objects.filter(action__startswith="fangyi.enforcementrecord").count(),
    )


# --- the rules of a record ---------------------------------------------------------------------


def test_education_on_a_tip_needs_no_legal_basis_and_is_audited(officer, tip):
    record = enforcement_record(actor=officer, data=data(tip=tip))
    assert record.node == tip.node
    assert list(record.officers.all()) == [officer]  # the actor by default
    assert record.recorded_by == officer
    entry = AuditEntry.objects.get(action="fangyi.enforcementrecord.created", object_id=record.pk)
    assert entry.changes["measure"] == [None, "education"]
    assert entry.changes["legal_bases"] == [None, []]
    assert entry.node_path == tip.node.path


def test_a_warning_cites_its_legal_basis_and_the_audit_names_it(officer, tip, notice):
    record = enforcement_record(
        actor=officer, data=data(tip=tip, measure=Measure.VERBAL_WARNING, legal_bases=[notice])
    )
    assert list(record.legal_bases.all()) == [notice]
    entry = AuditEntry.objects.get(action="fangyi.enforcementrecord.created", object_id=record.pk)
    assert entry.changes["measure"] == [None, "verbal_warning"]
    assert entry.changes["legal_bases"] == [None, [f"{notice.pk} {notice.title}"]]


def test_on_a_person_the_place_is_the_persons_and_both_may_be_given(officer, tip, jiwu_person):
    on_person = enforcement_record(actor=officer, data=data(person=jiwu_person))
    assert on_person.node == jiwu_person.node
    both = enforcement_record(actor=officer, data=data(tip=tip, person=jiwu_person))
    assert both.node == tip.node  # the tip's place wins


@pytest.mark.parametrize(
    "change,field",
    [
        ({"tip": None}, "person"),
        ({"measure": "arrest"}, "measure"),
        ({"measure": ""}, "measure"),
        ({"at": "future"}, "at"),
        ({"measure": Measure.WRITTEN_WARNING}, "legal_bases"),
        ({"measure": Measure.CRIMINAL}, "legal_bases"),
        ({"legal_bases": "inactive"}, "legal_bases"),
        ({"described_people": ""}, "persons"),
        ({"followup_on": "yesterday"}, "followup_on"),
        ({"followup_on": "far"}, "followup_on"),
        ({"facts": "  "}, "facts"),
        ({"facts": "x" * 4001}, "facts"),
        ({"location": "x" * 201}, "location"),
        ({"statements": "x" * 4001}, "statements"),
        ({"officers": "grid_worker"}, "officers"),
        ({"officers": "outsider"}, "officers"),
    ],
)
def test_each_bad_input_names_its_field_and_stores_nothing(
    officer, grid_worker, outsider, tip, notice, change, field
):
    values = {"tip": tip}
    for key, value in change.items():
        if value == "future":
            value = timezone.now() + dt.timedelta(hours=1)
        elif value == "yesterday":
            value = today() - dt.timedelta(days=1)
        elif value == "far":
            value = today() + dt.timedelta(days=400)
        elif value == "inactive":
            value = [LegalBasis.objects.create(title="已废止的通告", active=False)]
        elif value == "grid_worker":
            value = [officer, grid_worker]
        elif value == "outsider":
            value = [outsider]
        values[key] = value
    before = counts()
    with pytest.raises(DomainError) as exc:
        enforcement_record(actor=officer, data=data(**values), photos=[upload(image())])
    assert field in exc.value.errors, exc.value.errors
    assert counts() == before
    assert photo_files(settings.DATA_DIR) == []


def test_every_field_error_at_once(officer, tip):
    with pytest.raises(DomainError) as exc:
        enforcement_record(
            actor=officer,
            data=data(
                tip=tip,
                measure=Measure.ORDER_DISPERSE,
                facts="",
                described_people="",
                followup_on=today() - dt.timedelta(days=2),
            ),
        )
    assert {"legal_bases", "facts", "persons", "followup_on"} <= set(exc.value.errors)


def test_records_outside_the_jurisdiction_are_not_found(officer, outsider, tip, beihu_person):
    before = counts()
    with pytest.raises(NotFound) as exc:
        enforcement_record(actor=outsider, data=data(tip=tip))
    assert "tip" in exc.value.errors
    with pytest.raises(NotFound) as exc:
        enforcement_record(actor=officer, data=data(person=beihu_person))
    assert "person" in exc.value.errors
    with pytest.raises(NotFound) as exc:
        enforcement_record(actor=officer, data=data(tip=tip, persons=[beihu_person]))
    assert "persons" in exc.value.errors
    assert counts() == before


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "health", "admin"])
def test_only_police_roles_and_supervisors_record(request, role, tip):
    user = request.getfixturevalue(role)
    with pytest.raises(Forbidden):
        enforcement_record(actor=user, data=data(tip=tip))
    assert not EnforcementRecord.objects.filter(tip=tip).exists()


def test_officers_are_police_of_the_place_and_the_supervisor_can_record(
    supervisor, officer, auxiliary, tip
):
    record = enforcement_record(actor=supervisor, data=data(tip=tip, officers=[officer, auxiliary]))
    assert set(record.officers.all()) == {officer, auxiliary}
    assert record.recorded_by == supervisor
    choices = services.officer_choices(tip.node, officer)
    assert choices[0] == officer and {auxiliary, supervisor} <= set(choices)


def test_registry_persons_and_described_people(officer, tip, nb4_person):
    record = enforcement_record(
        actor=officer, data=data(tip=tip, persons=[nb4_person], described_people="")
    )
    assert list(record.persons.all()) == [nb4_person]


def test_the_same_client_id_stores_one_record(officer, outsider, tip, jiwu_person, beihu_person):
    key = uuid.uuid4()
    first = enforcement_record(actor=officer, data=data(tip=tip), client_id=key)
    again = enforcement_record(actor=officer, data=data(tip=tip), client_id=key)
    assert again.pk == first.pk
    assert EnforcementRecord.objects.filter(client_id=key).count() == 1
    # The id naming another record (another subject) is refused...
    with pytest.raises(Conflict) as exc:
        enforcement_record(actor=officer, data=data(person=jiwu_person), client_id=key)
    assert "client_id" in exc.value.errors
    # ... and so is one outside the caller's jurisdiction, telling nothing about it.
    with pytest.raises(Conflict):
        enforcement_record(actor=outsider, data=data(person=beihu_person), client_id=key)
    assert EnforcementRecord.objects.filter(client_id=key).count() == 1
    assert not EnforcementRecord.objects.filter(person__in=[jiwu_person, beihu_person]).exists()


# --- evidence photos ---------------------------------------------------------------------------


def test_photos_are_stored_outside_the_database_and_static(officer, tip, tmp_path):
    record = enforcement_record(
        actor=officer,
        data=data(tip=tip),
        photos=[upload(image("PNG")), upload(image("JPEG"), "scene.jpg", "image/jpeg")],
    )
    photos = list(record.photos.order_by("id"))
    assert [p.content_type for p in photos] == ["image/png", "image/jpeg"]
    files = photo_files(tmp_path)
    assert len(files) == 2
    for p in photos:
        target = tmp_path / "photos" / p.path
        assert target.exists() and target.stat().st_size == p.size
        assert (target.stat().st_mode & 0o077) == 0  # readable by the server's user only
        assert p.uploaded_by == officer and p.width == 64 and p.height == 48
    # No column holds the bytes; nothing sits under the static folders.
    assert not any(f.get_internal_type() == "BinaryField" for f in EnforcementPhoto._meta.fields)
    for static in [settings.STATIC_ROOT, *settings.STATICFILES_DIRS]:
        assert not any(str(f).startswith(str(static)) for f in files)
    entry = AuditEntry.objects.get(action="fangyi.enforcementrecord.created", object_id=record.pk)
    assert entry.changes["photos"] == [None, 2]


def test_a_non_image_is_refused_and_nothing_is_kept(officer, tip, tmp_path):
    before = counts()
    with pytest.raises(DomainError) as exc:
        enforcement_record(
            actor=officer,
            data=data(tip=tip),
            photos=[upload(image()), upload(b"%PDF-1.4 not a photo", "x.png")],
        )
    assert list(exc.value.errors) == ["photos"]
    assert counts() == before
    assert photo_files(tmp_path) == []


@override_settings(FANGYI_PHOTO_MAX_BYTES=2000)
def test_an_oversized_photo_is_refused_and_nothing_is_kept(officer, tip, tmp_path):
    buf = io.BytesIO()
    Image.effect_noise((200, 200), 90).convert("RGB").save(buf, "PNG")
    big = buf.getvalue()
    assert len(big) > 2000
    before = counts()
    with pytest.raises(DomainError) as exc:
        enforcement_record(actor=officer, data=data(tip=tip), photos=[upload(big)])
    assert list(exc.value.errors) == ["photos"]
    assert "at most" in exc.value.message
    assert counts() == before
    assert photo_files(tmp_path) == []


def test_photos_are_removed_when_the_transaction_fails(officer, tip, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "audit_record", broken)
    before = counts()
    with pytest.raises(RuntimeError):
        enforcement_record(actor=officer, data=data(tip=tip), photos=[upload(image())])
    assert counts() == before
    assert photo_files(tmp_path) == []


@pytest.fixture
def photo(officer, tip) -> EnforcementPhoto:
    record = enforcement_record(actor=officer, data=data(tip=tip), photos=[upload(image())])
    return record.photos.get()


@pytest.mark.parametrize("role", ["officer", "auxiliary", "supervisor"])
def test_the_photo_is_served_to_police_and_supervisors_in_scope(request, role, photo):
    user = request.getfixturevalue(role)
    reads = AccessLog.objects.filter(object_type="enforcementphoto", object_id=photo.pk)
    n = reads.count()
    response = login(user).get(f"/enforcement/photos/{photo.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    body = b"".join(response.streaming_content)
    assert body == (settings.DATA_DIR / "photos" / photo.path).read_bytes()
    assert reads.count() == n + 1
    assert reads.latest("id").user == user and reads.latest("id").via == "ui"


@pytest.mark.parametrize(
    "role,status", [("grid_worker", 403), ("health", 403), ("community_staff", 403)]
)
def test_the_photo_is_refused_to_other_roles(request, role, status, photo):
    user = request.getfixturevalue(role)
    reads = AccessLog.objects.count()
    assert login(user).get(f"/enforcement/photos/{photo.pk}/").status_code == status
    assert login(user).get(f"/api/enforcement-photos/{photo.pk}").status_code == status
    assert AccessLog.objects.count() == reads


def test_the_photo_is_not_found_for_an_officer_elsewhere_and_needs_a_login(outsider, photo):
    reads = AccessLog.objects.count()
    assert login(outsider).get(f"/enforcement/photos/{photo.pk}/").status_code == 404
    assert login(outsider).get(f"/api/enforcement-photos/{photo.pk}").status_code == 404
    anonymous = Client().get(f"/enforcement/photos/{photo.pk}/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert Client().get(f"/api/enforcement-photos/{photo.pk}").status_code == 401
    assert AccessLog.objects.count() == reads


# --- the pages ---------------------------------------------------------------------------------


def test_the_form_from_a_tip_is_prefilled_and_made_for_a_phone(officer, tip, notice):
    html = english_login(officer).get(f"/enforcement/new/?tip={tip.pk}").content.decode()
    assert f'name="tip" value="{tip.pk}"' in html
    assert "南铁北四区7栋302" in html  # the location from the tip
    assert 'type="radio" name="measure" value="education"' in html
    assert f'name="legal_bases" value="{notice.pk}"' in html and notice.summary in html
    assert f'name="officers" value="{officer.pk}" checked' in html  # the actor by default
    assert 'type="file"' in html and "multiple" in html and 'capture="environment"' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'hx-get="/enforcement/new/people/"' in html


def test_a_record_through_the_page_with_photos(officer, auxiliary, tip, notice, nb4_person):
    client = english_login(officer)
    r = client.post(
        "/enforcement/new/",
        {
            "tip": tip.pk,
            "person": "",
            "measure": "verbal_warning",
            "at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "location": "南铁北四区7栋302",
            "legal_bases": [notice.pk],
            "persons": [nb4_person.pk],
            "described_people": "另有5人",
            "statements": "组织者表示不再聚餐",
            "facts": "现场聚餐,劝导后散去",
            "officers": [officer.pk, auxiliary.pk],
            "followup_on": (today() + dt.timedelta(days=3)).isoformat(),
            "photos": [upload(image()), upload(image("JPEG"), "b.jpg", "image/jpeg")],
            "client_id": str(uuid.uuid4()),
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    record = EnforcementRecord.objects.get(tip=tip)
    assert r["Location"] == f"/enforcement/{record.pk}/"
    assert record.measure == "verbal_warning" and record.photos.count() == 2
    assert set(record.officers.all()) == {officer, auxiliary}
    assert list(record.persons.all()) == [nb4_person]
    reads = AccessLog.objects.filter(object_type="enforcementrecord", object_id=record.pk).count()
    html = client.get(r["Location"]).content.decode()
    assert (
        AccessLog.objects.filter(
            object_type="enforcementrecord", object_id=record.pk, via="ui"
        ).count()
        == reads + 1
    )
    for p in record.photos.all():
        assert f'href="/enforcement/photos/{p.pk}/"' in html
        assert f'src="/enforcement/photos/{p.pk}/"' in html
    assert notice.title in html and "组织者表示不再聚餐" in html and nb4_person.name in html
    assert f'action="/enforcement/{record.pk}/followup/"' in html


def test_the_page_shows_each_error_beside_its_field_and_keeps_what_was_typed(
    officer, tip, nb4_person, tmp_path
):
    client = english_login(officer)
    r = client.post(
        "/enforcement/new/",
        {
            "tip": tip.pk,
            "measure": "written_warning",
            "statements": "我们没有聚餐 <script>alert(1)</script>",
            "facts": "",
            "persons": [nb4_person.pk],
            "followup_on": (today() - dt.timedelta(days=1)).isoformat(),
            "photos": [upload(b"GIF89a not really", "x.gif", "image/gif")],
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert not EnforcementRecord.objects.filter(tip=tip).exists()
    assert photo_files(tmp_path) == []
    for field in ("legal_bases", "facts", "followup_on", "photos"):
        start = html.index(f'id="fg-{field}"')
        end = html.find('id="fg-', start + 1)
        block = html[start : end if end > 0 else None]
        assert "errorlist" in block, field
    for field in ("measure", "statements", "officers"):
        start = html.index(f'id="fg-{field}"')
        block = html[start : html.find('id="fg-', start + 1)]
        assert "errorlist" not in block, field
    # What was typed comes back, escaped; the picked person stays picked.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert f'name="persons" value="{nb4_person.pk}"' in html
    assert 'value="written_warning" checked' in html


def test_the_photo_error_is_named_on_the_page(officer, tip, tmp_path):
    r = english_login(officer).post(
        "/enforcement/new/",
        {
            "tip": tip.pk,
            "measure": "education",
            "facts": "劝导",
            "described_people": "3人",
            "photos": [upload(b"not an image at all", "x.png")],
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    block = html[html.index('id="fg-photos"') :]
    assert "Send a JPEG, PNG or WebP photo." in block[:2000]
    assert not EnforcementRecord.objects.filter(tip=tip).exists()
    assert photo_files(tmp_path) == []


def test_without_tip_or_person_the_first_person_picked_is_the_subject(officer, jiwu_person):
    r = login(officer).post(
        "/enforcement/new/",
        {"measure": "education", "facts": "劝导打牌老人回家", "persons": [jiwu_person.pk]},
    )
    assert r.status_code == 302
    record = EnforcementRecord.objects.get(person=jiwu_person)
    assert record.node == jiwu_person.node


def test_the_person_search_finds_only_people_in_scope(officer, beihu_person):
    client = login(officer)
    html = client.get("/enforcement/new/people/", {"q": "徐红心"}).content.decode()
    xu = Person.objects.get(name="徐红心")
    assert f'data-pick="{xu.pk}"' in html
    html = client.get("/enforcement/new/people/", {"q": beihu_person.name}).content.decode()
    assert f'data-pick="{beihu_person.pk}"' not in html


def test_a_tip_outside_answers_like_a_missing_one(outsider, tip):
    client = login(outsider)
    assert client.get(f"/enforcement/new/?tip={tip.pk}").status_code == 404
    assert client.get("/enforcement/new/?tip=987654321").status_code == 404
    assert client.get("/enforcement/new/?tip=abc").status_code == 404


def test_the_list_and_its_filters(officer, outsider, tip, notice):
    mine = enforcement_record(actor=officer, data=data(tip=tip, followup_on=today()))
    warned = enforcement_record(
        actor=officer, data=data(tip=tip, measure="verbal_warning", legal_bases=[notice])
    )
    html = login(officer).get("/enforcement/").content.decode()
    assert f"/enforcement/{mine.pk}/" in html and f"/enforcement/{warned.pk}/" in html
    html = login(officer).get("/enforcement/?followup=due").content.decode()
    assert f"/enforcement/{mine.pk}/" in html and f"/enforcement/{warned.pk}/" not in html
    html = login(officer).get("/enforcement/?measure=verbal_warning").content.decode()
    assert f"/enforcement/{mine.pk}/" not in html and f"/enforcement/{warned.pk}/" in html
    assert f"/enforcement/{mine.pk}/" not in login(outsider).get("/enforcement/").content.decode()
    with pytest.raises(DomainError):
        selectors.record_list(officer, followup="soon")


def test_the_person_panel_and_the_tip_panel(officer, grid_worker, tip, nb4_person, jiwu_person):
    record = enforcement_record(
        actor=officer, data=data(tip=tip, persons=[nb4_person], described_people="")
    )
    client = english_login(officer)
    reads = AccessLog.objects.filter(via="panel").count()
    html = client.get(f"/people/{nb4_person.pk}/enforcement/").content.decode()
    assert f"/enforcement/{record.pk}/" in html
    assert f"/enforcement/new/?person={nb4_person.pk}" in html
    html = client.get(f"/tips/{tip.pk}/enforcement/").content.decode()
    assert f"/enforcement/{record.pk}/" in html
    assert f"/enforcement/new/?tip={tip.pk}" in html and "Record enforcement" in html
    assert AccessLog.objects.filter(via="panel").count() == reads + 2
    other = client.get(f"/people/{jiwu_person.pk}/enforcement/").content.decode()
    assert f"/enforcement/{record.pk}/" not in other
    # The person page loads the panel for police roles only.
    assert (
        f'hx-get="/people/{nb4_person.pk}/enforcement/"'
        in client.get(f"/people/{nb4_person.pk}/").content.decode()
    )
    worker = login(grid_worker)
    assert (
        f"/people/{jiwu_person.pk}/enforcement/"
        not in worker.get(f"/people/{jiwu_person.pk}/").content.decode()
    )
    assert worker.get(f"/people/{jiwu_person.pk}/enforcement/").status_code == 403


# --- the follow-up check -----------------------------------------------------------------------


@pytest.fixture
def due(officer, tip) -> EnforcementRecord:
    return enforcement_record(actor=officer, data=data(tip=tip, followup_on=today()))


def test_the_follow_up_check_lands_on_the_officers_day_list_and_leaves_when_done(
    officer, auxiliary, due
):
    client = english_login(officer)
    html = client.get("/").content.decode()
    assert f'href="/enforcement/{due.pk}/#followup"' in html
    assert "1 follow-up check" in html
    # Not the auxiliary's: he is not one of its officers.
    assert f"/enforcement/{due.pk}/" not in english_login(auxiliary).get("/").content.decode()
    r = client.post(f"/enforcement/{due.pk}/followup/", {"notes": "回访:未再聚餐"})
    assert r.status_code == 302
    due.refresh_from_db()
    assert due.followup_by == officer and due.followup_notes == "回访:未再聚餐"
    assert due.followup_done_at is not None
    assert AuditEntry.objects.filter(
        action="fangyi.enforcementrecord.followed_up", object_id=due.pk
    ).exists()
    assert f"/enforcement/{due.pk}/" not in client.get("/").content.decode()


def test_a_check_planned_later_is_not_due_yet_and_an_overdue_one_stays(officer, tip):
    now_due = selectors.daylist_section(officer, today()).count
    later = enforcement_record(
        actor=officer, data=data(tip=tip, followup_on=today() + dt.timedelta(days=3))
    )
    assert selectors.daylist_section(officer, today()).count == now_due
    section = selectors.daylist_section(officer, today() + dt.timedelta(days=5))
    item = next(i for i in section.items if i.pk == later.pk)
    assert item.kind == "enforcement" and section.key == "checks"
    assert item.badge_css == "warn"  # two days late
    assert item.url == f"/enforcement/{later.pk}/#followup"


def test_a_supervisor_sees_every_check_of_his_area(supervisor, outsider, due):
    section = selectors.daylist_section(supervisor, today())
    assert due.pk in [i.pk for i in section.items]
    assert selectors.daylist_section(outsider, today()).count == 0


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "health", "hotel_clerk"])
def test_roles_without_enforcement_get_no_section(request, role, due):
    assert selectors.daylist_section(request.getfixturevalue(role), today()) is None


def test_the_day_list_section_takes_a_fixed_number_of_queries(officer, tip):
    def queries() -> int:
        user = User.objects.get(pk=officer.pk)  # the paths cache starts empty each time
        with CaptureQueriesContext(connection) as ctx:
            selectors.daylist_section(user, today())
        return len(ctx.captured_queries)

    enforcement_record(actor=officer, data=data(tip=tip, followup_on=today()))
    one = queries()
    for _i in range(5):
        enforcement_record(actor=officer, data=data(tip=tip, followup_on=today()))
    assert queries() == one <= 3


def test_who_may_record_the_check(officer, auxiliary, supervisor, outsider, due):
    with pytest.raises(Forbidden):
        services.enforcement_followup(actor=auxiliary, record=due, notes="我来回访")
    with pytest.raises(NotFound):
        services.enforcement_followup(actor=outsider, record=due, notes="我来回访")
    assert login(auxiliary).post(
        f"/enforcement/{due.pk}/followup/", {"notes": "x"}
    ).status_code == (403)
    with pytest.raises(DomainError) as exc:
        services.enforcement_followup(actor=officer, record=due, notes="  ")
    assert "notes" in exc.value.errors
    services.enforcement_followup(actor=supervisor, record=due, notes="所长回访")
    with pytest.raises(Conflict):
        services.enforcement_followup(actor=officer, record=due, notes="再次回访")
    due.refresh_from_db()
    assert due.followup_by == supervisor


def test_an_empty_check_comes_back_with_its_error(officer, due):
    r = english_login(officer).post(f"/enforcement/{due.pk}/followup/", {"notes": ""})
    assert r.status_code == 400
    assert "errorlist" in r.content.decode()
    due.refresh_from_db()
    assert due.followup_done_at is None


# --- legal bases -------------------------------------------------------------------------------


def test_the_demo_has_the_district_notice(notice):
    assert notice.issuer == "南宁市公安局西乡塘分局" and notice.active
    assert "行政拘留" in notice.summary


def test_administrators_configure_legal_bases(admin, officer):
    client = english_login(admin)
    r = client.post(
        "/enforcement/bases/new/",
        {"title": "关于新的通告", "issuer": "分局", "order": 3, "active": "on", "url": ""},
    )
    assert r.status_code == 302
    basis = LegalBasis.objects.get(title="关于新的通告")
    assert AuditEntry.objects.filter(action="fangyi.legalbasis.created", object_id=basis.pk)
    r = client.post(f"/enforcement/bases/{basis.pk}/", {"title": "关于新的通告(修订)", "order": 3})
    assert r.status_code == 302
    basis.refresh_from_db()
    assert basis.title == "关于新的通告(修订)" and not basis.active
    entry = AuditEntry.objects.get(action="fangyi.legalbasis.changed", object_id=basis.pk)
    assert entry.changes["active"] == [True, False]
    # A retired basis is no longer offered on the form.
    assert f'value="{basis.pk}"' not in login(officer).get("/enforcement/new/").content.decode()
    r = client.post("/enforcement/bases/new/", {"title": "", "order": 0, "url": "javascript:x"})
    assert r.status_code == 400
    with pytest.raises(Forbidden):
        services.legalbasis_save(actor=officer, data={"title": "x"})


def test_legal_basis_errors_name_their_fields(admin):
    with pytest.raises(DomainError) as exc:
        services.legalbasis_save(
            actor=admin,
            data={
                "title": " ",
                "url": "ftp://example.org/x",
                "issued_on": today() + dt.timedelta(days=1),
                "order": 40000,
            },
        )
    assert {"title", "url", "issued_on", "order"} <= set(exc.value.errors)


def test_the_demo_records_the_education_at_the_gathering(officer, notice):
    tip = Tip.objects.filter(node__name="南铁北四区", category__code="gathering").first()
    assert tip is not None  # the tips part of the demo puts the gathering there
    record = EnforcementRecord.objects.get(tip=tip)
    assert record.measure == Measure.EDUCATION and record.recorded_by == officer
    assert list(record.officers.all()) == [officer]
    assert list(record.legal_bases.all()) == [notice]
    made = timezone.localtime(record.recorded_at).date()
    assert record.followup_on == made + dt.timedelta(days=3)
    assert record.followup_done_at is None
