"""Trigram indexes so that the party search (`icontains` on several columns) stays on an index
on PostgreSQL with 100,000 parties. Django's icontains compares UPPER(column::text), so the
indexes are on that expression. Other databases get nothing: SQLite scans a table this size
fast enough (measured in bench/parties_list.py).
"""

from django.db import migrations

COLUMNS = ("name", "name_key", "email", "city", "siren", "siret", "postcode")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS party_{column}_trgm ON parties_party "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS party_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("parties", "0003_party_partial_identifier_indexes")]

    operations = [migrations.RunPython(create, drop)]
