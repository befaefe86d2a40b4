"""The enforcement API, operation by operation, asserting on what is stored as well as on
statuses: records (JSON and multipart with photos), the follow-up check, photos, legal bases."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import pytest
from django.utils import timezone
from PIL import Image

from fangyi.core.models import AccessLog, AuditEntry
from fangyi.enforcement.models import EnforcementPhoto, EnforcementRecord, LegalBasis
from fangyi.people.models import Person
from fangyi.tips.models import Tip, TipCategory
from fangyi.tips.services import new_code
from tests.conftest import english_login as login  # the assertions read English
from tests.test_api import call, field_names, schema_operations

pytestmark = pytest.mark.django_db

MISSING = 987_654_321


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


def today() -> dt.date:
    return timezone.localdate()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


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


def test_every_enforcement_operation_answers(officer, auxiliary, admin, tip, notice, nantie4):
    seen: set[tuple[str, str]] = set()
    cop, boss = login(officer), login(admin)

    def c(client, method, template, expect=200, body=None, params=None, **ids):
        return call(client, method, template, expect, body, params, seen, **ids)

    bases = c(cop, "GET", "/api/legal-bases", params={"active": "true"})
    assert notice.pk in [b["id"] for b in bases]
    made = c(
        boss,
        "POST",
        "/api/legal-bases",
        201,
        {"title": "关于严禁聚集的补充通告", "issuer": "南宁市公安局西乡塘分局", "order": 2},
    )
    assert AuditEntry.objects.filter(action="fangyi.legalbasis.created", object_id=made["id"])
    changed = c(
        boss,
        "PUT",
        "/api/legal-bases/{basis_id}",
        body={"title": "关于严禁聚集的补充通告", "active": False, "order": 2},
        basis_id=made["id"],
    )
    assert changed["active"] is False

    person = Person.objects.filter(node=nantie4).order_by("pk").first()
    key = str(uuid.uuid4())
    body = {
        "tip_id": tip.pk,
        "measure": "education",
        "location": "南铁北四区7栋302",
        "legal_basis_ids": [notice.pk],
        "person_ids": [person.pk],
        "described_people": "另有5人",
        "statements": "组织者表示不再聚餐",
        "facts": "聚餐6人,说服教育后散去",
        "officer_ids": [officer.pk, auxiliary.pk],
        "followup_on": (today() + dt.timedelta(days=3)).isoformat(),
        "client_id": key,
    }
    record = c(cop, "POST", "/api/enforcement-records", 201, body)
    assert record["node_id"] == nantie4.pk and record["tip_id"] == tip.pk
    assert record["legal_bases"] == [{"id": notice.pk, "title": notice.title}]
    assert record["officer_ids"] == sorted([officer.pk, auxiliary.pk])
    assert record["person_ids"] == [person.pk] and record["photos"] == []
    again = c(cop, "POST", "/api/enforcement-records", 201, body)
    assert again["id"] == record["id"]
    assert EnforcementRecord.objects.filter(client_id=key).count() == 1

    listed = c(cop, "GET", "/api/enforcement-records", params={"tip_id": tip.pk})
    assert [r["id"] for r in listed["items"]] == [record["id"]]
    reads = AccessLog.objects.filter(object_type="enforcementrecord", via="api").count()
    one = c(cop, "GET", "/api/enforcement-records/{record_id}", record_id=record["id"])
    assert one["statements"] == "组织者表示不再聚餐"
    assert AccessLog.objects.filter(object_type="enforcementrecord", via="api").count() == reads + 1

    # multipart, with a photo
    response = cop.post(
        "/api/enforcement-records",
        {
            "tip_id": str(tip.pk),
            "measure": "verbal_warning",
            "legal_basis_ids": f"{notice.pk}",
            "described_people": "组织者1人",
            "facts": "再次聚餐,口头警告",
            "photos": [io.BytesIO(png())],
        },
    )
    assert response.status_code == 201, response.content
    warned = response.json()
    assert warned["measure"] == "verbal_warning" and len(warned["photos"]) == 1
    photo = warned["photos"][0]
    assert photo["url"] == f"/api/enforcement-photos/{photo['id']}"
    r = cop.get(photo["url"])
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert b"".join(r.streaming_content) == png()
    seen.add(("GET", "/api/enforcement-photos/{photo_id}"))
    assert AccessLog.objects.filter(
        object_type="enforcementphoto", object_id=photo["id"], via="api"
    ).exists()

    done = c(
        cop,
        "POST",
        "/api/enforcement-records/{record_id}/followup",
        body={"notes": "回访:未再聚餐"},
        record_id=record["id"],
    )
    assert done["followup_by_id"] == officer.pk and done["followup_done_at"]
    due = c(cop, "GET", "/api/enforcement-records", params={"followup": "done"})
    assert record["id"] in [r["id"] for r in due["items"]]

    assert seen == schema_operations(cop, {"enforcement"})


def test_bad_fields_are_named_by_their_api_names_and_nothing_is_stored(
    officer, outsider, tip, notice, beihu_person, grid_worker
):
    client = login(officer)
    before = EnforcementRecord.objects.count()

    def post(body, expect):
        r = client.post("/api/enforcement-records", body, content_type="application/json")
        assert r.status_code == expect, r.content
        return field_names(r.json())

    base = {"tip_id": tip.pk, "measure": "education", "facts": "劝导", "described_people": "3人"}
    assert "measure" in post({**base, "measure": "arrest"}, 422)
    assert "legal_basis_ids" in post({**base, "measure": "written_warning"}, 400)
    assert "legal_basis_ids" in post({**base, "legal_basis_ids": [MISSING]}, 400)
    assert "person_ids" in post({**base, "described_people": ""}, 400)
    assert "person_ids" in post({**base, "person_ids": [beihu_person.pk]}, 404)
    assert "tip_id" in post({**base, "tip_id": MISSING}, 404)
    assert "officer_ids" in post({**base, "officer_ids": [outsider.pk]}, 404)
    assert "officer_ids" in post({**base, "officer_ids": [grid_worker.pk]}, 404)
    assert "followup_on" in post({**base, "followup_on": "2020-01-01"}, 400)
    assert "facts" in post({**base, "facts": ""}, 400)
    assert "person_id" in post({k: v for k, v in base.items() if k != "tip_id"}, 400)
    assert EnforcementRecord.objects.count() == before
    # the outsider's tip id answers like a missing one
    other = login(outsider).post("/api/enforcement-records", base, content_type="application/json")
    missing = login(outsider).post(
        "/api/enforcement-records", {**base, "tip_id": MISSING}, content_type="application/json"
    )
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()


def test_a_bad_photo_through_the_api_names_photos_and_leaves_no_file(officer, tip, tmp_path):
    client = login(officer)
    r = client.post(
        "/api/enforcement-records",
        {
            "tip_id": str(tip.pk),
            "measure": "education",
            "facts": "劝导",
            "described_people": "3人",
            "photos": [io.BytesIO(png()), io.BytesIO(b"<html>not a photo</html>")],
        },
    )
    assert r.status_code == 400
    assert field_names(r.json()) == {"photos"}
    assert not EnforcementRecord.objects.filter(tip=tip).exists()
    assert EnforcementPhoto.objects.count() == 0
    assert photo_files(tmp_path) == []


def test_records_and_photos_are_for_police_roles_and_supervisors(
    officer, grid_worker, health, supervisor, tip
):
    r = login(officer).post(
        "/api/enforcement-records",
        {"tip_id": tip.pk, "measure": "education", "facts": "劝导", "described_people": "3人"},
        content_type="application/json",
    )
    pk = r.json()["id"]
    for user in (grid_worker, health):
        assert login(user).get(f"/api/enforcement-records/{pk}").status_code == 403
        assert login(user).get("/api/enforcement-records").status_code == 403
    assert login(supervisor).get(f"/api/enforcement-records/{pk}").status_code == 200
