"""Every sort of the list read from an index, per branch of the visibility rule.

The list is read branch by branch (a rep's own deals, a manager's teams, a team's pool), each in
the sort's order. Sorts with no index of their own (title, close date, last activity, stage,
owner …) made PostgreSQL read the branch's table rows, then keep the first fifty: a manager's
235,000 deals took 220-320 ms, a rep's 53,000 135-185 ms (in-process, 18:00 UTC). These two
indexes hold each branch's deals by close date, so the soonest-closing come first in index
order, with every column a sort reads (the deal's own columns, and the ids a sort by a name joins
to), so any other sort reads the index alone instead of the table. Their price is on writes: two
more index entries for every new row version (bench/scale.py's import and expiry figures).
Key columns rather than INCLUDE, which SQLite lacks.
"""

from django.db import migrations, models

SORTABLE = [
    *("status", "title", "amount_base", "probability", "difficulty"),
    *("last_activity_at", "created_at", "closed_at", "stage", "pipeline", "customer", "source"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0011_pool_search_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                fields=["owner", "expected_close_date", "id", "team", *SORTABLE], name="opp_owner_sortable"
            ),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                fields=["team", "expected_close_date", "id", "owner", *SORTABLE], name="opp_team_sortable"
            ),
        ),
    ]
