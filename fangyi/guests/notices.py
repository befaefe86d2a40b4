"""The notifications of fangyi.guests (issue 15): a hotel guest the risk rules flagged, to the
station's police above the hotel (those whose day list shows it, fangyi.guests.selectors
.daylist_section), at once by SMS; and a referral whose arrival the designated hotel did not
confirm in time, to the police and the supervisors above the hotel. Registered when the
guests' services load (they import this module at the top)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fangyi.core.models import Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit

from .models import GuestReport

POLICE = (Role.POLICE, Role.AUXILIARY)

GUEST_FLAGGED = register(
    Kind(
        "guest_flagged",
        gettext_lazy("A hotel guest from a risk area on my beat"),
        action="guest.view",
        roles=POLICE,
        urgent=True,
        sms_required=(Role.POLICE,),
    )
)
ARRIVAL_OVERDUE = register(
    Kind(
        "arrival_overdue",
        gettext_lazy("A referred guest's arrival not confirmed in time"),
        action="guest.view",
        roles=(*POLICE, Role.SUPERVISOR),
    )
)

FLAGGED = gettext_noop("%(hotel)s reports a guest from a risk area (%(from_where)s)")
OVERDUE = gettext_noop(
    "A guest referred from %(hotel)s was not confirmed arrived by %(confirm_by)s"
)


def _above(path: str, roles) -> list[User]:
    """The active users of `roles` whose jurisdiction holds the hotel: one query."""
    return list(
        User.objects.filter(is_active=True, role__in=roles, nodes__path__in=ancestor_paths(path))
        .distinct()
        .order_by("username")
    )


def guest_flagged(report: GuestReport, hotel_name: str, path: str) -> None:
    """A flagged guest, just reported: the police above the hotel (`path` its node's)."""
    if not report.flagged:
        return
    emit(
        GUEST_FLAGGED.key,
        recipients=_above(path, POLICE),
        obj=report,
        message=FLAGGED,
        params={"hotel": hotel_name, "from_where": report.from_where},
        url=reverse("guest_detail", args=[report.pk]),
        node_path=path,
        dedupe=f"{GUEST_FLAGGED.key}:{report.pk}",
        now=report.reported_at,
    )


def arrival_overdue(report: GuestReport, now) -> None:
    """A referral just marked overdue: the police and the supervisors above the hotel."""
    confirm_by = report.confirm_by
    emit(
        ARRIVAL_OVERDUE.key,
        recipients=_above(report.node.path, (*POLICE, Role.SUPERVISOR)),
        obj=report,
        message=OVERDUE,
        params={
            "hotel": report.place.name,
            "confirm_by": f"{timezone.localtime(confirm_by):%m-%d %H:%M}" if confirm_by else "",
        },
        url=reverse("guest_detail", args=[report.pk]),
        node_path=report.node.path,
        dedupe=f"{ARRIVAL_OVERDUE.key}:{report.pk}",
        now=now,
    )
