"""TermsToken and the triggers that replace its token whenever the SLA terms change
(casedesk.sla.terms caches plans, targets and calendars under it)."""

import secrets

from django.db import migrations, models

# Every table a case's terms are read from.
WATCHED = ("Plan", "Target", "Calendar", "WeeklyHours", "Holiday")
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def _tables(apps):
    return [apps.get_model("sla", name)._meta.db_table for name in WATCHED]


def create_triggers(apps, schema_editor):
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    token = apps.get_model("sla", "TermsToken")
    token.objects.using(connection.alias).update_or_create(
        pk=1, defaults={"token": secrets.token_hex(16)}
    )
    table = qn(token._meta.db_table)
    if connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION sla_terms_changed() RETURNS trigger AS $$ BEGIN "
            f"INSERT INTO {table} (id, token) "
            "VALUES (1, md5(random()::text || clock_timestamp()::text)) "
            "ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token; "
            "RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for watched in _tables(apps):
            schema_editor.execute(
                f"CREATE TRIGGER {watched}_terms_changed AFTER INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {qn(watched)} FOR EACH STATEMENT "
                "EXECUTE FUNCTION sla_terms_changed()"
            )
    elif connection.vendor == "sqlite":
        for watched in _tables(apps):
            for operation in OPERATIONS:
                schema_editor.execute(
                    f"CREATE TRIGGER {watched}_terms_{operation.lower()} AFTER {operation} "
                    f"ON {qn(watched)} BEGIN INSERT INTO {table} (id, token) "
                    "VALUES (1, lower(hex(randomblob(16)))) "
                    "ON CONFLICT (id) DO UPDATE SET token = excluded.token; END"
                )
    else:
        # No triggers on other databases: without its token row, nothing is cached.
        token.objects.using(connection.alias).all().delete()


def drop_triggers(apps, schema_editor):
    connection = schema_editor.connection
    qn = connection.ops.quote_name
    if connection.vendor == "postgresql":
        for watched in _tables(apps):
            schema_editor.execute(
                f"DROP TRIGGER IF EXISTS {watched}_terms_changed ON {qn(watched)}"
            )
        schema_editor.execute("DROP FUNCTION IF EXISTS sla_terms_changed()")
    elif connection.vendor == "sqlite":
        for watched in _tables(apps):
            for operation in OPERATIONS:
                schema_editor.execute(
                    f"DROP TRIGGER IF EXISTS {watched}_terms_{operation.lower()}"
                )


class Migration(migrations.Migration):

    dependencies = [
        ('sla', '0006_report_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='TermsToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('token', models.CharField(max_length=64)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
