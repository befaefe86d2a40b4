"""The REST API of fangyi.transfer: screening-sheet imports (multipart upload, status, the
rows with errors), the template, and the xlsx exports."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core import access
from fangyi.core.api import ERRORS
from fangyi.core.errors import DomainError, NotFound
from fangyi.screening.selectors import sweep_get

from . import selectors, services, sheets
from .models import ImportJob
from .views import export_response, file_response

router = Router(tags=["transfer"])


def _file_doc(fmt_types: list[str], what: str) -> dict:
    return {
        "responses": {
            200: {
                "description": what,
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}} for t in fmt_types
                },
            }
        }
    }


XLSX_DOC = [sheets.XLSX_TYPE]
BOTH_DOC = [sheets.XLSX_TYPE, sheets.CSV_TYPE]


class ImportOut(Schema):
    id: int
    filename: str = Field(..., examples=["機務小區排查表.xlsx"])
    status: str = Field(..., description="queued, running, done or failed", examples=["running"])
    sweep_id: int | None = None
    node_id: int
    created: dt.datetime
    created_by: str = Field(..., examples=["wanggeyuan"])
    total: int = Field(..., description="Rows in the sheet (known once the work starts).")
    processed: int = Field(..., description="Rows looked at so far; saved batch by batch.")
    good: int = Field(..., description="Rows stored.")
    bad: int = Field(..., description="Rows with errors, in the errors file.")
    percent: int
    has_errors_file: bool
    message: str = Field("", description="Why the job failed, when it did.")
    finished: dt.datetime | None = None

    @staticmethod
    def resolve_created_by(obj: ImportJob) -> str:
        return obj.created_by.username

    @staticmethod
    def resolve_has_errors_file(obj: ImportJob) -> bool:
        return bool(obj.errors_file)


@router.get("/imports", response={200: list[ImportOut], **ERRORS})
@paginate(LimitOffsetPagination)
def import_list(request):
    """The caller's imports, newest first (a supervisor's: every import of the subtree)."""
    return selectors.import_list(request.user)


@router.post("/imports", response={201: ImportOut, **ERRORS})
def import_create(
    request,
    file: UploadedFile | None = File(  # noqa: B008
        None, description="The screening sheet: .xlsx, or .csv in UTF-8 or GBK."
    ),
    sweep_id: int | None = Form(
        None, description="An open sweep: each row then records the door visit too."
    ),
    client_id: uuid.UUID | None = Form(  # noqa: B008
        None, description="Client-generated id: the same upload sent twice makes one import."
    ),
):
    """Upload a screening sheet (multipart/form-data). It is checked at once (type, size, the
    header row: 400 naming `file`), stored, and imported in the background; poll
    GET /api/imports/{id} for the progress."""
    access.require(request.user, "import.run")
    if file is None:
        raise DomainError(_("Choose the file to import."), field="file")
    sweep = None
    if sweep_id is not None:
        try:
            sweep = sweep_get(request.user, sweep_id)
        except NotFound:
            raise NotFound(_("No such sweep."), field="sweep_id") from None
        if sweep.status != "open":
            raise DomainError(_("This sweep is closed: choose an open one."), field="sweep_id")
    if file.size > services.max_upload_bytes():
        raise DomainError(
            _("The file is %(size)s MB; at most %(limit)s MB can be imported: split it.")
            % {
                "size": f"{file.size / 1048576:.1f}",
                "limit": f"{services.max_upload_bytes() / 1048576:g}",
            },
            field="file",
        )
    job = services.import_create(
        actor=request.user,
        filename=file.name or "",
        data=file.read(),
        sweep=sweep,
        language=getattr(request, "LANGUAGE_CODE", ""),
        client_id=client_id,
    )
    return Status(201, selectors.import_get(request.user, job.pk))


@router.get(
    "/imports/template",
    response={200: None, **ERRORS},
    openapi_extra=_file_doc(BOTH_DOC, "The empty template with two example rows."),
)
def import_template(
    request,
    format: Literal["xlsx", "csv"] = "xlsx",  # noqa: A002
    script: Literal["hant", "hans"] = "hant",
):
    """The screening-sheet template, headers in Traditional (hant) or Simplified (hans)."""
    access.require(request.user, "import.run")

    return file_response(
        services.template_content(format, script), f"screening-template.{format}", format
    )


@router.get("/imports/{import_id}", response={200: ImportOut, **ERRORS})
def import_get(request, import_id: int):
    """One import's status and counts."""
    access.require(request.user, "import.run")
    return selectors.import_get(request.user, import_id)


@router.get(
    "/imports/{import_id}/errors",
    response={200: None, **ERRORS},
    openapi_extra=_file_doc(
        BOTH_DOC, "The rows with errors, in the upload's columns plus 錯誤 (the error)."
    ),
)
def import_errors(request, import_id: int, format: Literal["", "xlsx", "csv"] = ""):  # noqa: A002
    """The rows with errors, in the upload's format unless `format` asks for the other; 404
    when every row was stored."""
    access.require(request.user, "import.run")
    job = selectors.import_get(request.user, import_id)
    fmt = format or job.fmt
    data = services.errors_content(job, fmt)

    return file_response(data, f"{job.filename.rsplit('.', 1)[0]}-errors.{fmt}", fmt)


@router.get(
    "/exports/observations.xlsx",
    response={200: None, **ERRORS},
    openapi_extra=_file_doc(XLSX_DOC, "The observation list as a workbook."),
)
def export_observations(
    request, status: str = "", node: int | None = None, q: str = "", kind: str = ""
):
    """The observations the caller may see, with the list's filters. Audited (one audit row
    per export, action fangyi.export.observations)."""
    access.require(request.user, "export.run")

    params = {"status": status, "node": "" if node is None else str(node), "q": q, "kind": kind}
    return export_response(services.observations_export(request.user, params))


@router.get(
    "/exports/sweeps/{sweep_id}/coverage.xlsx",
    response={200: None, **ERRORS},
    openapi_extra=_file_doc(XLSX_DOC, "The sweep's coverage table as a workbook."),
)
def export_coverage(
    request,
    sweep_id: int,
    level: Literal["grid", "community", "station", "district"] = "grid",
):
    """A sweep's coverage per grid, community, station or district, with the total; the
    caller's share only. Audited (fangyi.export.coverage)."""
    access.require(request.user, "export.run")

    sweep = sweep_get(request.user, sweep_id)
    return export_response(services.coverage_export(request.user, sweep, level=level))
