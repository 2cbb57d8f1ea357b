from django.db import migrations

CATEGORIES = [
    ("Service outage", "The service is down or unreachable for your subscribers."),
    ("Filtering and blocking", "Sites blocked or allowed wrongly, categories, safe search."),
    ("Accounts and profiles", "Subscriber accounts, profiles, parental settings."),
    ("Integration and provisioning", "APIs, RADIUS, DNS, provisioning of your network."),
    ("Reports and analytics", "Reports, dashboards and exported data."),
    ("Billing and licensing", "Invoices, licences and subscriber counts."),
    ("General question", "Anything else: advice, information, feature questions."),
]


def seed(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    for position, (name, description) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            name=name, defaults={"description": description, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
