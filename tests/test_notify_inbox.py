"""The in-app inbox and the bell (issue 15): pages, what is shown and counted (only records the
recipient may still see), marking read, the bell's poll that writes nothing, the user's
preferences and the administrator's page of the kinds."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangyi.core import access
from fangyi.core.models import AuditEntry
from fangyi.notify import selectors, services
from fangyi.notify.models import KindSetting, Notification, Preference
from fangyi.notify.registry import KINDS, Kind, register
from fangyi.people.models import Household
from tests.conftest import english_login as login

pytestmark = pytest.mark.django_db

KIND = Kind("test_household", "A household to visit", action="household.view")
URGENT = Kind(
    "test_household_urgent",
    "An urgent household",
    action="household.view",
    urgent=True,
    sms_required=("police",),
)
MESSAGE = "A household to visit: %(address)s"


@pytest.fixture(autouse=True)
def kinds(db):
    """The test's kinds, and an empty inbox (the demo city's notifications rolled back after)."""
    Notification.objects.all().delete()
    register(KIND)
    register(URGENT)
    yield
    KINDS.pop(KIND.key, None)
    KINDS.pop(URGENT.key, None)


def notify(user, household, *, kind=KIND, dedupe="", when=None) -> Notification:
    made = services.emit(
        kind.key,
        recipients=[user],
        obj=household,
        message=MESSAGE,
        params={"address": household.address},
        url=f"/households/{household.pk}/",
        dedupe=dedupe or f"test:{household.pk}:{kind.key}",
        now=when,
    )
    assert made, "the recipient may see the household"
    return made[0]


def test_the_inbox_lists_the_notification_and_the_bell_counts_it(officer, jiwu_household):
    note = notify(officer, jiwu_household)
    client = login(officer)
    page = client.get("/notifications/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"A household to visit: {jiwu_household.address}" in text
    assert f"/notifications/{note.pk}/open/" in text
    assert 'id="bell"' in text  # the bell is on the page, its count comes by the poll
    bell = client.get("/notifications/bell/", headers={"HX-Request": "true"})
    assert bell.status_code == 200
    assert 'data-unread="1"' in bell.content.decode()
    assert client.get("/api/notifications/unread-count").json() == {"unread": 1}


def test_opening_marks_read_and_goes_to_the_record(officer, jiwu_household):
    note = notify(officer, jiwu_household)
    client = login(officer)
    r = client.post(f"/notifications/{note.pk}/open/")
    assert r.status_code == 302 and r["Location"] == f"/households/{jiwu_household.pk}/"
    note.refresh_from_db()
    first = note.read_at
    assert first is not None
    client.post(f"/notifications/{note.pk}/open/")  # again: the first time is kept
    note.refresh_from_db()
    assert note.read_at == first
    assert selectors.unread_count(officer) == 0
    assert client.get(f"/notifications/{note.pk}/open/").status_code == 405


def test_a_link_to_another_site_goes_to_the_inbox(officer, jiwu_household):
    note = notify(officer, jiwu_household)
    Notification.objects.filter(pk=note.pk).update(url="https://evil.example/")
    r = login(officer).post(f"/notifications/{note.pk}/open/")
    assert r.status_code == 302 and r["Location"] == "/notifications/"


def test_a_record_moved_out_of_the_jurisdiction_is_neither_shown_nor_counted(
    officer, jiwu_household, beihu_compound
):
    note = notify(officer, jiwu_household)
    Household.objects.filter(pk=jiwu_household.pk).update(node=beihu_compound)
    client = login(officer)
    assert selectors.unread_count(officer) == 0
    assert f"/notifications/{note.pk}/open/" not in client.get("/notifications/").content.decode()
    assert 'data-unread="0"' in client.get("/notifications/bell/").content.decode()
    assert client.post(f"/notifications/{note.pk}/open/").status_code == 404
    assert client.get("/api/notifications").json()["count"] == 0
    note.refresh_from_db()
    assert note.read_at is None


def test_a_role_that_lost_the_action_sees_nothing_of_it(
    officer, auxiliary, jiwu_household, monkeypatch
):
    notify(officer, jiwu_household)
    notify(auxiliary, jiwu_household)
    allowed = set(access.POLICY["household.view"]) - {"police"}
    monkeypatch.setitem(access.POLICY, "household.view", allowed)
    assert selectors.unread_count(officer) == 0
    assert list(selectors.notification_list(officer)) == []
    assert login(officer).get("/api/notifications/unread-count").json() == {"unread": 0}
    assert selectors.unread_count(auxiliary) == 1  # his role still has it


def test_another_user_s_notification_is_not_there(officer, auxiliary, jiwu_household):
    theirs = notify(auxiliary, jiwu_household)
    client = login(officer)
    assert client.post(f"/notifications/{theirs.pk}/open/").status_code == 404
    assert client.post(f"/notifications/{987654321}/open/").status_code == 404
    a = client.post(f"/api/notifications/{theirs.pk}/read")
    b = client.post("/api/notifications/987654321/read")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read(officer, auxiliary, jiwu_household, jiwu):
    other = Household.objects.filter(node=jiwu).exclude(pk=jiwu_household.pk).first()
    notify(officer, jiwu_household)
    notify(officer, other)
    theirs = notify(auxiliary, jiwu_household)
    client = login(officer)
    r = client.post("/notifications/read-all/")
    assert r.status_code == 302 and r["Location"] == "/notifications/"
    assert Notification.objects.filter(recipient=officer, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None  # only his own


def test_unread_first_then_newest(officer, jiwu_household, jiwu):
    others = list(Household.objects.filter(node=jiwu).exclude(pk=jiwu_household.pk)[:2])
    now = timezone.now()
    old = notify(officer, jiwu_household, when=now - dt.timedelta(hours=3))
    read = notify(officer, others[0], when=now - dt.timedelta(hours=1))
    new = notify(officer, others[1], when=now - dt.timedelta(hours=2))
    selectors.notification_read(officer, read.pk)
    unread_first = [n.pk for n in selectors.notification_list(officer, order="unread")]
    assert unread_first == [new.pk, old.pk, read.pk]
    newest = [n.pk for n in selectors.notification_list(officer, order="newest")]
    assert newest == [read.pk, new.pk, old.pk]
    page = login(officer).get("/notifications/?order=newest").content.decode()
    assert page.index(f"note-{read.pk}") < page.index(f"note-{new.pk}")


def test_the_message_is_in_the_reader_s_language(officer, jiwu_household):
    services.emit(
        KIND.key,
        recipients=[officer],
        obj=jiwu_household,
        message="Log out",  # a text the catalogue has in Chinese
        url="/",
        dedupe="lang",
    )
    client = login(officer)
    client.cookies["django_language"] = "zh-hans"
    assert "退出" in client.get("/notifications/").content.decode()


def test_the_inbox_is_paginated(officer, jiwu_household):
    for i in range(35):
        notify(officer, jiwu_household, dedupe=f"page-{i}")
    client = login(officer)
    first = client.get("/notifications/").content.decode()
    assert first.count('class="item"') == 30 and "page=2" in first
    assert client.get("/notifications/?page=2").content.decode().count('class="item"') == 5


def test_the_bell_s_poll_writes_nothing_and_keeps_no_session_alive(officer, jiwu_household):
    notify(officer, jiwu_household)
    client = login(officer)
    assert client.get("/").status_code == 200
    key = client.cookies["sessionid"].value
    before = Session.objects.get(session_key=key).expire_date
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            r = client.get("/notifications/bell/", headers={"HX-Request": "true"})
            assert r.status_code == 200 and 'data-unread="1"' in r.content.decode()
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert Session.objects.get(session_key=key).expire_date == before


def test_the_bell_costs_one_query_when_nothing_is_unread(officer):
    officer = type(officer).objects.get(pk=officer.pk)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.unread_count(officer) == 0
    assert len(queries.captured_queries) == 1


def test_the_count_is_one_query_per_kind_of_record_not_per_row(officer, jiwu_household, jiwu):
    for i, h in enumerate(Household.objects.filter(node=jiwu)[:5]):
        notify(officer, h, dedupe=f"n-{i}")
    officer = type(officer).objects.get(pk=officer.pk)
    access.user_paths(officer)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.unread_count(officer) == 5
    assert len(queries.captured_queries) == 2  # the kinds of record, then the count


def test_an_anonymous_poll_is_sent_to_the_login_page(client):
    r = client.get("/notifications/bell/", headers={"HX-Request": "true"})
    assert r.status_code == 204 and r["HX-Redirect"].startswith("/login/")


# --- preferences -----------------------------------------------------------------------------


def test_settings_are_saved_and_audited(auxiliary):
    client = login(auxiliary)
    assert client.get("/notifications/settings/").status_code == 200
    r = client.post(
        "/notifications/settings/",
        {
            "sms": "on",
            "email": "on",
            "quiet_from": "22:00",
            "quiet_to": "07:00",
            "language": "en",
        },
    )
    assert r.status_code == 302
    pref = Preference.objects.get(user=auxiliary)
    assert (pref.sms, pref.email, pref.digest) == (True, True, False)
    assert (pref.quiet_from, pref.quiet_to) == (dt.time(22), dt.time(7))
    assert pref.language == "en"
    entry = AuditEntry.objects.filter(action="fangyi.notification_preference.changed").last()
    assert entry.actor == auxiliary and entry.changes["quiet_from"] == [None, "22:00"]
    assert 'value="22:00"' in client.get("/notifications/settings/").content.decode()


@pytest.mark.parametrize(
    "data,field",
    [
        ({"quiet_from": "22:00", "language": "en"}, "quiet_to"),
        ({"quiet_to": "07:00", "language": "en"}, "quiet_from"),
        ({"quiet_from": "22:00", "quiet_to": "22:00", "language": "en"}, "quiet_to"),
        ({"quiet_from": "25:00", "quiet_to": "07:00", "language": "en"}, "quiet_from"),
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_stored(auxiliary, data, field):
    client = login(auxiliary)
    audits = AuditEntry.objects.count()
    r = client.post("/notifications/settings/", data)
    assert r.status_code == 400
    assert f'id="fg-{field}"' in r.content.decode()
    assert "errorlist" in r.content.decode()
    assert not Preference.objects.filter(user=auxiliary).exists()
    assert AuditEntry.objects.count() == audits


def test_a_role_s_required_sms_cannot_be_switched_off(officer):
    client = login(officer)
    page = client.get("/notifications/settings/").content.decode()
    assert "An urgent household" in page  # named as required
    r = client.post("/notifications/settings/", {"language": "zh-hans", "digest": "on"})
    assert r.status_code == 400
    text = r.content.decode()
    assert "cannot be switched off" in text and "An urgent household" in text
    assert not Preference.objects.filter(user=officer).exists()


# --- the kinds -------------------------------------------------------------------------------


def test_the_administrator_configures_a_kind(admin, officer):
    client = login(admin)
    page = client.get("/notifications/kinds/")
    assert page.status_code == 200
    text = page.content.decode()
    for kind in KINDS.values():
        assert f'id="kind-{kind.key}"' in text
    r = client.post(
        "/notifications/kinds/",
        {"key": KIND.key, "urgent": "on", "roles": ["police", "auxiliary"]},
    )
    assert r.status_code == 302
    row = KindSetting.objects.get(key=KIND.key)
    assert (row.enabled, row.urgent, row.roles) == (False, True, ["auxiliary", "police"])
    entry = AuditEntry.objects.get(action="fangyi.notification_setting.configured")
    assert entry.changes["enabled"] == [True, False]
    # switched off: no new notification
    household = Household.objects.filter(node__name="机务小区").first()
    assert services.emit(KIND.key, recipients=[officer], obj=household, message="x", url="/") == []


def test_a_kind_s_roles_are_among_those_that_may_see_its_records(admin):
    client = login(admin)
    for roles in (["admin"], []):
        r = client.post("/notifications/kinds/", {"key": KIND.key, "enabled": "on", "roles": roles})
        assert r.status_code == 400
        assert "errorlist" in r.content.decode()
    assert not KindSetting.objects.filter(key=KIND.key).exists()
    assert client.post("/notifications/kinds/", {"key": "nope", "roles": []}).status_code == 404


def test_only_the_administrator_configures_kinds(officer):
    client = login(officer)
    assert client.get("/notifications/kinds/").status_code == 403
    r = client.post("/notifications/kinds/", {"key": KIND.key, "roles": ["police"]})
    assert r.status_code == 403
    assert not KindSetting.objects.filter(key=KIND.key).exists()


def test_inbox_query_count(officer, jiwu_household, django_assert_max_num_queries):
    for i in range(5):
        notify(officer, jiwu_household, dedupe=f"q-{i}")
    client = login(officer)
    client.get("/notifications/")
    with CaptureQueriesContext(connection) as one:
        client.get("/notifications/")
    for i in range(5, 25):
        notify(officer, jiwu_household, dedupe=f"q-{i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/notifications/")
    assert len(one.captured_queries) == len(many.captured_queries)  # no query per row
