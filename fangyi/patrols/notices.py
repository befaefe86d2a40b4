"""The notifications of fangyi.patrols (issue 15): a duty shift nobody staffs, escalated
(fangyi.patrols.posts.shifts_escalate), to the supervisors above the post (those whose day list
and board show it). Registered when the posts' service loads (it imports this module at the
top)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fangyi.core.models import Role, User
from fangyi.core.selectors import ancestor_paths
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit

from .models import DutyShift

SHIFT_UNSTAFFED = register(
    Kind(
        "shift_unstaffed",
        gettext_lazy("A duty shift nobody staffs"),
        action="post.view",
        roles=(Role.SUPERVISOR,),
    )
)

UNSTAFFED = gettext_noop("Nobody is on duty at %(post)s for the shift from %(starts)s")


def shifts_unstaffed(shifts: Iterable[DutyShift], now: dt.datetime) -> None:
    """Shifts just escalated: the supervisors above each post, one query for them all."""
    shifts = list(shifts)
    if not shifts:
        return
    wanted: set[str] = set()
    for s in shifts:
        wanted.update(ancestor_paths(s.node.path))
    chiefs = list(
        User.objects.filter(is_active=True, role=Role.SUPERVISOR, nodes__path__in=wanted).annotate(
            _p=F("nodes__path")
        )
    )
    for s in shifts:
        seen: dict[int, User] = {}
        for u in chiefs:
            if u.pk not in seen and s.node.path.startswith(u._p):
                seen[u.pk] = u
        emit(
            SHIFT_UNSTAFFED.key,
            recipients=list(seen.values()),
            obj=s,
            message=UNSTAFFED,
            params={"post": s.post.name, "starts": f"{timezone.localtime(s.starts):%m-%d %H:%M}"},
            url=reverse("shift_detail", args=[s.pk]),
            node_path=s.node.path,
            dedupe=f"{SHIFT_UNSTAFFED.key}:{s.pk}",
            now=now,
        )
