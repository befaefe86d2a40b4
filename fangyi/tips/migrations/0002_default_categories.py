"""The default tip categories, their questions and their routing. Names in Chinese, codes as
English slugs; administrators change them at /tips/categories/."""

from django.db import migrations

YES_NO = "yes_no"
CATEGORIES = [
    # code, name, description, questions, route roles, urgent, minutes on scene, duplicate hours
    (
        "gathering",
        "聚集、聚餐",
        "打牌、聚餐、喝酒等人员聚集",
        [
            {"code": "people", "label": "大约多少人", "type": "number", "required": False},
            {"code": "masks", "label": "是否戴口罩", "type": YES_NO, "required": False},
            {"code": "ongoing", "label": "现在是否还在进行", "type": YES_NO, "required": False},
        ],
        ["police", "community_staff"],
        True,
        15,
        6,
    ),
    (
        "no_mask",
        "不戴口罩",
        "公共场所不戴口罩",
        [{"code": "place", "label": "在什么地方", "type": "text", "required": False}],
        ["grid_worker", "community_staff"],
        False,
        60,
        12,
    ),
    (
        "poultry",
        "散养家禽",
        "鸡鸭鹅等家禽在公共区域散养",
        [
            {
                "code": "kind",
                "label": "什么家禽",
                "type": "choice",
                "choices": ["鸡", "鸭", "鹅", "其他"],
                "required": False,
            }
        ],
        ["community_staff", "police"],
        False,
        240,
        72,
    ),
    (
        "risk_return",
        "疫区返回人员",
        "有人从疫区返回未登记",
        [
            {"code": "from", "label": "从哪里返回", "type": "text", "required": False},
            {"code": "when", "label": "什么时候返回", "type": "text", "required": False},
        ],
        ["grid_worker", "health_staff"],
        False,
        120,
        48,
    ),
    (
        "refusing_quarantine",
        "拒不隔离",
        "应隔离的住户拒不配合",
        [],
        ["police", "health_staff"],
        True,
        30,
        24,
    ),
    ("other", "其他", "其他防疫问题", [], ["grid_worker"], False, 240, 24),
]


def forwards(apps, schema_editor):
    TipCategory = apps.get_model("tips", "TipCategory")
    for order, row in enumerate(CATEGORIES, start=1):
        code, name, description, questions, roles, urgent, minutes, hours = row
        TipCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": description,
                "questions": questions,
                "route_roles": roles,
                "urgent": urgent,
                "response_minutes": minutes,
                "duplicate_hours": hours,
                "order": order * 10,
            },
        )


def backwards(apps, schema_editor):
    TipCategory = apps.get_model("tips", "TipCategory")
    TipCategory.objects.filter(code__in=[row[0] for row in CATEGORIES], tips=None).delete()


class Migration(migrations.Migration):
    dependencies = [("tips", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
