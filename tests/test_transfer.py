"""Importing screening sheets (xlsx and csv) in the background, and the xlsx exports.

The import's work (services.import_process) is called directly, or through the upload page and
the API with django-tasks' immediate backend, so a test sees the finished job.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import time

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from openpyxl import Workbook, load_workbook

from fangyi.core.models import AuditEntry, Node
from fangyi.core.validators import id_check_digit
from fangyi.health.models import Declaration
from fangyi.people.models import Household, Person
from fangyi.transfer import services, sheets
from fangyi.transfer.models import ImportJob, JobStatus
from tests.conftest import login

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
TODAY = dt.datetime(2020, 2, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
HEADERS = sheets.template_headers("hant")


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Uploads and error files go to a folder of the test's own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def doc(n: int, birth: str = "19600101", region: str = "450107") -> str:
    """A valid resident ID number, different for each n, that the demo city does not hold."""
    first17 = f"{region}{birth}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def row(**values) -> list:
    """A sheet row in the template's column order; the default is a clean visited row."""
    base = {
        "node": "機務小區",
        "address": "機務小區88棟1單元101",
        "name": "",
        "id_type": "",
        "id_number": "",
        "phone": "",
        "relation": "",
        "date": "2020-02-03",
        "outcome": "已排查",
        "temperature": "36.5",
        "temperature_method": "額溫",
        "symptoms": "無",
        "travel_place": "",
        "travel_from": "",
        "travel_to": "",
        "transport": "",
        "contact": "",
        "contact_date": "",
        "notes": "",
    }
    base.update(values)
    return [base[c.key] for c in sheets.COLUMNS]


def xlsx_bytes(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], headers: list[str] = HEADERS, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def run(user, data: bytes, name: str = "sheet.xlsx", sweep=None, **kw) -> ImportJob:
    job = services.import_create(
        actor=user, filename=name, data=data, sweep=sweep, language="en", enqueue=False
    )
    job = ImportJob.objects.select_related("created_by", "sweep", "node").get(pk=job.pk)
    return services.import_process(job, **kw)


def error_rows(job: ImportJob) -> tuple[list[str], list[list]]:
    data = services.stored_path(job.errors_file).read_bytes()
    return services._read_any(data, job.fmt)


GOOD = [
    row(name="韋秀英", id_number=doc(1), phone="13907710001", relation="戶主"),
    row(name="梁大山", id_number=doc(3), relation="配偶", temperature="36.8"),
    row(
        name="陳小明",
        id_number=doc(5),
        address="機務小區88棟1單元102",
        travel_place="武漢市",
        travel_from="2020-01-18",
        travel_to="2020-01-22",
        transport="火車",
        symptoms="乏力、干咳",
    ),
    row(name="黃麗", address="機務小區88棟1單元103", id_type="護照", id_number="E12345678"),
    row(
        name="蘇強",
        id_number=doc(7),
        address="機務小區88棟1單元104",
        contact="確診:張某",
        contact_date="2020-01-30",
    ),
]
BAD = [
    row(name="錯號碼", id_number=doc(9)[:-1] + ("0" if doc(9)[-1] != "0" else "1")),
    row(
        name="高燒者",
        id_number=doc(11),
        temperature="375",
        travel_place="武漢市",
        travel_from="2020-01-20",
        travel_to="2020-02-04",
    ),
    row(name="無此網格", id_number=doc(13), node="不存在網格"),
]


def test_good_rows_are_stored_and_bad_rows_come_back_naming_the_column(officer):
    persons, households = Person.objects.count(), Household.objects.count()
    job = run(officer, xlsx_bytes(GOOD[:2] + BAD[:1] + GOOD[2:4] + BAD[1:] + GOOD[4:]))
    assert job.status == JobStatus.DONE, job.message
    assert (job.total, job.processed, job.good, job.bad) == (8, 8, 5, 3)

    # the five good rows: persons, households, declarations from the import, audited
    assert Person.objects.count() == persons + 5
    assert Household.objects.count() == households + 4
    made = Person.objects.filter(name__in=["韋秀英", "梁大山", "陳小明", "黃麗", "蘇強"])
    assert made.count() == 5
    assert {p.household.address for p in made} == {
        "機務小區88棟1單元101",
        "機務小區88棟1單元102",
        "機務小區88棟1單元103",
        "機務小區88棟1單元104",
    }
    assert Person.objects.get(name="黃麗").id_type == "passport"
    decls = Declaration.objects.filter(person__in=made)
    assert decls.count() == 5
    assert set(decls.values_list("source", flat=True)) == {"import"}
    chen = decls.get(person__name="陳小明")
    assert chen.travel[0]["place"] == "武漢市" and chen.travel[0]["to"] == "2020-01-22"
    assert set(chen.symptoms) == {"fatigue", "dry_cough"}
    assert chen.proposal != "cleared"  # back from Wuhan within 14 days
    su = decls.get(person__name="蘇強")
    assert su.contacts[0]["kind"] == "confirmed" and su.contacts[0]["who"] == "張某"
    assert (
        AuditEntry.objects.filter(
            action="fangyi.declaration.created", object_id__in=decls.values("pk")
        ).count()
        == 5
    )
    assert (
        AuditEntry.objects.filter(
            action="fangyi.person.created", object_id__in=made.values("pk"), actor=officer
        ).count()
        == 5
    )
    assert AuditEntry.objects.filter(action="fangyi.importjob.finished", object_id=job.pk).exists()
    # nothing of the bad rows
    assert not Person.objects.filter(name__in=["錯號碼", "高燒者", "無此網格"]).exists()

    headers, rows = error_rows(job)
    assert headers == [*HEADERS, "原行號", "錯誤"]
    assert [r[HEADERS.index("姓名")] for r in rows] == ["錯號碼", "高燒者", "無此網格"]
    # Issue 12, item 7: the sheet's row number, as a column and in the message.
    lines = [int(r[-2]) for r in rows]
    assert lines == [4, 7, 8]  # the header is line 1: GOOD, GOOD, BAD, GOOD, GOOD, BAD, BAD
    assert all(r[-1].endswith(f"（第{line}行）") for r, line in zip(rows, lines, strict=True))
    errors = [r[-1] for r in rows]
    assert errors[0].startswith("證件號碼: ") and "check digit" in errors[0]
    assert "體溫: " in errors[1] and "375" in errors[1]
    assert "旅居結束: " in errors[1] and "after" in errors[1]
    assert errors[2].startswith("網格/小區: ") and "不存在網格" in errors[2]
    # the bad rows keep what was typed, cell for cell
    assert rows[1][:-2] == [v if v != "" else None for v in BAD[1]]


def test_a_gbk_csv_is_read(officer):
    data = csv_bytes(GOOD[:2] + BAD[:1], encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    job = run(officer, data, name="排查表.csv")
    assert (job.status, job.good, job.bad) == (JobStatus.DONE, 2, 1)
    assert job.encoding == "gbk"
    assert Person.objects.filter(name="韋秀英").exists()
    # the errors come back as csv in the same encoding, for Chinese Excel
    raw = services.stored_path(job.errors_file).read_bytes()
    text = raw.decode("gbk")
    assert text.startswith(",".join(HEADERS) + ",原行號,錯誤".encode("gbk").decode("gbk"))
    assert "錯號碼" in text


def test_simplified_headers_and_a_utf8_csv_without_bom(officer):
    headers = sheets.template_headers("hans")
    job = run(officer, csv_bytes(GOOD[:1] + BAD[2:], headers, encoding="utf-8"), name="a.csv")
    assert (job.good, job.bad) == (1, 1)
    headers_back, rows = error_rows(job)
    assert headers_back[-1] == "错误"
    assert rows[0][-1].startswith("网格/小区: ")


def test_a_row_outside_the_jurisdiction_is_a_bad_row(officer, beihu_household):
    rows = [
        row(name="北湖人", id_number=doc(21), node="北湖小區", address=beihu_household.address),
        GOOD[0],
    ]
    before = Declaration.objects.filter(person__household=beihu_household).count()
    job = run(officer, xlsx_bytes(rows))
    assert (job.good, job.bad) == (1, 1)
    assert not Person.objects.filter(name="北湖人").exists()
    assert Declaration.objects.filter(person__household=beihu_household).count() == before
    _headers, bad = error_rows(job)
    assert bad[0][-1].startswith("網格/小區: ")
    # "outside" reads exactly like "unknown"
    assert "北湖小區" in bad[0][-1] and "jurisdiction" in bad[0][-1]


def test_a_person_registered_outside_is_not_touched(officer, beihu_person):
    rows = [row(name=beihu_person.name, id_number=beihu_person.id_number)]
    job = run(officer, xlsx_bytes(rows))
    assert job.bad == 1
    assert not Declaration.objects.filter(person=beihu_person, source="import").exists()
    _h, bad = error_rows(job)
    assert bad[0][-1].startswith("證件號碼: ")


def test_an_existing_household_and_member_are_found(officer, jiwu_household, jiwu_person):
    rows = [
        row(
            address=jiwu_household.address,
            name=jiwu_person.name,
            id_number=jiwu_person.id_number,
        )
    ]
    persons, households = Person.objects.count(), Household.objects.count()
    job = run(officer, xlsx_bytes(rows))
    assert job.good == 1, error_rows(job) if job.errors_file else job
    assert (Person.objects.count(), Household.objects.count()) == (persons, households)
    assert Declaration.objects.filter(person=jiwu_person, source="import").count() == 1


def test_the_same_file_twice_stores_people_and_declarations_once(officer):
    data = xlsx_bytes(GOOD + BAD)
    first = run(officer, data)
    persons, households = Person.objects.count(), Household.objects.count()
    declarations = Declaration.objects.count()
    second = run(officer, data, name="again.xlsx")
    assert (second.good, second.bad) == (first.good, first.bad) == (5, 3)
    assert Person.objects.count() == persons
    assert Household.objects.count() == households
    assert Declaration.objects.count() == declarations
    for number in (doc(1), doc(3), doc(5), doc(7)):
        assert Person.objects.filter(id_number=number).count() == 1


def test_progress_is_saved_batch_by_batch(officer):
    rows = [
        row(
            name=f"居民{i}",
            id_number=doc(i, birth=f"19{50 + i // 1000:02d}0101"),
            address=f"機務小區{100 + i // 4}棟{i % 4 + 1}號",
        )
        for i in range(2000)
    ]
    seen = []

    def progress(job):
        stored = ImportJob.objects.get(pk=job.pk)
        seen.append((stored.processed, stored.total, stored.status))

    job = run(officer, xlsx_bytes(rows), batch_size=500, progress=progress)
    assert job.good == 2000, error_rows(job)[1][:3] if job.errors_file else job
    processed = [p for p, _t, _s in seen]
    assert len(processed) >= 4
    assert processed == sorted(processed) and processed[0] < processed[-1] == 2000
    assert all(t == 2000 and s == JobStatus.RUNNING for _p, t, s in seen)
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.DONE


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("sheet.pdf", b"%PDF-1.4 something", "neither"),
        ("sheet.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "neither"),
        ("sheet.xlsx", b"name,address\n", "not an Excel workbook"),
        ("sheet.csv", b"PK\x03\x04zipped", "not a CSV"),
        ("sheet.csv", "姓名,電話\n張三,1\n".encode(), "missing"),
        ("sheet.csv", b"", "empty"),
    ],
)
def test_wrong_files_are_refused_and_nothing_is_stored(officer, _data_dir, name, data, message):
    jobs = ImportJob.objects.count()
    with pytest.raises(services.DomainError) as exc:
        services.import_create(actor=officer, filename=name, data=data, enqueue=False)
    assert message in exc.value.message
    assert set(exc.value.errors) == {"file"}
    assert ImportJob.objects.count() == jobs
    assert not (_data_dir / "imports").exists() or not list((_data_dir / "imports").iterdir())


def test_an_oversized_file_is_refused(officer, settings, _data_dir):
    settings.FANGYI_IMPORT_MAX_BYTES = 1000
    with pytest.raises(services.DomainError) as exc:
        services.import_create(actor=officer, filename="big.csv", data=b"x" * 1001, enqueue=False)
    assert "at most" in exc.value.message and exc.value.errors.keys() == {"file"}
    assert ImportJob.objects.count() == 0


def test_the_errors_file_corrected_imports_with_its_row_and_error_columns_ignored(officer):
    job = run(officer, xlsx_bytes(BAD[:1]))
    assert job.bad == 1
    headers, rows = error_rows(job)
    assert headers[-2:] == ["原行號", "錯誤"] and rows[0][-2] in (2, "2")
    fixed = list(rows[0])
    fixed[HEADERS.index("證件號碼")] = doc(9)
    again = run(officer, xlsx_bytes([fixed], headers))
    assert (again.good, again.bad) == (1, 0), error_rows(again) if again.errors_file else again
    assert Person.objects.filter(name="錯號碼", id_number=doc(9)).exists()


def test_the_template_reads_back_as_a_sheet():
    for fmt in ("xlsx", "csv"):
        for script in ("hant", "hans"):
            data = services.template_content(fmt, script)
            sheet = sheets.read_sheet(data, fmt)
            assert [k for k in sheet.keys] == [c.key for c in sheets.COLUMNS]
            assert len(sheet.rows) == 2


# --- with a sweep: door visits too ------------------------------------------------------------


@pytest.fixture
def sweep(supervisor, jiwu):
    from fangyi.screening.services import sweep_open

    return sweep_open(
        actor=supervisor,
        node=jiwu,
        purpose="全面入戶排查",
        starts=dt.date(2020, 2, 1),
        ends=dt.date(2020, 2, 10),
    )


def test_with_a_sweep_each_household_gets_its_door_visit(officer, sweep, jiwu, nantie4):
    from fangyi.screening.models import Assignment, DoorVisit

    homes = list(Household.objects.filter(node=jiwu).order_by("pk")[1:4])
    a, b, c = homes
    members = list(a.members.order_by("pk")[:2])
    elsewhere = Household.objects.filter(node=nantie4).order_by("pk").first()
    rows = [
        *[row(address=a.address, name=p.name, id_number=p.id_number, id_type="") for p in members],
        row(
            address=b.address,
            outcome="無人在家",
            temperature="",
            temperature_method="",
            symptoms="",
        ),
        row(
            address=c.address,
            outcome="拒絕開門",
            temperature="",
            temperature_method="",
            symptoms="",
        ),
        row(address=elsewhere.address, node="南鐵北四區", name="外區人", id_number=doc(31)),
        row(address="機務小區999棟9號", name="新住戶", id_number=doc(33)),
        row(address=b.address, outcome="無人在家", temperature="37.0", symptoms=""),
    ]
    job = run(officer, xlsx_bytes(rows), sweep=sweep)
    assert (job.good, job.bad) == (4, 3), error_rows(job)[1]
    doors = {x.household_id: x for x in Assignment.objects.filter(sweep=sweep)}
    assert doors[a.pk].status == "visited"
    assert doors[b.pk].status == "nobody_home" and doors[b.pk].revisit_due
    assert doors[c.pk].status == "refused" and doors[c.pk].needs_police
    visit = DoorVisit.objects.get(assignment=doors[a.pk])
    assert visit.by == officer and visit.at.date() == dt.date(2020, 2, 3)
    decls = Declaration.objects.filter(visit=visit)
    assert {d.person_id for d in decls} == {p.pk for p in members}
    assert set(decls.values_list("source", flat=True)) == {"import"}
    _h, bad = error_rows(job)
    errors = [r[-1] for r in bad]
    assert errors[0].startswith("地址: ") and "sweep" in errors[0]  # not in the sweep
    assert errors[1].startswith("地址: ")  # a new household is in no sweep
    assert errors[2].startswith("上門結果: ")  # a temperature at a door nobody opened
    assert not Person.objects.filter(name__in=["外區人", "新住戶"]).exists()

    # again: nothing twice
    visits, declarations = DoorVisit.objects.count(), Declaration.objects.count()
    again = run(officer, xlsx_bytes(rows), sweep=sweep)
    assert (again.good, again.bad) == (4, 3)
    assert (DoorVisit.objects.count(), Declaration.objects.count()) == (visits, declarations)


def test_without_a_sweep_a_door_not_visited_is_a_bad_row(officer):
    job = run(officer, xlsx_bytes([row(outcome="無人在家", temperature="", symptoms="")]))
    _h, bad = error_rows(job)
    assert job.bad == 1 and bad[0][-1].startswith("上門結果: ")


# --- the pages ---------------------------------------------------------------------------------


@override_settings(TASKS=IMMEDIATE)
def test_upload_page_imports_and_shows_the_result(grid_worker):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(grid_worker)
    page = client.get("/imports/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "/imports/template.xlsx" in text and "/imports/template.csv" in text
    upload = SimpleUploadedFile("機務排查.xlsx", xlsx_bytes(GOOD[:2] + BAD[:1]))
    response = client.post("/imports/", {"file": upload})
    assert response.status_code == 302
    job = ImportJob.objects.get(created_by=grid_worker)
    assert response["Location"] == f"/imports/{job.pk}/"
    assert (job.status, job.good, job.bad) == (JobStatus.DONE, 2, 1)
    # the file is kept under the data folder, not in the repository
    assert services.stored_path(job.stored).is_file()
    assert str(services.stored_path(job.stored)).startswith(str(services.settings.DATA_DIR))
    detail = client.get(f"/imports/{job.pk}/").content.decode()
    # a finished job's progress no longer polls (the bell's own poll is the page's)
    assert f"/imports/{job.pk}/errors.xlsx" in detail
    assert f'hx-get="/imports/{job.pk}/"' not in detail
    errors = client.get(f"/imports/{job.pk}/errors.xlsx")
    assert errors.status_code == 200
    book = load_workbook(io.BytesIO(errors.content))
    assert [c.value for c in book.active[1]][-1] == "錯誤"
    as_csv = client.get(f"/imports/{job.pk}/errors.csv")
    assert as_csv.status_code == 200 and "錯號碼" in as_csv.content.decode("utf-8-sig")
    # the list shows the job
    assert "機務排查.xlsx" in client.get("/imports/").content.decode()


def test_progress_polls_until_done(grid_worker):
    """Queued (no worker yet): the fragment polls; HTMX gets the fragment alone."""
    client = login(grid_worker)
    job = services.import_create(
        actor=grid_worker, filename="a.xlsx", data=xlsx_bytes(GOOD[:1]), enqueue=False
    )
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 2s"' in page and "<progress" in page
    fragment = client.get(f"/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    ImportJob.objects.filter(pk=job.pk).update(status="running", total=10, processed=4)
    fragment = client.get(f"/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "40%" in fragment and "hx-get" in fragment


def test_a_wrong_upload_comes_back_on_the_form(officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = login(officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post("/imports/", {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")})
    assert response.status_code == 200
    assert "neither" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_jobs_are_seen_by_their_owner_and_the_supervisor_only(
    officer, auxiliary, supervisor, outsider
):
    job = services.import_create(
        actor=officer, filename="a.xlsx", data=xlsx_bytes(GOOD[:1]), enqueue=False
    )
    assert login(officer).get(f"/imports/{job.pk}/").status_code == 200
    assert login(supervisor).get(f"/imports/{job.pk}/").status_code == 200
    assert login(auxiliary).get(f"/imports/{job.pk}/").status_code == 404
    assert login(outsider).get(f"/imports/{job.pk}/").status_code == 404


# --- exports -------------------------------------------------------------------------------------


def _workbook_rows(response) -> list[list]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == sheets.XLSX_TYPE
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def test_observation_export_holds_what_the_user_may_see(officer, outsider, jiwu):
    from fangyi.observation.models import Observation

    mine = Observation.objects.filter(node__path__startswith=jiwu.path)
    assert mine.exists()
    rows = _workbook_rows(login(officer).get("/exports/observations.xlsx"))
    names = {r[0] for r in rows[1:]}
    assert {o.person.name for o in mine} <= names
    assert AuditEntry.objects.filter(action="fangyi.export.observations", actor=officer).exists()
    theirs = _workbook_rows(login(outsider).get("/exports/observations.xlsx"))
    assert (
        len(theirs)
        == 1
        + Observation.objects.filter(
            node__path__startswith=Node.objects.get(name="北湖派出所").path
        ).count()
    )
    assert not {o.person.name for o in mine} & {r[0] for r in theirs[1:]}
    # the list's filters apply
    active = _workbook_rows(login(officer).get("/exports/observations.xlsx?status=released"))
    assert len(active) - 1 == mine.filter(status="released").count()


def test_coverage_export_is_the_coverage_table(officer, supervisor, sweep, outsider):
    from fangyi.screening.selectors import coverage

    rows = _workbook_rows(login(supervisor).get(f"/exports/sweeps/{sweep.pk}/coverage.xlsx"))
    table = coverage(supervisor, sweep)
    assert len(rows) == 1 + len(table)
    assert rows[-1][1] == table[-1].households and rows[-1][1] > 0
    entry = AuditEntry.objects.get(action="fangyi.export.coverage", object_id=sweep.pk)
    assert entry.actor == supervisor
    assert login(outsider).get(f"/exports/sweeps/{sweep.pk}/coverage.xlsx").status_code == 404
    bad = login(officer).get(f"/exports/sweeps/{sweep.pk}/coverage.xlsx?level=planet")
    assert bad.status_code == 400


# --- speed -------------------------------------------------------------------------------------


@pytest.mark.skipif(
    not os.environ.get("FANGYI_TRANSFER_BENCH"), reason="timing: FANGYI_TRANSFER_BENCH=1"
)
def test_twenty_thousand_rows(officer):
    rows = [
        row(
            name=f"居民{i}",
            id_number=doc(i % 1000, birth=f"19{40 + i // 1000:02d}0101"),
            address=f"機務小區{1000 + i // 3}棟{i % 3 + 1}號",
        )
        for i in range(20000)
    ]
    data = xlsx_bytes(rows)
    start = time.perf_counter()
    job = run(officer, data)
    print(f"\n20,000 rows: {time.perf_counter() - start:.1f} s, {job.good} stored")
    assert job.good == 20000


# --- the task ----------------------------------------------------------------------------------


def test_an_upload_queues_the_task_for_the_worker(officer):
    """With the database backend (production's), the upload leaves a task row that
    `fangyi worker` (db_worker) runs; running it imports the sheet."""
    from django_tasks_db.models import DBTaskResult

    from fangyi.transfer.tasks import import_run

    job = services.import_create(actor=officer, filename="a.xlsx", data=xlsx_bytes(GOOD[:2]))
    queued = DBTaskResult.objects.get(task_path="fangyi.transfer.tasks.import_run")
    assert queued.args_kwargs["args"] == [job.pk]
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.QUEUED
    result = import_run.call(job.pk)
    assert result == {"status": "done", "total": 2, "good": 2, "bad": 0}


def test_a_fault_of_ours_fails_the_job_and_says_where(officer, monkeypatch):
    calls = []

    def broken(self, rows):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("boom")
        return original(self, rows)

    original = services.Importer.run_batch
    monkeypatch.setattr(services.Importer, "run_batch", broken)
    rows = [
        row(name=f"居民{i}", id_number=doc(100 + i), address=f"機務小區77棟{i}號") for i in range(6)
    ]
    job = services.import_create(
        actor=officer, filename="a.xlsx", data=xlsx_bytes(rows), enqueue=False
    )
    with pytest.raises(RuntimeError):
        services.import_process(ImportJob.objects.get(pk=job.pk), batch_size=3)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.processed == 3 and "after 3 rows" in job.message
    assert Person.objects.filter(name__startswith="居民").count() == 3


@override_settings(TASKS=IMMEDIATE)
def test_the_upload_form_takes_an_open_sweep(officer, sweep, jiwu):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from fangyi.screening.models import DoorVisit
    from fangyi.screening.services import sweep_close

    home = Household.objects.filter(node=jiwu).order_by("pk")[5]
    sheet = xlsx_bytes([row(address=home.address, outcome="已搬離", temperature="", symptoms="")])
    client = login(officer)
    assert f'value="{sweep.pk}"' in client.get("/imports/").content.decode()
    response = client.post(
        "/imports/", {"file": SimpleUploadedFile("a.xlsx", sheet), "sweep": sweep.pk}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get(created_by=officer)
    assert (job.sweep, job.good) == (sweep, 1)
    assert DoorVisit.objects.get(household=home, assignment__sweep=sweep).outcome == "moved_away"
    # a closed sweep is no longer offered, and the API refuses it on sweep_id
    sweep_close(actor=sweep.created_by, sweep=sweep)
    assert f'value="{sweep.pk}"' not in client.get("/imports/").content.decode()
    api = client.post(
        "/api/imports", {"file": SimpleUploadedFile("a.xlsx", sheet), "sweep_id": sweep.pk}
    )
    assert api.status_code == 400 and api.json()["errors"][0]["field"] == "sweep_id"


def test_a_workbook_that_unpacks_to_too_much_is_refused(officer, monkeypatch):
    monkeypatch.setattr(sheets, "MAX_UNPACKED", 1000)
    with pytest.raises(services.DomainError) as exc:
        services.import_create(
            actor=officer, filename="a.xlsx", data=xlsx_bytes(GOOD), enqueue=False
        )
    assert "too large" in exc.value.message and ImportJob.objects.count() == 0


def test_every_error_of_a_row_is_told_at_once(officer):
    bad = row(
        node="不存在網格",
        name="多錯者",
        id_number="450107196001010000",
        phone="12",
        date="2020-02-31",
        temperature="41.9",
        temperature_method="舌下",
        symptoms="頭疼",
        travel_place="武漢市",
        travel_from="2020-01-20",
        travel_to="2020-01-10",
    )
    job = run(officer, xlsx_bytes([bad]))
    text = error_rows(job)[1][0][-1]
    for column in ("網格/小區", "證件號碼", "手機號碼", "排查日期", "測溫方式", "症狀", "旅居結束"):
        assert f"{column}: " in text, (column, text)
    assert text.count("測溫方式: ") == 1
    assert "頭疼" in text and "體溫" not in text
