"""The notifications of fangyi.tips (issue 15): a tip assigned to someone, and the answer sent
to a reporter who left a phone. Registered when the tips' services load (they import this
module at the top); the services call the functions below inside the event's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fangyi.core.models import FIELD_ROLES, Role, User
from fangyi.notify.registry import Kind, register
from fangyi.notify.services import emit, send_to_resident

from .models import Tip

TIP_ASSIGNED = register(
    Kind(
        "tip_assigned",
        gettext_lazy("A tip assigned to me"),
        action="tip.view",
        roles=tuple(FIELD_ROLES) + (Role.SUPERVISOR,),
    )
)
# A gathering or another urgent category: at once, by SMS; the station's officer gets it
# whatever his preferences (the seed's officer was called within minutes).
TIP_ASSIGNED_URGENT = register(
    Kind(
        "tip_assigned_urgent",
        gettext_lazy("An urgent tip (a gathering) assigned to me"),
        action="tip.view",
        roles=tuple(FIELD_ROLES) + (Role.SUPERVISOR,),
        urgent=True,
        sms_required=(Role.POLICE, Role.AUXILIARY),
    )
)
TIP_ANSWER = register(
    Kind(
        "tip_answer",
        gettext_lazy("The answer to a tip, by SMS to its reporter"),
        action="tip.view",
        roles=(),
    )
)

ASSIGNED = gettext_noop("Tip %(code)s assigned to you: %(category)s at %(place)s")
ASSIGNED_URGENT = gettext_noop("Urgent tip %(code)s assigned to you: %(category)s at %(place)s")
ANSWERED = gettext_noop("Your report %(code)s has an answer: %(link)s")


def tip_assigned(tip: Tip, users: Iterable[User], now: dt.datetime | None = None) -> None:
    """The tip was given to `users` (at intake by its category's routing, or by hand). Each
    assignment is its own event: a retried request (the same assignment) notifies once."""
    users = list(users)
    if not users:
        return
    kind = TIP_ASSIGNED_URGENT if tip.urgent else TIP_ASSIGNED
    now = now or timezone.now()
    emit(
        kind.key,
        recipients=users,
        obj=tip,
        message=ASSIGNED_URGENT if tip.urgent else ASSIGNED,
        params={"code": tip.code, "category": tip.category.name, "place": tip.node.name},
        url=reverse("tip_detail", args=[tip.pk]),
        node_path=tip.node.path,
        # One notification per assignee and assignment: the tip, its reopen count and the
        # minute of the assignment name the event (a retried request finds it stored).
        dedupe=f"{kind.key}:{tip.pk}:{tip.reopened}:{now:%Y%m%d%H%M}",
        now=now,
    )


def tip_answered(tip: Tip, now: dt.datetime | None = None) -> None:
    """The reporter who left a phone gets an SMS with the link to the tracking page (the answer
    is there; the text carries nothing else). A number that is not a mainland mobile, or one
    that asked to stop, gets nothing."""
    if not tip.reporter_phone:
        return
    base = (getattr(settings, "PUBLIC_URL", "") or "").rstrip("/")
    link = f"{base}{reverse('track_detail', args=[tip.code])}"
    send_to_resident(
        TIP_ANSWER.key,
        phone=tip.reporter_phone,
        message=ANSWERED,
        params={"code": tip.code, "link": link},
        now=now,
        node_path=tip.node.path if tip.node_id else "",
    )
