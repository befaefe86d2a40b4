"""The transfer API, operation by operation: upload (multipart), status, errors, templates and
the two exports. The walk ends by checking that it called every operation of the tag."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import load_workbook

from fangyi.core.models import AuditEntry
from fangyi.people.models import Person
from fangyi.transfer import sheets
from fangyi.transfer.models import ImportJob
from tests.conftest import login
from tests.test_api import schema_operations
from tests.test_transfer import BAD, GOOD, IMMEDIATE, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def _get(client, seen, template: str, expect: int = 200, params=None, **ids):
    response = client.get(template.format(**ids), params or {})
    assert response.status_code == expect, response.content[:300]
    if 200 <= expect < 300:
        seen.add(("GET", template))
    return response


def _content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _sheet(response) -> list[list]:
    book = load_workbook(io.BytesIO(_content(response)), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


@override_settings(TASKS=IMMEDIATE)
def test_every_transfer_operation(officer, supervisor):
    client = login(officer)
    seen: set[tuple[str, str]] = set()

    # the templates
    t = _get(client, seen, "/api/imports/template")
    assert t["Content-Type"] == sheets.XLSX_TYPE
    assert _sheet(t)[0] == sheets.template_headers("hant")
    t = _get(client, seen, "/api/imports/template", params={"format": "csv", "script": "hans"})
    assert t.content.decode("utf-8-sig").startswith(",".join(sheets.template_headers("hans")))

    # an upload: the worker (the immediate backend here) imports it at once
    upload = SimpleUploadedFile("排查表.xlsx", xlsx_bytes(GOOD[:3] + BAD))
    response = client.post("/api/imports", {"file": upload})
    assert response.status_code == 201, response.content
    seen.add(("POST", "/api/imports"))
    job = response.json()
    assert (job["status"], job["total"], job["good"], job["bad"]) == ("done", 6, 3, 3)
    assert job["has_errors_file"] and job["created_by"] == officer.username
    assert Person.objects.filter(name="韋秀英").exists()
    assert AuditEntry.objects.filter(
        action="fangyi.importjob.created", object_id=job["id"]
    ).exists()

    status = _get(client, seen, "/api/imports/{import_id}", import_id=job["id"]).json()
    assert status["percent"] == 100 and status["processed"] == 6
    listed = _get(client, seen, "/api/imports").json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]

    errors = _get(client, seen, "/api/imports/{import_id}/errors", import_id=job["id"])
    rows = _sheet(errors)
    assert rows[0][-1] == "錯誤" and len(rows) == 4
    as_csv = client.get(f"/api/imports/{job['id']}/errors", {"format": "csv"})
    assert as_csv["Content-Type"] == sheets.CSV_TYPE
    assert "錯號碼" in as_csv.content.decode("utf-8-sig")

    # the exports
    obs = _get(client, seen, "/api/exports/observations.xlsx")
    assert obs["Content-Type"] == sheets.XLSX_TYPE and len(_sheet(obs)) >= 2
    from fangyi.screening.models import Sweep

    sweep = Sweep.objects.order_by("pk").first()
    cov = _get(
        login(supervisor),
        seen,
        "/api/exports/sweeps/{sweep_id}/coverage.xlsx",
        params={"level": "community"},
        sweep_id=sweep.pk,
    )
    assert _sheet(cov)[-1][0] in ("Total", "合计", "合計", "總計", "总计")

    assert seen == schema_operations(client, {"transfer"})


@override_settings(TASKS=IMMEDIATE)
def test_a_gbk_csv_through_the_api(officer):
    client = login(officer)
    upload = SimpleUploadedFile("排查.csv", csv_bytes(GOOD[:2], encoding="gbk"))
    job = client.post("/api/imports", {"file": upload}).json()
    assert (job["good"], job["bad"], job["has_errors_file"]) == (2, 0, False)
    assert client.get(f"/api/imports/{job['id']}/errors").status_code == 404


def test_bad_uploads_name_the_file_and_store_nothing(officer, tmp_path):
    client = login(officer)
    for name, data in (("x.txt", b"hello"), ("x.xlsx", b"not a zip"), ("x.csv", b"a,b\n1,2\n")):
        response = client.post("/api/imports", {"file": SimpleUploadedFile(name, data)})
        assert response.status_code == 400, response.content
        assert [e["field"] for e in response.json()["errors"]] == ["file"]
    missing = client.post("/api/imports", {})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "file"
    assert ImportJob.objects.count() == 0
    assert not (tmp_path / "imports").exists() or not list((tmp_path / "imports").iterdir())


def test_oversized_upload_is_refused(officer, settings):
    settings.FANGYI_IMPORT_MAX_BYTES = 2000
    data = xlsx_bytes(GOOD * 20)
    assert len(data) > 2000
    response = login(officer).post("/api/imports", {"file": SimpleUploadedFile("big.xlsx", data)})
    assert response.status_code == 400
    assert "MB" in response.json()["detail"]
    assert ImportJob.objects.count() == 0


def test_a_role_that_may_not_import_is_refused_before_anything(admin, hotel_clerk):
    for user in (admin, hotel_clerk):
        upload = SimpleUploadedFile("a.xlsx", xlsx_bytes(GOOD[:1]))
        response = login(user).post("/api/imports", {"file": upload})
        assert response.status_code == 403
    assert ImportJob.objects.count() == 0


def test_someone_elses_import_reads_like_a_missing_one(officer, outsider):
    from fangyi.transfer import services

    job = services.import_create(
        actor=officer, filename="a.xlsx", data=xlsx_bytes(GOOD[:1]), enqueue=False
    )
    client = login(outsider)
    a = client.get(f"/api/imports/{job.pk}")
    b = client.get("/api/imports/987654321")
    assert a.status_code == b.status_code == 404 and a.json() == b.json()


def test_an_unknown_or_foreign_sweep_is_refused(officer, outsider):
    from fangyi.screening.models import Sweep

    sweep = Sweep.objects.order_by("pk").first()  # over 機務社區
    upload = SimpleUploadedFile("a.xlsx", xlsx_bytes(GOOD[:1]))
    response = login(outsider).post("/api/imports", {"file": upload, "sweep_id": sweep.pk})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "sweep_id"
    assert ImportJob.objects.count() == 0


def test_the_schema_describes_the_upload_and_the_files(officer):
    schema = login(officer).get("/api/openapi.json").json()
    post = schema["paths"]["/api/imports"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    export = schema["paths"]["/api/exports/observations.xlsx"]["get"]
    assert sheets.XLSX_TYPE in export["responses"]["200"]["content"]


@override_settings(TASKS=IMMEDIATE)
def test_the_same_upload_sent_twice_makes_one_import(officer, outsider):
    import uuid

    client = login(officer)
    key = str(uuid.uuid4())
    first = client.post(
        "/api/imports",
        {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes(GOOD[:1])), "client_id": key},
    )
    again = client.post(
        "/api/imports",
        {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes(GOOD[:1])), "client_id": key},
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert ImportJob.objects.count() == 1
    # someone else's id is not theirs to read
    theirs = login(outsider).post(
        "/api/imports",
        {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes(GOOD[:1])), "client_id": key},
    )
    assert theirs.status_code == 404 and ImportJob.objects.count() == 1


@override_settings(TASKS=IMMEDIATE)
def test_the_upload_form_carries_a_client_id(officer):
    import re

    client = login(officer)
    page = client.get("/imports/").content.decode()
    key = re.search(r'name="client_id" value="([0-9a-f-]+)"', page)[1]
    for _ in range(2):
        upload = SimpleUploadedFile("a.xlsx", xlsx_bytes(GOOD[:1]))
        assert client.post("/imports/", {"file": upload, "client_id": key}).status_code == 302
    assert ImportJob.objects.count() == 1
