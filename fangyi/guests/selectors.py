"""Reads of fangyi.guests, scoped to the user's jurisdiction, role and (for site staff) place.

A hotel's staff see their own hotel's reports (what they typed, whether flagged, the status);
the police, auxiliary police and supervisors see the reports of hotels in their jurisdiction.
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fangyi.core import access
from fangyi.core.audit import access_record
from fangyi.core.errors import NotFound
from fangyi.core.models import Role, User
from fangyi.observation.selectors import DAYLIST_LIMIT, URGENCY, DayItem, DaySection

from .models import GuestReport, GuestStatus


def hotel_staff(user: User) -> bool:
    return user.role == Role.SITE_STAFF


def _scoped(user: User) -> QuerySet:
    access.require(user, "guest.view")
    qs = GuestReport.objects.all()
    if hotel_staff(user):
        return qs.filter(place_id=user.place_id) if user.place_id else qs.none()
    return qs.visible_to(user)


def needs_action_q() -> Q:
    """Flagged and not yet referred or cleared, or referred and not confirmed in time."""
    return Q(status__in=[GuestStatus.FLAGGED, GuestStatus.REGISTERED]) | Q(
        status=GuestStatus.REFERRED, overdue_at__isnull=False
    )


def guest_list(user: User, *, status: str = "", day=None, todo: bool = False) -> QuerySet:
    """The reports the user may see: for the police those that need action first, then the
    newest. `day`: reported that day (the hotel's list of today)."""
    qs = _scoped(user).select_related("place")
    if status in GuestStatus.values:
        qs = qs.filter(status=status)
    if day is not None:
        qs = qs.filter(Q(arrived_on=day) | Q(reported_at__date=day))
    if todo:
        qs = qs.filter(needs_action_q())
    if not hotel_staff(user):
        qs = qs.annotate(
            _todo=Case(
                When(needs_action_q(), then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        ).order_by("_todo", "-reported_at", "-id")
    return qs


def guest_get(user: User, pk: int, *, via: str | None = None) -> GuestReport:
    """One report the user may see (404 otherwise); with `via` the read is logged."""
    report = (
        _scoped(user)
        .filter(pk=pk)
        .select_related("place", "node", "person", "placement__site__place", "registered_by")
        .first()
    )
    if report is None:
        raise NotFound(_("No such guest report."))
    if via:
        access_record(user, report, node_path=report.node.path, via=via)
    return report


def daylist_section(user, day):
    """This part of the day list (fangyi.observation.selectors.DAYLIST_SOURCES): flagged
    guests for the station's police to register or refer, and referrals not confirmed in
    time. One query, two when the list is full."""
    if not access.can(user, "guest.handle"):
        return None

    qs = GuestReport.objects.visible_to(user).filter(needs_action_q())
    rows = list(
        qs.order_by("reported_at", "id").values_list(
            "pk", "name", "status", "from_where", "place__name", "overdue_at"
        )[:DAYLIST_LIMIT]
    )
    count = len(rows) if len(rows) < DAYLIST_LIMIT else qs.count()
    items = []
    for pk, name, status, from_where, hotel, overdue in rows:
        if overdue is not None:
            detail = _("Referred from %(hotel)s, arrival not confirmed in time") % {"hotel": hotel}
            badge, css = _("Not confirmed"), "warn"
        elif status == GuestStatus.REGISTERED:
            detail = _("Guest at %(hotel)s from %(place)s: refer to a designated hotel") % {
                "hotel": hotel,
                "place": from_where,
            }
            badge, css = _("Registered"), ""
        else:
            detail = _("Guest at %(hotel)s from %(place)s: register and take the temperature") % {
                "hotel": hotel,
                "place": from_where,
            }
            badge, css = _("Flagged"), "err"
        item = DayItem("guest", URGENCY["guest"], name, detail, f"/guests/{pk}/", badge, pk)
        item.badge_css = css
        items.append(item)
    return DaySection(
        key="guests",
        label=ngettext("%(n)d hotel guest", "%(n)d hotel guests", count) % {"n": count},
        count=count,
        items=items,
        more_url="/guests/?todo=1",
        more_label=_("All guests to handle"),
    )
