"""Many rows into one table with one prepared INSERT, for the registry's bulk path.

Django's bulk_create builds a model instance per row and compiles every value through the SQL
compiler: measured at about 400 µs a person on the benchmark city, more than ten times the
database's own insert. Here the caller hands plain values (already validated by the services)
and each column gets its database adapter once; the statement runs with the DB-API
`executemany`. Rows still go through the same transaction, constraints and indexes.

On PostgreSQL the rows go through `COPY ... FROM STDIN` instead: Django's psycopg 3 cursor
binds client-side, so `executemany` sends (pipelined) one INSERT text per row that the server
parses and plans each time; measured on declarations_store at 100,000 rows, that was most of
the server's time and about half of ours. COPY fills the same columns in the same
transaction, with the same defaults, constraints, indexes and triggers. A value may come
already encoded as text (JSON, see health's bulk path): COPY's text format hands it to the
column's input function, as an INSERT literal would be.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

_PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def _adapter(field: models.Field, conn) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind in _PLAIN:
        return None
    if kind == "UUIDField" and conn.vendor != "postgresql":
        return lambda value: value.hex if value is not None else None
    if kind in ("DateField", "DateTimeField"):
        # Rows of one batch share timestamps and many birth dates: adapt each value once.
        memo: dict[Any, Any] = {}

        def adapt(value, f=field):
            if value not in memo:
                memo[value] = f.get_db_prep_save(value, conn)
            return memo[value]

        return adapt
    return lambda value, f=field: f.get_db_prep_save(value, conn)


def insert_many(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT `rows` (tuples in the order of `fields`, foreign keys as ids) into `model`'s table.

    Call it inside the caller's transaction; it returns nothing, so callers that need the new
    ids read them back by a unique key (our rows carry a client id)."""
    if not rows:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    opts = model._meta
    cols = [opts.get_field(f) for f in fields]
    qn = conn.ops.quote_name
    # Table and column names come from the model's own metadata, quoted; values are parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        qn(opts.db_table),
        ", ".join(qn(c.column) for c in cols),
        ", ".join(["%s"] * len(cols)),
    )
    adapters = [(i, a) for i, c in enumerate(cols) if (a := _adapter(c, conn)) is not None]
    if adapters:
        prepared = []
        for row in rows:
            row = list(row)
            for i, adapt in adapters:
                row[i] = adapt(row[i])
            prepared.append(row)
    else:
        prepared = list(rows)
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql" and hasattr(cursor.cursor, "copy"):  # psycopg 3
            _copy(conn, cursor, qn(opts.db_table), [qn(c.column) for c in cols], prepared)
        else:
            cursor.executemany(sql, prepared)


def _copy(conn, cursor, table: str, columns: list[str], rows: Sequence[Sequence[Any]]) -> None:
    """COPY `rows` into `table` through the psycopg cursor under Django's wrapper; errors
    come out as Django's (IntegrityError...) like those of an INSERT, and the statement is
    logged like one when queries are (tests that count queries see one per batch)."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    start = time.monotonic()
    with conn.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        write = copy.write_row
        for row in rows:
            write(row)
    if conn.queries_logged:
        conn.queries_log.append(
            {"sql": f"{sql} -- {len(rows)} rows", "time": f"{time.monotonic() - start:.3f}"}
        )
