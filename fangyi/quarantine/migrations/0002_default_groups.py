"""The default groups a site can take. Names in Chinese, codes as English slugs;
administrators change them at /sites/groups/."""

from django.db import migrations

GROUPS = [
    ("hubei", "湖北来邕人员", "从湖北（含武汉）来邕或返邕人员"),
    ("risk_area", "其他风险地区来邕人员", "从其他中高风险地区来邕或返邕人员"),
    ("close_contact", "密切接触者", "确诊或疑似病例的密切接触者"),
    ("inbound", "境外入境人员", "从境外入境人员"),
]


def forwards(apps, schema_editor):
    Group = apps.get_model("quarantine", "Group")
    for order, (code, name, description) in enumerate(GROUPS, start=1):
        Group.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "order": order * 10}
        )


def backwards(apps, schema_editor):
    apps.get_model("quarantine", "Group").objects.filter(code__in=[g[0] for g in GROUPS]).delete()


class Migration(migrations.Migration):
    dependencies = [("quarantine", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
