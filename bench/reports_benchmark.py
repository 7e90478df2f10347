#!/usr/bin/env python
# ruff: noqa: E501  (long lines are SQL inside strings, kept readable as SQL)
"""Report selectors against hand-written SQL, at 1,000,000 opportunities on PostgreSQL.

Generates (once; ``--regenerate`` to redo) a year of history in a dedicated database with
INSERT … SELECT generate_series — opportunities, their stage changes, status changes (with
some wins undone by a reopen) and activities — then times, in the same run, each report
selector (as the admin: every deal) against one hand-written SQL query that computes the same
figures, both fetched completely. Prints a Markdown table of medians and ratios, checks that
the two agree on the totals, and writes JSON.

The measuring part runs on any data set, not only this script's (bench/scale.py uses it):

    from bench.reports_benchmark import measure_reports
    rows = measure_reports(runs=5, start=date(2026, 1, 1), end=date(2026, 12, 31))

It reads what it needs from the database (an admin viewer, the incentive policies, the default
pipeline and its stages) and returns one dict per report: ``name``, ``selector_ms``, ``sql_ms``,
``median_ms``, ``p95_ms``, ``sql_median_ms``, ``ratio``, ``queries``, ``agree``.

    createdb -h 127.0.0.1 -U postgres jihui_bench_reports   # or let the script create it
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jihui_bench_reports \\
        /work/main/.venv/bin/python bench/reports_benchmark.py --opportunities 1000000 --runs 5 \\
        --json var/bench/reports.json
"""

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import admin_connection, drop_secondary_indexes  # noqa: E402  (sys.path first)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

REPS, TEAMS, SOURCES, CUSTOMERS = 50, 5, 20, 100
OPEN_STAGES = [("New", 10), ("Contact", 20), ("Needs", 30), ("Visit", 40), ("Sample", 50), ("Quote", 70), ("Audit", 80)]
TARGET_RATIO = 1.5


# --- set-up -------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (never touches any other database)."""
    from psycopg2 import sql

    admin, name = admin_connection(url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


def _rand(seed: int) -> str:
    """A deterministic pseudo-random number in [0, 1) from the row number ``i`` (SQL)."""
    return f"(((i::bigint * {seed}) %% 4294967291)::float8 / 4294967291)"


BIG_TABLES = (
    "opportunities_opportunity",
    "opportunities_stagechange",
    "opportunities_statuschange",
    "opportunities_activity",
)


def generate(n: int, *, now: datetime.datetime) -> dict:
    """A year of sales history ending at ``now``, mostly in SQL. Returns what the queries need."""
    from django.db import connection, transaction

    from customers.models import Customer
    from reports.models import IncentivePolicy
    from sources.models import LeadSource
    from stages.models import Pipeline, Stage
    from teams.models import Team, User

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE opportunities_activity, opportunities_stagechange, opportunities_statuschange, "
                "opportunities_assignment, opportunities_closedatechange, opportunities_fieldchange, "
                "opportunities_attachment, opportunities_opportunity, reports_incentivepolicy CASCADE"
            )
        admin, _ = User.objects.get_or_create(username="bench_admin", defaults={"is_staff": True, "is_superuser": True})
        reps = []
        teams = []
        for t in range(TEAMS):
            team, _ = Team.objects.get_or_create(name=f"Bench team {t + 1}")
            manager, _ = User.objects.get_or_create(username=f"bench_manager{t + 1}")
            team.managers.add(manager)
            teams.append(team)
            for r in range(REPS // TEAMS):
                rep, _ = User.objects.get_or_create(username=f"bench_rep{t * (REPS // TEAMS) + r + 1}")
                team.members.add(rep)
                reps.append(rep)
        pipeline, _ = Pipeline.objects.get_or_create(name="Bench pipeline")
        for order, (name, probability) in enumerate(OPEN_STAGES, start=1):
            Stage.objects.get_or_create(
                pipeline=pipeline, name=name, defaults={"order": order * 10, "probability": probability}
            )
        Stage.objects.get_or_create(
            pipeline=pipeline, name="Won", defaults={"order": 100, "probability": 100, "kind": "won"}
        )
        Stage.objects.get_or_create(
            pipeline=pipeline, name="Lost", defaults={"order": 110, "probability": 0, "kind": "lost"}
        )
        stages = {stage.name: stage for stage in pipeline.stages.all()}
        channels = [choice for choice, _label in LeadSource.Channel.choices]
        sources = [
            LeadSource.objects.get_or_create(
                name=f"Bench source {s + 1}",
                defaults={
                    "channel": channels[s % len(channels)],
                    "cost_money": Decimal(20000 + 5000 * s),
                    "manpower_days": Decimal(s % 5),
                    "day_rate": Decimal("600.00"),
                },
            )[0]
            for s in range(SOURCES)
        ]
        customers = [Customer.objects.get_or_create(name=f"Bench customer {c + 1}")[0] for c in range(CUSTOMERS)]
        today = now.date()
        IncentivePolicy.objects.create(effective_from=today - datetime.timedelta(days=400), base_reward=Decimal("1000"))
        IncentivePolicy.objects.create(
            effective_from=today - datetime.timedelta(days=120),
            base_reward=Decimal("1200"),
            new_customer_bonus=Decimal("300"),
            new_product_bonus=Decimal("200"),
        )

        open_ids = [stages[name].pk for name, _p in OPEN_STAGES]
        # Bulk load: drop the secondary indexes of the big tables and build them once at the end,
        # far faster than maintaining them row by row.
        with connection.cursor() as cursor:
            indexes = drop_secondary_indexes(cursor, BIG_TABLES)
        params = {
            "n": n,
            "now": now,
            "open_ids": open_ids,
            "open_prob": [p for _name, p in OPEN_STAGES],
            "won": stages["Won"].pk,
            "lost": stages["Lost"].pk,
            "pipeline": pipeline.pk,
            "reps": [rep.pk for rep in reps],
            "rep_teams": [team.pk for team in teams for _r in range(REPS // TEAMS)],
            "sources": [source.pk for source in sources],
            "customers": [customer.pk for customer in customers],
        }
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO opportunities_opportunity (
                    id, created_at, updated_at, title, description, status, amount, currency, exchange_rate,
                    amount_base, probability, probability_is_manual, difficulty, is_new_customer, is_new_product,
                    expected_close_date, close_date_pushes, stage_entered_at, last_activity_at, closed_at,
                    close_reason, version, customer_id, contact_id, pipeline_id, stage_id, owner_id, team_id,
                    source_id, lost_reason_id, created_by_id)
                SELECT i, created_at, %(now)s, 'Bench deal ' || i, '', status, amount, 'CNY', 1, amount,
                    CASE status WHEN 'won' THEN 100 WHEN 'lost' THEN 0 ELSE (%(open_prob)s::int[])[1 + k] END,
                    false, difficulty, {_rand(2246822519)} < 0.2, {_rand(3266489917)} < 0.1,
                    CASE WHEN status = 'open'
                         THEN (%(now)s::timestamptz + ({_rand(668265263)} * 240 - 40) * interval '1 day')::date
                         ELSE (closed_at + interval '3 days')::date END,
                    i %% 4, created_at, created_at + (closed_at_or_now - created_at) / 2, closed_at,
                    '', 1, (%(customers)s::bigint[])[1 + i %% {CUSTOMERS}], NULL, %(pipeline)s,
                    CASE status WHEN 'won' THEN %(won)s WHEN 'lost' THEN %(lost)s ELSE (%(open_ids)s::bigint[])[1 + k] END,
                    CASE WHEN i %% {REPS} = 0 THEN NULL ELSE (%(reps)s::bigint[])[1 + i %% {REPS}] END,
                    (%(rep_teams)s::bigint[])[1 + i %% {REPS}], (%(sources)s::bigint[])[1 + (i * 7) %% {SOURCES}],
                    NULL, NULL
                FROM (
                    SELECT i, k, created_at, status, amount, difficulty,
                           CASE WHEN status = 'open' THEN NULL
                                ELSE created_at + {_rand(374761393)} * LEAST(age, 120) * interval '1 day' END AS closed_at,
                           CASE WHEN status = 'open' THEN %(now)s::timestamptz
                                ELSE created_at + {_rand(374761393)} * LEAST(age, 120) * interval '1 day' END
                               AS closed_at_or_now
                    FROM (
                        SELECT i, i %% 7 AS k, created_at,
                               EXTRACT(EPOCH FROM (%(now)s::timestamptz - created_at)) / 86400 AS age,
                               CASE WHEN i %% {REPS} = 0 OR {_rand(2654435761)} < 0.30 THEN 'open'
                                    WHEN {_rand(2654435761)} < 0.55 THEN 'won'
                                    WHEN {_rand(2654435761)} < 0.80 THEN 'lost' ELSE 'expired' END AS status,
                               round((1000 + {_rand(1597334677)} * 199000)::numeric, 2) AS amount,
                               round((0.5 + {_rand(2869860233)} * 2.5)::numeric, 2) AS difficulty
                        FROM (SELECT i, %(now)s::timestamptz - {_rand(3432918353)} * interval '365 days' AS created_at
                              FROM generate_series(1, %(n)s) AS g(i)) AS base
                    ) AS shaped
                ) AS deals
            """,
                params,
            )
            cursor.execute("SELECT setval(pg_get_serial_sequence('opportunities_opportunity', 'id'), %s)", [n])
            # Stage history: created in New, then one move per open stage up to the k-th, then won/lost.
            cursor.execute(
                """
                INSERT INTO opportunities_stagechange (at, probability_before, probability_after, note, opportunity_id,
                                                       by_id, from_stage_id, to_stage_id)
                SELECT o.created_at + (COALESCE(o.closed_at, %(now)s::timestamptz) - o.created_at) * j / (o.id %% 7 + 2),
                       NULL, 10, '', o.id, NULL,
                       CASE WHEN j = 0 THEN NULL ELSE (%(open_ids)s::bigint[])[j] END, (%(open_ids)s::bigint[])[j + 1]
                FROM opportunities_opportunity o CROSS JOIN LATERAL generate_series(0, (o.id %% 7)::int) AS s(j)
            """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO opportunities_stagechange (at, probability_before, probability_after, note, opportunity_id,
                                                       by_id, from_stage_id, to_stage_id)
                SELECT o.closed_at, NULL, o.probability, '', o.id, NULL, (%(open_ids)s::bigint[])[1 + o.id %% 7], o.stage_id
                FROM opportunities_opportunity o WHERE o.status IN ('won', 'lost')
            """,
                params,
            )
            # Status history: each close; 1 in 50 won deals was won once before, then reopened;
            # 1 in 100 open deals has a win that was undone by a reopen.
            cursor.execute(
                """
                INSERT INTO opportunities_statuschange (at, from_status, to_status, reason, opportunity_id, by_id,
                                                        lost_reason_id, owner_id)
                SELECT o.closed_at, 'open', o.status, '', o.id, NULL::bigint, NULL::bigint, o.owner_id
                FROM opportunities_opportunity o WHERE o.status <> 'open'
                UNION ALL
                SELECT o.created_at + (COALESCE(o.closed_at, %(now)s::timestamptz) - o.created_at) / 3, 'open', 'won', '',
                       o.id, NULL, NULL, o.owner_id
                FROM opportunities_opportunity o
                WHERE o.owner_id IS NOT NULL AND ((o.status = 'won' AND o.id %% 50 = 7) OR (o.status = 'open' AND o.id %% 100 = 3))
                UNION ALL
                SELECT o.created_at + (COALESCE(o.closed_at, %(now)s::timestamptz) - o.created_at) / 2, 'won', 'open', '',
                       o.id, NULL, NULL, o.owner_id
                FROM opportunities_opportunity o
                WHERE o.owner_id IS NOT NULL AND ((o.status = 'won' AND o.id %% 50 = 7) OR (o.status = 'open' AND o.id %% 100 = 3))
            """,
                params,
            )
            cursor.execute(
                """
                INSERT INTO opportunities_activity (kind, body, carrier, tracking_number, occurred_at, created_at,
                                                    opportunity_id, stage_id, author_id)
                SELECT 'call', 'Bench call', '', '', o.last_activity_at, o.last_activity_at, o.id,
                       (%(open_ids)s::bigint[])[1 + o.id %% 7], o.owner_id
                FROM opportunities_opportunity o WHERE o.owner_id IS NOT NULL AND o.id %% 2 = 0
            """,
                params,
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred foreign keys now
            for definition in indexes:
                cursor.execute(definition)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "admin": admin.pk,
        "pipeline": pipeline.pk,
        "stages": [stages[name].pk for name, _p in OPEN_STAGES] + [stages["Won"].pk],
    }


# --- the hand-written SQL ---------------------------------------------------------------------

STANDING_CLOSE = """
    sc.at >= %(start)s AND sc.at < %(end)s
    AND NOT EXISTS (SELECT 1 FROM opportunities_statuschange r
                    WHERE r.opportunity_id = sc.opportunity_id AND r.to_status = 'open'
                      AND (r.at > sc.at OR (r.at = sc.at AND r.id > sc.id)))
"""


def policy_sql(policies) -> tuple[str, str]:
    """CASE expressions for base and bonus cents, from the policies (latest first)."""
    from reports.periods import company_midnight

    def case(attr, default):
        whens = " ".join(
            f"WHEN sc.at >= '{company_midnight(p.effective_from).isoformat()}' THEN {getattr(p, attr)}"
            for p in policies
        )
        return f"(CASE {whens} ELSE {default} END)" if whens else str(default)

    base = case("base_cents", 100000)
    bonus = (
        f"{case('new_customer_cents', 0)} * o.is_new_customer::int + "
        f"{case('new_product_cents', 0)} * o.is_new_product::int"
    )
    return base, bonus


def sql_incentives(cursor, period, ctx):
    from reports.selectors import _policies

    base, bonus = policy_sql(_policies())
    cursor.execute(
        f"""
        WITH paid AS (
            SELECT sc.owner_id, sc.opportunity_id, o.title, sc.at, o.difficulty, {base} AS base_cents,
                   {bonus} AS bonus_cents,
                   ({base} * ROUND(o.difficulty * 100)::bigint + 50) / 100 + {bonus} AS payout_cents
            FROM opportunities_statuschange sc JOIN opportunities_opportunity o ON o.id = sc.opportunity_id
            WHERE sc.to_status = 'won' AND {STANDING_CLOSE}
        )
        SELECT 'line', owner_id, opportunity_id, title, at, difficulty, base_cents, bonus_cents, payout_cents, NULL
        FROM paid
        UNION ALL
        SELECT CASE WHEN GROUPING(p.owner_id) = 1 THEN 'total' ELSE 'owner' END, p.owner_id, NULL, MAX(u.username),
               NULL, NULL, NULL, NULL, SUM(payout_cents), COUNT(*)
        FROM paid p LEFT JOIN teams_user u ON u.id = p.owner_id GROUP BY GROUPING SETS ((p.owner_id), ())
    """,
        period,
    )
    rows = cursor.fetchall()
    total = next((row for row in rows if row[0] == "total"), None)
    return {
        "won": total[9] if total else 0,
        "payout": (Decimal(total[8]) / 100).quantize(Decimal("0.01")) if total else Decimal("0.00"),
    }


def sql_sources(cursor, period, ctx):
    cursor.execute(
        """
        WITH per_source AS (
            SELECT o.source_id, COUNT(*) AS leads,
                   COUNT(*) FILTER (WHERE o.status = 'open') AS open, COUNT(*) FILTER (WHERE o.status = 'won') AS won,
                   COUNT(*) FILTER (WHERE o.status = 'lost') AS lost,
                   COUNT(*) FILTER (WHERE o.status = 'expired') AS expired,
                   COALESCE(SUM(o.amount_base) FILTER (WHERE o.status = 'won'), 0) AS won_amount,
                   COALESCE(SUM(o.amount_base * o.probability) FILTER (WHERE o.status = 'open'), 0) / 100 AS weighted,
                   SUM(EXTRACT(EPOCH FROM (o.closed_at - o.created_at)) / 86400.0) FILTER (WHERE o.status = 'won') AS days
            FROM opportunities_opportunity o
            WHERE o.created_at >= %(start)s AND o.created_at < %(end)s
            GROUP BY o.source_id
        ), rolled AS (
            SELECT s.id, MAX(s.name) AS name, s.channel, SUM(leads) AS leads, SUM(open) AS open, SUM(won) AS won,
                   SUM(lost) AS lost, SUM(expired) AS expired, SUM(won_amount) AS won_amount,
                   SUM(weighted) AS weighted, SUM(days) AS days,
                   SUM(s.cost_money + s.manpower_days * s.day_rate) AS cost
            FROM per_source p JOIN sources_leadsource s ON s.id = p.source_id
            GROUP BY GROUPING SETS ((s.id, s.channel), (s.channel), ())
        )
        SELECT id, name, channel, leads, open, won, lost, expired,
               ROUND(won::numeric / NULLIF(leads, 0), 4), ROUND(won::numeric / NULLIF(won + lost + expired, 0), 4),
               ROUND(won_amount, 2), ROUND(weighted, 2), ROUND(days / NULLIF(won, 0), 1), ROUND(cost, 2),
               ROUND(cost / NULLIF(leads, 0), 2), ROUND(cost / NULLIF(won, 0), 2),
               ROUND((won_amount - cost) / NULLIF(cost, 0), 4)
        FROM rolled
    """,
        period,
    )
    rows = cursor.fetchall()
    total = next(row for row in rows if row[0] is None and row[2] is None) if rows else None
    return {
        "leads": total[3] if total else 0,
        "won_amount": total[10] if total else Decimal("0.00"),
        "cost": total[13] if total else Decimal("0.00"),
        "roi": total[16] if total else None,
    }


def sql_expired(cursor, period, ctx):
    cursor.execute(
        f"""
        WITH closes AS (
            SELECT sc.owner_id, sc.to_status, sc.at, o.id, o.title, o.expected_close_date, o.amount_base,
                   o.close_date_pushes, o.last_activity_at
            FROM opportunities_statuschange sc JOIN opportunities_opportunity o ON o.id = sc.opportunity_id
            WHERE sc.to_status IN ('won', 'lost', 'expired') AND {STANDING_CLOSE}
        )
        SELECT 'line', owner_id, id, title, at, expected_close_date, amount_base, close_date_pushes, last_activity_at,
               NULL, NULL
        FROM closes WHERE to_status = 'expired'
        UNION ALL
        SELECT CASE WHEN GROUPING(c.owner_id) = 1 THEN 'total' ELSE 'owner' END, c.owner_id, NULL, MAX(u.username),
               NULL, NULL, ROUND(COALESCE(SUM(amount_base) FILTER (WHERE to_status = 'expired'), 0), 2),
               COALESCE(SUM(close_date_pushes) FILTER (WHERE to_status = 'expired'), 0), NULL,
               COUNT(*) FILTER (WHERE to_status = 'expired'),
               ROUND(COUNT(*) FILTER (WHERE to_status = 'expired')::numeric / NULLIF(COUNT(*), 0), 4)
        FROM closes c LEFT JOIN teams_user u ON u.id = c.owner_id GROUP BY GROUPING SETS ((c.owner_id), ())
    """,
        period,
    )
    rows = cursor.fetchall()
    total = next((row for row in rows if row[0] == "total"), None)
    return {"expired": total[9] if total else 0, "expired_amount": total[6] if total else Decimal("0.00")}


def sql_pipeline(cursor, period, ctx):
    cursor.execute("""
        SELECT s.id, s.name, a.count, a.amount, a.weighted
        FROM (SELECT o.stage_id, COUNT(*) AS count, ROUND(COALESCE(SUM(o.amount_base), 0), 2) AS amount,
                     ROUND(COALESCE(SUM(o.amount_base * o.probability), 0) / 100, 2) AS weighted
              FROM opportunities_opportunity o WHERE o.status = 'open'
              GROUP BY GROUPING SETS ((o.stage_id), ())) AS a
        LEFT JOIN stages_stage s ON s.id = a.stage_id
    """)
    total = next(row for row in cursor.fetchall() if row[0] is None)
    return {"count": total[2], "amount": total[3], "weighted": total[4]}


def sql_forecast(cursor, period, ctx):
    from crm.dates import company_today
    from reports.selectors import forecast_buckets

    today = company_today()
    whens = " ".join(
        f"WHEN o.expected_close_date <= '{last}' THEN '{key}'" for key, _f, last in forecast_buckets(today)[1:-1]
    )
    cursor.execute(f"""
        SELECT bucket, COUNT(*), ROUND(COALESCE(SUM(amount_base), 0), 2),
               ROUND(COALESCE(SUM(amount_base * probability), 0) / 100, 2)
        FROM (SELECT o.amount_base, o.probability,
                     CASE WHEN o.expected_close_date < '{today}' THEN 'overdue' {whens} ELSE 'later' END AS bucket
              FROM opportunities_opportunity o WHERE o.status = 'open') AS b
        GROUP BY GROUPING SETS ((bucket), ())
    """)
    total = next(row for row in cursor.fetchall() if row[0] is None)
    return {"count": total[1], "amount": total[2], "weighted": total[3]}


def sql_funnel(cursor, period, ctx):
    stages = ctx["stages"]
    if ctx["pipeline"] is None or not stages:
        return {"deals": 0, "won": 0}
    position = " ".join(f"WHEN {pk} THEN {i}" for i, pk in enumerate(stages))
    reached = ", ".join(f"COUNT(*) FILTER (WHERE f >= {i})" for i in range(len(stages)))
    cursor.execute(
        f"""
        WITH cohort AS (
            SELECT o.id FROM opportunities_opportunity o
            WHERE o.pipeline_id = %(pipeline)s AND o.created_at >= %(start)s AND o.created_at < %(end)s
        ), furthest AS (
            SELECT c.id, MAX(CASE sc.to_stage_id {position} END) AS f
            FROM cohort c LEFT JOIN opportunities_stagechange sc ON sc.opportunity_id = c.id GROUP BY c.id
        ), stays AS (
            SELECT sc.to_stage_id,
                   EXTRACT(EPOCH FROM (LEAD(sc.at) OVER (PARTITION BY sc.opportunity_id ORDER BY sc.at, sc.id) - sc.at))
                       / 86400.0 AS days
            FROM opportunities_stagechange sc JOIN cohort c ON c.id = sc.opportunity_id
        )
        SELECT 'reached', NULL, COUNT(*), {reached}, NULL FROM furthest
        UNION ALL
        SELECT 'stay', to_stage_id, COUNT(days), ROUND(AVG(days), 1),
               {", ".join("NULL" for _ in stages[1:])}{"," if len(stages) > 1 else ""}
               ROUND(PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY days)::numeric, 1)
        FROM stays WHERE days IS NOT NULL GROUP BY to_stage_id
    """,
        {**period, "pipeline": ctx["pipeline"]},
    )
    rows = cursor.fetchall()
    reached_row = next(row for row in rows if row[0] == "reached")
    won = ctx["won_index"]
    return {"deals": reached_row[2], "won": 0 if won is None else reached_row[3 + won]}


def sql_scorecard(cursor, period, ctx):
    from reports.selectors import _policies

    base, bonus = policy_sql(_policies())
    cursor.execute(
        f"""
        WITH closes AS (
            SELECT sc.owner_id, COUNT(*) FILTER (WHERE sc.to_status = 'won') AS won,
                   COUNT(*) FILTER (WHERE sc.to_status = 'lost') AS lost,
                   COUNT(*) FILTER (WHERE sc.to_status = 'expired') AS expired,
                   SUM(EXTRACT(EPOCH FROM (sc.at - o.created_at)) / 86400.0) FILTER (WHERE sc.to_status = 'won') AS days,
                   COALESCE(SUM(({base} * ROUND(o.difficulty * 100)::bigint + 50) / 100 + {bonus})
                            FILTER (WHERE sc.to_status = 'won'), 0) AS payout_cents
            FROM opportunities_statuschange sc JOIN opportunities_opportunity o ON o.id = sc.opportunity_id
            WHERE sc.to_status IN ('won', 'lost', 'expired') AND {STANDING_CLOSE}
            GROUP BY sc.owner_id
        ), opens AS (
            SELECT owner_id, COUNT(*) AS open FROM opportunities_opportunity
            WHERE status = 'open' AND owner_id IS NOT NULL GROUP BY owner_id
        ), last AS (
            SELECT author_id, MAX(occurred_at) AS last FROM opportunities_activity GROUP BY author_id
        ), people AS (
            SELECT u.id, u.username, COALESCE(op.open, 0) AS open, COALESCE(c.won, 0) AS won,
                   COALESCE(c.lost, 0) AS lost, COALESCE(c.expired, 0) AS expired, c.days,
                   COALESCE(c.payout_cents, 0) AS payout_cents, l.last
            FROM teams_user u LEFT JOIN closes c ON c.owner_id = u.id LEFT JOIN opens op ON op.owner_id = u.id
            LEFT JOIN last l ON l.author_id = u.id
            WHERE c.owner_id IS NOT NULL OR op.owner_id IS NOT NULL OR l.author_id IS NOT NULL
               OR u.id IN (SELECT user_id FROM teams_team_members)
        )
        SELECT id, username, open, won, lost, expired,
               ROUND(won::numeric / NULLIF(won + lost + expired, 0), 4), ROUND(days / NULLIF(won, 0), 1),
               payout_cents, last
        FROM people
        UNION ALL  -- the totals: every standing close, the unassigned pool's too
        SELECT NULL, NULL, (SELECT SUM(open) FROM opens), COALESCE(SUM(won), 0), COALESCE(SUM(lost), 0),
               COALESCE(SUM(expired), 0), ROUND(SUM(won)::numeric / NULLIF(SUM(won + lost + expired), 0), 4),
               ROUND(SUM(days) / NULLIF(SUM(won), 0), 1), COALESCE(SUM(payout_cents), 0),
               (SELECT MAX(last) FROM last)
        FROM closes
    """,
        period,
    )
    total = next(row for row in cursor.fetchall() if row[0] is None)
    return {
        "won": total[3],
        "lost": total[4],
        "expired": total[5],
        "payout": (Decimal(total[8]) / 100).quantize(Decimal("0.01")),
    }


# --- timing --------------------------------------------------------------------------------


def cases(ctx):
    """(name, selector call, hand SQL, which totals must agree)."""
    from reports import selectors

    return [
        ("incentives", lambda v, p: selectors.report_incentives(viewer=v, period=p), sql_incentives, ("won", "payout")),
        (
            "sources",
            lambda v, p: selectors.report_sources(viewer=v, period=p),
            sql_sources,
            ("leads", "won_amount", "cost", "roi"),
        ),
        (
            "expired",
            lambda v, p: selectors.report_expired(viewer=v, period=p),
            sql_expired,
            ("expired", "expired_amount"),
        ),
        ("pipeline", lambda v, p: selectors.report_pipeline(viewer=v), sql_pipeline, ("count", "amount", "weighted")),
        ("forecast", lambda v, p: selectors.report_forecast(viewer=v), sql_forecast, ("count", "amount", "weighted")),
        ("funnel", lambda v, p: selectors.report_funnel(viewer=v, period=p), sql_funnel, ("deals", "won")),
        (
            "scorecard",
            lambda v, p: selectors.report_scorecard(viewer=v, period=p),
            sql_scorecard,
            ("won", "lost", "expired", "payout"),
        ),
    ]


def timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def report_context() -> dict:
    """What the hand SQL needs to know about the data, read from the database (never assumed
    from this script's generator): the funnel's pipeline — the one the selector defaults to —
    its funnel stages in order, and the position of its won stage."""
    from reports.selectors import default_pipeline
    from stages.models import Stage

    pipeline = default_pipeline()
    stages = (
        list(pipeline.stages.exclude(kind=Stage.Kind.LOST).order_by("order", "pk").values_list("pk", "kind"))
        if pipeline
        else []
    )
    kinds = [kind for _pk, kind in stages]
    return {
        "pipeline": pipeline.pk if pipeline else None,
        "stages": [pk for pk, _kind in stages],
        "won_index": kinds.index(Stage.Kind.WON) if Stage.Kind.WON in kinds else None,
    }


def report_viewer():
    """The admin the reports are timed as (every deal in scope): the first active superuser, or
    an unsaved one when the database has none (the selectors only ask what the viewer may see)."""
    from teams.models import User

    viewer = User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    return viewer or User(username="measure_reports", is_active=True, is_staff=True, is_superuser=True)


def _p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile (with 5 runs: the slowest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure_reports(
    *, runs: int, start: datetime.date, end: datetime.date, viewer=None, only: tuple[str, ...] = (), echo=print
) -> list[dict]:
    """Time each report selector against its hand-written SQL on whatever data is in the
    database, for the period ``start``–``end`` (company days, both inclusive), as an admin.

    For each report (in a fixed order): ``name``; ``selector_ms`` and ``sql_ms``, one per run,
    the two alternating so that noise hits both; ``median_ms``, ``p95_ms`` (selector),
    ``sql_median_ms``, ``ratio`` (selector median ÷ SQL median); ``queries``, the selector's
    SQL query count; ``agree``, whether the selector's totals equal the hand SQL's; and the
    compared ``totals`` / ``sql_totals`` as strings. Both sides are warmed up once first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.periods import Period

    viewer = viewer or report_viewer()
    period = Period(start, end)
    bounds = {"start": period.start_at, "end": period.end_at}
    ctx = report_context()
    results = []
    for name, selector, hand_sql, keys in cases(ctx):
        if only and name not in only:
            continue
        with CaptureQueriesContext(connection) as captured:  # also the warm-up: plans, caches
            selector(viewer, period)
        with connection.cursor() as cursor:
            hand_sql(cursor, bounds, ctx)
        orm_times, sql_times = [], []
        for _ in range(runs):
            elapsed, report = timed(lambda selector=selector: selector(viewer, period))
            orm_times.append(elapsed * 1000)
            with connection.cursor() as cursor:
                elapsed, figures = timed(lambda cursor=cursor, hand_sql=hand_sql: hand_sql(cursor, bounds, ctx))
            sql_times.append(elapsed * 1000)
        orm, sql = statistics.median(orm_times), statistics.median(sql_times)
        row = {
            "name": name,
            "selector_ms": [round(ms, 1) for ms in orm_times],
            "sql_ms": [round(ms, 1) for ms in sql_times],
            "median_ms": round(orm, 1),
            "p95_ms": round(_p95(orm_times), 1),
            "sql_median_ms": round(sql, 1),
            "ratio": round(orm / sql, 2) if sql else None,
            "queries": len(captured.captured_queries),
            "agree": all(_same(report.totals.get(key), figures.get(key)) for key in keys),
            "totals": {key: str(report.totals.get(key)) for key in keys},
            "sql_totals": {key: str(figures.get(key)) for key in keys},
        }
        echo(
            f"{name}: selector {row['median_ms']} ms (p95 {row['p95_ms']}), hand SQL {row['sql_median_ms']} ms, "
            f"ratio {row['ratio']}, {row['queries']} queries, totals {'agree' if row['agree'] else 'DIFFER'}"
        )
        results.append(row)
    return results


def run(*, runs: int, period_days: int | None = None, only: tuple[str, ...] = (), echo=print) -> dict:
    """The standalone benchmark's summary: ``measure_reports`` over the last full calendar month
    (or the last ``period_days`` days), with the size of the data."""
    from django.db import connection

    from crm.dates import company_today
    from reports.periods import month_start

    today = company_today()
    if period_days:
        start, end = today - datetime.timedelta(days=period_days - 1), today
    else:  # the last full calendar month
        start, end = month_start(today, -1), month_start(today) - datetime.timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM opportunities_opportunity")
        opportunities = cursor.fetchone()[0]
    results = measure_reports(runs=runs, start=start, end=end, only=only, echo=echo)
    return {
        "opportunities": opportunities,
        "period": [str(start), str(end)],
        "runs": runs,
        "target_ratio": TARGET_RATIO,
        "results": results,
    }


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return Decimal(str(a)) == Decimal(str(b))


def markdown(summary: dict) -> str:
    lines = [
        f"Reports over {summary['opportunities']:,} opportunities, period {summary['period'][0]} – "
        f"{summary['period'][1]}, median of {summary['runs']} runs (PostgreSQL, viewer: admin).",
        "",
        "| report | selector (ms) | p95 (ms) | hand SQL (ms) | ratio | within 1.5× | queries | totals agree |",
        "|---|---:|---:|---:|---:|:---:|---:|:---:|",
    ]
    for row in summary["results"]:
        ok = "yes" if row["ratio"] is not None and row["ratio"] <= summary["target_ratio"] else "no"
        lines.append(
            f"| {row['name']} | {row['median_ms']} | {row['p95_ms']} | {row['sql_median_ms']} | {row['ratio']} | "
            f"{ok} | {row['queries']} | {'yes' if row['agree'] else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data even if it is there")
    parser.add_argument("--period-days", type=int, default=None, help="default: the last full calendar month")
    parser.add_argument("--json", type=Path, default=Path("var/bench/reports.json"))
    parser.add_argument("--only", nargs="*", default=(), help="time only these reports")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        parser.error(
            "set DATABASE_URL to a dedicated PostgreSQL database, e.g. "
            "postgres://postgres@127.0.0.1:5432/jihui_bench_reports"
        )
    ensure_database(url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log: time the queries, not Django's debug bookkeeping
    from django.utils import timezone

    from opportunities.models import Opportunity

    call_command("migrate", verbosity=0)
    if args.regenerate or Opportunity.objects.count() != args.opportunities:
        started = time.perf_counter()
        generate(args.opportunities, now=timezone.now())
        print(f"generated {args.opportunities:,} opportunities in {time.perf_counter() - started:.1f} s", flush=True)
    summary = run(runs=args.runs, period_days=args.period_days, only=tuple(args.only))
    print(markdown(summary))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2))
    print(f"JSON: {args.json}")
    return summary


if __name__ == "__main__":
    main()
