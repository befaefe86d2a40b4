"""Two national laws every record may cite. Local public notices (a district bureau's notice on
gatherings, for instance) are added by administrators at /enforcement/bases/."""

from django.db import migrations

BASES = [
    (
        "《中华人民共和国传染病防治法》",
        "全国人民代表大会常务委员会",
        "第三十九条、第七十七条",
        "拒绝隔离治疗或者隔离期未满擅自脱离隔离治疗的，可以由公安机关协助医疗机构采取强制隔离治疗措施。",
    ),
    (
        "《中华人民共和国治安管理处罚法》",
        "全国人民代表大会常务委员会",
        "第五十条",
        "拒不执行人民政府在紧急状态情况下依法发布的决定、命令的，处警告或者二百元以下罚款；"
        "情节严重的，处五日以上十日以下拘留，可以并处五百元以下罚款。",
    ),
]


def forwards(apps, schema_editor):
    LegalBasis = apps.get_model("enforcement", "LegalBasis")
    for order, (title, issuer, reference, summary) in enumerate(BASES, start=1):
        LegalBasis.objects.get_or_create(
            title=title,
            reference=reference,
            defaults={"issuer": issuer, "summary": summary, "order": order * 10},
        )


def backwards(apps, schema_editor):
    LegalBasis = apps.get_model("enforcement", "LegalBasis")
    LegalBasis.objects.filter(title__in=[b[0] for b in BASES]).delete()


class Migration(migrations.Migration):
    dependencies = [("enforcement", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
