"""The REST API of the caller's own inbox: his notifications (list, unread count, mark read)
and his notification preferences. Everyone logged in has an inbox; what it holds is scoped as
the page's is (fangyi.notify.selectors): only records the caller may still see."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from fangyi.core.api import ERRORS
from fangyi.core.errors import DomainError

from . import preferences, selectors
from .services import TemplateError, render

router = Router(tags=["notify"])


class NotifyItemOut(Schema):
    id: int
    kind: str
    text: str = Field(..., description="The message in the caller's language.")
    url: str = Field(..., description="The page of the record it is about.")
    object_type: str = Field(..., examples=["tips.Tip"])
    object_id: int
    urgent: bool
    created_at: dt.datetime
    read_at: dt.datetime | None
    unread: bool

    @staticmethod
    def resolve_text(obj) -> str:
        try:
            return render(obj.message, obj.params)
        except TemplateError:
            return obj.message

    @staticmethod
    def resolve_object_type(obj) -> str:
        return obj.object_label

    @staticmethod
    def resolve_unread(obj) -> bool:
        return obj.read_at is None


class NotifyCountOut(Schema):
    unread: int


class NotifyReadAllOut(Schema):
    marked: int = Field(..., description="How many unread notifications were marked read.")


class NotifyPreferenceIn(Schema):
    sms: bool = Field(True, description="SMS for urgent events (some roles must keep it).")
    email: bool = Field(False, description="E-mail for urgent events.")
    digest: bool = Field(True, description="A daily digest of the rest.")
    quiet_from: dt.time | None = Field(None, description="Local time, e.g. 22:00.")
    quiet_to: dt.time | None = Field(None, description="Local time, e.g. 07:00.")
    language: str = Field("zh-hans", description="Of SMS and e-mail: zh-hans, zh-hant or en.")


class NotifyPreferenceOut(NotifyPreferenceIn):
    sms_required_kinds: list[str] = Field(
        [], description="Kinds whose SMS the caller's role must get whatever he chooses."
    )


def _preference_out(user, pref) -> dict:
    return {
        **{name: getattr(pref, name) for name in preferences.FIELDS},
        "sms_required_kinds": [k.key for k in preferences.sms_required_kinds(user)],
    }


@router.get("/notifications", response={200: list[NotifyItemOut], **ERRORS})
@paginate(LimitOffsetPagination)
def notification_list(request, unread: bool | None = None, order: str = "newest"):
    """The caller's notifications about records he may still see, newest first (or unread
    first). `unread=true` keeps the unread ones, `unread=false` the read ones."""
    if order not in selectors.ORDERS:
        raise DomainError(_("Order by newest or unread."), field="order")
    return selectors.notification_list(request.user, unread=unread, order=order)


@router.get("/notifications/unread-count", response={200: NotifyCountOut, **ERRORS})
def notification_unread_count(request):
    """What the bell shows: how many are unread. It writes nothing."""
    return {"unread": selectors.unread_count(request.user)}


@router.post("/notifications/read-all", response={200: NotifyReadAllOut, **ERRORS})
def notification_read_all(request):
    """Mark every unread notification of the caller's read."""
    return {"marked": selectors.notification_read_all(request.user)}


@router.post("/notifications/{notification_id}/read", response={200: NotifyItemOut, **ERRORS})
def notification_read(request, notification_id: int):
    """Mark one notification read (again is harmless: the first time is kept). Another user's
    answers 404, as one that does not exist."""
    return selectors.notification_read(request.user, notification_id)


@router.get("/notifications/preferences", response={200: NotifyPreferenceOut, **ERRORS})
def notification_preferences(request):
    """The caller's channels, quiet hours and language (the defaults until he sets them)."""
    user = request.user
    return _preference_out(user, preferences.preference_get(user))


@router.put("/notifications/preferences", response={200: NotifyPreferenceOut, **ERRORS})
def notification_preferences_set(request, payload: NotifyPreferenceIn):
    """Set all of the caller's preferences. A role that must get urgent SMS cannot switch
    SMS off (400 naming `sms`); quiet hours take both ends or neither."""
    user = request.user
    pref = preferences.preference_update(
        actor=user,
        sms=payload.sms,
        email=payload.email,
        digest=payload.digest,
        quiet_from=payload.quiet_from,
        quiet_to=payload.quiet_to,
        language=payload.language,
    )
    return _preference_out(user, pref)
