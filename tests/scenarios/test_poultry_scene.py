"""散養家禽: a resident complains about free-range poultry in 機務小區. The complaint goes to
the community staff and the station's officer; a second resident reports the same flock that
morning and the two are merged; three visits over three days post notices; the flock is
penned (rectified), the reporter is answered on her tracking page, and the tip is closed.
Everything through the pages, the residents without an account."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fangyi.core.models import AuditEntry
from fangyi.tips.models import Resolution, Tip, TipCategory, TipStatus, TipVisit
from tests.conftest import login

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
DAY1 = dt.datetime(2020, 2, 10, 8, 20, tzinfo=TZ)
DAY2 = dt.datetime(2020, 2, 11, 9, 40, tzinfo=TZ)
DAY3 = dt.datetime(2020, 2, 12, 15, 5, tzinfo=TZ)
REPORTER = {"name": "陈女士", "phone": "13877112233"}
DESCRIPTION = "3栋后面空地有人散养鸡鸭十多只,粪便到处都是,疫情期间很担心。"


def photo() -> SimpleUploadedFile:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 140, 60)).save(buf, format="JPEG")
    return SimpleUploadedFile("notice.jpg", buf.getvalue(), content_type="image/jpeg")


def report(ip: str, jiwu, description: str, **extra) -> str:
    resident = Client(REMOTE_ADDR=ip)
    assert resident.get("/report/").status_code == 200
    form = resident.get("/report/?category=poultry")
    assert "机务小区" in form.content.decode()
    r = resident.post(
        "/report/",
        {
            "category": "poultry",
            "answers.kind": "鸡",
            "description": description,
            "node": str(jiwu.pk),
            "address": "3栋后空地",
            "website": "",
            **extra,
        },
    )
    assert r.status_code == 200, r.content.decode()[:1500]
    code = re.search(r'id="tracking-code">([A-Z0-9]+)<', r.content.decode()).group(1)
    return code


def visit(client, tip: Tip, found: str, notices: int, people: int):
    r = client.post(
        f"/tips/{tip.pk}/visits/",
        {
            "found": found,
            "actions": ["persuaded", "notices"],
            "notices": str(notices),
            "people": str(people),
            "photos": [photo()],
        },
    )
    assert r.status_code == 302, r.content.decode()[:1500]
    assert r["Location"] == f"/tips/{tip.pk}/"


def test_the_poultry_in_jiwu(jiwu, community_staff, officer):
    poultry = TipCategory.objects.get(code="poultry")
    with time_machine.travel(DAY1, tick=False) as traveller:
        # The first resident reports, with her name and phone for a call back.
        code = report(
            "198.18.0.1",
            jiwu,
            DESCRIPTION,
            reporter_name=REPORTER["name"],
            reporter_phone=REPORTER["phone"],
        )
        tip = Tip.objects.get(code=code)
        assert tip.status == TipStatus.ASSIGNED
        assert set(tip.assignees.all()) == {community_staff, officer}  # routed by the category
        assert tip.due_at == tip.received_at + dt.timedelta(minutes=poultry.response_minutes)

        # It is on both day lists, one tap from the tip.
        for user in (community_staff, officer):
            home = login(user).get("/").content.decode()
            assert f"/tips/{tip.pk}/" in home

        # A neighbour reports the same flock an hour and a half later.
        traveller.shift(dt.timedelta(minutes=90))
        second_code = report("198.18.0.2", jiwu, "小区里鸡鸭乱跑,没人管")
        second = Tip.objects.get(code=second_code)

        # Community staff see it suggested as a duplicate and merge it.
        staff = login(community_staff)
        page = staff.get(f"/tips/{second.pk}/").content.decode()
        assert tip.code in page and f'name="into" value="{tip.pk}"' in page
        assert staff.post(f"/tips/{second.pk}/merge/", {"into": tip.pk}).status_code == 302
        second.refresh_from_db()
        assert second.duplicate_of == tip and second.resolution == Resolution.DUPLICATE

        # She accepts the tip and goes there: the first visit, notices posted, a photo.
        traveller.shift(dt.timedelta(minutes=20))
        assert staff.post(f"/tips/{tip.pk}/accept/").status_code == 302
        assert staff.post(f"/tips/{tip.pk}/on-scene/").status_code == 302
        visit(staff, tip, "3栋后空地散养鸡12只、鸭3只,饲养户为3栋1单元住户,已劝导。", 4, 2)
        tip.refresh_from_db()
        assert tip.status == TipStatus.IN_PROGRESS and tip.on_scene_at

    with time_machine.travel(DAY2, tick=False):
        # The next day the officer goes with her: still there, more notices.
        police = login(officer)
        visit(police, tip, "仍有部分鸡散养,再次告知防疫要求并张贴通告。", 3, 2)

    with time_machine.travel(DAY3, tick=False):
        # The third day: penned. Resolved, and the reporter answered.
        staff = login(community_staff)
        visit(staff, tip, "家禽已全部圈养,空地已清理消毒。", 2, 2)
        r = staff.post(
            f"/tips/{tip.pk}/resolve/", {"resolution": "rectified", "note": "饲养户已签承诺书"}
        )
        assert r.status_code == 302
        answer = "经社区和五里亭派出所三次上门劝导、张贴通告,散养家禽已全部圈养,空地已清理消毒。感谢您的反映。"
        assert staff.post(f"/tips/{tip.pk}/answer/", {"answer": answer}).status_code == 302

        # The reporter opens her tracking page: the answer, never anyone's name or the notes.
        for tracked in (code, second_code):
            text = Client().get(f"/track/{tracked}/").content.decode()
            assert "经社区和五里亭派出所三次上门劝导" in text
            for secret in (
                REPORTER["name"],
                REPORTER["phone"],
                DESCRIPTION,
                "饲养户已签承诺书",
                "3栋1单元",
                community_staff.display_name,
                officer.display_name,
            ):
                assert secret not in text, secret

        assert staff.post(f"/tips/{tip.pk}/close/").status_code == 302

    tip.refresh_from_db()
    assert tip.status == TipStatus.CLOSED and tip.resolution == Resolution.RECTIFIED
    visits = list(TipVisit.objects.filter(tip=tip).order_by("at"))
    assert [v.at.astimezone(TZ).date() for v in visits] == [
        dt.date(2020, 2, 10),
        dt.date(2020, 2, 11),
        dt.date(2020, 2, 12),
    ]
    assert sum(v.notices for v in visits) == 9
    assert all(v.photos.count() == 1 for v in visits)
    assert [v.by for v in visits] == [community_staff, officer, community_staff]
    public = list(tip.events.filter(public=True).values_list("status", flat=True))
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
    assert tip.resolved_at.astimezone(TZ).date() == dt.date(2020, 2, 12)
    trail = set(
        AuditEntry.objects.filter(object_id=tip.pk, action__startswith="fangyi.tip.").values_list(
            "action", flat=True
        )
    )
    assert {"fangyi.tip.create", "fangyi.tip.visit", "fangyi.tip.close"} <= trail
    # Closed, it is no longer on anyone's day list.
    assert f"/tips/{tip.pk}/" not in login(officer).get("/").content.decode()
    # The closed tip's page shows the final state for the merged reporter too.
    text = Client().get(f"/track/{second_code}/").content.decode()
    assert "t-closed" in text
