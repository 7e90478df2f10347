"""The home page at scale: indexes for its figures, short lists and incentive this month; and

StatusChange.deal_team: the deal's current team, kept equal to ``opportunity.team`` by the
database itself, in the statement that changes either side (so no service, import, raw UPDATE or
COPY can leave it behind):

- a status change takes its deal's team when it is written (or moved to another deal);
- a deal that changes team carries its status changes along;
- a deal written after its status changes (a load with deferred foreign keys) gives them its team.

PostgreSQL only (on SQLite the column stays empty and is not read). The triggers fire ALWAYS,
also where ordinary triggers are skipped (``session_replication_role = replica``, as the bench's
bulk load does).

The home page's incentive this month then reads a team's wins of the period on an index of their
own (``statuschange_won_team_at``) instead of joining every win of the company to its deal.
"""

import django.db.models.deletion
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

POSTGRESQL_FORWARD = """
CREATE FUNCTION statuschange_take_deal_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.deal_team_id := (SELECT team_id FROM opportunities_opportunity WHERE id = NEW.opportunity_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER statuschange_deal_team BEFORE INSERT OR UPDATE OF opportunity_id, deal_team_id
    ON opportunities_statuschange
    FOR EACH ROW EXECUTE FUNCTION statuschange_take_deal_team();

CREATE FUNCTION opportunity_team_to_statuschanges() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE opportunities_statuschange SET deal_team_id = NEW.team_id WHERE opportunity_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER opportunity_team_to_statuschanges AFTER UPDATE OF team_id ON opportunities_opportunity
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id)
    EXECUTE FUNCTION opportunity_team_to_statuschanges();

-- A deal written after its status changes (a load with deferred foreign keys): once per statement.
CREATE FUNCTION opportunity_team_to_earlier_statuschanges() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE opportunities_statuschange sc SET deal_team_id = n.team_id FROM new_deals n
    WHERE sc.opportunity_id = n.id AND sc.deal_team_id IS DISTINCT FROM n.team_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER opportunity_team_to_earlier_statuschanges AFTER INSERT ON opportunities_opportunity
    REFERENCING NEW TABLE AS new_deals FOR EACH STATEMENT
    EXECUTE FUNCTION opportunity_team_to_earlier_statuschanges();

-- Also in a session that skips ordinary triggers (session_replication_role = replica: the bench's
-- bulk load, a logical replica): the copy is part of the data, not a check.
ALTER TABLE opportunities_statuschange ENABLE ALWAYS TRIGGER statuschange_deal_team;
ALTER TABLE opportunities_opportunity ENABLE ALWAYS TRIGGER opportunity_team_to_statuschanges;
ALTER TABLE opportunities_opportunity ENABLE ALWAYS TRIGGER opportunity_team_to_earlier_statuschanges;
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS opportunity_team_to_earlier_statuschanges ON opportunities_opportunity;
DROP FUNCTION IF EXISTS opportunity_team_to_earlier_statuschanges();
DROP TRIGGER IF EXISTS opportunity_team_to_statuschanges ON opportunities_opportunity;
DROP FUNCTION IF EXISTS opportunity_team_to_statuschanges();
DROP TRIGGER IF EXISTS statuschange_deal_team ON opportunities_statuschange;
DROP FUNCTION IF EXISTS statuschange_take_deal_team();
"""
BACKFILL = """
UPDATE opportunities_statuschange
SET deal_team_id = (SELECT team_id FROM opportunities_opportunity WHERE id = opportunities_statuschange.opportunity_id)
"""


def forward(apps, schema_editor):
    # PostgreSQL only, as search_text's triggers (0010). SQLite adds a column by remaking the
    # table, which drops the triggers on it and, while the old table is gone, fails on triggers
    # that name it; there the column stays empty and incentive_totals does not read it.
    if schema_editor.connection.vendor != "postgresql":
        return
    # No deal or status change written between the copy and the triggers.
    schema_editor.execute("LOCK TABLE opportunities_opportunity, opportunities_statuschange IN SHARE ROW EXCLUSIVE MODE")
    schema_editor.execute(BACKFILL)
    schema_editor.execute(POSTGRESQL_FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_search_trigram_indexes"),
        ("opportunities", "0008_list_stage_indexes"),
        ("sources", "0001_initial"),
        ("stages", "0002_pipeline_expiry_grace_days"),
        ("teams", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="opportunity",
            name="opp_expired_team",
        ),
        migrations.AddField(
            model_name="statuschange",
            name="deal_team",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="teams.team",
                verbose_name="deal's team",
            ),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                condition=models.Q(("status", "expired")),
                fields=["team", "closed_at", "owner"],
                name="opp_expired_team",
            ),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                condition=models.Q(("status", "open")),
                fields=["team", "expected_close_date", "id", "owner"],
                name="opp_open_team_close",
            ),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                models.F("owner"),
                django.db.models.functions.comparison.Greatest(
                    django.db.models.functions.comparison.Coalesce("last_activity_at", "stage_entered_at"),
                    "stage_entered_at",
                ),
                models.F("id"),
                models.F("stage"),
                models.F("last_activity_at"),
                models.F("stage_entered_at"),
                condition=models.Q(("status", "open")),
                name="opp_open_owner_idle",
            ),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                models.F("team"),
                django.db.models.functions.comparison.Greatest(
                    django.db.models.functions.comparison.Coalesce("last_activity_at", "stage_entered_at"),
                    "stage_entered_at",
                ),
                models.F("id"),
                models.F("owner"),
                models.F("stage"),
                models.F("last_activity_at"),
                models.F("stage_entered_at"),
                condition=models.Q(("status", "open")),
                name="opp_open_team_idle",
            ),
        ),
        migrations.AddIndex(
            model_name="opportunity",
            index=models.Index(
                fields=["id", "team", "owner", "difficulty", "is_new_customer", "is_new_product"],
                name="opp_id_incentive",
            ),
        ),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                condition=models.Q(("to_status", "won")),
                fields=["at", "opportunity", "owner", "id"],
                name="statuschange_won_at",
            ),
        ),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                condition=models.Q(("to_status", "won")),
                fields=["owner", "at", "opportunity", "id"],
                name="statuschange_won_owner_at",
            ),
        ),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                condition=models.Q(("to_status", "won")),
                fields=["deal_team", "at", "opportunity", "owner", "id"],
                name="statuschange_won_team_at",
            ),
        ),
        migrations.AddIndex(
            model_name="statuschange",
            index=models.Index(
                condition=models.Q(("to_status", "open")),
                fields=["opportunity", "at", "id"],
                name="statuschange_reopen",
            ),
        ),
    ]
