"""The seed's response targets: Standard and Premium, first response per priority."""

from django.db import migrations

HOURS = {
    # plan: (High, Medium, Low, Question) in hours
    "Standard": (2, 8, 72, 96),
    "Premium": (1, 4, 48, 72),
}


def seed(apps, schema_editor):
    Plan = apps.get_model("sla", "Plan")
    Target = apps.get_model("sla", "Target")
    for name, hours in HOURS.items():
        plan, created = Plan.objects.get_or_create(
            name=name, defaults={"is_default": name == "Standard"}
        )
        if not created:
            continue
        for priority, h in zip((1, 2, 3, 4), hours, strict=True):
            Target.objects.create(plan=plan, priority=priority, first_response_minutes=h * 60)


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
