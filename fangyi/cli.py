"""The `fangyi` command: serve, worker, demo, createuser, check, backup, and Django's own.

fangyi run          migrate, load the demo city into an empty database, serve, print logins
fangyi serve        serve with gunicorn (a production server, never runserver)
fangyi worker       run background tasks (django-tasks database backend) and the daily rounds
fangyi demo         load the demo city (only into an empty database)
fangyi createuser   create an account (the password is asked for, or read from stdin)
fangyi otp-code     print the current two-factor code of a demo account
fangyi backup FILE  copy the SQLite database safely while it is in use
fangyi check        Django's system checks
fangyi manage ...   any Django management command
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangyi.settings")
    import django

    django.setup()


def _manage(*args: str, **options) -> None:
    from django.core.management import call_command

    call_command(*args, **options)


def cmd_demo(args) -> int:
    from fangyi.core.models import Node
    from fangyi.demo import DEMO_PASSWORD, build_demo

    if Node.objects.exists():
        if args.if_empty:
            print("The database already holds data; the demo city is not loaded again.")
            return 0
        print(
            "The database is not empty: the demo city loads only into an empty one.",
            file=sys.stderr,
        )
        return 1
    logins = build_demo()
    from fangyi.demo import demo_counts

    counts = demo_counts()
    print(f"Demo city loaded: {counts['households']} households, {counts['persons']} persons.")
    if not args.quiet:
        _print_logins(logins, DEMO_PASSWORD)
    return 0


def _print_logins(logins, password) -> None:
    print(f"Demo logins (password for all: {password}):")
    for login in logins:
        extra = f"   2FA code: fangyi otp-code {login.username}" if login.otp else ""
        print(f"  {login.role:<16} {login.username:<12} {login.where}{extra}")


def _demo_logins_from_db():
    from fangyi.core.models import User
    from fangyi.core.services import otp_required
    from fangyi.demo import DemoLogin

    out = []
    for u in User.objects.filter(is_active=True).prefetch_related("nodes").select_related("place"):
        where = ", ".join(n.name for n in u.nodes.all()) or (u.place.name if u.place else "")
        out.append(DemoLogin(u.username, u.role, where, otp_required(u)))
    return out


def cmd_run(args) -> int:
    from django.contrib.auth import authenticate  # noqa: F401 - loads auth before serving

    from fangyi.demo import DEMO_PASSWORD

    _manage("migrate", "--no-input", verbosity=0)
    _manage("collectstatic", "--no-input", verbosity=0)
    args.if_empty, args.quiet = True, True
    cmd_demo(args)
    port = args.port or int(os.environ.get("PORT", "8000"))
    url = f"http://{args.host}:{port}/"
    print()
    print(f"Fangyi is serving the demo city at {url}")
    _print_logins(_demo_logins_from_db(), DEMO_PASSWORD)
    print("Stop with Ctrl-C.")
    sys.stdout.flush()
    if not args.no_worker:
        _start_worker()
    # The demo serves without FANGYI_PUBLIC_URL: its links take the host each request came to,
    # so a phone on the same network gets a link it can open (not the bind address).
    return cmd_serve(args, demo=True)


def _start_worker() -> None:
    """Background tasks (imports, the daily follow-ups) run in a second process beside the
    web server, stopped with it."""
    import atexit
    import subprocess

    worker = subprocess.Popen([sys.executable, "-m", "fangyi.cli", "worker"])  # noqa: S603

    def stop() -> None:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()

    atexit.register(stop)


def cmd_serve(args, demo: bool = False) -> int:
    from django.conf import settings
    from gunicorn.app.wsgiapp import run

    if not settings.PUBLIC_URL and not settings.DEBUG and not demo:
        print(
            "FANGYI_PUBLIC_URL is not set: the links on notices and sent to residents would "
            "carry whatever host a staff member browsed. Set it to the address the public "
            "reaches (e.g. https://fangyi.example.cn), or FANGYI_DEBUG=1 for a trial.",
            file=sys.stderr,
        )
        return 2

    port = args.port or int(os.environ.get("PORT", "8000"))
    sys.argv = [
        "gunicorn",
        "fangyi.wsgi:application",
        "--bind",
        f"{args.host}:{port}",
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--access-logfile",
        "-" if args.access_log else "/dev/null",
        "--timeout",
        "60",
    ]
    run()
    return 0


def _daily_loop(stop, interval: float = 60.0) -> None:
    """The daily rounds (missed follow-ups marked, today's generated) once on start and again
    whenever the local date changes. The job is idempotent, so a restart costs nothing."""
    import logging

    from django.db import close_old_connections
    from django.utils import timezone

    from fangyi.guests.services import guests_purge
    from fangyi.observation.services import daily_rounds

    log = logging.getLogger("fangyi.daily")
    done = None
    while not stop.is_set():
        today = timezone.localdate()
        if today != done:
            try:
                result = daily_rounds(today)
                log.info("daily rounds for %s: %s", today, result)
                print(f"Daily rounds for {today}: {result}", flush=True)
                done = today
                purged = guests_purge(today)  # hotel guests not flagged, past the retention
                log.info("guest reports purged for %s: %s", today, purged)
            except Exception:
                log.exception("daily rounds for %s failed; retrying in %ss", today, interval)
            finally:
                close_old_connections()
        stop.wait(interval)


def _support_loop(stop, interval: float = 60.0) -> None:
    """Overdue support requests (linkage) and duty shifts nobody took (patrols) escalated to
    the supervisors every minute, guest referrals checked, residents' self-report SMS queued
    (observation.reminders: once a person a day). Each job is idempotent; a failure
    is logged and the next round tries again."""
    import logging

    from django.db import close_old_connections
    from django.utils import timezone

    from fangyi.guests.services import guests_check
    from fangyi.linkage import services
    from fangyi.observation.reminders import reminders_due
    from fangyi.patrols.posts import shifts_escalate

    log = logging.getLogger("fangyi.linkage")
    while not stop.is_set():
        try:
            n = services.support_escalate_overdue()
            if n:
                log.info("escalated %d overdue support requests", n)
        except Exception:
            log.exception("escalating overdue support requests failed; retrying in %ss", interval)
        try:
            checked = guests_check(timezone.now())  # guest referrals arrived, or overdue
            if any(checked.values()):
                log.info("guest referrals: %s", checked)
        except Exception:
            log.exception("checking guest referrals failed; retrying in %ss", interval)
        try:
            unstaffed = shifts_escalate(timezone.now())  # duty shifts nobody took
            if unstaffed:
                log.info("escalated %d unstaffed duty shifts", unstaffed)
        except Exception:
            log.exception("escalating unstaffed shifts failed; retrying in %ss", interval)
        try:
            sent = reminders_due(timezone.now())  # residents' self-report SMS, once a day each
            if sent:
                log.info("queued %d self-report reminders", sent)
        except Exception:
            log.exception("queueing self-report reminders failed; retrying in %ss", interval)
        finally:
            close_old_connections()
        stop.wait(interval)


def _load_notification_kinds() -> None:
    """The kinds of notification register at import of each app's services module; the
    worker imports them all, so that the outbox can check who may still see a record."""
    import importlib

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("fangyi."):
            try:
                importlib.import_module(f"{config.name}.services")
            except ModuleNotFoundError:
                continue


def _delivery_loop(stop, interval: float = 10.0, busy: float = 1.0) -> None:
    """The outbox sent (SMS and e-mail, docs/notifications.md): every `busy` seconds while
    there is work, every `interval` when the last round found none; the daily digest checked
    each round (it goes once a day). Claims are leased, so a second worker or a restart
    never sends a message twice; a failure is logged and the next round tries again."""
    import logging

    from django.db import close_old_connections

    from fangyi.notify.delivery import deliver_due, digest_send

    log = logging.getLogger("fangyi.delivery")
    try:
        _load_notification_kinds()
    except Exception:
        log.exception("loading the notification kinds failed")
    while not stop.is_set():
        wait = interval
        try:
            counts = deliver_due()
            if counts["claimed"]:
                wait = busy
                log.info("outbox: %s", counts)
        except Exception:
            log.exception("delivering the outbox failed; retrying in %ss", interval)
        finally:
            close_old_connections()
        try:
            queued = digest_send()
            if queued:
                log.info("queued %d daily digests", queued)
        except Exception:
            log.exception("sending the daily digest failed; retrying in %ss", interval)
        finally:
            close_old_connections()
        stop.wait(wait)


def cmd_worker(args) -> int:
    import threading

    stop = threading.Event()
    daily = threading.Thread(target=_daily_loop, args=(stop,), name="daily-rounds", daemon=True)
    daily.start()
    support = threading.Thread(
        target=_support_loop, args=(stop,), name="support-escalation", daemon=True
    )
    support.start()
    outbox = threading.Thread(
        target=_delivery_loop, args=(stop,), name="notify-delivery", daemon=True
    )
    outbox.start()
    try:
        _manage("db_worker")
    finally:
        stop.set()
    return 0


def cmd_createuser(args) -> int:
    import getpass

    from fangyi.core.errors import DomainError
    from fangyi.core.models import Node
    from fangyi.core.services import user_create
    from fangyi.people.models import Place

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    nodes = list(Node.objects.filter(pk__in=args.node))
    place = Place.objects.filter(pk=args.place).first() if args.place else None
    try:
        user = user_create(
            actor=None,
            username=args.username,
            password=password,
            role=args.role,
            nodes=nodes,
            place=place,
        )
    except DomainError as exc:
        print(f"{exc.message} ({', '.join(exc.errors)})", file=sys.stderr)
        return 1
    print(f"Created {user.username} ({user.role}).")
    return 0


def cmd_otp_code(args) -> int:
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user__username=args.username, confirmed=True).first()
    if device is None:
        print(f"{args.username} has no two-factor device.", file=sys.stderr)
        return 1
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    print(f"{totp.token():0{device.digits}d}")
    return 0


def cmd_backup(args) -> int:
    import sqlite3

    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        print(
            "backup copies the embedded SQLite database; use pg_dump on PostgreSQL.",
            file=sys.stderr,
        )
        return 1
    src = sqlite3.connect(str(db["NAME"]))
    dst = sqlite3.connect(args.file)
    with dst:
        src.backup(dst)  # SQLite's online backup: consistent while the server writes
    dst.close()
    src.close()
    print(f"Backed up {db['NAME']} to {args.file}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        _setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["fangyi manage", *argv[1:]])
        return 0
    parser = argparse.ArgumentParser(
        prog="fangyi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("run", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=None)
        p.add_argument("--workers", type=int, default=int(os.environ.get("FANGYI_WORKERS", "2")))
        p.add_argument("--threads", type=int, default=int(os.environ.get("FANGYI_THREADS", "4")))
        p.add_argument("--access-log", action="store_true")
        if name == "run":
            p.add_argument(
                "--no-worker",
                action="store_true",
                help="do not start the background worker beside the server",
            )
    sub.add_parser("worker")
    p = sub.add_parser("demo")
    p.add_argument("--if-empty", action="store_true", help="do nothing when data exists")
    p.add_argument("--quiet", action="store_true", help="do not print the logins")
    p = sub.add_parser("createuser")
    p.add_argument("username")
    p.add_argument("--role", required=True)
    p.add_argument("--node", type=int, action="append", default=[], help="jurisdiction id")
    p.add_argument("--place", type=int, help="place id (hotel and site staff)")
    p.add_argument("--password-stdin", action="store_true")
    p = sub.add_parser("otp-code")
    p.add_argument("username")
    p = sub.add_parser("backup")
    p.add_argument("file")
    sub.add_parser("check")
    args = parser.parse_args(argv)
    _setup()
    if args.cmd == "check":
        _manage("check")
        return 0
    handlers: dict[str, Callable[..., int]] = {
        "run": cmd_run,
        "serve": cmd_serve,
        "worker": cmd_worker,
        "demo": cmd_demo,
        "createuser": cmd_createuser,
        "otp-code": cmd_otp_code,
        "backup": cmd_backup,
    }
    return handlers[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
