"""Trigram indexes for the opportunity search (``opportunity_search_q``): a customer or contact
name containing a word, in any case (``UPPER(name) LIKE UPPER('%word%')``, Django's
``icontains`` on PostgreSQL). PostgreSQL only: elsewhere (SQLite) this migration does nothing."""

from django.db import migrations

INDEXES = {
    "customer_name_trgm": "customers_customer",
    "contact_name_trgm": "customers_contact",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER(name) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_verbose_names")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
