#!/usr/bin/env python
# ruff: noqa: E501  (long lines are SQL and Markdown table rows, kept whole to be read as such)
"""Jihui at scale: pages, API, reports, expiry, reminders, import and throughput in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jihui_bench \\
        .venv/bin/python bench/scale.py --opportunities 1000000

Makes the data set with bench/dataset.py when the database is missing or holds another number
of opportunities (``--regenerate`` to force it), then measures, in this one run:

- pages through the whole Django stack (django.test.Client in this process, production settings
  with DEBUG off): the opportunity list as the biggest rep and as the manager of the biggest
  team (default, filtered by stage, searched by customer name, sorted by amount, page 50), the
  board of the biggest pipeline, the opportunity page of the deal with a 200-event timeline, the
  dashboard, and the API's list and detail. Each: median and p95 over ``--runs`` requests and
  its SQL query count; its floor is the hand-written SQL for the same data (bench/floors.py)
  plus a trivial Django view (a logged-in ``HttpResponse``) timed in the same run;
- every report over the whole data set for a year, against its hand-written SQL;
- expiry of 100,000 overdue deals (the service, with history) against one raw UPDATE; the
  reminder scan; an import of 100,000 rows (in a process of its own, for its peak memory);
- throughput of the rep's list page with 2 gunicorn workers under wrk, against the trivial view: as
  production serves it (pages kept per database snapshot) and rendered each time.

Everything the run changes (expired deals, reminders, imported leads) is put back afterwards.
Writes var/bench/scale-<N>.json and .md; ``--docs docs/PERFORMANCE.md`` also puts the table in
that file between its ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` markers.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import dataset  # noqa: E402  (sys.path first)

TARGETS = {
    "rep": {"median": 30, "p95": 60},
    "manager": {"median": 100, "p95": 200},
}
MAX_QUERIES = 12
MAX_FLOOR_RATIO = 2.0
REPORT_RATIO = 1.5
EXPIRY_RATIO = 3.0
IMPORT_SECONDS = 60
IMPORT_MB = 500
THROUGHPUT_SHARE = 0.40


def _configure_environment(url: str) -> None:
    """Production-like settings: DEBUG off, the bench's URLs (the trivial view), quiet logs."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("LOG_LEVEL", "WARNING")


# --- statistics ------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary(values_ms: list[float]) -> dict:
    return {"median_ms": round(statistics.median(values_ms), 2), "p95_ms": round(p95(values_ms), 2)}


def time_ms(call, runs: int, warmup: int = 2) -> list[float]:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


# --- context: who and what the pages are measured with ------------------------------------------


def run_context() -> dict:
    from django.db import connection

    from crm.dates import company_today
    from teams.models import User

    rep = User.objects.get(username="bench_rep_001")
    manager = User.objects.get(username="bench_manager_01")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT team_id FROM teams_team_members m JOIN teams_team t ON t.id = m.team_id WHERE m.user_id = %s AND t.reps_see_pool",
            [rep.pk],
        )
        pool = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT team_id FROM teams_team_managers WHERE user_id = %s", [manager.pk])
        managed = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT id, pipeline_id FROM opportunities_opportunity WHERE title = %s", [dataset.LONG_HISTORY_TITLE]
        )
        deal, _pipeline = cursor.fetchone()
        cursor.execute('SELECT id FROM stages_pipeline ORDER BY "order" LIMIT 1')
        pipeline = cursor.fetchone()[0]
        # A middle open stage of the biggest pipeline, and a customer-name word that matches a few deals.
        cursor.execute(
            "SELECT id FROM stages_stage WHERE pipeline_id = %s AND kind = 'open' ORDER BY \"order\" OFFSET 2 LIMIT 1",
            [pipeline],
        )
        stage = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM opportunities_opportunity")
        total = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM opportunities_opportunity WHERE owner_id = %s", [rep.pk])
        rep_count = cursor.fetchone()[0]
    today = company_today()
    return {
        "rep": {"role": "rep", "id": rep.pk, "user": rep, "pool": pool, "managed": []},
        "manager": {"role": "manager", "id": manager.pk, "user": manager, "pool": [], "managed": managed},
        "deal": deal,
        "pipeline": pipeline,
        "stage": stage,
        "search": "Harbor",
        # Page 50 of 50 rows, or the last full page of a smaller data set (the API answers 404 past it).
        "page": max(1, min(50, rep_count // 50)),
        "today": today,
        "opportunities": total,
    }


def page_cases(ctx: dict) -> list[dict]:
    """Every measured page: (name, who, url, floor statements)."""
    from bench import floors
    from crm.dates import company_zone
    from opportunities.pagination import LIST_COUNT_BOUND

    def company_midnight(day):
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=company_zone())

    today = ctx["today"]
    month_start = company_midnight(today.replace(day=1))
    expired_since = company_midnight(today - datetime.timedelta(days=30))
    cases = []
    for role in ("rep", "manager"):
        who = ctx[role]
        variants = [
            ("default", "", {}),
            ("stage", f"?stage={ctx['stage']}", {"stage": ctx["stage"]}),
            ("search", f"?q={ctx['search']}", {"search": ctx["search"]}),
            ("amount sort", "?sort=-amount", {"sort": "-amount"}),
            ("close-date sort", "?sort=close", {"sort": "close"}),
            (f"page {ctx['page']}", f"?page={ctx['page']}", {"page": ctx["page"]}),
        ]
        for label, query, options in variants:
            cases.append(
                {
                    "name": f"list ({label})",
                    "role": role,
                    "url": f"/opportunities/{query}",
                    # The page counts no further than its bound ("10,000+"); the API counts exactly.
                    "floor": [
                        *floors.opportunity_list(who, count_limit=LIST_COUNT_BOUND + 1, **options),
                        *floors.list_filters(who),
                        *floors.page_chrome(who),
                    ],
                }
            )
        cases.append(
            {
                "name": "board (biggest pipeline)",
                "role": role,
                "url": f"/opportunities/board/?pipeline={ctx['pipeline']}",
                "floor": [*floors.board(who, pipeline=ctx["pipeline"]), *floors.page_chrome(who)],
            }
        )
        cases.append(
            {
                "name": "dashboard",
                "role": role,
                "url": "/",
                "floor": [
                    *floors.dashboard(who, today=today, month_start_at=month_start, expired_since=expired_since),
                    *floors.page_chrome(who),
                ],
            }
        )
        cases.append(
            {"name": "API list", "role": role, "url": "/api/opportunities/", "floor": floors.opportunity_list(who)}
        )
        cases.append(
            {
                "name": f"API list (page {ctx['page']})",
                "role": role,
                "url": f"/api/opportunities/?page={ctx['page']}",
                "floor": floors.opportunity_list(who, page=ctx["page"]),
            }
        )
    rep = ctx["rep"]
    cases.append(
        {
            "name": "opportunity page (200 events)",
            "role": "rep",
            "url": f"/opportunities/{ctx['deal']}/",
            "floor": [*floors.opportunity_detail(rep, deal=ctx["deal"]), *floors.page_chrome(rep)],
        }
    )
    cases.append(
        {
            "name": "API detail",
            "role": "rep",
            "url": f"/api/opportunities/{ctx['deal']}/",
            "floor": floors.api_detail(rep, deal=ctx["deal"]),
        }
    )
    return cases


# --- pages ---------------------------------------------------------------------------------------


def _run_statements(statements) -> list:
    """Runs every statement, fetching all; returns the first one's rows."""
    from django.db import connection

    first = None
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            first = rows if first is None else first
    return first


def _shown_ids(case: dict, response) -> list[int] | None:
    """The ids of the rows a list shows, in order (None for pages that are not a list)."""
    if case["url"].startswith("/api/opportunities/?") or case["url"] == "/api/opportunities/":
        return [item["id"] for item in response.json()["results"]]
    if case["url"].startswith("/opportunities/?") or case["url"] == "/opportunities/":
        return [int(pk) for pk in re.findall(r'<tr data-id="(\d+)"', response.content.decode())]
    return None


def measure_pages(ctx: dict, *, runs: int, echo=print) -> list[dict]:
    """Each page rendered each time: the pages kept per database snapshot (crm/page_cache.py)
    are off here, or every request after the first would be answered from them and the figures
    would time the cache, not the page. The throughput run measures both."""
    from django.test.utils import override_settings

    with override_settings(JIHUI_PAGE_CACHE_BYTES=0):
        return _measure_pages(ctx, runs=runs, echo=echo)


def _measure_pages(ctx: dict, *, runs: int, echo=print) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients = {}
    for role in ("rep", "manager"):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(ctx[role]["user"])
        clients[role] = client

    def get(client, url):
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        return response

    trivial = {}
    for role, client in clients.items():
        trivial[role] = time_ms(lambda client=client: get(client, "/bench/trivial/"), runs)
    results = []
    for case in page_cases(ctx):
        client = clients[case["role"]]
        with CaptureQueriesContext(connection) as captured:
            response = get(client, case["url"])
        queries = len(captured)
        # The floor must fetch what the page shows: for the lists, the same rows in the same order.
        shown = _shown_ids(case, response)
        same_rows = None if shown is None else shown == [row[0] for row in _run_statements(case["floor"])]
        page_times = time_ms(lambda client=client, url=case["url"]: get(client, url), runs)
        floor_times = time_ms(lambda statements=case["floor"]: _run_statements(statements), runs)
        # Interleaved with the page, the trivial view's time is measured again, so the floor
        # shares the page's moment on this shared machine.
        trivial_times = time_ms(lambda client=client: get(client, "/bench/trivial/"), max(5, runs // 2), warmup=0)
        page = summary(page_times)
        floor_ms = statistics.median(floor_times) + statistics.median(trivial_times)
        targets = TARGETS["manager" if case["role"] == "manager" and case["name"] != "dashboard" else "rep"]
        if case["role"] == "manager" and case["name"] == "dashboard":
            targets = TARGETS["manager"]
        row = {
            "page": case["name"],
            "as": case["role"],
            "url": case["url"],
            **page,
            "queries": queries,
            "bytes": len(response.content) if not hasattr(response, "streaming_content") else None,
            "sql_floor_ms": round(statistics.median(floor_times), 2),
            "trivial_ms": round(statistics.median(trivial_times), 2),
            "floor_ms": round(floor_ms, 2),
            "floor_ratio": round(page["median_ms"] / floor_ms, 2),
            "same_rows": same_rows,
            "target_median_ms": targets["median"],
            "target_p95_ms": targets["p95"],
        }
        row["met"] = (
            row["median_ms"] <= targets["median"]
            and row["p95_ms"] <= targets["p95"]
            and queries <= MAX_QUERIES
            and row["floor_ratio"] <= MAX_FLOOR_RATIO
            and same_rows is not False
        )
        results.append(row)
        echo(
            f"  {case['role']:<8} {case['name']:<32} median {row['median_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
            f"{queries:2d} queries  floor {row['floor_ms']:6.1f} ms ({row['floor_ratio']:.2f}×)  {'ok' if row['met'] else 'MISSED'}"
        )
    return results


# --- reports -------------------------------------------------------------------------------------


def measure_reports(ctx: dict, *, runs: int, echo=print) -> list[dict]:
    from bench import reports_benchmark

    end = ctx["today"]
    start = end - datetime.timedelta(days=365)
    rows = reports_benchmark.measure_reports(runs=runs, start=start, end=end, echo=lambda *args: None)
    for row in rows:
        row["met"] = bool(row.get("agree", True)) and row["ratio"] <= REPORT_RATIO
        echo(
            f"  {row['name']:<12} median {row['median_ms']:8.1f} ms  hand SQL {row['sql_median_ms']:8.1f} ms  "
            f"{row['ratio']:.2f}×  {'ok' if row['met'] else 'MISSED'}"
        )
    return rows


# --- expiry and reminders -----------------------------------------------------------------------


def _vacuum(*tables: str) -> None:
    """VACUUM ANALYZE ``tables`` (default the deals and their status changes; "*" every table),
    then a checkpoint: the index-only reads the pages rely on need the visibility map up to date,
    which autovacuum would bring in its own time after a bulk write."""
    from django.db import connection

    tables = tables or ("opportunities_opportunity", "opportunities_statuschange")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if tables == ("*",) else f"VACUUM ANALYZE {', '.join(tables)}")
        cursor.execute("CHECKPOINT")


def measure_expiry(ctx: dict, *, overdue: int, echo=print) -> dict:
    """Make ``overdue`` open deals overdue, expire them with the service (history rows, row locks),
    put them back, expire them with one raw UPDATE, put them back."""
    from django.db import connection, transaction

    from opportunities.models import Opportunity, StatusChange
    from opportunities.services import opportunities_expire_overdue

    today = ctx["today"]
    reason = "Expired — not confirmed by the expected close date"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM opportunities_opportunity WHERE status = 'open'")
        open_count = cursor.fetchone()[0]
        overdue = min(overdue, open_count)
        # The chosen deals, spread over every rep and pipeline; their dates kept to put back. A
        # data set made on an earlier day has open deals already past their date and grace: the
        # service would expire them too, so they come first among the chosen (and are put back).
        cursor.execute("DROP TABLE IF EXISTS bench_expiry")
        cursor.execute(
            """
            CREATE UNLOGGED TABLE bench_expiry AS
            SELECT o.id, o.expected_close_date, o.version, o.updated_at, p.expiry_grace_days
            FROM opportunities_opportunity o JOIN stages_pipeline p ON p.id = o.pipeline_id
            WHERE o.status = 'open'
            ORDER BY o.expected_close_date < %s::date - p.expiry_grace_days DESC, md5(o.id::text) LIMIT %s
            """,
            [today, overdue],
        )
        cursor.execute("SELECT COALESCE(max(id), 0) FROM opportunities_statuschange")
        last_history = cursor.fetchone()[0]

    def make_overdue():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE opportunities_opportunity o SET expected_close_date = %s::date - e.expiry_grace_days - 1 - (o.id %% 30)::int
                FROM bench_expiry e WHERE e.id = o.id
                """,
                [today],
            )

    def restore():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM opportunities_statuschange WHERE id > %s", [last_history])
            cursor.execute(
                """
                UPDATE opportunities_opportunity o SET status = 'open', closed_at = NULL, close_reason = '',
                    expected_close_date = e.expected_close_date, version = e.version, updated_at = e.updated_at
                FROM bench_expiry e WHERE e.id = o.id
                """
            )

    try:
        make_overdue()
        _vacuum()
        started = time.perf_counter()
        expired = opportunities_expire_overdue(today=today, reason=reason)
        service_s = time.perf_counter() - started
        history = StatusChange.objects.filter(pk__gt=last_history, to_status=Opportunity.Status.EXPIRED).count()
        if not expired == overdue == history:
            raise RuntimeError(f"expected {overdue} expired deals and history rows, got {expired} and {history}")
        restore()
        make_overdue()
        _vacuum()
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE opportunities_opportunity o SET status = 'expired', closed_at = now(), close_reason = %s,
                    version = o.version + 1, updated_at = now()
                FROM stages_pipeline p
                WHERE p.id = o.pipeline_id AND o.status = 'open' AND o.expected_close_date < %s::date - p.expiry_grace_days
                """,
                [reason, today],
            )
            updated = cursor.rowcount
        sql_s = time.perf_counter() - started
        if updated != overdue:
            raise RuntimeError(f"the raw UPDATE expired {updated} deals, not {overdue}")
    finally:
        restore()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_expiry")
        _vacuum()
    ratio = service_s / sql_s
    result = {
        "overdue": overdue,
        "service_s": round(service_s, 2),
        "sql_s": round(sql_s, 2),
        "ratio": round(ratio, 2),
        "history_rows": history,
        "target_ratio": EXPIRY_RATIO,
        "met": ratio <= EXPIRY_RATIO,
    }
    echo(
        f"  expiry of {overdue:,} deals: service {service_s:.2f} s ({history:,} history rows), raw UPDATE {sql_s:.2f} s "
        f"→ {ratio:.2f}×  {'ok' if result['met'] else 'MISSED'}"
    )
    return result


def measure_reminders(ctx: dict, *, echo=print) -> dict:
    """The nightly reminder scan over every open deal (it writes its reminders; removed after)."""
    from django.db import connection

    from notifications.services import reminders_send_due

    tables = ["notifications_reminderrecord", "notifications_notification", "notifications_outboxmessage"]
    with connection.cursor() as cursor:
        marks = {}
        for table in tables:
            cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")  # noqa: S608 (our table names)
            marks[table] = cursor.fetchone()[0]
    try:
        started = time.perf_counter()
        counts = reminders_send_due(today=ctx["today"])
        seconds = time.perf_counter() - started
    finally:
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"DELETE FROM {table} WHERE id > %s", [marks[table]])  # noqa: S608
    result = {"seconds": round(seconds, 2), **counts}
    echo(
        f"  reminder scan: {seconds:.2f} s — {counts['reminders']:,} reminders, {counts['notifications']:,} notifications, "
        f"{counts['emails']:,} e-mails"
    )
    return result


# --- import (in a process of its own, for an honest peak memory) ---------------------------------


# Rows an import writes that are not tied to an opportunity, removed by id after the measurement
# (the rows of every table with an opportunity_id column go with the imported deals).
IMPORT_OWN_TABLES = [
    "opportunities_importrowerror",
    "opportunities_importedrow",
    "opportunities_importjob",
    "notifications_outboxmessage",
]


def _peak_rss_mb() -> float:
    """This process's own peak resident memory: VmHWM, which starts afresh at exec. (getrusage's
    ru_maxrss does not: a child started by this benchmark would report the parent's peak.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_child(rows: int) -> dict:
    """Runs in the child process: write the file, import it as the worker would, report."""
    import tempfile

    from django.core.files import File

    from bench.import_benchmark import write_file
    from opportunities.imports.services import import_job_run, import_leads
    from sources.models import LeadSource
    from stages.models import Pipeline
    from teams.models import Team, User

    media = Path(tempfile.mkdtemp(prefix="jihui-bench-leads-"))
    path = media / "bench-leads.csv"
    write_file(path, rows)
    manager = User.objects.get(username="bench_manager_01")
    team = Team.objects.filter(managers=manager).order_by("pk").first()
    pipeline = Pipeline.objects.order_by("order").first()
    source = LeadSource.objects.filter(channel="trade_show").order_by("pk").first()
    before = _peak_rss_mb()
    started = time.perf_counter()
    with path.open("rb") as handle:
        job = import_leads(
            by=manager,
            file=File(handle, name=path.name),
            enqueue=False,
            source=source,
            pipeline=pipeline,
            team=team,
            close_in_days=90,
            assign="round_robin",
            duplicates="skip",
        )
    job = import_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    peak = _peak_rss_mb()
    import shutil

    shutil.rmtree(media, ignore_errors=True)
    return {
        "rows": rows,
        "status": job.status,
        "created": job.created,
        "skipped": job.skipped,
        "rejected": job.failed,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "rss_before_import_mb": round(before),
        "error": job.error,
    }


def _undo_import(marks: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'opportunity_id' "
            "AND table_schema = current_schema() AND table_name NOT LIKE 'opportunities_import%%'"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f"DELETE FROM {table} WHERE opportunity_id > %s", [marks["opportunities_opportunity"]])  # noqa: S608
        for table in [*IMPORT_OWN_TABLES, "opportunities_opportunity", "customers_contact", "customers_customer"]:
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [marks[table]])  # noqa: S608 (our table names)


def measure_import(*, rows: int, echo=print) -> dict:
    """Import ``rows`` leads in a child process (the worker's code path), then remove them."""
    import tempfile

    from django.db import connection

    marks = {}
    with connection.cursor() as cursor:
        for table in [*IMPORT_OWN_TABLES, "opportunities_opportunity", "customers_contact", "customers_customer"]:
            cursor.execute(f"SELECT COALESCE(max(id), 0) FROM {table}")  # noqa: S608 (our table names)
            marks[table] = cursor.fetchone()[0]
    media = tempfile.mkdtemp(prefix="jihui-bench-media-")
    try:
        completed = subprocess.run(  # noqa: S603 (this interpreter, this file)
            [sys.executable, __file__, "--import-child", str(rows)],
            capture_output=True,
            text=True,
            env={**os.environ, "MEDIA_ROOT": media},
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"the import process failed:\n{completed.stderr[-3000:]}")
        result = json.loads(completed.stdout.strip().splitlines()[-1])
    finally:
        _undo_import(marks)
        _vacuum("*")  # the deletions would leave the next run's index-only reads visiting the heap
        import shutil

        shutil.rmtree(media, ignore_errors=True)
    result["met"] = (
        result["status"] == "done" and result["seconds"] <= IMPORT_SECONDS and result["peak_rss_mb"] <= IMPORT_MB
    )
    echo(
        f"  import of {rows:,} rows: {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']} MB — created "
        f"{result['created']:,}, skipped {result['skipped']:,}, rejected {result['rejected']:,}  {'ok' if result['met'] else 'MISSED'}"
    )
    return result


# --- throughput ----------------------------------------------------------------------------------


def measure_throughput(*, duration: int, echo=print) -> dict:
    from bench import throughput

    result = throughput.measure_throughput(
        username="bench_rep_001", path="/opportunities/", duration=duration, echo=lambda *a: None
    )
    result["met"] = result["ratio"] >= THROUGHPUT_SHARE
    echo(
        f"  throughput: list page {result['page_rps']:.0f} req/s, trivial view {result['trivial_rps']:.0f} req/s → "
        f"{result['ratio'] * 100:.0f} %  {'ok' if result['met'] else 'MISSED'}; rendered each time "
        f"{result['rendered_rps']:.0f} req/s → {result['rendered_ratio'] * 100:.0f} %"
    )
    return result


# --- output --------------------------------------------------------------------------------------


def markdown(result: dict) -> str:
    meta = result["meta"]
    data = meta["dataset"]
    lines = [
        f"Run of {meta['finished_at']} on {meta['machine']} — PostgreSQL {meta['postgres']}, "
        f"{data['opportunities']:,} opportunities ({data['open']:,} open), {data['history_rows']:,} history rows, "
        f"{data['customers']:,} customers; the rep owns {data['biggest_rep']['opportunities']:,} deals "
        f"({data['biggest_rep']['open']:,} open), the manager's team holds {data['biggest_team']['opportunities']:,}. "
        f"Load average at the start {meta['load_average'][0]:.1f}, at the end {meta['load_average_end'][0]:.1f}.",
        "",
        f"Command: `{meta['command']}`",
        "",
        "### Pages and API",
        "",
        "| Page | As | Median ms | p95 ms | Queries | Floor ms (SQL + trivial view) | × floor | Same rows | Target | Met |",
        "|---|---|---:|---:|---:|---:|---:|:-:|---|:-:|",
    ]
    for row in result.get("pages", []):
        lines.append(
            f"| {row['page']} | {row['as']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} | {row['queries']} | "
            f"{row['floor_ms']:.1f} ({row['sql_floor_ms']:.1f} + {row['trivial_ms']:.1f}) | {row['floor_ratio']:.2f} | "
            f"{ {True: '✓', False: '✗', None: '—'}[row['same_rows']] } | "
            f"≤ {row['target_median_ms']} / {row['target_p95_ms']} ms, ≤ {MAX_QUERIES} queries, ≤ {MAX_FLOOR_RATIO:g}× | "
            f"{'✓' if row['met'] else '✗'} |"
        )
    if result.get("reports"):
        lines += [
            "",
            f"### Reports (a year, every deal, as the admin; target ≤ {REPORT_RATIO:g}× the hand-written SQL)",
            "",
            "| Report | Median ms | p95 ms | Hand SQL ms | × SQL | Queries | Same figures | Met |",
            "|---|---:|---:|---:|---:|---:|:-:|:-:|",
        ]
        for row in result["reports"]:
            lines.append(
                f"| {row['name']} | {row['median_ms']:.0f} | {row.get('p95_ms', 0):.0f} | {row['sql_median_ms']:.0f} | "
                f"{row['ratio']:.2f} | {row.get('queries', '')} | {'✓' if row.get('agree', True) else '✗'} | {'✓' if row['met'] else '✗'} |"
            )
    jobs = []
    if result.get("expiry"):
        e = result["expiry"]
        jobs.append(
            f"| Expiry of {e['overdue']:,} overdue deals | service {e['service_s']:.2f} s ({e['history_rows']:,} history rows) "
            f"vs raw UPDATE {e['sql_s']:.2f} s = {e['ratio']:.2f}× | ≤ {EXPIRY_RATIO:g}× | {'✓' if e['met'] else '✗'} |"
        )
    if result.get("reminders"):
        r = result["reminders"]
        jobs.append(
            f"| Reminder scan | {r['seconds']:.2f} s ({r['reminders']:,} reminders, {r['notifications']:,} notifications, "
            f"{r['emails']:,} e-mails) | — | — |"
        )
    if result.get("import"):
        i = result["import"]
        jobs.append(
            f"| Import of {i['rows']:,} rows (GBK CSV) | {i['seconds']:.1f} s, peak RSS {i['peak_rss_mb']} MB "
            f"({i['created']:,} created, {i['skipped']:,} skipped, {i['rejected']:,} rejected) | ≤ {IMPORT_SECONDS} s, ≤ {IMPORT_MB} MB | "
            f"{'✓' if i['met'] else '✗'} |"
        )
    if result.get("throughput"):
        t = result["throughput"]
        jobs.append(
            f"| Throughput, rep's list page, {t['workers']} gunicorn workers, wrk {t['connections']} connections {t['duration_s']} s | "
            f"{t['page_rps']:.0f} req/s vs trivial view {t['trivial_rps']:.0f} req/s = {t['ratio'] * 100:.0f} % "
            f"(pages kept per database snapshot; rendered each time: {t['rendered_rps']:.0f} req/s = "
            f"{t['rendered_ratio'] * 100:.0f} %) | "
            f"≥ {THROUGHPUT_SHARE * 100:.0f} % | {'✓' if t['met'] else '✗'} |"
        )
    if jobs:
        lines += [
            "",
            "### Jobs, import and throughput",
            "",
            "| What | Measured | Target | Met |",
            "|---|---|---|:-:|",
            *jobs,
        ]
    return "\n".join(lines) + "\n"


def write_docs(path: Path, table: str) -> None:
    text = path.read_text()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin not in text or end not in text:
        raise SystemExit(f"{path} has no {begin} … {end} markers")
    head, rest = text.split(begin, 1)
    _old, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{table}{end}{tail}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true", help="make the data set again even if it is there")
    parser.add_argument("--runs", type=int, default=30, help="requests per page (default 30)")
    parser.add_argument("--report-runs", type=int, default=5)
    parser.add_argument(
        "--overdue", type=int, default=100_000, help="deals made overdue for the expiry (default 100,000)"
    )
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--throughput-seconds", type=int, default=15)
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["pages", "reports", "expiry", "reminders", "import", "throughput"],
    )
    parser.add_argument("--output-dir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--docs", help="put the table into this Markdown file, between its bench markers")
    parser.add_argument("--import-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", dataset.DEFAULT_URL)
    dataset.check_url(url)
    _configure_environment(url)
    import django

    if args.import_child:
        django.setup()
        print(json.dumps(import_child(args.import_child)))
        return {}

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    load_start = os.getloadavg()
    generated = None
    counts = None
    if not args.regenerate and dataset.database_exists(url):
        call_command("migrate", verbosity=0)
        counts = dataset.dataset_counts()
    if args.regenerate or counts is None or counts["opportunities"] != args.opportunities:
        print(f"Generating the data set: {args.opportunities:,} opportunities")
        generated = dataset.create(url, args.opportunities)
        counts = dataset.dataset_counts()
    call_command("collectstatic", interactive=False, verbosity=0)

    # A run starts from a vacuumed data set, whatever an earlier run (or an interrupted one) wrote.
    _vacuum("*")
    ctx = run_context()
    print(f"Measuring on {counts['opportunities']:,} opportunities ({counts['open']:,} open)")
    result = {}
    if "pages" not in args.skip:
        print("Pages and API:")
        result["pages"] = measure_pages(ctx, runs=args.runs)
    if "reports" not in args.skip:
        print("Reports:")
        result["reports"] = measure_reports(ctx, runs=args.report_runs)
    if "reminders" not in args.skip:
        print("Reminders:")
        result["reminders"] = measure_reminders(ctx)
    if "expiry" not in args.skip:
        print("Expiry:")
        result["expiry"] = measure_expiry(ctx, overdue=args.overdue)
    if "import" not in args.skip:
        print("Import:")
        result["import"] = measure_import(rows=args.import_rows)
    if "throughput" not in args.skip:
        print("Throughput:")
        result["throughput"] = measure_throughput(duration=args.throughput_seconds)
    command = "DATABASE_URL=" + url.split("@")[-1].join(["postgres://…@", ""]) + " .venv/bin/python bench/scale.py"
    command += " " + " ".join(argv if argv is not None else sys.argv[1:])
    result["meta"] = {
        "command": command.strip(),
        "finished_at": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "postgres": ".".join(str(part) for part in divmod(connection.pg_version, 10000)),
        "python": platform.python_version(),
        "load_average": load_start,
        "load_average_end": os.getloadavg(),
        "dataset": counts,
        "generated": generated,
    }
    missed = [row for key in ("pages", "reports") for row in result.get(key, []) if not row["met"]]
    missed += [result[key] for key in ("expiry", "import", "throughput") if key in result and not result[key]["met"]]
    result["meta"]["targets_missed"] = len(missed)
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    stem = output / f"scale-{counts['opportunities']}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    table = markdown(result)
    stem.with_suffix(".md").write_text(table)
    print()
    print(table)
    print(f"written: {stem}.json, {stem}.md ({result['meta']['seconds']:.0f} s); targets missed: {len(missed)}")
    if args.docs:
        write_docs(Path(args.docs), table)
        print(f"table written into {args.docs}")
    return result


if __name__ == "__main__":
    main()
