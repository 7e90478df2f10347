"""Lead import benchmark: a 100,000-row GBK CSV (as Chinese Excel writes it) into PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jihui_bench_import \
        .venv/bin/python bench/import_benchmark.py [--rows 100000] [--assign round_robin] [--reimport]

The database named in DATABASE_URL is dropped and created afresh (its name must start with
``jihui_bench``). The import runs in this process exactly as the worker runs it
(``import_job_run``), round-robin over 3 reps, with 1 % broken rows and 1 % duplicates.
Reported: seconds for the import, rows/s, peak RSS of the process, and the ratio to
PostgreSQL's own time to COPY the same file into a plain table (the floor for loading it).
"""

import argparse
import csv
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jihui_bench_import"

HEADERS = ["公司名称", "联系人", "职位", "手机", "邮箱", "国家", "微信", "意向产品", "预计金额", "备注"]
COUNTRIES = ["中国", "德国", "美国", "巴西", "印度", "越南", "Nigeria", "UAE"]
PRODUCTS = ["LED灯", "水泵", "太阳能板", "电动工具", "家具", "纺织品"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_file(path: Path, rows: int) -> None:
    """Streamed to disk, so generating it costs no memory."""
    with path.open("w", encoding="gbk", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for n in range(1, rows + 1):
            company = "" if n % 100 == 0 else f"深圳市第{n}号电子科技有限公司"
            email_n = n - 1 if n % 100 == 50 else n  # 1 % repeat the previous row's person
            writer.writerow(
                [
                    company,
                    f"张{n}",
                    "采购经理",
                    f"1{38000000000 + n}",
                    f"buyer{email_n}@factory{email_n}.cn",
                    COUNTRIES[n % len(COUNTRIES)],
                    f"wx{n}",
                    PRODUCTS[n % len(PRODUCTS)],
                    str(1000 + n % 9000),
                    f"广交会名片 第{n}张, 展位 {n % 500}",
                ]
            )


def fresh_database(url: str) -> None:
    import dj_database_url
    import psycopg2

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if not name.startswith("jihui_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the benchmark database name must start with jihui_bench")
    connection = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"] or None,
        host=config["HOST"] or None,
        port=config["PORT"] or None,
    )
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def postgres_copy_seconds(path: Path) -> float:
    """PostgreSQL's own time to load the same file (COPY into an unlogged table of text columns)."""
    from django.db import connection

    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE bench_copy ({columns})")
        started = time.perf_counter()
        with path.open("rb") as f:
            cursor.cursor.copy_expert("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'GBK')", f)
        seconds = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--assign", default="round_robin", choices=["pool", "round_robin", "least_loaded"])
    parser.add_argument("--reimport", action="store_true", help="then import the same file again (creates nothing)")
    args = parser.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    media = tempfile.mkdtemp(prefix="jihui-bench-media-")
    os.environ["MEDIA_ROOT"] = media
    fresh_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command

    from opportunities.imports.services import import_job_run, import_leads
    from opportunities.models import Assignment, Opportunity
    from stages.services import pipeline_create
    from teams.models import Team, User

    call_command("migrate", verbosity=0)
    manager = User.objects.create_user("bench_manager")
    reps = [User.objects.create_user(f"bench_rep{i}") for i in range(1, 4)]
    team = Team.objects.create(name="外贸一部")
    team.managers.add(manager)
    team.members.add(*reps)
    pipeline = pipeline_create(
        name="Bench",
        stages=[
            {"name": "取得销售机会", "probability": 10},
            {"name": "报价", "probability": 60},
            {"name": "赢单", "probability": 100, "kind": "won"},
            {"name": "输单", "probability": 0, "kind": "lost"},
        ],
    )
    from sources.models import LeadSource

    source = LeadSource.objects.create(name="2026春季广交会", channel="trade_show")

    path = Path(media) / "bench-leads.csv"
    write_file(path, args.rows)
    size_mb = path.stat().st_size / (1 << 20)
    rss_before = peak_rss_mb()

    def run_once() -> tuple[float, object]:
        started = time.perf_counter()
        with path.open("rb") as f:
            job = import_leads(
                by=manager,
                file=File(f, name=path.name),
                enqueue=False,
                source=source,
                pipeline=pipeline,
                team=team,
                close_in_days=90,
                assign=args.assign,
                duplicates="skip",
            )
        job = import_job_run(job_id=job.pk)
        return time.perf_counter() - started, job

    seconds, job = run_once()
    peak = peak_rss_mb()
    copy_seconds = postgres_copy_seconds(path)
    owners = Opportunity.objects.exclude(owner=None).values("owner").order_by().distinct().count()
    print(f"file: {args.rows:,} rows, {size_mb:.1f} MB, GBK CSV")
    print(
        f"import #{job.pk}: {job.status}; created {job.created:,}, skipped {job.skipped:,}, rejected {job.failed:,}; "
        f"{job.customers_created:,} customers, {job.contacts_created:,} contacts; "
        f"{Assignment.objects.count():,} assignment rows over {owners} reps"
    )
    print(f"import time: {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s)")
    print(f"peak RSS: {peak:.0f} MB (after Django set-up, before the import: {rss_before:.0f} MB)")
    print(f"PostgreSQL COPY of the same file: {copy_seconds:.2f} s → import/COPY ratio {seconds / copy_seconds:.0f}×")
    if job.error:
        print(f"error: {job.error}")
    if args.reimport:
        seconds, again = run_once()
        print(
            f"re-import of the same file: {seconds:.1f} s; created {again.created:,}, skipped {again.skipped:,}, "
            f"rejected {again.failed:,}; peak RSS {peak_rss_mb():.0f} MB"
        )
    print(f"load average: {os.getloadavg()[0]:.1f} (2 cores; other work on the machine slows every figure)")
    shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
