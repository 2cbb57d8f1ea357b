from django.db import migrations

LEVELS = [
    (1, "Support Engineer"),
    (2, "Senior Support Engineer"),
    (3, "Support Manager"),
    (4, "Head of Support"),
]


def seed(apps, schema_editor):
    Level = apps.get_model("escalation", "Level")
    for number, name in LEVELS:
        Level.objects.get_or_create(number=number, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("escalation", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
