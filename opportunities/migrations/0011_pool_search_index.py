"""The unassigned pool's deals with their search text, in one small partial index.

A rep's searched list reads their team's pool as a branch of its own (the visibility rule). With
only the trigram index for the search, PostgreSQL combined the trigram scan of the whole table
(5-8 ms for a common word at 1,000,000 deals) with the team's index, once for the count and once
for the page; from this index it reads the pool's thousand entries and their text (0.2 ms).
Only unassigned deals are in it, so writes to owned deals do not touch it.

On PostgreSQL the column's statistics are also sampled ten times finer (1,000 histogram entries):
with the default 100, whether a common word matched 10,000 or 50,000 deals depended on which rows
ANALYZE happened to sample, and with the smaller guess the rep's searched page stopped walking
their newest deals (1.5 ms) for a trigram scan and a sort (15 ms). ANALYZE of the table takes a
few seconds longer at 1,000,000 deals.
"""

from django.conf import settings
from django.db import migrations, models

STATISTICS = "ALTER TABLE opportunities_opportunity ALTER COLUMN search_text SET STATISTICS {}"


def finer_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATISTICS.format(1000))


def default_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STATISTICS.format(-1))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_search_trigram_indexes"),
        ("opportunities", "0010_search_text"),
        ("sources", "0001_initial"),
        ("stages", "0002_pipeline_expiry_grace_days"),
        ("teams", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                condition=models.Q(("owner", None)),
                fields=["team", "created_at", "id", "search_text"],
                name="opp_pool_search",
            ),
        ),
        migrations.RunPython(finer_statistics, default_statistics, elidable=False),
    ]
