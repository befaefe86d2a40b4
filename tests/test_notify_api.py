"""The API of the caller's own inbox (issue 15), operation by operation: list (paginated, the
unread filter), unread count, mark one and all read, preferences; bad input named by its API
field and nothing stored; another user's notification answers 404 like a missing one."""

from __future__ import annotations

import json

import pytest

from fangyi.core.models import AuditEntry
from fangyi.notify import preferences, services
from fangyi.notify.models import Notification, Preference
from fangyi.notify.registry import KINDS, Kind, register
from fangyi.people.models import Household
from tests.conftest import english_login as login
from tests.test_api import field_names, schema_operations

pytestmark = pytest.mark.django_db

KIND = Kind("test_api_household", "A household (API test)", action="household.view")
REQUIRED = Kind(
    "test_api_required",
    "A required SMS (API test)",
    action="household.view",
    urgent=True,
    sms_required=("police",),
)


@pytest.fixture(autouse=True)
def kinds(db):
    Notification.objects.all().delete()
    register(KIND)
    yield
    KINDS.pop(KIND.key, None)
    KINDS.pop(REQUIRED.key, None)


def call(client, method: str, path: str, body=None):
    if method == "GET":
        return client.get(path)
    data = b"" if body is None else json.dumps(body)
    return client.generic(method, path, data=data, content_type="application/json")


def notify(user, household, tag: str) -> Notification:
    return services.emit(
        KIND.key,
        recipients=[user],
        obj=household,
        message="A household to visit: %(address)s",
        params={"address": household.address},
        url=f"/households/{household.pk}/",
        dedupe=f"api:{tag}",
    )[0]


def test_every_notify_operation_answers(auxiliary, jiwu):
    client = login(auxiliary)
    called: set[tuple[str, str]] = set()

    def do(method, template, path, body=None, status=200):
        called.add((method, template))
        response = call(client, method, path, body)
        assert response.status_code == status, (path, response.content[:400])
        return response.json()

    households = list(Household.objects.filter(node=jiwu).order_by("pk")[:3])
    notes = [notify(auxiliary, h, str(i)) for i, h in enumerate(households)]

    listed = do("GET", "/api/notifications", "/api/notifications?limit=2")
    assert listed["count"] == 3 and len(listed["items"]) == 2
    item = listed["items"][0]
    assert item["id"] == notes[-1].pk and item["unread"] is True and item["read_at"] is None
    assert item["text"] == f"A household to visit: {households[-1].address}"
    assert item["url"] == f"/households/{households[-1].pk}/"
    assert item["object_type"] == "people.Household" and item["kind"] == KIND.key

    assert do("GET", "/api/notifications/unread-count", "/api/notifications/unread-count") == {
        "unread": 3
    }
    read = do(
        "POST",
        "/api/notifications/{notification_id}/read",
        f"/api/notifications/{notes[0].pk}/read",
    )
    assert read["id"] == notes[0].pk and read["unread"] is False and read["read_at"]
    unread = client.get("/api/notifications?unread=true").json()
    assert {i["id"] for i in unread["items"]} == {notes[1].pk, notes[2].pk}
    assert client.get("/api/notifications?unread=false").json()["count"] == 1
    ordered = client.get("/api/notifications?order=unread").json()["items"]
    assert ordered[-1]["id"] == notes[0].pk

    assert do("POST", "/api/notifications/read-all", "/api/notifications/read-all") == {"marked": 2}
    assert client.get("/api/notifications/unread-count").json() == {"unread": 0}

    pref = do("GET", "/api/notifications/preferences", "/api/notifications/preferences")
    assert pref == {
        "sms": True,
        "email": False,
        "digest": True,
        "quiet_from": None,
        "quiet_to": None,
        "language": "zh-hans",
        "sms_required_kinds": [k.key for k in preferences.sms_required_kinds(auxiliary)],
    }
    body = {
        "sms": True,
        "email": True,
        "digest": False,
        "quiet_from": "22:30",
        "quiet_to": "06:45",
        "language": "zh-hant",
    }
    saved = do("PUT", "/api/notifications/preferences", "/api/notifications/preferences", body)
    assert saved["quiet_from"].startswith("22:30") and saved["language"] == "zh-hant"
    stored = Preference.objects.get(user=auxiliary)
    assert (stored.sms, stored.email, stored.digest) == (True, True, False)
    assert str(stored.quiet_to) == "06:45:00"
    assert AuditEntry.objects.filter(
        action="fangyi.notification_preference.changed", actor=auxiliary
    ).exists()

    assert called == schema_operations(client, {"notify"})


def test_another_user_s_notification_answers_like_a_missing_one(officer, auxiliary, jiwu):
    theirs = notify(officer, Household.objects.filter(node=jiwu).first(), "theirs")
    client = login(auxiliary)
    a = client.post(f"/api/notifications/{theirs.pk}/read")
    b = client.post("/api/notifications/987654321/read")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    assert client.get("/api/notifications").json()["count"] == 0
    assert client.post("/api/notifications/read-all").json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_record_out_of_reach_is_not_listed(officer, jiwu, beihu_compound):
    household = Household.objects.filter(node=jiwu).first()
    note = notify(officer, household, "moved")
    Household.objects.filter(pk=household.pk).update(node=beihu_compound)
    client = login(officer)
    assert client.get("/api/notifications").json()["count"] == 0
    assert client.get("/api/notifications/unread-count").json() == {"unread": 0}
    assert client.post(f"/api/notifications/{note.pk}/read").status_code == 404


@pytest.mark.parametrize(
    "body,field,status",
    [
        ({"quiet_from": "22:00"}, "quiet_to", 400),
        ({"quiet_from": "22:00", "quiet_to": "22:00"}, "quiet_to", 400),
        ({"quiet_from": "25:00", "quiet_to": "07:00"}, "quiet_from", 422),
        ({"language": "fr"}, "language", 400),
        ({"sms": "maybe"}, "sms", 422),
    ],
)
def test_bad_preferences_are_named_and_nothing_is_stored(auxiliary, body, field, status):
    r = call(login(auxiliary), "PUT", "/api/notifications/preferences", body)
    assert r.status_code == status, r.content
    assert field in field_names(r.json())
    assert not Preference.objects.filter(user=auxiliary).exists()


def test_a_required_sms_cannot_be_switched_off_by_the_api(officer):
    register(REQUIRED)
    client = login(officer)
    assert REQUIRED.key in client.get("/api/notifications/preferences").json()["sms_required_kinds"]
    r = call(client, "PUT", "/api/notifications/preferences", {"sms": False})
    assert r.status_code == 400 and field_names(r.json()) == {"sms"}
    assert "cannot be switched off" in r.json()["detail"]
    assert not Preference.objects.filter(user=officer).exists()


def test_a_bad_order_is_named(officer):
    r = login(officer).get("/api/notifications?order=oldest")
    assert r.status_code == 400 and field_names(r.json()) == {"order"}


def test_anonymous_callers_get_401(client):
    assert client.get("/api/notifications").status_code == 401
    assert client.get("/api/notifications/unread-count").status_code == 401
