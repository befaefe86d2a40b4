"""The REST API of the outbox's delivery log, for administrators (action "delivery.view"):
the messages with their statuses, attempts and the gateway's answers (numbers masked, texts
only of messages to residents), and the retry of a message given up."""

# No `from __future__ import annotations`: django-ninja resolves the Literal filters of a
# paginated operation from real annotations.
import datetime as dt
import uuid
from typing import Literal

from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core.api import ERRORS

from . import delivery
from . import selectors_delivery as selectors
from .models import Channel, MessageStatus

router = Router(tags=["delivery"])

STATUSES = tuple(MessageStatus.values)
CHANNELS = tuple(Channel.values)


class DeliveryOut(Schema):
    id: int
    key: uuid.UUID = Field(..., description="The idempotency key the gateway is told.")
    channel: str = Field(..., examples=["sms"])
    kind: str
    to: str = Field(..., description="Masked.", examples=["138****5678"])
    recipient_id: int | None = Field(None, description="Staff; none for a resident.")
    urgent: bool
    status: str = Field(..., examples=["given_up"])
    attempts: int
    not_before: dt.datetime
    created_at: dt.datetime
    sent_at: dt.datetime | None
    answer: str = Field(..., description="The gateway's answer, or why it was given up.")
    text: str | None = Field(None, description="Only of a message to a resident.")

    @staticmethod
    def resolve_to(obj) -> str:
        return selectors.shown_to(obj)

    @staticmethod
    def resolve_text(obj) -> str | None:
        return selectors.shown_text(obj)


class DeliveryFilter(Schema):
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    channel: Literal[CHANNELS] | None = None  # type: ignore[valid-type]
    kind: str = Field("", max_length=40)
    failures_first: bool = Field(False, description="Given up and failed ones first.")


@router.get("/deliveries", response={200: list[DeliveryOut], **ERRORS})
@paginate(LimitOffsetPagination)
def delivery_list(request, filters: Query[DeliveryFilter]):
    """The outbox, newest first (failures first when asked)."""
    return selectors.message_list(
        request.user,
        status=filters.status or "",
        channel=filters.channel or "",
        kind=filters.kind,
        failures_first=filters.failures_first,
    )


@router.get("/deliveries/{message_id}", response={200: DeliveryOut, **ERRORS})
def delivery_get(request, message_id: int):
    return selectors.message_get(request.user, message_id)


@router.post("/deliveries/{message_id}/retry", response={200: DeliveryOut, **ERRORS})
def delivery_retry(request, message_id: int):
    """Queue a message given up once more, same key, attempts from zero (409 otherwise)."""
    message = selectors.message_get(request.user, message_id)
    delivery.message_retry(request.user, message)
    return selectors.message_get(request.user, message_id)
