"""Permission-table rows for notify (see tests/permtables/__init__.py for what a row is).

Everyone logged in has an inbox and his own settings; the administrator alone configures the
kinds. {notification} is, inside, a notification of the caller's own (of a kind about his own
account, which every role may see: action "place.view"); elsewhere it is someone else's (the
account of the role's compound), which answers 404 like one that does not exist. Opening one
or marking all read changes only the caller's own inbox: no record, no audit row."""

from __future__ import annotations

from fangyi.notify.registry import Kind, register
from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

KIND = register(Kind("permtable_note", "A note for the permission table", action="place.view"))


def _notification(refs) -> int:
    from fangyi.core.models import User
    from fangyi.notify.models import Notification

    mine = refs.where == "inside" and refs.user is not None
    owner = refs.user if mine else User.objects.get(pk=refs["user"])
    return Notification.objects.create(
        recipient=owner,
        kind=KIND.key,
        message="A note for the permission table",
        url="/account/",
        object_label="core.User",
        object_id=owner.pk,
        dedupe=f"permtable:{owner.pk}",
    ).pk


REFS: dict = {"notification": _notification}
SETTINGS = {
    "sms": "on",
    "digest": "on",
    "quiet_from": "22:00",
    "quiet_to": "07:00",
    "language": "zh-hans",
}
PAGES: list[Endpoint] = [
    Endpoint("GET", "/notifications/", ANY),
    Endpoint("GET", "/notifications/?order=newest&unread=1", ANY),
    Endpoint("GET", "/notifications/bell/", ANY),
    Endpoint("POST", "/notifications/read-all/", ANY, ok=302, reads_only=True),
    Endpoint("POST", "/notifications/{notification}/open/", ANY, ok=302, reads_only=True),
    Endpoint("GET", "/notifications/settings/", ANY),
    Endpoint("POST", "/notifications/settings/", ANY, ok=302, body=SETTINGS),
    Endpoint("GET", "/notifications/kinds/", "notify.configure"),
    Endpoint(
        "POST",
        "/notifications/kinds/",
        "notify.configure",
        ok=302,
        body={"key": KIND.key, "enabled": "on", "urgent": "on", "roles": ["police"]},
    ),
]
API: list[Endpoint] = [
    Endpoint("GET", "/api/notifications", ANY),
    Endpoint("GET", "/api/notifications?unread=true&order=unread", ANY),
    Endpoint("GET", "/api/notifications/unread-count", ANY),
    Endpoint("POST", "/api/notifications/read-all", ANY, reads_only=True),
    Endpoint("POST", "/api/notifications/{notification}/read", ANY, reads_only=True),
    Endpoint("GET", "/api/notifications/preferences", ANY),
    Endpoint(
        "PUT",
        "/api/notifications/preferences",
        ANY,
        body={"sms": True, "digest": True, "quiet_from": "22:00", "quiet_to": "07:00"},
    ),
]
