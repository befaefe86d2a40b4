"""Running an import job: its batches, its errors file, its end; the blank template."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fangyi.core.audit import audit_record
from fangyi.core.errors import DomainError, NotFound

from .. import sheets
from ..models import ImportJob, JobStatus
from .cells import Row, _address_key, _text, _word
from .importer import Importer
from .storage import BATCH, MAX_ROWS, stored_path

log = logging.getLogger(__name__)


def _error_text(sheet: sheets.Sheet, row: Row) -> str:
    parts = []
    for column, messages in row.errors.items():
        header = sheet.header_for(column) if column else ""
        for m in dict.fromkeys(messages):
            parts.append(f"{header}: {m}" if header else m)
    return "；".join(parts) + f"（第{row.line}行）"


def _batches(sheet: sheets.Sheet, size: int) -> list[list[Row]]:
    """Rows in batches of about `size`; a household's consecutive rows stay in one batch, so
    that its door visit is recorded once."""
    out: list[list[Row]] = []
    batch: list[Row] = []
    last_key = None
    for i, (line, cells) in enumerate(sheet.rows):
        v = sheet.values(cells)
        key = (_word(v.get("node")), _address_key(_text(v.get("address"))), _text(v.get("date")))
        if len(batch) >= size and key != last_key:
            out.append(batch)
            batch = []
        batch.append(Row(index=i, line=line, cells=list(cells)))
        last_key = key
    if batch:
        out.append(batch)
    return out


def import_process(
    job: ImportJob,
    *,
    batch_size: int = BATCH,
    progress: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """The background task's work: every row of the job's sheet, a batch at a time; the job's
    processed / good / bad are saved after each batch, the errors file and the status at the
    end. Runs as the uploader, whose jurisdiction and role every service checks again."""
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, message="")
    job.refresh_from_db()
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            data = stored_path(job.stored).read_bytes()
            sheet = sheets.read_sheet(data, job.fmt, max_rows=MAX_ROWS)
        except (DomainError, OSError) as exc:
            return _finish(job, JobStatus.FAILED, getattr(exc, "message", str(exc)))
        job.total = len(sheet.rows)
        job.processed = job.good = job.bad = 0
        ImportJob.objects.filter(pk=job.pk).update(total=job.total, processed=0, good=0, bad=0)
        importer = Importer(job, sheet)
        bad_rows: list[Row] = []
        for batch in _batches(sheet, batch_size):
            try:
                importer.run_batch(batch)
            except DomainError as exc:
                for row in batch:
                    if not row.bad:
                        row.add_domain(exc, "")
            except Exception:
                # A fault of ours, not of the sheet: the job says so and where it stopped (the
                # rows before are stored; uploading the file again stores nothing twice).
                log.exception("import %s: a batch failed", job.pk)
                _finish(
                    job,
                    JobStatus.FAILED,
                    _(
                        "The import stopped on an unexpected error after %(n)d rows; those are "
                        "stored. Upload the file again to finish it."
                    )
                    % {"n": job.processed},
                )
                raise
            bad = [r for r in batch if r.bad]
            bad_rows.extend(bad)
            job.processed += len(batch)
            job.bad += len(bad)
            job.good += len(batch) - len(bad)
            ImportJob.objects.filter(pk=job.pk).update(
                processed=job.processed, good=job.good, bad=job.bad
            )
            if progress is not None:
                progress(job)
        if bad_rows:
            job.errors_file = _write_errors(job, sheet, bad_rows)
        return _finish(job, JobStatus.DONE, "")


def _write_errors(job: ImportJob, sheet: sheets.Sheet, rows: list[Row]) -> str:
    name = f"imports/{Path(job.stored).stem}-errors.{job.fmt}"
    headers = [*sheet.headers, sheets.ROW_HEADER[sheet.script], sheets.ERROR_HEADER[sheet.script]]
    width = len(sheet.headers)
    out_rows = (
        [*(r.cells + [None] * (width - len(r.cells)))[:width], r.line, _error_text(sheet, r)]
        for r in rows
    )
    with stored_path(name).open("wb") as fh:
        sheets.write_sheet(
            fh, job.fmt, headers, out_rows, encoding=job.encoding or "utf-8-sig", title="errors"
        )
    return name


def _finish(job: ImportJob, status: str, message: str) -> ImportJob:
    job.status = status
    job.message = message
    job.finished = timezone.now()
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=status,
            message=message,
            finished=job.finished,
            errors_file=job.errors_file,
            total=job.total,
            processed=job.processed,
            good=job.good,
            bad=job.bad,
        )
        audit_record(
            job.created_by,
            "fangyi.importjob.finished",
            job,
            node_path=job.node.path,
            changes={
                "status": [JobStatus.RUNNING, status],
                "total": [None, job.total],
                "good": [None, job.good],
                "bad": [None, job.bad],
                **({"message": [None, message]} if message else {}),
            },
        )
    return job


def errors_content(job: ImportJob, fmt: str) -> bytes:
    """The errors file of a finished job, in `fmt` (converted if the upload had the other)."""
    if not job.errors_file:
        raise NotFound(_("This import has no rows with errors."))
    data = stored_path(job.errors_file).read_bytes()
    if fmt == job.fmt:
        return data
    headers, rows = _read_any(data, job.fmt)
    out = io.BytesIO()
    sheets.write_sheet(out, fmt, headers, rows, title="errors")
    return out.getvalue()


def _read_any(data: bytes, fmt: str) -> tuple[list[str], list[list[Any]]]:
    """An errors file back as headers and rows (no header checks: it is our own file)."""
    if fmt == sheets.CSV:
        import csv

        text, _enc = sheets.decode_csv(data)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        return rows[0], rows[1:]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    return [str(h or "") for h in rows[0]], rows[1:]


def template_content(fmt: str, script: str = "hant") -> bytes:
    out = io.BytesIO()
    sheets.write_sheet(
        out,
        fmt,
        sheets.template_headers(script),
        sheets.template_rows(script),
        title="排查表",
    )
    return out.getvalue()
