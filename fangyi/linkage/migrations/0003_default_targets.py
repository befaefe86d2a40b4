"""The default response targets: 10 minutes when urgent, 30 when high, 120 otherwise.
Administrators change them at /support/targets/."""

from django.db import migrations

TARGETS = [("urgent", 10), ("high", 30), ("normal", 120)]


def forwards(apps, schema_editor):
    ResponseTarget = apps.get_model("linkage", "ResponseTarget")
    for urgency, minutes in TARGETS:
        ResponseTarget.objects.get_or_create(urgency=urgency, defaults={"minutes": minutes})


def backwards(apps, schema_editor):
    apps.get_model("linkage", "ResponseTarget").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("linkage", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
