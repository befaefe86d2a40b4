"""Exports: lists as xlsx, streamed, each audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.errors import NotFound
from fangyi.core.models import User
from fangyi.observation import selectors as obs
from fangyi.screening.selectors import coverage

from .. import sheets


@dataclass
class Export:
    filename: str
    headers: list[str]
    rows: Any  # an iterable of rows, consumed once
    title: str = ""


def _export_audit(actor: User, what: str, obj, node_path: str, changes: dict) -> None:
    audit_record(
        actor,
        f"fangyi.export.{what}",
        obj,
        object_type=None if obj is not None else "export",
        object_repr=None if obj is not None else what,
        node_path=node_path,
        changes=changes,
    )


def _top_path(user: User) -> str:
    paths = access.user_paths(user)
    return paths[0] if paths else ""


# The list page's filters that the export takes as query parameters (those that
# observation_list accepts are passed on).
OBSERVATION_FILTERS = ("status", "node", "q", "kind")


def observations_export(user: User, params: dict[str, str]) -> Export:
    """The observation list the user may see, with the list page's filters, as rows. Audited:
    one audit row per export, with the filters and the number of rows."""
    access.require(user, "export.run")

    kwargs = _observation_filters(user, obs.observation_list, params)
    qs = obs.observation_list(user, **kwargs)
    if hasattr(qs, "select_related"):
        qs = qs.select_related("person", "person__household", "node", "place", "responsible")
    if hasattr(qs, "iterator"):
        count, rows = qs.count(), qs.iterator(chunk_size=2000)
    else:
        rows = list(qs)
        count = len(rows)
    _export_audit(
        user,
        "observations",
        None,
        _top_path(user),
        {"filters": [None, {k: str(v) for k, v in params.items() if v}], "rows": [None, count]},
    )

    def lines():
        for o in rows:
            p = o.person
            yield [
                p.name,
                p.get_id_type_display(),
                p.id_number,
                p.phone,
                p.household.address if p.household_id else "",
                o.node.name,
                o.get_kind_display(),
                o.place.name if o.place_id else "",
                o.get_status_display(),
                o.starts,
                o.last_exposure,
                o.ends,
                o.responsible.display_name if o.responsible_id else "",
                o.missed_streak,
            ]

    return Export(
        filename=f"observations-{timezone.localdate():%Y%m%d}.xlsx",
        headers=[
            pgettext("person", "Name"),
            _("Document type"),
            _("Document number"),
            _("Phone"),
            _("Address"),
            _("Jurisdiction"),
            _("Where"),
            _("Place"),
            _("Status"),
            _("From"),
            _("Last exposure"),
            _("Until"),
            _("Responsible worker"),
            _("Missed in a row"),
        ],
        rows=lines(),
        title=_("Observations"),
    )


def _observation_filters(user: User, fn, params: dict[str, str]) -> dict[str, Any]:
    """The query parameters that observation_list takes, passed through by name; a node id
    is resolved in the user's scope."""
    import inspect

    names = {
        n
        for n, p in inspect.signature(fn).parameters.items()
        if p.kind == inspect.Parameter.KEYWORD_ONLY
    }
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in names or key not in OBSERVATION_FILTERS or value in (None, ""):
            continue
        if key == "node":
            try:
                value = access.node_get(user, int(value))
            except (TypeError, ValueError):
                raise NotFound(_("No such jurisdiction."), field=key) from None
            except NotFound:
                raise NotFound(_("No such jurisdiction."), field=key) from None
        out[key] = value
    return out


def coverage_export(user: User, sweep, *, level: str = "grid") -> Export:
    access.require(user, "export.run")

    rows = coverage(user, sweep, level=level)
    _export_audit(
        user,
        "coverage",
        sweep,
        sweep.node.path,
        {"level": [None, level], "rows": [None, len(rows)]},
    )

    def lines():
        for r in rows:
            yield [
                r.node.name if r.node is not None else _("Total"),
                r.households,
                r.visited,
                r.pending,
                r.nobody_home,
                r.refused,
                r.moved_away,
                r.revisits_due,
                r.percent,
            ]

    return Export(
        filename=f"coverage-{sweep.pk}-{level}-{timezone.localdate():%Y%m%d}.xlsx",
        headers=[
            _("Jurisdiction"),
            _("Households"),
            _("Visited"),
            _("Pending"),
            _("Nobody home"),
            _("Refused"),
            _("Moved away"),
            _("Revisits due"),
            _("Done (%)"),
        ],
        rows=lines(),
        title=_("Coverage"),
    )


def export_file(export: Export):
    """The workbook in a spooled temporary file (memory for small ones, disk for large),
    written in openpyxl's write-only mode, rewound for a FileResponse."""
    import tempfile

    fh = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    sheets.write_xlsx(fh, export.headers, export.rows, title=export.title)
    fh.seek(0)
    return fh
