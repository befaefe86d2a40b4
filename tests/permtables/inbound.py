"""Permission-table rows for inbound (see tests/permtables/__init__.py for what a row is).

POST /api/inbound/sms is the SMS gateway's callback: a machine endpoint authenticated by the
shared key FANGYI_SMS_INBOUND_KEY in the X-Fangyi-Key header, not by a session or a personal
token (like Open311's api_key, but no account acts). The table logs in as each role and sends no
key, so every role and the anonymous caller are refused alike: 401 when a key is configured,
503 when none is (the endpoint is then closed, never open). Nothing is stored either way.
tests/test_notify_inbound_api.py exercises the key itself."""

from __future__ import annotations

from django.conf import settings

from tests.permtables import ANY, PUBLIC, Endpoint  # noqa: F401

REFS: dict = {}
PAGES: list[Endpoint] = []

_REFUSED = 401 if getattr(settings, "FANGYI_SMS_INBOUND_KEY", "") else 503
_BODY = {"from": "13977112233", "text": "TD", "message_id": "permtable-1"}

API: list[Endpoint] = [
    Endpoint("POST", "/api/inbound/sms", PUBLIC, ok=_REFUSED, anon=_REFUSED, body=_BODY),
]
