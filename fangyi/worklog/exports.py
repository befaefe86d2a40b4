"""The work log as an xlsx sheet: one row a day, one column a kind, a totals row. Written and
served as fangyi.transfer's exports are (transfer.services.exports.Export, openpyxl's
write-only mode), audited as they are (one audit row per export)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.models import User
from fangyi.transfer.services.exports import Export

from .selectors import WorkLog, minutes_text


def worklog_export(reader: User, log: WorkLog) -> Export:
    """The log's rows, oldest day first, then the totals (with the support's median response
    in its own column). Audited: action fangyi.export.worklog on the user whose log it is."""
    access.require(reader, "worklog.view")
    paths = [p for p in access.user_paths(log.subject) if access.path_visible(reader, p)]
    audit_record(
        reader,
        "fangyi.export.worklog",
        log.subject,
        node_path=paths[0] if paths else "",
        changes={"period": [None, f"{log.start.isoformat()}/{log.end.isoformat()}"]},
    )
    keys = [s.key for s in log.sources]

    def lines():
        for day in log.days:
            yield [day.date, *(day.counts[k] for k in keys), None]
        yield [_("Total"), *(log.totals[k] for k in keys), minutes_text(log.support_minutes)]

    return Export(
        filename=f"worklog-{log.subject.username}-{log.start:%Y%m%d}-{log.end:%Y%m%d}.xlsx",
        headers=[
            _("Date"),
            *(str(s.label) for s in log.sources),
            _("Support response, median minutes"),
        ],
        rows=lines(),
        title=_("Work log"),
    )
