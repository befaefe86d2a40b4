"""The database's own speed: the rows a benchmark stored through the services, inserted again
into a scratch copy of their table (same columns, indexes, unique and foreign keys) as fast as
the driver goes: one executemany on SQLite, COPY on PostgreSQL. One transaction; the rows are
read back in chunks (untimed, so memory stays flat), each chunk's insert and the commit timed.
"""

from __future__ import annotations

import datetime as dt
import re
import time

from django.db import connection, models, transaction


def _columns(model: type[models.Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if not f.primary_key]


def _scratch_table(table: str, scratch: str) -> None:
    """A copy of `table`'s schema: columns, indexes, unique and foreign keys."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {scratch}")
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT type, sql FROM sqlite_master WHERE tbl_name = %s "
                "AND sql IS NOT NULL ORDER BY type DESC",
                [table],
            )
            for kind, sql in cursor.fetchall():
                if kind == "table":
                    sql = re.sub(rf'^CREATE TABLE "{table}"', f'CREATE TABLE "{scratch}"', sql)
                else:
                    sql = re.sub(
                        rf'INDEX "([^"]+)" ON "{table}"', rf'INDEX "raw_\1" ON "{scratch}"', sql
                    )
                cursor.execute(sql)
        else:
            cursor.execute(f"CREATE TABLE {scratch} (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f'ALTER TABLE {scratch} ADD CONSTRAINT "raw_{name}" {definition}')


def _stored_rows(table: str, columns: list[str], after: int, limit: int) -> tuple[list[tuple], int]:
    """The next `limit` stored rows (by id), ready to insert again, and the last id read."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > %s ORDER BY id LIMIT %s",
            [after, limit],
        )
        rows = cursor.fetchall()
    if not rows:
        return [], after
    last = rows[-1][0]
    if connection.vendor == "sqlite":
        # Back to the text SQLite stores (Django's converters parsed dates on the way out).
        return [tuple(str(v) if isinstance(v, dt.date) else v for v in r[1:]) for r in rows], last
    from psycopg.types.json import Jsonb

    return [tuple(Jsonb(v) if isinstance(v, dict | list) else v for v in r[1:]) for r in rows], last


def _insert(scratch: str, columns: list[str], rows: list[tuple]) -> None:
    names = ", ".join(columns)
    if connection.vendor == "sqlite":
        marks = ", ".join("?" * len(columns))
        raw = connection.connection.cursor()  # the sqlite3 cursor itself
        raw.executemany(f"INSERT INTO {scratch} ({names}) VALUES ({marks})", rows)
        raw.close()
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            pg = cursor.cursor  # the psycopg 3 cursor itself
            with pg.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {scratch} ({names}) VALUES ({marks})", rows)


def raw_insert_seconds(
    model: type[models.Model], scratch: str, chunk: int = 20_000
) -> tuple[int, float, float]:
    """Insert every stored row of `model` again into the scratch table `scratch`. Returns the
    row count, the wall-clock seconds and this process's CPU seconds (on SQLite the
    database's work is in them)."""
    table = model._meta.db_table
    columns = _columns(model)
    _scratch_table(table, scratch)
    count, seconds, cpu, last = 0, 0.0, 0.0, 0
    with transaction.atomic():
        while True:
            rows, last = _stored_rows(table, columns, last, chunk)
            if not rows:
                break
            t0, c0 = time.perf_counter(), time.process_time()
            _insert(scratch, columns, rows)
            seconds += time.perf_counter() - t0
            cpu += time.process_time() - c0
            count += len(rows)
        t0, c0 = time.perf_counter(), time.process_time()
    seconds += time.perf_counter() - t0  # the commit
    cpu += time.process_time() - c0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {scratch}")
        (stored,) = cursor.fetchone()
        if stored != count:
            raise RuntimeError(f"raw insert stored {stored} of {count} rows")
        cursor.execute(f"DROP TABLE {scratch}")
    return count, seconds, cpu
