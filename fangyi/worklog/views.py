"""Pages of the work log: my own log, a supervisor's view of one of his people, his people's
totals, and the xlsx of a log. The period comes from ?start=&end= (YYYY-MM-DD, both days
included, at most 366, the last 20 days by default); a bad one answers 400 with the field's
error on the form."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from fangyi.core.errors import DomainError
from fangyi.core.models import Role
from fangyi.core.web import form_add_domain_error, staff_view
from fangyi.transfer.views import export_response

from . import selectors
from .exports import worklog_export


class PeriodForm(forms.Form):
    start = forms.CharField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.CharField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _period(request):
    """(form, (start, end)) from the query, or (form with its errors, None)."""
    form = PeriodForm(request.GET or None)
    data = request.GET
    try:
        start, end = selectors.period_clean(data.get("start", ""), data.get("end", ""))
    except DomainError as exc:
        form.is_valid()
        form_add_domain_error(form, exc)
        return form, None
    if not request.GET:
        form = PeriodForm(initial={"start": start.isoformat(), "end": end.isoformat()})
    return form, (start, end)


def _log_page(request, user_id: int | None):
    reader = request.user
    subject = selectors.subject_get(reader, user_id)
    form, period = _period(request)
    context = {
        "form": form,
        "subject": subject,
        "mine": subject.pk == reader.pk,
        "supervisor": reader.role == Role.SUPERVISOR,
    }
    if period is None:
        return render(request, "worklog/log.html", context, status=400)
    log = selectors.worklog(reader, subject, *period, via="ui")
    days = [
        (
            day,
            [
                (s, day.counts[s.key], s.link(subject, day.date) if s.link else None)
                for s in log.sources
                if day.counts[s.key]
            ],
        )
        for day in reversed(log.days)
    ]
    context.update(
        {
            "log": log,
            "days": days,
            "minutes": selectors.minutes_text(log.support_minutes),
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "worklog/log.html", context)


@staff_view
@require_GET
def my_log(request):
    return _log_page(request, None)


@staff_view
@require_GET
def user_log(request, user_id: int):
    return _log_page(request, user_id)


@staff_view
@require_GET
def team(request):
    reader = request.user
    selectors.team_require(reader)
    form, period = _period(request)
    if period is None:
        return render(request, "worklog/team.html", {"form": form}, status=400)
    data = selectors.team(reader, *period, via="ui")
    rows = [(r, [(s, r.totals[s.key]) for s in data.sources if r.totals[s.key]]) for r in data.rows]
    return render(
        request,
        "worklog/team.html",
        {"form": form, "team": data, "rows": rows, "query": request.GET.urlencode()},
    )


def _export(request, user_id: int | None):
    reader = request.user
    subject = selectors.subject_get(reader, user_id)
    form, period = _period(request)
    if period is None:
        return render(
            request,
            "worklog/log.html",
            {"form": form, "subject": subject, "mine": subject.pk == reader.pk},
            status=400,
        )
    log = selectors.worklog(reader, subject, *period, via="xlsx")
    return export_response(worklog_export(reader, log))


@staff_view
@require_GET
def my_export(request):
    return _export(request, None)


@staff_view
@require_GET
def user_export(request, user_id: int):
    return _export(request, user_id)
