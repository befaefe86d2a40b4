"""The delivery log's API operation by operation and its page, asserting on what is stored:
numbers masked, residents' texts shown and staff texts not, filters, failures first, the
retry of a message given up (audited, same key); the query counts of the list, the same at
two sizes; and the worker's delivery loop surviving a failure."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangyi.core.models import AuditEntry
from fangyi.notify.models import Message, MessageStatus, Notification
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import send_to_resident
from tests.conftest import english_login as login  # the assertions read English
from tests.conftest import node
from tests.test_api import call, schema_operations
from tests.test_permissions import elsewhere

pytestmark = pytest.mark.django_db

MISSING = 987_654_321
RESIDENT = register(
    Kind("delivery_test_resident", "A resident's test message", action="person.view")
)


@pytest.fixture(autouse=True)
def _empty_outbox(db):
    Message.objects.all().delete()


def resident(i: int = 0, status: str = MessageStatus.QUEUED) -> Message:
    message = send_to_resident(
        RESIDENT.key, phone=f"1381234{i:04d}", message="Your daily self-report: %(l)s",
        params={"l": "https://fy.example.cn/r/x"},
    )  # fmt: skip
    assert message is not None
    if status != MessageStatus.QUEUED:
        Message.objects.filter(pk=message.pk).update(
            status=status, attempts=4, answer="Given up after 4 attempts: 500 down"
        )
        message.refresh_from_db()
    return message


def staff(officer, where: str = "机务小区") -> Message:
    place = node(where)
    note = Notification.objects.create(
        recipient=officer, kind="tip_assigned", message="Tip %(code)s about 张三",
        params={"code": "T1"}, url="/tips/1/", object_label="tips.tip", object_id=1,
        node_path=place.path, urgent=True, dedupe=f"t:{place.pk}",
    )  # fmt: skip
    return Message.objects.create(
        channel="sms", notification=note, recipient=officer, to="13912345678",
        kind="tip_assigned", text="[Fangyi] Tip T1 about 张三", urgent=True,
        status=MessageStatus.GIVEN_UP, attempts=1, answer="Given up (refused): 400",
    )  # fmt: skip


def test_every_delivery_operation_answers(admin, officer):
    seen: set[tuple[str, str]] = set()
    adm = login(admin)

    def c(method, template, expect=200, body=None, params=None, **ids):
        return call(adm, method, template, expect, body, params, seen, **ids)

    queued = resident(1)
    gone = resident(2, MessageStatus.GIVEN_UP)
    mine = staff(officer)
    elsewhere()  # another city, outside the administrator's
    far = staff(officer, "柳州城中小区")

    listed = c("GET", "/api/deliveries")
    by_id = {m["id"]: m for m in listed["items"]}
    assert {queued.pk, gone.pk, mine.pk} <= set(by_id)
    assert by_id[queued.pk]["to"] == "138****0001"
    assert "self-report" in by_id[queued.pk]["text"]
    assert by_id[mine.pk]["text"] is None  # a staff text names a record
    assert by_id[mine.pk]["to"] == "139****5678"
    assert "13912345678" not in str(listed) and "张三" not in str(listed)
    assert far.pk not in by_id
    c("GET", "/api/deliveries/{message_id}", 404, message_id=far.pk)

    failures = c("GET", "/api/deliveries", params={"failures_first": "true"})["items"]
    assert {failures[0]["status"], failures[1]["status"]} == {"given_up"}
    only = c("GET", "/api/deliveries", params={"status": "given_up", "channel": "sms"})
    assert {m["id"] for m in only["items"]} == {gone.pk, mine.pk}
    kinds = c("GET", "/api/deliveries", params={"kind": RESIDENT.key})["items"]
    assert {m["id"] for m in kinds} == {queued.pk, gone.pk}
    bad = adm.get("/api/deliveries", {"status": "lost"})
    assert bad.status_code == 422

    one = c("GET", "/api/deliveries/{message_id}", message_id=gone.pk)
    assert one["attempts"] == 4 and one["answer"].startswith("Given up after 4")
    assert one["key"] == str(gone.key)
    c("GET", "/api/deliveries/{message_id}", 404, message_id=MISSING)

    again = c("POST", "/api/deliveries/{message_id}/retry", message_id=gone.pk)
    assert again["status"] == "queued" and again["attempts"] == 0
    assert again["key"] == str(gone.key)
    assert AuditEntry.objects.filter(action="fangyi.message.retried", object_id=gone.pk)
    refused = c("POST", "/api/deliveries/{message_id}/retry", 409, message_id=queued.pk)
    assert "given up" in refused["detail"]

    assert login(officer).get("/api/deliveries").status_code == 403
    assert seen == schema_operations(adm, {"delivery"})


def test_the_delivery_log_page_masks_numbers_and_retries_a_message_given_up(admin, officer):
    queued = resident(1)
    gone = resident(2, MessageStatus.GIVEN_UP)
    mine = staff(officer)
    client = login(admin)
    page = client.get("/deliveries/", {"failures": "on"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "138****0001" in html and "13812340001" not in html
    assert "self-report" in html and "张三" not in html and "13912345678" not in html
    assert html.index(f'id="message-{gone.pk}"') < html.index(f'id="message-{queued.pk}"')
    assert f"/deliveries/{gone.pk}/retry/" in html and f"/deliveries/{queued.pk}/retry/" not in html
    assert f'id="message-{mine.pk}"' in html

    filtered = client.get("/deliveries/", {"status": "queued"}).content.decode()
    assert f'id="message-{queued.pk}"' in filtered and f'id="message-{gone.pk}"' not in filtered

    done = client.post(f"/deliveries/{gone.pk}/retry/", {"next": "/deliveries/?status=queued"})
    assert done.status_code == 302 and done["Location"] == "/deliveries/?status=queued"
    gone.refresh_from_db()
    assert gone.status == MessageStatus.QUEUED and gone.attempts == 0
    again = client.post(f"/deliveries/{queued.pk}/retry/", follow=True)
    assert "given up can be sent again" in again.content.decode()
    assert client.post(f"/deliveries/{MISSING}/retry/").status_code == 404
    assert login(officer).get("/deliveries/").status_code == 403


def _count(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_the_delivery_log_costs_the_same_queries_at_two_sizes(admin, officer):
    client = login(admin)
    for i in range(3):
        resident(i, MessageStatus.GIVEN_UP)
    staff(officer)
    page, api = _count(client, "/deliveries/"), _count(client, "/api/deliveries")
    for i in range(3, 30):
        resident(i, MessageStatus.GIVEN_UP if i % 2 else MessageStatus.QUEUED)
    assert _count(client, "/deliveries/") == page
    assert _count(client, "/api/deliveries") == api
    assert _count(client, "/api/deliveries?limit=1") == api


def test_the_worker_delivery_loop_keeps_going_after_a_failure(monkeypatch):
    from fangyi import cli
    from fangyi.notify import delivery

    stop = threading.Event()
    calls: list[int] = []

    def fake(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        stop.set()
        return {"claimed": 1, "sent": 1, "failed": 0, "given_up": 0}

    monkeypatch.setattr(delivery, "deliver_due", fake)
    monkeypatch.setattr(delivery, "digest_send", lambda *a, **k: 0)
    cli._delivery_loop(stop, interval=0.01, busy=0.01)
    assert len(calls) == 2


def test_the_log_shows_no_self_report_token(admin):
    """The morning SMS carries the person's link for the day; the log shows the text without
    the token, on the page and through the API."""
    message = send_to_resident(
        RESIDENT.key, phone="13812340099", message="Your daily self-report: %(l)s",
        params={"l": "https://fy.example.cn/r/SeCrEtToKeN.abc:xyz/daily/"},
    )  # fmt: skip
    assert message is not None and "SeCrEtToKeN" in message.text
    adm = login(admin)
    page = adm.get("/deliveries/").content.decode()
    api = adm.get(f"/api/deliveries/{message.pk}").json()["text"]
    for shown in (page, api):
        assert "SeCrEtToKeN" not in shown
        assert "/r/…/daily/" in shown


def test_a_residents_message_is_seen_by_the_administrators_of_his_jurisdiction(admin):
    """A reminder to a resident of another city is not in this administrator's log; one of
    his own jurisdiction is, and one placed nowhere (no node known) is too."""
    far_path = elsewhere().path
    here_path = node("机务小区").path

    def to(path: str, i: int) -> Message:
        message = send_to_resident(
            RESIDENT.key, phone=f"1381234{i:04d}", message="Your daily self-report: %(l)s",
            params={"l": "https://fy.example.cn/r/x/daily/"}, node_path=path,
        )  # fmt: skip
        assert message is not None
        return message

    far, here, nowhere = to(far_path, 41), to(here_path, 42), to("", 43)
    listed = {m["id"] for m in login(admin).get("/api/deliveries").json()["items"]}
    assert here.pk in listed and nowhere.pk in listed
    assert far.pk not in listed
    assert login(admin).get(f"/api/deliveries/{far.pk}").status_code == 404
