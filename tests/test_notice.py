"""The quarantine notice: a print-ready page in Chinese with the person, the place, the dates,
the legal basis and the QR code of a self-report link issued by an explicit POST."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import segno
from django.utils import timezone

from fangyi.core.models import AccessLog, AuditEntry
from fangyi.health.models import SelfReportLink
from fangyi.observation.services import observation_start
from tests.conftest import english_login, login
from tests.test_refusals import make_site, reserve

pytestmark = pytest.mark.django_db


@pytest.fixture
def placement(jiwu_person, health):
    site, group = make_site("通知书隔离点", beds=1)
    today = timezone.localdate()
    observation = observation_start(
        actor=health,
        person=jiwu_person,
        kind="home",
        last_exposure=today - dt.timedelta(days=2),
        starts=today,
    )
    p = reserve(jiwu_person, site, group, health)
    p.observation = observation
    p.save(update_fields=["observation"])
    jiwu_person.id_number = "450103198001011234"
    jiwu_person.save(update_fields=["id_number"])
    return p


def test_the_notice_shows_the_person_place_dates_and_law_without_a_qr(placement, grid_worker):
    reads = AccessLog.objects.count()
    links = SelfReportLink.objects.count()
    response = login(grid_worker).get(f"/placements/{placement.pk}/notice/")
    assert response.status_code == 200
    page = response.content.decode()
    obs = placement.observation
    assert placement.person.name in page
    assert "通知书隔离点" in page and "通知书隔离点路1号" in page
    assert obs.starts.isoformat() in page and obs.ends.isoformat() in page
    assert "传染病防治法" in page
    assert "五里亭派出所" in page  # the issuing office: the person's station
    # The ID number: all but the last four hidden.
    assert "1234" in page and "450103198001011234" not in page
    assert "**************1234" in page
    # No QR yet: issuing is an explicit POST (a new link revokes the old one).
    assert "<svg" not in page and 'id="issue"' in page
    assert SelfReportLink.objects.count() == links
    assert AccessLog.objects.count() == reads + 1


def test_issuing_the_notice_makes_a_link_whose_qr_is_on_the_page(placement, grid_worker, client):
    person = placement.person
    old = SelfReportLink.objects.filter(person=person, revoked__isnull=True).count()
    audits = AuditEntry.objects.count()
    response = login(grid_worker).post(f"/placements/{placement.pk}/notice/")
    assert response.status_code == 200
    page = response.content.decode()
    url = re.search(r'id="n-url">([^<]+)<', page).group(1)
    token = re.search(r"/r/([^/]+)/$", url).group(1)
    # The QR code is exactly the SVG of that URL.
    assert segno.make(url, error="m").svg_inline(scale=3) in page
    assert "<svg" in page and "@media print" not in page  # the print rules live in notice.css
    links = SelfReportLink.objects.filter(person=person, revoked__isnull=True)
    assert links.count() == 1
    if old:
        assert SelfReportLink.objects.filter(person=person, revoked__isnull=False).count() >= old
    assert AuditEntry.objects.filter(
        action="fangyi.placement.notice_issued", object_id=placement.pk
    ).exists()
    assert AuditEntry.objects.count() >= audits + 2
    # The link resolves on the public self-report page.
    public = client.get(f"/r/{token}/")
    assert public.status_code == 200
    # A second notice revokes the first link.
    login(grid_worker).post(f"/placements/{placement.pk}/notice/")
    assert client.get(f"/r/{token}/").status_code == 404


def test_the_notice_is_in_chinese_whatever_the_interface_language(placement, grid_worker):
    page = english_login(grid_worker).get(f"/placements/{placement.pk}/notice/").content.decode()
    assert 'lang="zh-hans"' in page
    # The page's own buttons follow the interface language.
    assert "Issue notice" in page


def test_a_home_placement_prints_the_home_address(jiwu_person, health, grid_worker):
    from fangyi.quarantine.services import placement_home

    home = placement_home(actor=health, person=jiwu_person, source="decision")
    page = login(grid_worker).get(f"/placements/{home.pk}/notice/").content.decode()
    assert jiwu_person.household.address in page and jiwu_person.name in page
    # No observation yet: no empty dates printed, a line saying where they come from instead.
    dates = re.search(r'id="n-dates">([^<]*)<', page).group(1)
    assert dates.strip() and "—" not in dates


def test_the_print_styles_hide_the_navigation(placement, grid_worker):
    from pathlib import Path

    import fangyi

    css = (Path(fangyi.__file__).parent / "static" / "notice.css").read_text()
    block = css[css.index("@media print") :]
    assert "nav.main" in block and "header.top" in block and ".no-print" in block
    assert "size: A4" in css
    page = login(grid_worker).get(f"/placements/{placement.pk}/notice/").content.decode()
    assert "notice.css" in page and 'class="no-print notice-tools"' in page


def test_site_staff_see_their_sites_notice_but_issue_no_link(placement, health):
    from fangyi.core.models import User

    staff = User.objects.create(
        username="site-notice", role="site_staff", place=placement.site.place
    )
    page = login(staff).get(f"/placements/{placement.pk}/notice/")
    assert page.status_code == 200 and placement.person.name in page.content.decode()
    links, reads = SelfReportLink.objects.count(), AccessLog.objects.count()
    assert login(staff).post(f"/placements/{placement.pk}/notice/").status_code == 403
    assert SelfReportLink.objects.count() == links and AccessLog.objects.count() == reads
    # Another site's staff: not theirs to see.
    other = make_site("别的隔离点", beds=1)[0]
    stranger = User.objects.create(username="site-other", role="site_staff", place=other.place)
    assert login(stranger).get(f"/placements/{placement.pk}/notice/").status_code == 404


def test_outside_the_jurisdiction_the_notice_is_not_found(placement, outsider):
    links = SelfReportLink.objects.count()
    assert login(outsider).get(f"/placements/{placement.pk}/notice/").status_code == 404
    assert login(outsider).post(f"/placements/{placement.pk}/notice/").status_code == 404
    assert SelfReportLink.objects.count() == links


# --- issue 12, item 5: what a real notice carries, and a public address for its QR code -------


def test_the_notice_has_a_number_two_authorities_a_phone_signatures_and_a_receipt(
    placement, grid_worker
):
    grid_worker.phone = "13907710088"
    grid_worker.save(update_fields=["phone"])
    page = login(grid_worker).post(f"/placements/{placement.pk}/notice/").content.decode()
    year = timezone.localtime(placement.reserved_at).year
    number = f"隔字〔{year}〕第{placement.pk:06d}号"
    assert page.count(number) == 2  # on the notice and on its receipt slip
    assert "西乡塘区卫生健康局" in page and "五里亭派出所" in page
    assert "13907710088" in page[page.index('id="n-contact"') :]
    sign = page[page.index('id="n-sign"') :]
    assert "签收人（签名）" in sign and "送达人（签名）" in sign
    receipt = page[page.index('id="n-receipt"') :]
    assert "回执" in receipt and placement.person.name in receipt and "本人签名" in receipt


def test_the_api_gives_the_notice_number_and_authorities(placement, grid_worker):
    body = login(grid_worker).post(f"/api/placements/{placement.pk}/notice").json()
    assert body["number"].startswith("隔字〔") and body["health_office"] == "西乡塘区卫生健康局"
    assert body["office"] == "五里亭派出所"


def test_the_qr_code_carries_the_public_address_not_the_host_browsed(
    placement, grid_worker, settings
):
    settings.PUBLIC_URL = "https://fangyi.example.cn"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    client = login(grid_worker)
    page = client.post(f"/placements/{placement.pk}/notice/", HTTP_HOST="127.0.0.1").content
    url = re.search(r'id="n-url">([^<]+)<', page.decode()).group(1)
    assert url.startswith("https://fangyi.example.cn/r/") and "127.0.0.1" not in url
    api = client.post(f"/api/placements/{placement.pk}/notice", HTTP_HOST="127.0.0.1").json()
    assert api["selfreport_url"].startswith("https://fangyi.example.cn/r/")


def test_a_reprint_in_another_year_keeps_the_number(placement, grid_worker):
    import time_machine

    from fangyi.quarantine.refusals import notice_number

    first = notice_number(placement)
    with time_machine.travel(placement.reserved_at + dt.timedelta(days=400), tick=False):
        page = login(grid_worker).get(f"/placements/{placement.pk}/notice/").content.decode()
    assert first in page
