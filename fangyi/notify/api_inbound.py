"""The SMS gateway's callbacks: residents' replies and stop requests.

POST /api/inbound/sms, authenticated by the shared secret FANGYI_SMS_INBOUND_KEY sent in the
`X-Fangyi-Key` header (compared in constant time), not by a session or a personal token. With
no key configured the endpoint is closed (503), never open. The work is
fangyi.notify.inbound.sms_received; what a reply means to a person under observation is added
by fangyi.observation.reminders, imported here so that its handler is registered.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import APIKeyHeader

from fangyi.core.api import ErrorOut
from fangyi.observation import reminders  # noqa: F401  (registers the handler of replies)

from . import inbound

KEY_HEADER = "X-Fangyi-Key"


class GatewayKey(APIKeyHeader):
    param_name = KEY_HEADER

    def authenticate(self, request, key):
        expected = getattr(settings, "FANGYI_SMS_INBOUND_KEY", "") or ""
        if not expected:
            raise HttpError(503, _("Replies by SMS are not configured on this server."))
        if not key or not hmac.compare_digest(key.encode(), expected.encode()):
            raise HttpError(401, _("Send the gateway's key in the X-Fangyi-Key header."))
        return True


router = Router(tags=["inbound"])


class InboundSmsIn(Schema):
    sender: str = Field(
        ..., alias="from", description="The resident's number", examples=["13977110001"]
    )
    text: str = Field(..., description="The text of the reply", examples=["TD"])
    message_id: str = Field(
        ..., description="The gateway's id of the reply: a retried callback sends the same"
    )


class InboundSmsOut(Schema):
    message_id: str
    outcome: str = Field(..., description="stopped, started or recorded", examples=["stopped"])
    cancelled: int = Field(0, description="Queued messages to the number given up by a stop")


@router.post(
    "/inbound/sms",
    response={200: InboundSmsOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut, 503: ErrorOut},
    auth=GatewayKey(),
)
def inbound_sms(request, payload: InboundSmsIn):
    """A resident's SMS to the gateway's number: a stop request (TD, T, STOP, 退订, 取消) blocks
    the number and gives up its queued messages, a start request (START, 订阅) unblocks it,
    anything else is recorded as a reply. The same message_id twice answers the same, once."""
    received = inbound.sms_received(
        sender=payload.sender, text=payload.text, message_id=payload.message_id
    )
    return {
        "message_id": received.message_id,
        "outcome": received.outcome,
        "cancelled": received.cancelled,
    }
