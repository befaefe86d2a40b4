"""The patrols API, operation by operation, asserting on what is stored as well as on
statuses: start, route, events (JSON and multipart with photos), end, what an event leads to,
plans and coverage; bad input named by its API field, nothing stored."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.utils import timezone
from PIL import Image

from fangyi.core.models import AccessLog, Node
from fangyi.patrols.models import Patrol, PatrolEvent, PatrolPhoto, PatrolPlan, RoutePoint
from tests.conftest import english_login as login
from tests.test_api import field_names, schema_operations

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


def call(client, method: str, path: str, body=None):
    """One JSON request (any body, an object or not), the response as it came."""
    if method == "GET":
        return client.get(path)
    data = b"" if body is None else json.dumps(body)
    return client.generic(method, path, data=data, content_type="application/json")


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 40)).save(buf, "PNG")
    return buf.getvalue()


def test_every_patrols_operation_answers(officer, auxiliary, supervisor, jiwu):
    client = login(officer)
    called: set[tuple[str, str]] = set()

    def do(method, template, path, body=None, status=200):
        called.add((method, template))
        response = call(client, method, path, body)
        assert response.status_code == status, (path, response.content[:400])
        return response.json() if response.content and status != 204 else None

    community = Node.objects.get(name="机务社区")
    started = do(
        "POST",
        "/api/patrols",
        "/api/patrols",
        {
            "node_id": community.pk,
            "compound_ids": [jiwu.pk],
            "companion_ids": [auxiliary.pk],
            "others": "志愿者2名",
            "latitude": "22.817",
            "longitude": "108.366",
            "accuracy": 10,
            "client_id": str(uuid.uuid4()),
        },
        201,
    )
    pid = started["id"]
    assert started["under_way"] and started["companion_ids"] == [auxiliary.pk]
    assert started["compound_ids"] == [jiwu.pk] and len(started["route"]) == 1
    listed = do("GET", "/api/patrols", "/api/patrols?under_way=true")
    assert [p["id"] for p in listed["items"]] == [pid]
    do("GET", "/api/patrols/{patrol_id}", f"/api/patrols/{pid}")
    added = do(
        "POST",
        "/api/patrols/{patrol_id}/route",
        f"/api/patrols/{pid}/route",
        {
            "points": [
                {"at": timezone.now().isoformat(), "latitude": "22.8175", "longitude": "108.3668"}
            ]
        },
    )
    assert added == {"added": 1, "refused": []}
    event = do(
        "POST",
        "/api/patrols/{patrol_id}/events",
        f"/api/patrols/{pid}/events",
        {
            "kind": "gathering",
            "node_id": jiwu.pk,
            "people": 4,
            "activity": "cards",
            "outcome": "refused",
            "statements": "不肯回家",
        },
        201,
    )
    eid = event["id"]
    assert event["node_id"] == jiwu.pk and event["people"] == 4
    # multipart with a photo
    called.add(("POST", "/api/patrols/{patrol_id}/events"))
    response = client.post(
        f"/api/patrols/{pid}/events",
        {
            "kind": "publicity",
            "methods": "loudspeaker,leaflets",
            "reached": "60",
            "node_id": jiwu.pk,
            "photos": [io.BytesIO(png())],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["methods"] == ["loudspeaker", "leaflets"]
    photo_id = response.json()["photos"][0]["id"]
    got = client.get(f"/api/patrol-photos/{photo_id}")
    called.add(("GET", "/api/patrol-photos/{photo_id}"))
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    do("GET", "/api/patrol-events/{event_id}", f"/api/patrol-events/{eid}")
    tip = do("POST", "/api/patrol-events/{event_id}/tip", f"/api/patrol-events/{eid}/tip", {})
    support = do(
        "POST", "/api/patrol-events/{event_id}/support", f"/api/patrol-events/{eid}/support", {}
    )
    assert PatrolEvent.objects.get(pk=eid).support_id == support["support_request_id"]
    resolved = do(
        "POST",
        "/api/patrol-events/{event_id}/resolve-tip",
        f"/api/patrol-events/{eid}/resolve-tip",
        {"tip_id": tip["tip_id"], "resolution": "educated"},
    )
    assert resolved["tip_id"] == tip["tip_id"]
    ended = do(
        "POST", "/api/patrols/{patrol_id}/end", f"/api/patrols/{pid}/end", {"summary": "巡毕"}
    )
    assert not ended["under_way"] and len(ended["events"]) == 2

    sup = login(supervisor)
    called.add(("PUT", "/api/patrol-plans"))
    r = call(sup, "PUT", "/api/patrol-plans", {"node_id": community.pk, "times_per_day": 2})
    assert r.status_code == 200 and r.json()["compounds"] == PatrolPlan.objects.count() > 0
    called.add(("GET", "/api/patrol-coverage"))
    rows = call(sup, "GET", f"/api/patrol-coverage?node_id={community.pk}").json()
    jiwu_row = next(r for r in rows if r["node_id"] == jiwu.pk)
    assert jiwu_row["today"] == 1 and not jiwu_row["overdue"]

    assert called == schema_operations(client, {"patrols"})


def test_bad_event_fields_are_named_and_nothing_is_stored(officer, jiwu):
    client = login(officer)
    r = call(client, "POST", "/api/patrols", {"node_id": jiwu.pk})
    pid = r.json()["id"]
    before = (PatrolEvent.objects.count(), RoutePoint.objects.count())
    cases = [
        ({"kind": "gathering", "people": -3}, "people"),
        ({"kind": "gathering", "people": 100000}, "people"),
        ({"kind": "masks", "people": 1, "latitude": 123, "longitude": 108}, "latitude"),
        ({"kind": "masks", "people": 1, "at": "2020-01-01T08:00:00+08:00"}, "at"),
        ({"kind": "masks", "people": 1, "at": "2999-01-01T08:00:00+08:00"}, "at"),
        ({"kind": "gathering", "people": 3, "activity": "cards"}, "outcome"),
    ]
    for body, field in cases:
        r = call(client, "POST", f"/api/patrols/{pid}/events", body)
        assert r.status_code in (400, 422), (body, r.content)
        assert field in field_names(r.json()), (body, r.json())
    r = client.post(
        f"/api/patrols/{pid}/events",
        {"kind": "masks", "people": "1", "photos": [io.BytesIO(b"GIF89a not really")]},
    )
    assert r.status_code == 400 and "photos" in field_names(r.json())
    r = call(client, "POST", f"/api/patrols/{pid}/events", ["not", "an", "object"])
    assert r.status_code == 400
    assert (PatrolEvent.objects.count(), RoutePoint.objects.count()) == before
    assert PatrolPhoto.objects.count() == 0


def test_a_patrol_elsewhere_answers_404_and_reads_nothing(officer, outsider, jiwu, beihu_compound):
    mine = login(officer)
    pid = call(mine, "POST", "/api/patrols", {"node_id": jiwu.pk}).json()["id"]
    other = login(outsider)
    reads = AccessLog.objects.count()
    for method, path, body in (
        ("GET", f"/api/patrols/{pid}", None),
        ("POST", f"/api/patrols/{pid}/events", {"kind": "masks", "people": 1}),
        ("POST", f"/api/patrols/{pid}/end", {}),
    ):
        assert call(other, method, path, body).status_code == 404
    assert AccessLog.objects.count() == reads
    r = call(mine, "POST", "/api/patrols", {"node_id": beihu_compound.pk})
    assert r.status_code == 404 and "node_id" in field_names(r.json())
    assert Patrol.objects.count() == 1


def test_the_board_answers_the_patrols_under_way_as_a_panel(officer, supervisor, jiwu):
    pid = call(login(officer), "POST", "/api/patrols", {"node_id": jiwu.pk}).json()["id"]
    station = Node.objects.get(name="五里亭派出所")
    board = call(login(supervisor), "GET", f"/api/dispatch/{station.pk}").json()
    panel = next(p for p in board["panels"] if p["key"] == "patrols")
    assert panel["count"] == 1 and panel["rows"][0]["url"] == f"/patrols/{pid}/"
    assert panel["rows"][0]["problem"] is False
