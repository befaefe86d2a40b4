"""The SMS gateway's callback (issue 15, item 4): residents' stop and start requests and
replies, authenticated by the gateway's key, each callback done once however often retried,
bad input refused with its field and nothing stored."""

from __future__ import annotations

import datetime as dt
import json
import threading

import django.test
import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone

from fangyi.core.models import AuditEntry
from fangyi.notify import inbound
from fangyi.notify.api_inbound import KEY_HEADER
from fangyi.notify.models import BlockedNumber, Message, Notification
from fangyi.notify.services import send_to_resident
from fangyi.observation import reminders
from fangyi.observation.services import observation_start_unchecked
from fangyi.people.models import Person
from tests.conftest import login
from tests.test_api import call, field_names, schema_operations
from tests.test_placement_race import race_db  # noqa: F401

KEY = "gateway-secret-0123456789"
URL = "/api/inbound/sms"
NUMBER = "13977112233"


class Client(django.test.Client):
    """The gateway: English messages, and its key in the header unless told otherwise."""

    def __init__(self, key: str | None = KEY, **kwargs):
        headers = {KEY_HEADER: key} if key is not None else {}
        super().__init__(headers=headers, **kwargs)
        self.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture(autouse=True)
def inbound_key(settings):
    settings.FANGYI_SMS_INBOUND_KEY = KEY


def post(client, body):
    return client.post(URL, json.dumps(body), content_type="application/json")


def sms(text: str, message_id: str, sender: str = NUMBER) -> dict:
    return {"from": sender, "text": text, "message_id": message_id}


def queued(number: str = NUMBER, kind: str = "selfreport_morning") -> Message:
    message = send_to_resident(kind, phone=number, message="Hello")
    assert message is not None
    return message


def receipts() -> int:
    return AuditEntry.objects.filter(
        action=inbound.RECEIVED_ACTION, object_type=inbound.RECEIPT_TYPE
    ).count()


@pytest.mark.django_db
def test_every_inbound_operation_answers(officer):
    seen: set[tuple[str, str]] = set()
    gateway = Client()
    done = call(gateway, "POST", URL, 200, sms("TD", "op-1"), seen=seen)
    assert done == {"message_id": "op-1", "outcome": "stopped", "cancelled": 0}
    assert seen == schema_operations(login(officer), {"inbound"})


@pytest.mark.django_db
def test_the_key_is_required_and_compared(settings):
    before = receipts()
    assert post(Client(key=None), sms("TD", "k-1")).status_code == 401
    assert post(Client(key="wrong"), sms("TD", "k-2")).status_code == 401
    assert post(Client(key=KEY + "x"), sms("TD", "k-3")).status_code == 401
    assert post(Client(key=""), sms("TD", "k-4")).status_code == 401
    assert not BlockedNumber.objects.filter(phone=NUMBER).exists() and receipts() == before
    # No key configured: closed, whatever is sent.
    settings.FANGYI_SMS_INBOUND_KEY = ""
    response = post(Client(key=""), sms("TD", "k-5"))
    assert response.status_code == 503 and "not configured" in response.json()["detail"]
    assert post(Client(), sms("TD", "k-6")).status_code == 503
    assert not BlockedNumber.objects.filter(phone=NUMBER).exists() and receipts() == before


def test_the_key_is_compared_in_constant_time():
    import inspect

    from fangyi.notify import api_inbound

    assert "hmac.compare_digest" in inspect.getsource(api_inbound.GatewayKey.authenticate)


@pytest.mark.django_db
def test_a_session_is_not_the_key(officer):
    client = login(officer)
    response = client.post(URL, json.dumps(sms("TD", "s-1")), content_type="application/json")
    assert response.status_code == 401
    assert not BlockedNumber.objects.filter(phone=NUMBER).exists()


@pytest.mark.parametrize(
    "word", ["TD", "td", "Ｔ Ｄ", "T", "stop", " STOP。", "退订", "退訂", "取消"]
)
@pytest.mark.django_db
def test_a_stop_word_blocks_the_number_and_gives_up_its_queued_messages(word):
    first, second = queued(), queued(kind="selfreport_reminder")
    other = queued("13977110099")
    answer = post(Client(), sms(word, f"stop-{abs(hash(word))}")).json()
    assert answer["outcome"] == "stopped" and answer["cancelled"] == 2
    assert BlockedNumber.objects.filter(phone=NUMBER).exists()
    for m in (first, second):
        m.refresh_from_db()
        assert m.status == "given_up" and "asked to stop" in m.answer
    other.refresh_from_db()
    assert other.status == "queued"
    # A blocked number gets nothing more.
    assert send_to_resident("selfreport_morning", phone=NUMBER, message="Hello") is None


@pytest.mark.django_db
def test_a_full_width_number_and_plus_86_are_the_same_number():
    post(Client(), sms("TD", "w-1", sender="+86 139 7711 2233"))
    assert BlockedNumber.objects.filter(phone=NUMBER).exists()


@pytest.mark.django_db
def test_start_again_unblocks():
    post(Client(), sms("TD", "ss-1"))
    assert BlockedNumber.objects.filter(phone=NUMBER).exists()
    answer = post(Client(), sms("订阅", "ss-2")).json()
    assert answer["outcome"] == "started"
    assert not BlockedNumber.objects.filter(phone=NUMBER).exists()
    assert send_to_resident("selfreport_morning", phone=NUMBER, message="Hello") is not None
    assert post(Client(), sms("start", "ss-3")).json()["outcome"] == "started"


@pytest.mark.django_db
def test_a_retried_callback_answers_the_same_once():
    message = queued()
    first = post(Client(), sms("TD", "retry-1"))
    assert first.status_code == 200
    # The resident starts again; the gateway then retries the old stop: nothing is redone.
    post(Client(), sms("START", "retry-2"))
    later = queued()
    again = post(Client(), sms("TD", "retry-1"))
    assert again.status_code == 200 and again.json() == first.json()
    assert not BlockedNumber.objects.filter(phone=NUMBER).exists()
    later.refresh_from_db()
    assert later.status == "queued"
    message.refresh_from_db()
    assert message.status == "given_up"
    assert (
        AuditEntry.objects.filter(
            action=inbound.RECEIVED_ACTION, object_type=inbound.RECEIPT_TYPE, object_repr="retry-1"
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_any_other_reply_is_recorded_on_the_person_and_told_to_the_responsible(
    jiwu_household, grid_worker
):
    today = timezone.localdate()
    person = Person.objects.create(
        name="回复者",
        name_norm="回复者",
        id_type="none",
        node=jiwu_household.node,
        household=jiwu_household,
        phone="13977114455",
    )
    grid_worker.nodes.add(jiwu_household.node)
    observation = observation_start_unchecked(
        actor=None,
        person=person,
        kind="home",
        last_exposure=today - dt.timedelta(days=2),
        starts=today,
        responsible=grid_worker,
    )
    answer = post(Client(), sms("我今天有点咳嗽", "reply-1", sender="13977114455")).json()
    assert answer == {"message_id": "reply-1", "outcome": "recorded", "cancelled": 0}
    assert not BlockedNumber.objects.filter(phone="13977114455").exists()
    entry = AuditEntry.objects.get(
        action=inbound.RECEIVED_ACTION, object_type="person", object_id=person.pk
    )
    assert entry.changes["text"][1] == "我今天有点咳嗽"
    assert entry.node_path == person.node.path
    # The receipt of the callback belongs to no jurisdiction: it keeps no text.
    receipt = AuditEntry.objects.get(
        action=inbound.RECEIVED_ACTION, object_type=inbound.RECEIPT_TYPE, object_repr="reply-1"
    )
    assert receipt.node_path == "" and "咳嗽" not in str(receipt.changes)
    # Staff who may see the person read it in his history.
    history = login(grid_worker).get(f"/people/{person.pk}/history/")
    assert history.status_code == 200 and "我今天有点咳嗽" in history.content.decode()
    note = Notification.objects.get(recipient=grid_worker, kind=reminders.REPLY.key)
    assert note.object_id == observation.pk and "咳嗽" in note.params["text"]
    # The retry notifies nobody twice and records nothing twice.
    post(Client(), sms("我今天有点咳嗽", "reply-1", sender="13977114455"))
    assert Notification.objects.filter(recipient=grid_worker, kind=reminders.REPLY.key).count() == 1
    assert (
        AuditEntry.objects.filter(action=inbound.RECEIVED_ACTION, object_id=person.pk).count() == 1
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"text": "TD", "message_id": "b-1"}, {"from"}),
        ({"from": NUMBER, "message_id": "b-2"}, {"text"}),
        ({"from": NUMBER, "text": "TD"}, {"message_id"}),
        ({}, {"from", "text", "message_id"}),
        (sms("TD", "b-3", sender="0771-5551234"), {"from"}),
        (sms("TD", "b-4", sender="+14155550100"), {"from"}),
        (sms("TD", "b-5", sender="1397711"), {"from"}),
        (sms("T\x00D", "b-6"), {"text"}),
        (sms("TD", "b-7", sender="139771\x0012233"), {"from"}),
        (sms("TD", "b\x00-8"), {"message_id"}),
        (sms("长" * 1001, "b-9"), {"text"}),
        (sms("TD", "x" * 65), {"message_id"}),
        (sms("TD", "含空格 的id"), {"message_id"}),
        (sms("TD", ""), {"message_id"}),
        ({"from": 13977112233, "text": "TD", "message_id": "b-10"}, {"from"}),
    ],
)
@pytest.mark.django_db
def test_bad_input_is_refused_with_its_field_and_nothing_stored(body, fields):
    before, blocked = receipts(), BlockedNumber.objects.count()
    response = post(Client(), body)
    assert response.status_code in (400, 422), response.content
    assert fields <= field_names(response.json()), response.json()
    assert receipts() == before and BlockedNumber.objects.count() == blocked


@pytest.mark.django_db
def test_not_json_is_refused():
    response = Client().post(URL, "from=1&text=TD", content_type="application/json")
    assert response.status_code in (400, 422)


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_callback_at_once_are_done_once(race_db):  # noqa: F811
    number = "13977116677"
    barrier = threading.Barrier(2)
    lock = threading.Lock()
    answers, errors = [], []

    def work():
        race_db.enter()
        try:
            barrier.wait(timeout=30)
            got = inbound.sms_received(sender=number, text="TD", message_id="twice-1")
            with lock:
                answers.append(got.outcome)
        except Exception as exc:  # noqa: BLE001 - shown by the test
            with lock:
                errors.append(repr(exc))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work) for _ in range(2)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert errors == [] and answers == ["stopped", "stopped"]
    assert (
        AuditEntry.objects.filter(
            action=inbound.RECEIVED_ACTION, object_type=inbound.RECEIPT_TYPE, object_repr="twice-1"
        ).count()
        == 1
    )
