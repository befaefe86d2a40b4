"""The throwaway database every benchmark runs against, and the JSON line it prints."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """Set up Django on a database nobody else uses; yields the vendor ("sqlite", ...).

    Without DATABASE_URL: a fresh SQLite file in a temporary folder (the same settings, WAL
    and pragmas as a real deployment), migrated. With DATABASE_URL: Django's test database
    machinery creates fangyi_bench_<pid> on that server, migrates it and drops it at the end.
    The temporary folder also takes the secret key file, so nothing lands in ./data.
    """
    data_dir = tempfile.mkdtemp(prefix="fangyi-bench-")
    os.environ["FANGYI_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "fangyi.settings"
    os.environ.pop("FANGYI_TEST_DB", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    old_name = None
    try:
        if connection.vendor == "sqlite":
            call_command("migrate", verbosity=0, interactive=False)
        else:
            connection.settings_dict.setdefault("TEST", {})["NAME"] = f"fangyi_bench_{os.getpid()}"
            name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
            old_name = name  # created: drop it at the end
        yield connection.vendor
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        connection.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def emit(result: dict[str, Any]) -> None:
    """The benchmark's JSON line: always the last line on stdout."""
    sys.stdout.flush()
    print(json.dumps(result, ensure_ascii=False), flush=True)
