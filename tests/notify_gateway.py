"""A fake SMS gateway on loopback, for the delivery tests and the notify_burst benchmark.

It speaks the contract of fangyi.notify.backends.HttpBackend (docs/notifications.md): POST
JSON {key, to, text, kind[, template, params]} with `Authorization: Bearer <key>` and an
`Idempotency-Key` header. Like a real gateway it delivers each key once: a repeat of a key it
has delivered answers 200 with "duplicate": true and sends nothing more.

Faults on purpose, by the order of arrival (1, 2, 3, ...):

* `fail_every=3`: every third request answers 500 and delivers nothing;
* `slow_every=3, slow_seconds=s`: the first of every three waits `s` seconds (beyond the
  client's timeout) before it answers, *having delivered* the message, as a real gateway that
  is slow does; the client sees a timeout and retries with the same key;
* a number in `reject` answers 400 (an invalid number): nothing to retry.

`delivered` maps each key to how many times it reached a phone (1, or the test fails),
`received` lists every key in order of arrival.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeGateway:
    def __init__(
        self,
        *,
        fail_every: int = 0,
        slow_every: int = 0,
        slow_seconds: float = 0.0,
        reject: tuple[str, ...] = (),
        key: str = "",
        status: int | None = None,
    ):
        self.fail_every = fail_every
        self.slow_every = slow_every
        self.slow_seconds = slow_seconds
        self.reject = set(reject)
        self.key = key
        self.status = status  # every request answers this (500: a gateway down)
        self.lock = threading.Lock()
        self.requests = 0
        self.received: list[str] = []
        self.delivered: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.slowed: set[str] = set()
        self.payloads: dict[str, dict] = {}
        self.headers: list[dict[str, str]] = []
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # --- what a test asserts ----------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/sms"

    @property
    def doubled(self) -> int:
        """Messages that reached a phone more than once (the goal: 0)."""
        return sum(1 for n in self.delivered.values() if n > 1)

    @property
    def repeats(self) -> int:
        """Requests for a key already delivered (dropped here, as a real gateway does)."""
        return len(self.received) - len(set(self.received))

    # --- the server ---------------------------------------------------------------------------
    def start(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                gateway.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length)
        with self.lock:
            self.requests += 1
            n = self.requests
            self.headers.append(dict(request.headers))
        if self.key and request.headers.get("Authorization") != f"Bearer {self.key}":
            return self._answer(request, 401, {"error": "bad key"})
        try:
            data = json.loads(raw)
            key = str(data["key"])
        except (ValueError, KeyError, TypeError):
            return self._answer(request, 400, {"error": "bad request"})
        if request.headers.get("Idempotency-Key") not in (None, key):
            return self._answer(request, 400, {"error": "key mismatch"})
        if self.status is not None:
            return self._answer(request, self.status, {"error": "down"})
        if self.fail_every and n % self.fail_every == 0:
            return self._answer(request, 500, {"error": "internal error"})
        if data.get("to") in self.reject:
            return self._answer(request, 400, {"error": "invalid number"})
        with self.lock:
            self.received.append(key)
            duplicate = key in self.delivered
            if not duplicate:
                self.delivered[key] += 1
                self.payloads[key] = data
            # Every accepted post counts here, deduplicated or not: a key answered at once
            # (not slowed past the client's timeout) must never be posted again; that is
            # what "never twice" means on Fangyi's side, whatever the gateway hides.
            self.accepted[key] += 1
            slow = bool(self.slow_every and (n - 1) % self.slow_every == 0 and self.slow_seconds)
            if slow:
                self.slowed.add(key)
        if slow:
            time.sleep(self.slow_seconds)
        return self._answer(request, 200, {"id": f"gw-{key[:8]}", "duplicate": duplicate})

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout): it will retry with the same key
