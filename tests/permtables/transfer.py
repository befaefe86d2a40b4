"""Permission-table rows for fangyi.transfer.

{import_job} is an import over the role's compound: inside, made by the caller (a field role
sees its own imports, a supervisor every import of the subtree); near and outside, made by
someone of that compound. Each has a small errors file. {sweep} comes from the screening
table (a sweep over the compound)."""

from __future__ import annotations

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401


def _import_job(refs) -> int:
    from django.conf import settings

    from fangyi.core.models import User
    from fangyi.transfer.models import ImportJob, JobStatus

    if refs.where == "inside" and refs.user is not None:
        owner = refs.user
    else:
        owner = User.objects.get(pk=refs["user"])
    folder = settings.DATA_DIR / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "permtable-errors.csv").write_bytes(
        "网格/小区,地址,排查日期,错误\r\n不存在,1号,2020-02-03,网格/小区: ?\r\n".encode("utf-8-sig")
    )
    return ImportJob.objects.create(
        node=refs.compound,
        created_by=owner,
        filename="排查表.csv",
        stored="imports/permtable.csv",
        status=JobStatus.DONE,
        total=1,
        processed=1,
        bad=1,
        errors_file="imports/permtable-errors.csv",
    ).pk


REFS: dict = {"import_job": _import_job}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/imports/", "import.run"),
    # An upload without a file: the form comes back with the error, nothing is stored.
    Endpoint("POST", "/imports/", "import.run", reads_only=True),
    Endpoint("GET", "/imports/template.xlsx", "import.run"),
    Endpoint("GET", "/imports/template.csv", "import.run"),
    Endpoint("GET", "/imports/{import_job}/", "import.run"),
    Endpoint("GET", "/imports/{import_job}/errors.xlsx", "import.run"),
    Endpoint("GET", "/imports/{import_job}/errors.csv", "import.run"),
    Endpoint("GET", "/exports/observations.xlsx", "export.run"),
    Endpoint("GET", "/exports/sweeps/{sweep}/coverage.xlsx", "export.run"),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/imports", "import.run"),
    # JSON carries no file: the role is checked first (403), then 400 naming `file`.
    Endpoint("POST", "/api/imports", "import.run", ok=400, reads_only=True),
    Endpoint("GET", "/api/imports/template", "import.run"),
    Endpoint("GET", "/api/imports/template?format=csv&script=hans", "import.run"),
    Endpoint("GET", "/api/imports/{import_job}", "import.run"),
    Endpoint("GET", "/api/imports/{import_job}/errors", "import.run"),
    Endpoint("GET", "/api/exports/observations.xlsx", "export.run"),
    Endpoint("GET", "/api/exports/observations.xlsx?status=active", "export.run"),
    Endpoint("GET", "/api/exports/sweeps/{sweep}/coverage.xlsx", "export.run"),
    Endpoint("GET", "/api/exports/sweeps/{sweep}/coverage.xlsx?level=community", "export.run"),
]
