"""Permission-table rows for delivery (see tests/permtables/__init__.py for what a row is).

{message} is an SMS given up (four 500s from the gateway) to an officer of the role's compound,
about a tip there: inside, its notification lies at the compound; outside (another city for
the administrator) it lies there, so an administrator of this city does not see it.
Only administrators read the delivery log and send a message again."""

from __future__ import annotations

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401


def _message(refs) -> int:
    from fangyi.core.models import User
    from fangyi.notify.models import Message, Notification

    officer = User.objects.get(pk=refs["user"])
    compound = refs.compound
    note = Notification.objects.create(
        recipient=officer,
        kind="permtable",
        message="A tip assigned to you",
        url="/tips/",
        object_label="tips.tip",
        object_id=1,
        node_path=compound.path,
        urgent=True,
        dedupe=f"permtable:{compound.pk}",
    )
    return Message.objects.create(
        channel="sms",
        notification=note,
        recipient=officer,
        to="13912345678",
        kind="permtable",
        text="[Fangyi] A tip assigned to you",
        urgent=True,
        status="given_up",
        attempts=4,
        answer="Given up after 4 attempts: 500",
    ).pk


REFS: dict = {"message": _message}

PAGES: list[Endpoint] = [
    Endpoint("GET", "/deliveries/", "delivery.view"),
    Endpoint("GET", "/deliveries/?status=given_up&channel=sms&failures=on", "delivery.view"),
    Endpoint("POST", "/deliveries/{message}/retry/", "delivery.view", ok=302),
]

API: list[Endpoint] = [
    Endpoint("GET", "/api/deliveries", "delivery.view"),
    Endpoint("GET", "/api/deliveries?status=failed&failures_first=true", "delivery.view"),
    Endpoint("GET", "/api/deliveries/{message}", "delivery.view"),
    Endpoint("POST", "/api/deliveries/{message}/retry", "delivery.view"),
]
