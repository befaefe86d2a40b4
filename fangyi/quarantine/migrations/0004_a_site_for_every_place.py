from django.db import migrations


def make_sites(apps, schema_editor):
    """Every quarantine point and designated hotel saved before sites were made with the place
    gets its Site now (see fangyi/quarantine/signals.py)."""
    from fangyi.people.models import END_PLACE_KINDS

    Place = apps.get_model("people", "Place")
    Site = apps.get_model("quarantine", "Site")
    have = set(Site.objects.values_list("place_id", flat=True))
    Site.objects.bulk_create(
        [
            Site(place_id=p.pk, node_id=p.node_id)
            for p in Place.objects.filter(kind__in=list(END_PLACE_KINDS)).only("pk", "node_id")
            if p.pk not in have
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("quarantine", "0003_one_placement_per_person"),
        ("people", "0004_person_name_given"),
    ]

    operations = [migrations.RunPython(make_sites, migrations.RunPython.noop)]
