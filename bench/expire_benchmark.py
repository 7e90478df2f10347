"""Expiry at scale: the expire service against one hand-written SQL UPDATE of the same rows.

Creates ``--total`` opportunities (default 1,000,000) with one INSERT … SELECT generate_series,
marks ``--overdue`` of them (default 100,000) overdue, then times

  A. ``opportunities_expire_overdue`` — batches of 2,000, row locks with SKIP LOCKED, and a
     StatusChange history row per deal (what the nightly job runs), and
  B. one ``UPDATE … WHERE status = 'open' AND expected_close_date < today`` with no history,

on the same rows (restored in between, vacuumed before each timing), and reports A / B.
The issue's target is A within 3× of B.

PostgreSQL only, in a database of its own (it TRUNCATEs the opportunities):

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/jihui_bench_notify \\
      .venv/bin/python bench/expire_benchmark.py [--total N] [--overdue M] [--output FILE]

The database is created and migrated if needed. Results are printed and written as JSON to
``--output`` (default var/bench/expire_benchmark.json, outside git).
"""

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

BENCH_REPS = 20


def ensure_database(url: str) -> None:
    """CREATE DATABASE if it does not exist (connecting to the server's ``postgres`` database)."""
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname="postgres", user=config["USER"] or None, password=config["PASSWORD"] or None,
        host=config["HOST"] or None, port=config["PORT"] or None,
    )  # fmt: skip
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    conn.close()


def _base_objects():
    """The few rows every generated opportunity points at (created once, found again after)."""
    from customers.models import Customer
    from sources.models import LeadSource
    from stages.models import Pipeline, Stage
    from teams.models import Team, User

    reps = []
    for i in range(BENCH_REPS):
        user, _created = User.objects.get_or_create(username=f"bench_rep{i}", defaults={"email": f"rep{i}@bench.test"})
        reps.append(user)
    manager, _created = User.objects.get_or_create(username="bench_manager", defaults={"email": "m@bench.test"})
    team, created = Team.objects.get_or_create(name="Bench team")
    if created:
        team.members.add(*reps)
        team.managers.add(manager)
    pipeline, created = Pipeline.objects.get_or_create(name="Bench pipeline")
    if created:
        Stage.objects.create(pipeline=pipeline, name="Open", order=10, probability=20)
        Stage.objects.create(pipeline=pipeline, name="Won", order=20, probability=100, kind=Stage.Kind.WON)
        Stage.objects.create(pipeline=pipeline, name="Lost", order=30, probability=0, kind=Stage.Kind.LOST)
    stage = pipeline.stages.get(name="Open")
    customer = Customer.objects.filter(name="Bench customer").first() or Customer.objects.create(name="Bench customer")
    source, _created = LeadSource.objects.get_or_create(name="Bench source")
    return {"reps": reps, "team": team, "pipeline": pipeline, "stage": stage, "customer": customer, "source": source}


def seed(*, total: int, overdue: int, today: datetime.date) -> None:
    """TRUNCATE the opportunities, insert ``total`` open ones in one statement, mark ``overdue`` overdue."""
    from django.db import connection

    from opportunities.models import Opportunity

    base = _base_objects()
    rep_ids = [rep.pk for rep in base["reps"]]
    # Every concrete column gets a value: set-based expressions for the interesting ones, the
    # field's own default for the rest (so a column added later does not break the benchmark).
    expressions = {
        "title": ("'Bench deal ' || g", []),
        "customer": ("%s", [base["customer"].pk]),
        "pipeline": ("%s", [base["pipeline"].pk]),
        "stage": ("%s", [base["stage"].pk]),
        "team": ("%s", [base["team"].pk]),
        "source": ("%s", [base["source"].pk]),
        "owner": ("(%s::bigint[])[1 + g %% %s]", [rep_ids, len(rep_ids)]),
        "status": ("'open'", []),
        "amount": ("(g %% 1000) * 100", []),
        "amount_base": ("(g %% 1000) * 100", []),
        "probability": ("%s", [base["stage"].probability]),
        "expected_close_date": ("%s::date + (1 + g %% 90)::integer", [today]),
        "stage_entered_at": ("now()", []),
        "created_at": ("now()", []),
        "updated_at": ("now()", []),
    }
    columns, selects, params = [], [], []
    for field in Opportunity._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in expressions:
            expression, values = expressions[field.name]
        else:
            expression, values = "%s", [field.get_default()]  # "" for text, None where nullable
        selects.append(expression)
        params.extend(values)
    table = Opportunity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} RESTART IDENTITY CASCADE")
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(selects)} FROM generate_series(1, %s) AS g",
            [*params, total],
        )
        # Spread the overdue deals over the whole table, 1 to 30 days late.
        step = max(total // overdue, 1)
        cursor.execute(
            f"UPDATE {table} SET expected_close_date = %s::date - (1 + id %% 30)::integer "
            "WHERE id %% %s = 0 AND id <= %s",
            [today, step, step * overdue],
        )


def restore(*, today: datetime.date) -> None:
    """Put the expired deals back to open and drop the history rows the service wrote."""
    from django.db import connection

    from opportunities.models import Opportunity, StatusChange

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {StatusChange._meta.db_table} WHERE to_status = 'expired'")
        cursor.execute(
            f"UPDATE {Opportunity._meta.db_table} SET status = 'open', closed_at = NULL, close_reason = '', "
            "version = 1 WHERE status = 'expired'"
        )


def vacuum() -> None:
    """Same starting state for A and B: no dead rows, fresh statistics, and no checkpoint's
    writes left pending to land inside the timing (needs a superuser; skipped otherwise)."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError:
            pass


def sql_update(*, today: datetime.date, reason: str) -> int:
    from django.db import connection, transaction

    from opportunities.models import Opportunity

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Opportunity._meta.db_table} SET status = 'expired', closed_at = now(), close_reason = %s, "
            "version = version + 1, updated_at = now() WHERE status = 'open' AND expected_close_date < %s",
            [reason, today],
        )
        return cursor.rowcount


def run_benchmark(*, total: int, overdue: int, do_vacuum: bool = True, echo=print) -> dict:
    """Seed, time A (service) and B (SQL), restore; returns the figures."""
    from django.db import connection

    from crm.dates import company_today
    from opportunities.models import Opportunity, StatusChange
    from opportunities.services import opportunities_expire_overdue

    if connection.vendor != "postgresql":
        raise SystemExit("The expiry benchmark needs PostgreSQL (DATABASE_URL=postgres://…).")
    if not 0 < overdue <= total:
        raise SystemExit("--overdue must be between 1 and --total")
    today = company_today()
    reason = "Expired — not confirmed by the expected close date"

    started = time.perf_counter()
    seed(total=total, overdue=overdue, today=today)
    if do_vacuum:
        vacuum()
    seed_seconds = time.perf_counter() - started
    echo(f"seeded {total:,} opportunities ({overdue:,} overdue) in {seed_seconds:.1f} s")

    started = time.perf_counter()
    expired = opportunities_expire_overdue(today=today, reason=reason)
    service_seconds = time.perf_counter() - started
    history = StatusChange.objects.filter(to_status=Opportunity.Status.EXPIRED).count()
    if not expired == overdue == history:
        raise RuntimeError(f"expected {overdue} expired deals and history rows, got {expired} and {history}")
    echo(f"A. expire service:  {service_seconds:8.3f} s  ({expired:,} deals, {history:,} history rows)")

    restore(today=today)
    if do_vacuum:
        vacuum()
    started = time.perf_counter()
    updated = sql_update(today=today, reason=reason)
    sql_seconds = time.perf_counter() - started
    if updated != overdue:
        raise RuntimeError(f"the SQL UPDATE changed {updated} rows, not {overdue}")
    echo(f"B. one SQL UPDATE:  {sql_seconds:8.3f} s  ({updated:,} rows, no history)")
    restore(today=today)

    ratio = service_seconds / sql_seconds if sql_seconds else float("inf")
    echo(f"ratio A / B = {ratio:.2f}× (target: within 3×)")
    return {
        "total": total,
        "overdue": overdue,
        "seed_seconds": round(seed_seconds, 3),
        "service_seconds": round(service_seconds, 3),
        "sql_seconds": round(sql_seconds, 3),
        "ratio": round(ratio, 2),
        "target_ratio": 3,
        "history_rows": history,
        "postgres": connection.pg_version,
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=100_000)
    parser.add_argument("--output", default=str(ROOT / "var" / "bench" / "expire_benchmark.json"))
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of its own, e.g. …/jihui_bench_notify")
    ensure_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    result = run_benchmark(total=args.total, overdue=args.overdue)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {output}")


if __name__ == "__main__":
    main()
