"""PostgreSQL: fill observation pages only half, so that the daily updates of missed_streak
and escalated (no index covers them) are HOT updates.

followups_mark_missed grows the streak of every observation with a follow-up missed. On pages
filled to the brim, PostgreSQL writes each new row version to another page and adds an entry
to every one of the table's thirteen indexes. Measured at 100,000 observations (bench
followups_generate, mark_missed_seconds, EXPLAIN ANALYZE of the streaks' UPDATE): about 4.6 s
and 1.5 million WAL records at fillfactor 100; 80 left room for too few new versions (1.2
million records, barely faster); at 50 all 100,000 updates were HOT (0.1 million records,
about 1 s). A row is about 110 bytes and every active observation is updated each day, so
half a page is what one day's new versions need; the table is small (21 MB at 100,000).
The setting applies to pages written from now on (a VACUUM FULL would rewrite the old ones).
SQLite has no such setting: nothing to do there.
"""

from django.db import migrations


def fillfactor(value: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(
            apps.get_model("observation", "Observation")._meta.db_table
        )
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")

    return apply


class Migration(migrations.Migration):
    dependencies = [("observation", "0002_followup_bulk_insert")]

    operations = [migrations.RunPython(fillfactor(50), fillfactor(100))]
