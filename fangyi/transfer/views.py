"""Pages of fangyi.transfer: the import list and upload, a job's progress, the template and
errors downloads, and the two xlsx exports."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangyi.core import access
from fangyi.core.errors import DomainError
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.screening.selectors import sweep_get, sweep_list

from . import selectors, services, sheets
from .forms import ImportForm
from .models import JobStatus

PAGE_SIZE = 20


def _sweeps(user):
    if not access.can(user, "sweep.view"):
        return None

    return sweep_list(user, status="open").select_related("node")


def _script() -> str:
    return "hans" if (translation.get_language() or "").lower() == "zh-hans" else "hant"


def file_response(data: bytes, filename: str, fmt: str) -> HttpResponse:
    response = HttpResponse(data, content_type=sheets.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = _disposition(filename)
    return response


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    # The name comes from an upload: only safe characters in the plain form, the rest quoted.
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "", filename) or "sheet"
    if ascii_name.startswith("."):
        ascii_name = "sheet" + ascii_name
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@staff_view
@require_http_methods(["GET", "POST"])
def import_list(request):
    access.require(request.user, "import.run")
    sweeps = _sweeps(request.user)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, sweeps=sweeps)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > services.max_upload_bytes():
                    raise services.DomainError(
                        _(
                            "The file is %(size)s MB; at most %(limit)s MB can be imported: split it."
                        )
                        % {
                            "size": f"{upload.size / 1048576:.1f}",
                            "limit": f"{services.max_upload_bytes() / 1048576:g}",
                        },
                        field="file",
                    )
                job = services.import_create(
                    actor=request.user,
                    filename=upload.name,
                    data=upload.read(),
                    sweep=form.cleaned_data.get("sweep"),
                    language=translation.get_language() or "",
                    client_id=form.cleaned_data.get("client_id"),
                )
                messages.success(request, _("Uploaded: the rows are being imported."))
                return redirect("import_detail", pk=job.pk)
            except DomainError as exc:
                form_add_domain_error(form, exc)
    else:
        form = ImportForm(sweeps=sweeps, initial={"sweep": request.GET.get("sweep")})
    page = Paginator(selectors.import_list(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "transfer/import_list.html",
        {"form": form, "page": page, "max_mb": f"{services.max_upload_bytes() / 1048576:g}"},
    )


@staff_view
@require_GET
def import_detail(request, pk: int):
    job = selectors.import_get(request.user, pk)
    running = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    context = {"job": job, "running": running}
    if request.htmx:
        request.fangyi_passive = True  # the progress bar's own poll (core.web.passive)
        return render(request, "transfer/_progress.html", context)
    return render(request, "transfer/import_detail.html", context)


def _errors(request, pk: int, fmt: str):
    job = selectors.import_get(request.user, pk)
    if not job.errors_file:
        raise Http404
    data = services.errors_content(job, fmt)
    stem = job.filename.rsplit(".", 1)[0]
    return file_response(data, f"{stem}-errors.{fmt}", fmt)


@staff_view
@require_GET
def import_errors_xlsx(request, pk: int):
    return _errors(request, pk, sheets.XLSX)


@staff_view
@require_GET
def import_errors_csv(request, pk: int):
    return _errors(request, pk, sheets.CSV)


def _template(request, fmt: str):
    access.require(request.user, "import.run")
    script = request.GET.get("script") or _script()
    script = script if script in ("hant", "hans") else "hant"
    name = "排查表模板" if script == "hant" else "排查表模板"
    return file_response(services.template_content(fmt, script), f"{name}.{fmt}", fmt)


@staff_view
@require_GET
def template_xlsx(request):
    return _template(request, sheets.XLSX)


@staff_view
@require_GET
def template_csv(request):
    return _template(request, sheets.CSV)


def export_response(export) -> FileResponse:
    return FileResponse(
        services.export_file(export),
        as_attachment=True,
        filename=export.filename,
        content_type=sheets.XLSX_TYPE,
    )


@staff_view
@require_GET
def export_observations(request):
    access.require(request.user, "export.run")
    return export_response(services.observations_export(request.user, request.GET.dict()))


@staff_view
@require_GET
def export_coverage(request, pk: int):
    access.require(request.user, "export.run")

    sweep = sweep_get(request.user, pk)
    level = request.GET.get("level", "grid")
    try:
        export = services.coverage_export(request.user, sweep, level=level)
    except DomainError as exc:
        if exc.status != 400:
            raise
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    return export_response(export)
