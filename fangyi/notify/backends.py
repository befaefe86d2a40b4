"""How a message of the outbox leaves: the SMS backends (console, file, http) chosen by
FANGYI_SMS_BACKEND, and e-mail through Django's EMAIL_BACKEND.

A backend does one thing: try to hand one message over, and say how it went. It never writes
to the database (the delivery loop does, in its own thread), so it may run in a pool of threads.
The outcome is one of three:

* sent: the gateway took it; its answer (the body, an id) is kept;
* retry: it may go through later (a 5xx, 429, a timeout, a gateway unreachable);
* permanent: it never will (a 4xx: an invalid number, a refused template).

The http backend sends the message's `key` (Idempotency-Key header and in the body): a retry
after a timeout, or after a worker died mid-send, is the same message to the gateway, which
delivers it once (docs/notifications.md, "The gateway's HTTP contract").
"""

from __future__ import annotations

import json
import smtplib
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from .models import Channel, Message

SENT: Literal["sent"] = "sent"
RETRY: Literal["retry"] = "retry"
PERMANENT: Literal["permanent"] = "permanent"


@dataclass(frozen=True)
class Outcome:
    status: Literal["sent", "retry", "permanent"]
    answer: str = ""

    @property
    def sent(self) -> bool:
        return self.status == SENT


class Backend(Protocol):
    def send(self, message: Message) -> Outcome: ...


def _payload(message: Message) -> dict:
    """What a gateway (or the file) is told about one SMS."""
    data: dict = {
        "key": str(message.key),
        "to": message.to,
        "text": message.text,
        "kind": message.kind,
    }
    template = settings.FANGYI_SMS_TEMPLATES.get(message.kind)
    if template:
        data["template"] = template
        data["params"] = message.params
    return data


class ConsoleBackend:
    """Development: the message on standard output."""

    def send(self, message: Message) -> Outcome:
        print(f"SMS {message.key} to {message.to}: {message.text}", file=sys.stdout, flush=True)
        return Outcome(SENT, "console")


class FileBackend:
    """Development and tests: one JSON line per message in DATA_DIR/sms/YYYY-MM-DD.jsonl."""

    _lock = threading.Lock()

    def send(self, message: Message) -> Outcome:
        folder = settings.DATA_DIR / "sms"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{timezone.localdate():%Y-%m-%d}.jsonl"
        line = json.dumps(_payload(message), ensure_ascii=False)
        with self._lock, path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
        return Outcome(SENT, f"file {path.name}")


class HttpBackend:
    """The SMS gateway: POST JSON to FANGYI_SMS_URL with the key (Bearer FANGYI_SMS_KEY)."""

    def __init__(
        self, url: str | None = None, key: str | None = None, timeout: float | None = None
    ):
        self.url = url if url is not None else settings.FANGYI_SMS_URL
        self.key = key if key is not None else settings.FANGYI_SMS_KEY
        self.timeout = timeout if timeout is not None else settings.FANGYI_SMS_TIMEOUT

    def send(self, message: Message) -> Outcome:
        if not self.url.startswith(("http://", "https://")):
            return Outcome(RETRY, "FANGYI_SMS_URL is not set to an http(s) address")
        body = json.dumps(_payload(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self.key}",
                "Idempotency-Key": str(message.key),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = response.read(2000).decode("utf-8", "replace")
                return Outcome(SENT, f"{response.status} {answer}".strip()[:2000])
        except urllib.error.HTTPError as exc:
            text = exc.read(500).decode("utf-8", "replace") if exc.fp else ""
            answer = f"{exc.code} {text}".strip()[:2000]
            if exc.code >= 500 or exc.code in (408, 429):
                return Outcome(RETRY, answer)
            return Outcome(PERMANENT, answer)
        except TimeoutError:
            return Outcome(RETRY, f"timeout after {self.timeout:g} s")
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                return Outcome(RETRY, f"timeout after {self.timeout:g} s")
            return Outcome(RETRY, f"unreachable: {reason}"[:2000])
        except (OSError, ValueError) as exc:  # a reset connection, a broken answer
            return Outcome(RETRY, f"unreachable: {exc}"[:2000])


SMS_BACKENDS: dict[str, type] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "http": HttpBackend,
}


class EmailBackend:
    """E-mail through Django's EMAIL_BACKEND; the key goes in a header for tracing."""

    def send(self, message: Message) -> Outcome:
        mail = EmailMessage(
            subject=message.subject or message.text[:80],
            body=message.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"X-Fangyi-Key": str(message.key)},
        )
        try:
            sent = mail.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome(PERMANENT, f"refused: {exc}"[:2000])
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome(RETRY, f"{type(exc).__name__}: {exc}"[:2000])
        return Outcome(SENT, "accepted") if sent else Outcome(RETRY, "not accepted")


def sms_backend(name: str | None = None) -> Backend:
    """The SMS backend FANGYI_SMS_BACKEND names; an unknown name is a configuration error."""
    name = name or settings.FANGYI_SMS_BACKEND
    try:
        return SMS_BACKENDS[name]()
    except KeyError:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            f"FANGYI_SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}, got {name!r}"
        ) from None


def backend_for(channel: str) -> Backend:
    return EmailBackend() if channel == Channel.EMAIL else sms_backend()
