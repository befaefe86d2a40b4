"""The notifications of fangyi.linkage (issue 15): a support request addressed to me or to my
agency, and a request gone overdue, to the supervisors of both sides. The recipients are the
people the day list shows the request to (fangyi.linkage.selectors.daylist_section): the named
user, or the agency's users whose jurisdiction holds the place; for an overdue request the
supervisors above the place and above the requester's own node. Registered when the linkage
services load (they import this module at the top)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fangyi.core.models import FIELD_ROLES, Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit

from .models import AGENCY_ROLES, Agency, SupportRequest, Urgency

SUPPORT_REQUESTED = register(
    Kind(
        "support_requested",
        gettext_lazy("A support request addressed to me or my agency"),
        action="support.view",
        roles=tuple(FIELD_ROLES),
    )
)
SUPPORT_REQUESTED_URGENT = register(
    Kind(
        "support_requested_urgent",
        gettext_lazy("An urgent support request addressed to me or my agency"),
        action="support.view",
        roles=tuple(FIELD_ROLES),
        urgent=True,
        sms_required=(Role.POLICE,),
    )
)
SUPPORT_OVERDUE = register(
    Kind(
        "support_overdue",
        gettext_lazy("A support request gone overdue in my area"),
        action="support.view",
        roles=(Role.SUPERVISOR,),
    )
)

REQUESTED = gettext_noop("Support asked of you at %(place)s: %(need)s")
REQUESTED_URGENT = gettext_noop("Urgent: support asked of you at %(place)s: %(need)s")
OVERDUE = gettext_noop("Support request at %(place)s overdue since %(due)s: %(need)s")


def _short(text: str, n: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def addressees(request: SupportRequest) -> list[User]:
    """The named user, or the active users of the agency whose jurisdiction holds the place
    (one query); never the requester himself."""
    if request.agency == Agency.USER:
        users = [request.target_user] if request.target_user is not None else []
    else:
        roles = AGENCY_ROLES.get(request.agency, set())
        users = list(
            User.objects.filter(
                is_active=True, role__in=roles, nodes__path__in=ancestor_paths(request.node.path)
            )
            .distinct()
            .order_by("username")
        )
    return [u for u in users if u.pk != request.requested_by_id]


def support_requested(request: SupportRequest, now: dt.datetime | None = None) -> None:
    """A new request: its addressees are told, at once by SMS when it is urgent."""
    urgent = request.urgency == Urgency.URGENT
    kind = SUPPORT_REQUESTED_URGENT if urgent else SUPPORT_REQUESTED
    emit(
        kind.key,
        recipients=addressees(request),
        obj=request,
        message=REQUESTED_URGENT if urgent else REQUESTED,
        params={"place": request.node.name, "need": _short(request.need)},
        url=reverse("support_detail", args=[request.pk]),
        node_path=request.node.path,
        dedupe=f"{kind.key}:{request.pk}",
        now=now,
    )


def supervisors_of(requests: Iterable[SupportRequest]) -> dict[int, list[User]]:
    """For each request, the active supervisors above its place or above the requester's own
    node (both sides of the escalation): one query for all of them."""
    requests = list(requests)
    wanted: set[str] = set()
    for r in requests:
        wanted.update(ancestor_paths(r.node.path))
        if r.from_node is not None:
            wanted.update(ancestor_paths(r.from_node.path))
    if not wanted:
        return {}
    rows = list(
        User.objects.filter(is_active=True, role=Role.SUPERVISOR, nodes__path__in=wanted)
        .annotate(_p=F("nodes__path"))
        .order_by("username")
    )
    out: dict[int, list[User]] = {}
    for r in requests:
        paths = [r.node.path] + ([r.from_node.path] if r.from_node is not None else [])
        chosen: dict[int, User] = {}
        for u in rows:
            if u.pk not in chosen and any(p.startswith(u._p) for p in paths):
                chosen[u.pk] = u
        out[r.pk] = list(chosen.values())
    return out


def support_overdue(requests: Iterable[SupportRequest], now: dt.datetime) -> None:
    """Requests just escalated: the supervisors of both sides are told, once per request."""
    requests = list(requests)
    if not requests:
        return
    recipients = supervisors_of(requests)
    for r in requests:
        emit(
            SUPPORT_OVERDUE.key,
            recipients=recipients.get(r.pk, []),
            obj=r,
            message=OVERDUE,
            params={
                "place": r.node.name,
                "due": f"{timezone.localtime(r.due_at):%Y-%m-%d %H:%M}",
                "need": _short(r.need),
            },
            url=reverse("support_detail", args=[r.pk]),
            node_path=r.node.path,
            dedupe=f"{SUPPORT_OVERDUE.key}:{r.pk}",
            now=now,
        )
