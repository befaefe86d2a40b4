import argparse
import io
import sys

import pytest

from fangyi.cli import main
from fangyi.core.models import AuditEntry, User

pytestmark = pytest.mark.django_db


def test_createuser_reads_the_password_from_stdin_and_audits(monkeypatch, capsys):
    from tests.conftest import node

    station = node("五里亭派出所")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-strong-passphrase-2020\n"))
    assert (
        main(
            [
                "createuser",
                "newofficer",
                "--role",
                "police",
                "--node",
                str(station.pk),
                "--password-stdin",
            ]
        )
        == 0
    )
    user = User.objects.get(username="newofficer")
    assert user.check_password("a-strong-passphrase-2020")
    assert list(user.nodes.all()) == [station]
    assert AuditEntry.objects.filter(action="fangyi.user.created", object_id=user.pk).exists()


def test_createuser_refuses_a_weak_password_and_says_why(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("123\n"))
    assert main(["createuser", "weak", "--role", "admin", "--node", "1", "--password-stdin"]) == 1
    assert "password" in capsys.readouterr().err
    assert not User.objects.filter(username="weak").exists()


def test_otp_code_prints_six_digits_for_a_demo_supervisor(capsys):
    assert main(["otp-code", "suozhang"]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    assert main(["otp-code", "xuhongxin"]) == 1


def test_the_demo_loads_only_into_an_empty_database(capsys):
    assert main(["demo", "--if-empty"]) == 0
    assert "not loaded again" in capsys.readouterr().out
    assert main(["demo"]) == 1


def test_the_worker_runs_the_daily_rounds_and_retries_after_a_failure(monkeypatch):
    import threading

    from django.utils import timezone

    from fangyi import cli
    from fangyi.observation import services

    stop = threading.Event()
    calls = []

    def fake(day):
        calls.append(day)
        if len(calls) == 1:
            raise RuntimeError("database away")
        stop.set()
        return {"generated": 0}

    monkeypatch.setattr(services, "daily_rounds", fake)
    cli._daily_loop(stop, interval=0.01)
    assert calls == [timezone.localdate(), timezone.localdate()]


def test_serve_refuses_to_start_without_a_public_url_in_production(settings, capsys, monkeypatch):
    """Issue 12, item 5: the links of notices would carry whatever host was browsed."""
    import gunicorn.app.wsgiapp

    from fangyi import cli

    started = []
    monkeypatch.setattr(gunicorn.app.wsgiapp, "run", lambda: started.append(True))
    settings.PUBLIC_URL, settings.DEBUG = "", False
    args = argparse.Namespace(port=8000, host="127.0.0.1", workers=1, threads=1, access_log=False)
    assert cli.cmd_serve(args) == 2
    assert "FANGYI_PUBLIC_URL" in capsys.readouterr().err and not started
    assert cli.cmd_serve(args, demo=True) == 0 and started == [True]  # fangyi run: the demo
    settings.PUBLIC_URL = "https://fangyi.example.cn"
    assert cli.cmd_serve(args) == 0 and started == [True, True]


@pytest.mark.parametrize("value", ["fangyi.example.cn", "https://x.cn/path", "ftp://x.cn"])
def test_a_malformed_public_url_is_refused_at_start_up(monkeypatch, value):
    from django.core.exceptions import ImproperlyConfigured

    from fangyi import settings as fangyi_settings

    monkeypatch.setenv("FANGYI_PUBLIC_URL", value)
    with pytest.raises(ImproperlyConfigured):
        fangyi_settings._public_url()
    monkeypatch.setenv("FANGYI_PUBLIC_URL", "https://fangyi.example.cn/")
    assert fangyi_settings._public_url() == "https://fangyi.example.cn"
