"""The default symptom list and the one row of risk settings (observation 14 days, fever at
37.3 °C). Names in Chinese, codes as English slugs; administrators change them in /rules/."""

from django.db import migrations

SYMPTOMS = [
    ("fever", "发热"),
    ("dry_cough", "干咳"),
    ("fatigue", "乏力"),
    ("sore_throat", "咽痛"),
    ("shortness_of_breath", "气促"),
    ("diarrhoea", "腹泻"),
    ("loss_of_smell_or_taste", "嗅觉味觉减退"),
    ("muscle_aches", "肌肉酸痛"),
]


def forwards(apps, schema_editor):
    Symptom = apps.get_model("health", "Symptom")
    RiskSettings = apps.get_model("health", "RiskSettings")
    for order, (code, name) in enumerate(SYMPTOMS, start=1):
        Symptom.objects.get_or_create(code=code, defaults={"name": name, "order": order * 10})
    if not RiskSettings.objects.exists():
        RiskSettings.objects.create()


def backwards(apps, schema_editor):
    Symptom = apps.get_model("health", "Symptom")
    Symptom.objects.filter(code__in=[code for code, _name in SYMPTOMS]).delete()


class Migration(migrations.Migration):
    dependencies = [("health", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
