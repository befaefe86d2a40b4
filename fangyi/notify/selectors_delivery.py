"""Reads of the delivery log, for administrators (action "delivery.view").

What an administrator sees of a message: its channel, kind, status, attempts and the gateway's
answer, the number or address masked (138****5678), and the text only of a message to a
resident (what the resident got, no more than the linked page shows). A staff message's text
names the record (a person, a tip) that an administrator may not read, so it is not shown.

Scope: a message about a record lies where the record does (its notification's node path) and
is seen by the administrators whose jurisdiction holds that path; a message with no record
(a resident's reminder, a digest) belongs to no jurisdiction and is seen by every administrator.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.errors import NotFound
from fangyi.core.models import User

from .delivery import DIGEST_KIND, masked
from .models import Channel, Message, MessageStatus
from .registry import KINDS

FAILURES = (MessageStatus.GIVEN_UP, MessageStatus.FAILED)


def _scope_q(user: User) -> Q:
    staff = Q(notification__isnull=False)
    resident = Q(notification__isnull=True)
    unplaced = (staff & Q(notification__node_path="")) | (resident & Q(node_path=""))
    paths = access.user_paths(user)
    if not paths:
        return unplaced
    return unplaced | reduce(
        or_,
        (
            (staff & Q(notification__node_path__startswith=p))
            | (resident & Q(node_path__startswith=p))
            for p in paths
        ),
    )


def message_list(
    user: User,
    *,
    status: str = "",
    channel: str = "",
    kind: str = "",
    failures_first: bool = False,
) -> QuerySet[Message]:
    """The outbox the administrator may see, newest first (failures first when asked)."""
    access.require(user, "delivery.view")
    qs = Message.objects.filter(_scope_q(user)).select_related("recipient")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if kind:
        qs = qs.filter(kind=kind)
    if failures_first:
        qs = qs.annotate(
            failure=Case(
                When(status__in=FAILURES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("failure", "-created_at", "-id")
    return qs


def message_get(user: User, pk: int) -> Message:
    access.require(user, "delivery.view")
    message = (
        Message.objects.filter(_scope_q(user)).select_related("recipient").filter(pk=pk).first()
    )
    if message is None:
        raise NotFound(_("No such message."))
    return message


def kind_choices() -> list[str]:
    return sorted({*KINDS, DIGEST_KIND})


def status_choices() -> list[tuple[str, Any]]:
    return list(MessageStatus.choices)


def channel_choices() -> list[tuple[str, Any]]:
    return list(Channel.choices)


def shown_to(message: Message) -> str:
    return masked(message.to)


def shown_text(message: Message) -> str | None:
    """The text of a message to a resident; None for a staff message (it names a record).
    The self-report link's token is cut out: it opens that person's page for the day, which
    an administrator reading the log has no business opening."""
    if message.recipient_id is not None or message.kind == DIGEST_KIND:
        return None
    return SELF_REPORT_TOKEN.sub(r"\1…/", message.text)


# The credential inside a resident's link: the self-report token (/r/<token>/daily/) or a
# tip's tracking code (/track/<code>/), the reporter's only key to his tip.
SELF_REPORT_TOKEN = re.compile(r"(/(?:r|track)/)[^/\s]+/?")
