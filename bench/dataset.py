#!/usr/bin/env python
# ruff: noqa: E501  (long lines are SQL inside strings, kept readable as SQL)
"""The one data set every benchmark runs on: N opportunities shaped like a real exporter's CRM.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/jihui_bench \\
        .venv/bin/python bench/dataset.py --opportunities 1000000

Drops and re-creates the database named in DATABASE_URL (its name must start with
``jihui_bench``), migrates it, and fills it:

- 20 teams, 200 reps and one manager per team, plus ``bench_admin``. Deals are skewed the way
  sales are: rep shares follow a Zipf law (exponent 0.6), so ``bench_rep_001`` holds about 5 %
  of all deals and team 1 (``bench_manager_01``, reps 001–010) about 24 %; 2 % of open deals
  wait unassigned in their team's pool.
- 5 pipelines of 6–10 stages (40/25/15/12/8 % of deals; "Bench pipeline 1" is the biggest),
  each with a gated sample stage; 60 lead sources over six channels (Zipf-skewed);
  150,000 customers (Chinese and English names) with a contact each; 5 currencies.
- A year and a half of deals, more of them recent; 25 % open (a deal's chance to be still open
  falls with its age), the rest won 30 % / lost 55 % / expired 15 %. Amounts log-skewed from
  1,000 to about 2,000,000.
- History written as the services write it, about 5 rows per deal: the first assignment (10 %
  reassigned later), stage changes, close-date pushes, the closing status change (2 % of lost
  deals expired and were reopened first), amount edits, and 0–4 activities.
- One deal, "Bench deal with a long history", owned by ``bench_rep_001``, with 200 more
  timeline events, for the opportunity page.

Every bench user's password is ``bench-password``. Opportunities and history are written with
INSERT … SELECT (set-based, in the server), customers and contacts with COPY; secondary indexes
are dropped for the load and built once at the end, then VACUUM ANALYZE. The random draws come
from ``setseed``, so the same N gives the same data.
"""

import argparse
import datetime
import io
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/jihui_bench"
PASSWORD = "bench-password"  # noqa: S105 (bench users only, in a jihui_bench… database)
ADMIN = "bench_admin"
TEAMS = 20
REPS_PER_TEAM = 10
REP_SKEW = 0.6  # Zipf exponent of the reps' deal shares
SOURCES = 60
CUSTOMERS = 150_000
HISTORY_DAYS = 540
OPEN_DECAY_DAYS = 100  # P(still open) = exp(-age / 100): 25 % open over 540 days of skewed ages
LONG_HISTORY_TITLE = "Bench deal with a long history"
LONG_HISTORY_EVENTS = 200

# (name, share of deals, open stages with their probability); each pipeline also gets Won and Lost.
PIPELINES = [
    (
        "Bench pipeline 1",
        0.40,
        [
            ("New lead", 10),
            ("Contacted", 15),
            ("Needs known", 25),
            ("Sample", 35),
            ("Factory visit", 45),
            ("Quote", 60),
            ("Negotiation", 75),
            ("Contract", 90),
        ],
    ),
    (
        "Bench pipeline 2",
        0.25,
        [("New lead", 10), ("Qualified", 25), ("Sample", 40), ("Quote", 60), ("Negotiation", 80)],
    ),
    ("Bench pipeline 3", 0.15, [("Inquiry", 10), ("Sample", 30), ("Quote", 60), ("Deposit", 85)]),
    (
        "Bench pipeline 4",
        0.12,
        [("Inquiry", 10), ("Contacted", 20), ("Sample", 35), ("Quote", 55), ("Negotiation", 70), ("Deposit", 90)],
    ),
    (
        "Bench pipeline 5",
        0.08,
        [
            ("New lead", 15),
            ("Meeting", 30),
            ("Proposal", 50),
            ("Negotiation", 70),
            ("Verbal yes", 85),
            ("Contract", 90),
            ("Deposit", 95),
        ],
    ),
]
CURRENCIES = [
    ("CNY", 0.45, "1"),
    ("USD", 0.40, "7.10"),
    ("EUR", 0.10, "7.75"),
    ("GBP", 0.03, "9.05"),
    ("JPY", 0.02, "0.048"),
]
CHANNELS = ["trade_show", "online_platform", "referral", "website", "cold_call", "other"]
FAIRS = [
    "Canton Fair",
    "Hong Kong Electronics Fair",
    "Yiwu Fair",
    "Hannover Messe",
    "CES",
    "Big 5 Dubai",
    "Automechanika",
    "Ambiente",
    "China Import Expo",
    "Intersolar",
]
PLATFORMS = ["Alibaba.com", "Made-in-China", "Global Sources", "DHgate", "Amazon Business", "TradeIndia"]
PRODUCTS = [
    "LED灯",
    "Solar panels",
    "水泵",
    "Power tools",
    "家具",
    "Textiles",
    "电动工具",
    "Valves",
    "太阳能板",
    "Bearings",
    "锂电池",
    "Kitchenware",
]
CITIES = ["深圳市", "宁波市", "义乌市", "佛山市", "东莞市", "青岛市", "厦门市", "苏州市"]
CORES_ZH = ["华强", "远航", "宏达", "金辉", "鑫源", "恒通", "瑞丰", "博达", "天成", "永盛", "海纳", "中联"]
TRADES_ZH = ["电子科技", "五金制品", "照明电器", "进出口贸易", "机械设备", "家居用品"]
CORES_EN = [
    "Atlas",
    "Nordic",
    "Sunrise",
    "Pioneer",
    "Harbor",
    "Summit",
    "Evergreen",
    "Orion",
    "Delta",
    "Crescent",
    "Falcon",
    "Meridian",
    "Sahara",
    "Andes",
    "Baltic",
    "Pacific",
]
TRADES_EN = ["Trading", "Imports", "Lighting", "Hardware", "Home", "Energy", "Tools", "Supply"]
SUFFIXES_EN = ["GmbH", "LLC", "Ltd", "S.A.", "B.V.", "Pty Ltd", "Inc.", "FZE"]
COUNTRIES = ["DE", "US", "BR", "IN", "VN", "NG", "AE", "GB", "FR", "MX", "PL", "ZA", "CN"]
ACTIVITY_KINDS = ["call", "email", "note", "meeting", "sample", "quote", "visit", "call", "email", "email"]

# The tables written in bulk: their secondary indexes are dropped for the load and built after.
BULK_TABLES = (
    "customers_customer",
    "customers_contact",
    "opportunities_opportunity",
    "opportunities_assignment",
    "opportunities_stagechange",
    "opportunities_closedatechange",
    "opportunities_statuschange",
    "opportunities_fieldchange",
    "opportunities_activity",
)


def check_url(url: str) -> None:
    import dj_database_url

    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database, e.g. " + DEFAULT_URL)
    name = dj_database_url.parse(url)["NAME"]
    if not name.startswith("jihui_bench"):
        raise SystemExit(f"Refusing to touch database {name!r}: a bench database's name starts with jihui_bench.")


def admin_connection(url: str):
    import dj_database_url
    import psycopg2

    params = dj_database_url.parse(url)
    connection = psycopg2.connect(
        dbname="postgres",
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"],
        port=params["PORT"] or 5432,
    )
    connection.autocommit = True
    return connection, params["NAME"]


def recreate_database(url: str) -> None:
    """Drop and create the bench database (named jihui_bench…, checked) — nothing else is touched."""
    from psycopg2 import sql

    check_url(url)
    connection, name = admin_connection(url)
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection.close()


def database_exists(url: str) -> bool:
    connection, name = admin_connection(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cursor.fetchone() is not None
    connection.close()
    return found


def zipf_thresholds(count: int, exponent: float) -> list[float]:
    """Cumulative upper bounds of ``count`` Zipf shares, for SQL's width_bucket (last one left out)."""
    weights = [rank**-exponent for rank in range(1, count + 1)]
    return _cumulative(weights)


def _cumulative(weights) -> list[float]:
    total = sum(weights)
    bounds, running = [], 0.0
    for weight in weights[:-1]:
        running += weight
        bounds.append(running / total)
    return bounds


# --- configuration rows (ORM: few, and they go through the models' own saving) ------------------


def _configuration(now: datetime.datetime) -> dict:
    from django.contrib.auth.hashers import make_password

    from opportunities.models import CurrencyRate, LostReason
    from reports.models import IncentivePolicy
    from sources.models import LeadSource
    from stages.models import Pipeline, Stage
    from teams.models import Team, User

    today = now.date()
    password = make_password(PASSWORD)  # hashed once: 221 users share it
    User.objects.create(
        username=ADMIN, password=password, is_staff=True, is_superuser=True, email="admin@bench.test", language="en"
    )
    reps, rep_teams = [], []
    for t in range(1, TEAMS + 1):
        team = Team.objects.create(name=f"Bench team {t:02d}", reps_see_pool=t % 4 != 0)
        manager = User.objects.create(
            username=f"bench_manager_{t:02d}",
            password=password,
            email=f"manager{t}@bench.test",
            first_name="Manager",
            last_name=f"{t:02d}",
            language="zh-hans" if t % 2 else "en",
        )
        team.managers.add(manager)
        members = []
        for r in range(REPS_PER_TEAM):
            number = (t - 1) * REPS_PER_TEAM + r + 1
            members.append(
                User(
                    username=f"bench_rep_{number:03d}",
                    password=password,
                    email=f"rep{number}@bench.test",
                    first_name="Rep",
                    last_name=f"{number:03d}",
                    language="zh-hans" if number % 3 else "en",
                )
            )
        members = User.objects.bulk_create(members)
        team.members.add(*members)
        reps.extend(members)
        rep_teams.extend([team.pk] * len(members))

    pipelines = []
    for order, (name, _share, open_stages) in enumerate(PIPELINES, start=1):
        pipeline = Pipeline.objects.create(name=name, order=order, expiry_grace_days=3 if order == 1 else 0)
        stages = []
        for k, (stage_name, probability) in enumerate(open_stages, start=1):
            stages.append(
                Stage(
                    pipeline=pipeline,
                    name=stage_name,
                    order=k * 10,
                    probability=probability,
                    rotting_days=14 + 7 * (k % 3),
                    requires_attachment=stage_name == "Sample",
                    requires_tracking_number=stage_name == "Sample",
                )
            )
        stages.append(Stage(pipeline=pipeline, name="Won", order=900, probability=100, kind=Stage.Kind.WON))
        stages.append(Stage(pipeline=pipeline, name="Lost", order=910, probability=0, kind=Stage.Kind.LOST))
        stages = Stage.objects.bulk_create(stages)
        pipelines.append((pipeline, stages))

    sources = []
    for s in range(SOURCES):
        channel = CHANNELS[s % len(CHANNELS)]
        if channel == "trade_show":
            name = f"{FAIRS[s // len(CHANNELS) % len(FAIRS)]} {2025 + s // 30}-{'AB'[s % 2]} #{s + 1}"
            start = today - datetime.timedelta(days=30 + (s * 37) % (HISTORY_DAYS - 30))
            end = start + datetime.timedelta(days=4)
        elif channel == "online_platform":
            name, start, end = f"{PLATFORMS[s % len(PLATFORMS)]} #{s + 1}", None, None
        else:
            name, start, end = f"{channel.replace('_', ' ').title()} #{s + 1}", None, None
        sources.append(
            LeadSource(
                name=name,
                channel=channel,
                start_date=start,
                end_date=end,
                cost_money=Decimal(5000 + (s * 7919) % 200_000),
                manpower_days=Decimal(s % 12),
                day_rate=Decimal("800.00"),
            )
        )
    sources = LeadSource.objects.bulk_create(sources)
    lost_reasons = LostReason.objects.bulk_create(
        [
            LostReason(name=name, order=i)
            for i, name in enumerate(["Price", "Competitor", "No budget", "Quality", "No reply"])
        ]
    )
    for currency, _share, rate in CURRENCIES[1:]:
        CurrencyRate.objects.create(
            currency=currency, rate=Decimal(rate), valid_from=today - datetime.timedelta(days=HISTORY_DAYS + 30)
        )
    IncentivePolicy.objects.create(
        effective_from=today - datetime.timedelta(days=HISTORY_DAYS + 30), base_reward=Decimal("1000")
    )
    IncentivePolicy.objects.create(
        effective_from=today - datetime.timedelta(days=180),
        base_reward=Decimal("1200"),
        new_customer_bonus=Decimal("300"),
        new_product_bonus=Decimal("200"),
    )
    return {
        "reps": [rep.pk for rep in reps],
        "rep_teams": rep_teams,
        "pipelines": pipelines,
        "sources": [source.pk for source in sources],
        "lost_reasons": [reason.pk for reason in lost_reasons],
    }


# --- customers and contacts (COPY) ------------------------------------------------------------------


def _customer_name(rng: random.Random, n: int) -> str:
    if rng.random() < 0.45:
        return f"{rng.choice(CITIES)}{rng.choice(CORES_ZH)}{rng.choice(TRADES_ZH)}有限公司 {n}"
    return f"{rng.choice(CORES_EN)} {rng.choice(TRADES_EN)} {n} {rng.choice(SUFFIXES_EN)}"


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if value is None else str(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def _customers(cursor, count: int, now: datetime.datetime) -> tuple[int, int]:
    from customers.normalize import normalize_company, normalize_email, normalize_phone

    rng = random.Random(8)
    customers, contacts = [], []
    for n in range(1, count + 1):
        name = _customer_name(rng, n)
        created = now - datetime.timedelta(days=HISTORY_DAYS * rng.random() ** 0.7)
        customers.append(
            (
                n,
                created.isoformat(),
                created.isoformat(),
                name,
                normalize_company(name),
                rng.choice(COUNTRIES),
                "",
                "",
                "",
            )
        )
        phone = f"+86 138 {n:08d}"
        email = f"buyer{n}@customer{n}.example"
        contacts.append(
            (
                n,
                created.isoformat(),
                created.isoformat(),
                f"Buyer {n}",
                "Purchasing",
                phone,
                normalize_phone(phone),
                email,
                normalize_email(email),
                f"wx{n}",
                "",
                n,
            )
        )
    _copy(
        cursor,
        "customers_customer",
        ["id", "created_at", "updated_at", "name", "name_normalized", "country", "website", "industry", "notes"],
        customers,
    )
    _copy(
        cursor,
        "customers_contact",
        [
            "id",
            "created_at",
            "updated_at",
            "name",
            "title",
            "phone",
            "phone_normalized",
            "email",
            "email_normalized",
            "wechat",
            "whatsapp",
            "customer_id",
        ],
        contacts,
    )
    return 1, 1  # the first ids


# --- opportunities and history (INSERT … SELECT in the server) ------------------------------------


def _lookup_tables(cursor, config: dict) -> None:
    """Small temporary tables the big statements join to: reps, pipelines, stages, sources."""
    cursor.execute("CREATE TEMP TABLE b_rep (idx int PRIMARY KEY, user_id bigint, team_id bigint, mate_id bigint)")
    reps, teams = config["reps"], config["rep_teams"]
    rows = []
    for idx, (user_id, team_id) in enumerate(zip(reps, teams, strict=True), start=1):
        first_of_team = (idx - 1) // REPS_PER_TEAM * REPS_PER_TEAM
        mate = reps[first_of_team + idx % REPS_PER_TEAM]  # another rep of the same team
        rows.append((idx, user_id, team_id, mate))
    cursor.executemany("INSERT INTO b_rep VALUES (%s, %s, %s, %s)", rows)
    cursor.execute(
        "CREATE TEMP TABLE b_pipe (idx int PRIMARY KEY, pipeline_id bigint, won_id bigint, lost_id bigint, n_open int)"
    )
    cursor.execute(
        "CREATE TEMP TABLE b_stage (pipe_idx int, k int, stage_id bigint, probability int, PRIMARY KEY (pipe_idx, k))"
    )
    for idx, (pipeline, stages) in enumerate(config["pipelines"], start=1):
        open_stages = [s for s in stages if s.kind == "open"]
        won = next(s for s in stages if s.kind == "won")
        lost = next(s for s in stages if s.kind == "lost")
        cursor.execute(
            "INSERT INTO b_pipe VALUES (%s, %s, %s, %s, %s)", [idx, pipeline.pk, won.pk, lost.pk, len(open_stages)]
        )
        cursor.executemany(
            "INSERT INTO b_stage VALUES (%s, %s, %s, %s)",
            [(idx, k, s.pk, s.probability) for k, s in enumerate(open_stages)]
            + [(idx, -1, won.pk, 100), (idx, -2, lost.pk, 0)],
        )
    cursor.execute("CREATE TEMP TABLE b_source (idx int PRIMARY KEY, source_id bigint)")
    cursor.executemany("INSERT INTO b_source VALUES (%s, %s)", list(enumerate(config["sources"], start=1)))
    cursor.execute("CREATE TEMP TABLE b_currency (idx int PRIMARY KEY, code text, rate numeric)")
    cursor.executemany(
        "INSERT INTO b_currency VALUES (%s, %s, %s)",
        [(idx, code, Decimal(rate)) for idx, (code, _share, rate) in enumerate(CURRENCIES, start=1)],
    )
    cursor.execute("ANALYZE b_rep, b_pipe, b_stage, b_source, b_currency")


def _deals(cursor, n: int, customers: int, config: dict, now: datetime.datetime) -> None:
    """b_deal: one row per opportunity with every draw and derived value the inserts need."""
    params = {
        "n": n,
        "now": now,
        "days": HISTORY_DAYS,
        "decay": OPEN_DECAY_DAYS,
        "customers": customers,
        "rep_bounds": zipf_thresholds(len(config["reps"]), REP_SKEW),
        "pipe_bounds": _cumulative([share for _name, share, _stages in PIPELINES]),
        "source_bounds": zipf_thresholds(SOURCES, 1.0),
        "currency_bounds": _cumulative([share for _code, share, _rate in CURRENCIES]),
        "lost_reasons": config["lost_reasons"],
    }
    cursor.execute("SELECT setseed(0.42)")
    # Draws first, in a table of their own: random() is evaluated exactly once per row and column.
    cursor.execute(
        """
        CREATE UNLOGGED TABLE b_draw AS
        SELECT i, random() AS r_age, random() AS r_open, random() AS r_outcome, random() AS r_close,
               random() AS r_rep, random() AS r_pool, random() AS r_pipe, random() AS r_stage,
               random() AS r_amount, random() AS r_currency, random() AS r_source, random() AS r_customer,
               random() AS r_push, random() AS r_flags, random() AS r_activity, random() AS r_date
        FROM generate_series(1, %(n)s) AS i
        """,
        params,
    )
    cursor.execute(
        """
        CREATE UNLOGGED TABLE b_deal AS
        SELECT d.i AS id, d.created_at, d.status,
               CASE WHEN d.status = 'open' THEN NULL
                    ELSE d.created_at + LEAST(d.age, 150) * d.r_close * interval '1 day' + interval '1 hour' END AS closed_at,
               d.rep_idx, CASE WHEN d.status = 'open' AND d.r_pool < 0.02 THEN NULL ELSE r.user_id END AS owner_id,
               r.team_id, r.mate_id, d.pipe_idx,
               CASE d.status WHEN 'won' THEN -1 WHEN 'lost' THEN -2
                    ELSE floor(p.n_open * power(d.r_stage, 1.6))::int END AS k,
               CASE WHEN d.r_amount < 0.03 THEN NULL
                    ELSE round(power(10, 3 + 3.3 * power(d.r_amount, 2.2))::numeric, -2) END AS amount,
               width_bucket(d.r_currency, %(currency_bounds)s::float8[]) + 1 AS currency_idx,
               width_bucket(d.r_source, %(source_bounds)s::float8[]) + 1 AS source_idx,
               1 + floor(%(customers)s * power(d.r_customer, 2.5))::int AS customer_id,
               CASE WHEN d.r_push < 0.60 THEN 0 WHEN d.r_push < 0.85 THEN 1 WHEN d.r_push < 0.95 THEN 2 ELSE 3 END AS pushes,
               floor(d.r_activity * d.r_activity * 5)::int AS activities,
               d.r_flags, d.r_date, d.r_stage, d.r_pool,
               (%(lost_reasons)s::bigint[])[1 + (d.i %% 5)] AS lost_reason_id
        FROM (
            SELECT x.*, CASE WHEN x.r_open < exp(-x.age / %(decay)s) THEN 'open'
                             WHEN x.r_outcome < 0.30 THEN 'won' WHEN x.r_outcome < 0.85 THEN 'lost'
                             ELSE 'expired' END AS status
            FROM (
                SELECT b.*, %(days)s * power(b.r_age, 1.3) AS age,
                       %(now)s::timestamptz - %(days)s * power(b.r_age, 1.3) * interval '1 day' AS created_at,
                       width_bucket(b.r_rep, %(rep_bounds)s::float8[]) + 1 AS rep_idx,
                       width_bucket(b.r_pipe, %(pipe_bounds)s::float8[]) + 1 AS pipe_idx
                FROM b_draw b
            ) x
        ) d
        JOIN b_rep r ON r.idx = d.rep_idx
        JOIN b_pipe p ON p.idx = d.pipe_idx
        """,
        params,
    )
    cursor.execute("DROP TABLE b_draw")
    # Dates and times derived from the draws: when the deal was last touched, its close date.
    cursor.execute(
        """
        ALTER TABLE b_deal ADD COLUMN ended_at timestamptz, ADD COLUMN expected_close_date date,
            ADD COLUMN stage_entered_at timestamptz, ADD COLUMN last_activity_at timestamptz,
            ADD COLUMN stage_id bigint, ADD COLUMN first_stage_id bigint, ADD COLUMN probability int,
            ADD COLUMN first_probability int
        """
    )
    cursor.execute(
        """
        UPDATE b_deal d SET
            ended_at = COALESCE(d.closed_at, %(now)s::timestamptz),
            expected_close_date = CASE WHEN d.status = 'open'
                                       THEN (%(now)s::timestamptz + floor(d.r_date * 180) * interval '1 day')::date
                                       ELSE (d.closed_at + (floor(d.r_date * 30) - 10) * interval '1 day')::date END,
            stage_id = s.stage_id, probability = s.probability,
            first_stage_id = f.stage_id, first_probability = f.probability
        FROM b_stage s, b_stage f
        WHERE s.pipe_idx = d.pipe_idx AND s.k = d.k
          AND f.pipe_idx = d.pipe_idx AND f.k = 0
        """,
        {"now": now},
    )
    cursor.execute(
        """
        UPDATE b_deal SET
            stage_entered_at = CASE WHEN stage_id = first_stage_id THEN created_at
                                    ELSE created_at + (ended_at - created_at) * (0.3 + 0.6 * r_stage) END,
            last_activity_at = CASE WHEN activities = 0 THEN NULL
                                    ELSE created_at + (ended_at - created_at) * activities / (activities + 1) END
        """
    )
    cursor.execute("ALTER TABLE b_deal ADD PRIMARY KEY (id)")
    cursor.execute("ANALYZE b_deal")


def _insert_opportunities(cursor, now: datetime.datetime) -> None:
    cursor.execute(
        """
        INSERT INTO opportunities_opportunity (
            id, created_at, updated_at, title, description, status, amount, currency, exchange_rate, amount_base,
            probability, probability_is_manual, difficulty, is_new_customer, is_new_product, expected_close_date,
            close_date_pushes, stage_entered_at, last_activity_at, closed_at, close_reason, version,
            contact_id, created_by_id, customer_id, lost_reason_id, owner_id, pipeline_id, source_id, stage_id, team_id)
        SELECT d.id, d.created_at, d.ended_at,
               (%(products)s::text[])[1 + d.id %% %(n_products)s] || ' · ' || (50 + (d.id * 37) %% 950) || ' pcs',
               '', d.status, d.amount, c.code, c.rate, round(d.amount * c.rate, 2),
               d.probability, false,
               CASE WHEN d.r_flags < 0.8 THEN 1.00 ELSE round((0.5 + (d.r_flags - 0.8) * 12.5)::numeric, 1) END,
               (d.id * 2654435761) %% 100 < 20, (d.id * 2246822519) %% 100 < 10, d.expected_close_date,
               d.pushes, d.stage_entered_at, d.last_activity_at, d.closed_at,
               CASE d.status WHEN 'lost' THEN 'Price too high' WHEN 'expired' THEN 'Expired — not confirmed by the expected close date' ELSE '' END,
               2 + d.pushes + (d.stage_id <> d.first_stage_id)::int,
               CASE WHEN d.r_pool < 0.8 THEN d.customer_id END, COALESCE(d.owner_id, r.user_id), d.customer_id,
               CASE WHEN d.status = 'lost' THEN d.lost_reason_id END, d.owner_id, p.pipeline_id, s.source_id,
               d.stage_id, d.team_id
        FROM b_deal d
        JOIN b_rep r ON r.idx = d.rep_idx
        JOIN b_pipe p ON p.idx = d.pipe_idx
        JOIN b_source s ON s.idx = d.source_idx
        JOIN b_currency c ON c.idx = d.currency_idx
        """,
        {"products": PRODUCTS, "n_products": len(PRODUCTS)},
    )


def _insert_history(cursor) -> None:
    # Assignments: the first one when the deal was made; 10 % of owned deals came from a teammate.
    cursor.execute(
        """
        INSERT INTO opportunities_assignment (at, reason, by_id, from_owner_id, from_team_id, to_owner_id, to_team_id, opportunity_id)
        SELECT d.created_at, '', d.owner_id,
               NULL, NULL, CASE WHEN d.owner_id IS NULL THEN NULL WHEN d.r_pool > 0.9 THEN d.mate_id ELSE d.owner_id END,
               d.team_id, d.id
        FROM b_deal d
        UNION ALL
        SELECT d.created_at + (d.ended_at - d.created_at) * 0.2, 'Rep on leave: deals handed over', NULL,
               d.mate_id, d.team_id, d.owner_id, d.team_id, d.id
        FROM b_deal d WHERE d.owner_id IS NOT NULL AND d.r_pool > 0.9
        """
    )
    # Stage changes: entering the first stage, then the move to where the deal is now.
    cursor.execute(
        """
        INSERT INTO opportunities_stagechange (at, probability_before, probability_after, note, by_id, from_stage_id, opportunity_id, to_stage_id)
        SELECT d.created_at, NULL, d.first_probability, '', d.owner_id, NULL, d.id, d.first_stage_id FROM b_deal d
        UNION ALL
        SELECT d.stage_entered_at, d.first_probability, d.probability, '', d.owner_id, d.first_stage_id, d.id, d.stage_id
        FROM b_deal d WHERE d.stage_id <> d.first_stage_id
        """
    )
    # Close-date pushes, two weeks each, ending at today's expected close date.
    cursor.execute(
        """
        INSERT INTO opportunities_closedatechange (at, old_date, new_date, reason, by_id, opportunity_id)
        SELECT d.created_at + (d.ended_at - d.created_at) * p / (d.pushes + 1),
               d.expected_close_date - 14 * (d.pushes - p + 1), d.expected_close_date - 14 * (d.pushes - p),
               'Customer needs more time', d.owner_id, d.id
        FROM b_deal d CROSS JOIN LATERAL generate_series(1, d.pushes) AS p
        """
    )
    # Closing: won / lost / expired, with the owner at that moment; 2 % of lost deals had expired
    # and been reopened before.
    cursor.execute(
        """
        INSERT INTO opportunities_statuschange (at, from_status, to_status, reason, by_id, lost_reason_id, opportunity_id, owner_id)
        SELECT d.closed_at, 'open', d.status,
               CASE d.status WHEN 'lost' THEN 'Price too high' WHEN 'expired' THEN 'Expired — not confirmed by the expected close date' ELSE '' END,
               CASE WHEN d.status = 'expired' THEN NULL ELSE d.owner_id END,
               CASE WHEN d.status = 'lost' THEN d.lost_reason_id END, d.id, d.owner_id
        FROM b_deal d WHERE d.status <> 'open'
        UNION ALL
        SELECT d.closed_at - (d.closed_at - d.created_at) * x.f, x.from_status, x.to_status, x.reason, x.by_id, NULL, d.id, d.owner_id
        FROM b_deal d
        CROSS JOIN LATERAL (VALUES (0.5, 'open', 'expired', 'Expired — not confirmed by the expected close date', NULL::bigint),
                                   (0.4, 'expired', 'open', 'Customer came back', d.owner_id)) AS x(f, from_status, to_status, reason, by_id)
        WHERE d.status = 'lost' AND d.r_stage < 0.02
        """
    )
    # Amount edits on 5 % of deals.
    cursor.execute(
        """
        INSERT INTO opportunities_fieldchange (at, field, old_value, new_value, by_id, opportunity_id)
        SELECT d.created_at + (d.ended_at - d.created_at) * 0.5, 'amount', (d.amount * 0.8)::text, d.amount::text, d.owner_id, d.id
        FROM b_deal d WHERE d.amount IS NOT NULL AND d.r_date < 0.05
        """
    )
    # Activities: 0–4 per deal (1.2 on average), spread over the deal's life, in its current stage.
    cursor.execute(
        """
        INSERT INTO opportunities_activity (kind, body, carrier, tracking_number, occurred_at, created_at, author_id, stage_id, opportunity_id)
        SELECT (%(kinds)s::text[])[1 + (d.id + a) %% %(n_kinds)s],
               'Follow-up ' || a || ': discussed quantities and delivery terms', '', '',
               d.created_at + (d.ended_at - d.created_at) * a / (d.activities + 1),
               d.created_at + (d.ended_at - d.created_at) * a / (d.activities + 1),
               COALESCE(d.owner_id, d.mate_id), d.stage_id, d.id
        FROM b_deal d CROSS JOIN LATERAL generate_series(1, d.activities) AS a
        """,
        {"kinds": ACTIVITY_KINDS, "n_kinds": len(ACTIVITY_KINDS)},
    )


def _long_history(cursor, now: datetime.datetime) -> int:
    """Give one open deal of bench_rep_001 200 more timeline events (the opportunity page's case)."""
    cursor.execute(
        """
        SELECT o.id, o.stage_id, o.pipeline_id, o.owner_id, o.created_at FROM opportunities_opportunity o
        JOIN teams_user u ON u.id = o.owner_id
        WHERE u.username = 'bench_rep_001' AND o.status = 'open' ORDER BY o.created_at LIMIT 1
        """
    )
    deal_id, stage_id, pipeline_id, owner_id, created_at = cursor.fetchone()
    cursor.execute(
        "SELECT id, probability FROM stages_stage WHERE pipeline_id = %s AND kind = 'open' ORDER BY \"order\" LIMIT 2",
        [pipeline_id],
    )
    (first_id, first_probability), (second_id, second_probability) = cursor.fetchall()
    span = now - created_at
    activities = LONG_HISTORY_EVENTS // 2
    moves = LONG_HISTORY_EVENTS // 4
    pushes = LONG_HISTORY_EVENTS - activities - moves
    cursor.execute(
        """
        INSERT INTO opportunities_activity (kind, body, carrier, tracking_number, occurred_at, created_at, author_id, stage_id, opportunity_id)
        SELECT (%(kinds)s::text[])[1 + a %% %(n_kinds)s], 'Call ' || a || ': the buyer asked about MOQ, price and lead time',
               CASE WHEN a %% 10 = 0 THEN 'SF Express' ELSE '' END,
               CASE WHEN a %% 10 = 0 THEN 'SF' || (1000000000 + a) ELSE '' END,
               %(start)s::timestamptz + %(span)s * a / (%(count)s + 1), %(start)s::timestamptz + %(span)s * a / (%(count)s + 1),
               %(owner)s, %(stage)s, %(deal)s
        FROM generate_series(1, %(count)s) AS a
        """,
        {
            "kinds": ACTIVITY_KINDS,
            "n_kinds": len(ACTIVITY_KINDS),
            "start": created_at,
            "span": span,
            "count": activities,
            "owner": owner_id,
            "stage": stage_id,
            "deal": deal_id,
        },
    )
    cursor.execute(
        """
        INSERT INTO opportunities_stagechange (at, probability_before, probability_after, note, by_id, from_stage_id, opportunity_id, to_stage_id)
        SELECT %(start)s::timestamptz + %(span)s * m / (%(count)s + 1),
               CASE WHEN m %% 2 = 1 THEN %(p1)s ELSE %(p2)s END, CASE WHEN m %% 2 = 1 THEN %(p2)s ELSE %(p1)s END,
               'Back and forth on the specification', %(owner)s,
               CASE WHEN m %% 2 = 1 THEN %(s1)s ELSE %(s2)s END, %(deal)s, CASE WHEN m %% 2 = 1 THEN %(s2)s ELSE %(s1)s END
        FROM generate_series(1, %(count)s) AS m
        """,
        {
            "start": created_at,
            "span": span,
            "count": moves,
            "owner": owner_id,
            "deal": deal_id,
            "s1": first_id,
            "s2": second_id,
            "p1": first_probability,
            "p2": second_probability,
        },
    )
    cursor.execute(
        """
        INSERT INTO opportunities_closedatechange (at, old_date, new_date, reason, by_id, opportunity_id)
        SELECT %(start)s::timestamptz + %(span)s * p / (%(count)s + 1), %(today)s::date + p - 1, %(today)s::date + p,
               'Waiting for the buyer''s budget', %(owner)s, %(deal)s
        FROM generate_series(1, %(count)s) AS p
        """,
        {"start": created_at, "span": span, "count": pushes, "owner": owner_id, "deal": deal_id, "today": now.date()},
    )
    cursor.execute(
        "UPDATE opportunities_opportunity SET title = %s, close_date_pushes = close_date_pushes + %s, "
        "version = version + %s WHERE id = %s",
        [LONG_HISTORY_TITLE, pushes, LONG_HISTORY_EVENTS, deal_id],
    )
    return deal_id


def drop_secondary_indexes(cursor, tables) -> list[str]:
    """Drop the indexes that back no constraint; returns their CREATE statements to build them again."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        [list(tables)],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in found]


def _reset_sequences(cursor) -> None:
    for table in BULK_TABLES:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(max(id), 0) + 1, false) FROM {table}", [table]
        )


def generate(n: int, *, now: datetime.datetime | None = None, echo=print) -> dict:
    """Fill the (migrated, empty) bench database; returns what was made and how long it took."""
    from django.db import connection, transaction

    now = now or datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    customers = min(CUSTOMERS, max(1000, n * 3 // 20))
    timings = {}

    def step(name, call, *args):
        started = time.perf_counter()
        result = call(*args)
        timings[name] = round(time.perf_counter() - started, 1)
        echo(f"  {name:<14} {timings[name]:7.1f} s")
        return result

    started = time.perf_counter()
    with transaction.atomic():
        config = step("configuration", _configuration, now)
        with connection.cursor() as cursor:
            # The generated rows are consistent by construction: skip the foreign-key triggers
            # and the secondary indexes while loading, and build the indexes once at the end.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL work_mem = '64MB'")
            indexes = drop_secondary_indexes(cursor, BULK_TABLES)
            step("customers", _customers, cursor, customers, now)
            _lookup_tables(cursor, config)
            step("draws", _deals, cursor, n, customers, config, now)
            step("opportunities", _insert_opportunities, cursor, now)
            step("history", _insert_history, cursor)
            long_history = step("long history", _long_history, cursor, now)
            cursor.execute("DROP TABLE b_deal")
            step("indexes", lambda: [cursor.execute(statement) for statement in indexes])
            _reset_sequences(cursor)
    connection.set_autocommit(True)
    with connection.cursor() as cursor:
        step("vacuum", cursor.execute, "VACUUM ANALYZE")
    counts = dataset_counts()
    counts["long_history_deal"] = long_history
    counts["seconds"] = round(time.perf_counter() - started, 1)
    counts["timings"] = timings
    counts["generated_at"] = now.isoformat()
    return counts


def dataset_counts() -> dict:
    """The shape of what is in the database (read back, not assumed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'won'),
                   count(*) FILTER (WHERE status = 'lost'), count(*) FILTER (WHERE status = 'expired'),
                   count(*) FILTER (WHERE owner_id IS NULL)
            FROM opportunities_opportunity
            """
        )
        total, open_, won, lost, expired, pool = cursor.fetchone()
        history = {}
        for table in ("assignment", "stagechange", "closedatechange", "statuschange", "fieldchange", "activity"):
            cursor.execute(f"SELECT count(*) FROM opportunities_{table}")
            history[table] = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM teams_team),
                   (SELECT count(*) FROM teams_team_members), (SELECT count(*) FROM stages_pipeline),
                   (SELECT count(*) FROM sources_leadsource)
            """
        )
        customers, teams, reps, pipelines, sources = cursor.fetchone()
        cursor.execute(
            """
            SELECT u.username, count(*), count(*) FILTER (WHERE o.status = 'open')
            FROM opportunities_opportunity o JOIN teams_user u ON u.id = o.owner_id
            GROUP BY u.username ORDER BY count(*) DESC LIMIT 1
            """
        )
        big_rep = cursor.fetchone()
        cursor.execute(
            """
            SELECT t.name, count(*) FROM opportunities_opportunity o JOIN teams_team t ON t.id = o.team_id
            GROUP BY t.name ORDER BY count(*) DESC LIMIT 1
            """
        )
        big_team = cursor.fetchone()
    return {
        "opportunities": total,
        "open": open_,
        "won": won,
        "lost": lost,
        "expired": expired,
        "unassigned": pool,
        "history_rows": sum(history.values()),
        "history": history,
        "history_per_opportunity": round(sum(history.values()) / total, 2) if total else 0,
        "customers": customers,
        "teams": teams,
        "reps": reps,
        "pipelines": pipelines,
        "sources": sources,
        "biggest_rep": {"username": big_rep[0], "opportunities": big_rep[1], "open": big_rep[2]} if big_rep else None,
        "biggest_team": {"name": big_team[0], "opportunities": big_team[1]} if big_team else None,
    }


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()


def create(url: str, n: int, *, echo=print) -> dict:
    """Drop, create, migrate and fill the bench database at ``url``."""
    from django.core.management import call_command
    from django.db import connection

    check_url(url)
    connection.close()
    recreate_database(url)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    echo(f"  {'migrate':<14} {time.perf_counter() - started:7.1f} s")
    return generate(n, echo=echo)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000, help="how many (default 1,000,000)")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    check_url(url)
    setup_django(url)
    print(f"Generating {args.opportunities:,} opportunities in {url.rsplit('/', 1)[-1]}:")
    counts = create(url, args.opportunities)
    print(
        f"done in {counts['seconds']:.0f} s: {counts['opportunities']:,} opportunities "
        f"({counts['open']:,} open, {counts['unassigned']:,} unassigned), {counts['history_rows']:,} history rows "
        f"({counts['history_per_opportunity']} per deal), {counts['customers']:,} customers; biggest rep "
        f"{counts['biggest_rep']['username']} {counts['biggest_rep']['opportunities']:,} ({counts['biggest_rep']['open']:,} open), "
        f"biggest team {counts['biggest_team']['name']} {counts['biggest_team']['opportunities']:,}"
    )
    return counts


if __name__ == "__main__":
    main()
