"""Headless Chromium against pytest-django's live server.

The live server needs `transactional_db`, which empties every table after each test, so a
browser test starts with `demo_city`: it builds the demo city again when it is gone.
(pytest-django runs transactional tests after the others, so the flush does not touch them.)

Playwright's sync API keeps an asyncio loop running in the test's thread, and Django refuses
ORM calls from a thread with a running loop; DJANGO_ALLOW_ASYNC_UNSAFE lifts that check, for the
browser tests only (monkeypatch restores it afterwards).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 360, "height": 740}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def async_unsafe_ok(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def demo_city(async_unsafe_ok, transactional_db):
    from fangyi.core.models import Node
    from fangyi.demo import build_demo

    if not Node.objects.exists():
        build_demo()


@pytest.fixture
def browser(async_unsafe_ok):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _phone_page(browser, base_url):
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=base_url,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    return context, page


@pytest.fixture
def phone_page(browser, live_server, demo_city):
    """A page on a 360x740 phone screen, honouring the page's viewport meta like a phone."""
    context, page = _phone_page(browser, live_server.url)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def shot():
    """shot(page, "01-login"): a full-page PNG into screenshots/ at the project root."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
