"""A tip's answer is public (anyone with the code reads it on /track/): it may carry no phone
number, no ID number and no name of a registered person, and it may be corrected until the
reporter has read it (issue 12, item 2: 有事请联系138… was published)."""

from __future__ import annotations

import pytest
from django.test import Client

from fangyi.core.errors import Conflict, DomainError
from fangyi.core.models import AuditEntry
from fangyi.core.validators import public_text_findings
from fangyi.people.models import Person
from fangyi.tips import services
from fangyi.tips.models import Tip, TipStatus
from tests.conftest import english_login
from tests.test_tips import public_tip


@pytest.mark.parametrize(
    "text, found",
    [
        ("已整改,有事请联系13877112233", ["phone"]),
        ("有事请联系 138 7711 2233", ["phone"]),
        ("电话:138-7711-2233", ["phone"]),
        ("请拨１３８７７１１２２３３", ["phone"]),  # full width, as an input method types it
        ("社区电话 0771-3831234", ["phone"]),
        ("身份证450103198001011238已核实", ["id_number"]),
        ("已整改,谢谢反映", []),
        ("2020年2月3日上门,2020-02-03 21:30复查,共12人", []),
        ("编号 20200203001", []),
    ],
)
def test_public_text_findings(text, found):
    assert public_text_findings(text) == found


def test_a_name_of_the_registry_is_found_and_a_one_character_word_is_not():
    assert public_text_findings("已通知韦小宝本人", ["韦小宝", "王"]) == ["韦小宝"]


@pytest.fixture
def resolved(jiwu, officer):
    tip = public_tip(jiwu, reporter_name="陈女士", reporter_phone="13877112233")
    services.tip_resolve(actor=officer, tip=tip, resolution="rectified", note="已圈养")
    return tip


@pytest.mark.parametrize(
    "answer",
    [
        "已整改,有事请联系13877112233",
        "陈女士您好,已整改",  # the reporter's own name
        "已请{resident}圈养",  # a resident of the compound
    ],
)
def test_an_answer_with_personal_data_is_refused_and_nothing_is_sent(resolved, officer, answer):
    resident = Person.objects.filter(node_id=resolved.node_id).exclude(name="").first()
    answer = answer.format(resident=resident.name)
    audits = AuditEntry.objects.count()
    with pytest.raises(DomainError) as refused:
        services.tip_answer(actor=officer, tip=resolved, answer=answer)
    assert set(refused.value.errors) == {"answer"}
    stored = Tip.objects.get(pk=resolved.pk)
    assert stored.status == TipStatus.RESOLVED and stored.answer == ""
    assert AuditEntry.objects.count() == audits


def test_the_page_and_the_api_name_the_field(resolved, officer):
    client = english_login(officer)
    page = client.post(f"/tips/{resolved.pk}/answer/", {"answer": "请打13877112233"})
    assert page.status_code == 400 and "take out a phone number" in page.content.decode()
    api = client.post(
        f"/api/tips/{resolved.pk}/answer",
        {"answer": "请打13877112233"},
        content_type="application/json",
    )
    assert api.status_code == 400
    assert [e["field"] for e in api.json()["errors"]] == ["answer"]
    assert Tip.objects.get(pk=resolved.pk).answer == ""


def test_an_answer_is_corrected_until_the_reporter_reads_it(resolved, officer):
    services.tip_answer(actor=officer, tip=resolved, answer="已整改")
    assert "correct_answer" in services.tip_allowed_steps(officer, resolved)
    services.tip_answer_correct(actor=officer, tip=resolved, answer="已整改,鸡已圈养")
    entry = AuditEntry.objects.get(action="fangyi.tip.answer_corrected", object_id=resolved.pk)
    assert entry.changes == {"answer": ["已整改", "已整改,鸡已圈养"]}
    # A correction is checked like the answer.
    with pytest.raises(DomainError):
        services.tip_answer_correct(actor=officer, tip=resolved, answer="请打13877112233")

    # The reporter opens the tracking page: the answer now stands.
    page = Client().get(f"/track/{resolved.code}/")
    assert "鸡已圈养" in page.content.decode()
    resolved.refresh_from_db()
    assert resolved.answer_read_at is not None
    assert "correct_answer" not in services.tip_allowed_steps(officer, resolved)
    with pytest.raises(Conflict) as late:
        services.tip_answer_correct(actor=officer, tip=resolved, answer="改了")
    assert set(late.value.errors) == {"answer"}
    assert Tip.objects.get(pk=resolved.pk).answer == "已整改,鸡已圈养"
    api = english_login(officer).post(
        f"/api/tips/{resolved.pk}/answer/correct",
        {"answer": "改了"},
        content_type="application/json",
    )
    assert api.status_code == 409


def test_the_public_api_marks_the_answer_read_too(resolved, officer):
    services.tip_answer(actor=officer, tip=resolved, answer="已整改")
    assert Client().get(f"/api/public/tips/{resolved.code}").status_code == 200
    resolved.refresh_from_db()
    assert resolved.answer_read_at is not None
