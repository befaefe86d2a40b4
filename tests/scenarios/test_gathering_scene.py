"""鐵心管控: the dinner gathering in 南鐵北四區 (the seed, 15 February 2020).

A resident reports six or seven neighbours drinking together without masks. The tip goes to
the station's police at once; 徐紅心 accepts it and is on the scene, meets defiance, cites the
district bureau's notice (people who gather and refuse persuasion face administrative
detention), and after an hour of education the organiser promises not to gather again. He
records the education with a follow-up check in three days, the visit, and resolves the tip as
"education given". Three days later the check is on his day list; he does it and it leaves.
The reporter reads the answer on the tracking page, and nothing of the enforcement record."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from fangyi.core.models import AccessLog, AuditEntry, Node
from fangyi.enforcement.models import EnforcementRecord, LegalBasis
from fangyi.tips import services as tips
from fangyi.tips.models import Resolution, TipCategory, TipStatus
from tests.conftest import english_login

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
REPORTED = dt.datetime(2020, 2, 15, 15, 10, tzinfo=TZ)
NOTICE = "西乡塘区公安分局关于严禁聚集聚餐的通告"
DEFIANCE = "生死由命,富贵在天,疫情与我们无关"
PROMISE = "聚餐组织者当场表示,在疫情防控期间将不会再组织聚餐"
DINERS = "\n".join(
    [
        "1. 组织者,男,约50岁,7栋302住户",
        "2. 男,约45岁,穿蓝色外套",
        "3. 男,约60岁",
        "4. 女,约40岁",
        "5. 男,约35岁",
        "6. 女,约55岁",
    ]
)


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 90), (90, 60, 30)).save(buf, "JPEG")
    return buf.getvalue()


def day_list_checks(client: Client) -> list[int]:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    return [int(pk) for pk in re.findall(r'href="/enforcement/(\d+)/#followup"', html)]


def test_the_dinner_gathering_in_nantie_north_4(officer, auxiliary, supervisor, tmp_path):
    nb4 = Node.objects.get(name="南铁北四区")
    notice = LegalBasis.objects.get(title=NOTICE)
    with time_machine.travel(REPORTED, tick=False) as traveller:
        # A resident reports it on the public page: no account, a tracking code back.
        tip = tips.tip_submit_public(
            data=tips.TipInput(
                category=TipCategory.objects.get(code="gathering"),
                description="南铁北四区7栋302有一户居民顶风聚餐,六七个人在喝酒,都没戴口罩",
                node=nb4,
                address="南铁北四区7栋302",
                answers={"people": 7, "masks": "否", "ongoing": "是"},
                reporter_name="王女士",
                reporter_phone="13907712345",
            ),
            ip="203.0.113.45",
        )
        # Routed to the station's police at once.
        assert officer in tip.assignees.all()
        assert tip.urgent

        # 徐紅心 accepts it and goes; fifteen minutes later he is at the door.
        traveller.shift(dt.timedelta(minutes=2))
        tips.tip_accept(actor=officer, tip=tip)
        traveller.shift(dt.timedelta(minutes=13))
        tips.tip_on_scene(actor=officer, tip=tip)
        tip.refresh_from_db()
        assert tip.status == TipStatus.ON_SCENE

        # An hour of education later, he records it from the tip, on his phone.
        traveller.shift(dt.timedelta(hours=1, minutes=5))
        cop = english_login(officer)
        form = cop.get(f"/enforcement/new/?tip={tip.pk}")
        assert form.status_code == 200
        html = form.content.decode()
        assert NOTICE in html and "行政拘留" in html  # the notice with its summary
        assert "南铁北四区7栋302" in html  # where, from the tip
        on_scene = "2020-02-15T15:25"
        r = cop.post(
            "/enforcement/new/",
            {
                "tip": tip.pk,
                "person": "",
                "measure": "education",
                "at": on_scene,
                "location": "南铁北四区7栋302",
                "legal_bases": [notice.pk],
                "described_people": DINERS,
                "statements": f"起初称“{DEFIANCE}”。经说服教育,{PROMISE}。",
                "facts": "接群众举报后与社区工作人员赶赴现场,六名居民正喝酒聚餐,均未佩戴口罩。"
                "宣讲分局通告:多人聚餐不听劝阻的将一律行政拘留。经一小时说服教育后散去。",
                "officers": [officer.pk],
                "followup_on": "2020-02-18",
                "photos": [SimpleUploadedFile("scene.jpg", jpeg(), content_type="image/jpeg")],
            },
        )
        assert r.status_code == 302, r.content.decode()[:3000]
        record = EnforcementRecord.objects.get(tip=tip)
        assert record.measure == "education" and record.node == nb4
        assert list(record.legal_bases.all()) == [notice]
        assert len(record.described_people.splitlines()) == 6
        assert PROMISE in record.statements
        assert record.followup_on == dt.date(2020, 2, 18)
        assert list(record.officers.all()) == [officer]
        assert record.photos.count() == 1
        assert (tmp_path / "photos" / record.photos.get().path).exists()
        entry = AuditEntry.objects.get(
            action="fangyi.enforcementrecord.created", object_id=record.pk
        )
        assert entry.changes["legal_bases"] == [None, [f"{notice.pk} {NOTICE}"]]
        # The tip's panel lists it; the record's page shows the promise and the photo.
        panel = cop.get(f"/tips/{tip.pk}/enforcement/").content.decode()
        assert f"/enforcement/{record.pk}/" in panel
        page = cop.get(f"/enforcement/{record.pk}/").content.decode()
        assert PROMISE in page and NOTICE in page
        assert f"/enforcement/photos/{record.photos.get().pk}/" in page

        # The visit on the tip, then resolved: education given.
        visit = tips.tip_visit_record(
            actor=officer,
            tip=tip,
            at=on_scene + ":00+08:00",
            found="六名居民在屋内喝酒聚餐,均未佩戴口罩",
            actions=["persuaded", "dispersed", "education"],
            people=6,
        )
        assert visit.people == 6
        tips.tip_resolve(actor=officer, tip=tip, resolution=Resolution.EDUCATED)
        tips.tip_answer(
            actor=officer,
            tip=tip,
            answer="民警已到场处置,对聚餐人员进行了说服教育,人员已散去。感谢您的举报。",
        )
        tip.refresh_from_db()
        assert tip.status == TipStatus.ANSWERED and tip.resolution == Resolution.EDUCATED

        # The check is not due yet, on the day or the next two.
        assert record.pk not in day_list_checks(cop)
        # (Each morning he logs in again: the session ended while he was away.)
        traveller.move_to(dt.datetime(2020, 2, 17, 9, 0, tzinfo=TZ))
        cop = english_login(officer)
        assert record.pk not in day_list_checks(cop)

        # Three days later it is on his day list, one tap from its form; not on the
        # auxiliary's, who was not there; the supervisor finds it among his area's checks.
        traveller.move_to(dt.datetime(2020, 2, 18, 9, 0, tzinfo=TZ))
        cop = english_login(officer)
        assert day_list_checks(cop) == [record.pk]
        assert record.pk not in day_list_checks(english_login(auxiliary))
        boss = english_login(supervisor).get("/enforcement/?followup=due").content.decode()
        assert f"/enforcement/{record.pk}/" in boss
        check = cop.get(f"/enforcement/{record.pk}/").content.decode()
        assert f'action="/enforcement/{record.pk}/followup/"' in check
        r = cop.post(
            f"/enforcement/{record.pk}/followup/",
            {"notes": "回访7栋302:该户未再组织聚餐,住户均在家,已再次宣传防护知识"},
        )
        assert r.status_code == 302
        record.refresh_from_db()
        assert record.followup_by == officer
        assert record.followup_done_at is not None
        assert day_list_checks(cop) == []

        # The reporter reads the answer, and nothing of the enforcement record.
        reads = AccessLog.objects.count()
        track = Client().get(f"/track/{tip.code}/")
        assert track.status_code == 200
        public = track.content.decode()
        assert "感谢您的举报" in public
        for secret in (
            DEFIANCE,
            PROMISE,
            "组织者,男",
            NOTICE,
            "/enforcement/",
            "回访7栋302",
            officer.display_name,
            "13907712345",
        ):
            assert secret not in public, secret
        assert AccessLog.objects.count() == reads
