"""The home page's reads of opportunities: the key figures, open deals by stage and the short
lists, for whoever is looking (``Opportunity.objects.visible_to``, branch by branch).

Every figure is about open deals or recently expired ones. The open deals are read once per
branch of the visibility rule from the partial open-deal index of that branch, grouped by stage
id alone, every figure counted from the index's own columns: no join, so PostgreSQL neither
reads the table nor groups by names. The stages (names, pipelines, idle limits) are one small
query, read first, which also writes the stale rule as lists of stage ids."""

import datetime
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db.models import BigIntegerField, Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast

from crm import prepared
from opportunities.models import Opportunity, idle_since_expression
from opportunities.pagination import union_all_sql
from opportunities.selectors import _stale_threshold
from stages.models import Stage

DASHBOARD_EXPIRED_DAYS = 30


def _company_midnight(day: datetime.date) -> datetime.datetime:
    from crm.dates import company_zone

    return datetime.datetime.combine(day, datetime.time.min, tzinfo=company_zone())


def _stages() -> dict[int, dict]:
    """Every stage with its pipeline's name and order, by id: one small query."""
    columns = ("id", "name", "order", "kind", "rotting_days", "pipeline_id", "pipeline__name", "pipeline__order")
    return {row["id"]: row for row in Stage.objects.order_by().values(*columns)}


def _stale_rule(stages: dict[int, dict]) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """The open stages of each idle limit in use: ((days, stage ids), …), by days."""
    days_in_use = sorted(
        {stage["rotting_days"] for stage in stages.values() if stage["kind"] == Stage.Kind.OPEN} - {None}
    )
    return tuple(
        (days, tuple(sorted(pk for pk, stage in stages.items() if stage["rotting_days"] == days)))
        for days in days_in_use
    )


def _stale_among_open(rule: tuple[tuple[int, tuple[int, ...]], ...], *, today: datetime.date) -> Q:
    """``opportunity_stale_q`` without its ``status = open`` term (for rows read as open deals),
    the stages of each idle limit written as their ids: the same rule with no join to the stages,
    so it is evaluated on the open-deal indexes alone. On rows annotated with ``idle_since``
    (``idle_since_expression``): idle since before the threshold is the rule's "stage entered and
    last activity (if any) both before it", in two terms per idle limit instead of four, which
    Django builds and compiles in half the time, for each branch's figures and stale list."""
    condition = Q(pk__in=[])
    for days, ids in rule:
        threshold = _stale_threshold(rotting_days=days, today=today)
        condition |= Q(stage_id__in=list(ids), idle_since__lt=threshold)
    return condition


def opportunity_dashboard(*, user, today: datetime.date | None = None, list_size: int = 6) -> dict:
    """What the home page shows of the deals ``user`` sees: the key figures, open deals by
    stage, and the first few deals closing within 7 days, overdue (past their date, still open),
    expired in the last 30 days and stale (``DashboardDeal`` rows). Three queries, whatever the
    number of deals: the stages, the figures per stage (the key figures are their sums), and the
    deals of the four short lists.

    The two statements are built from what they depend on alone — the user's visibility scope,
    the day, the idle limits in use and the list size — and kept per process under exactly that
    (``_dashboard_statements``): building and compiling them with the ORM cost more than
    PostgreSQL's work for a rep. They hold no data, and a change of any of those gives another
    key, so a kept statement is always the one the ORM would build now. The short lists' runs as
    a statement prepared once per connection (``crm.prepared``): PostgreSQL took 1.5 ms to plan
    it. The figures' does not: an aggregate whose filter matches nothing is written as a bare
    constant, which a prepared statement's UNION cannot type."""
    from crm.dates import company_today
    from teams.visibility import opportunity_visibility_scope

    today = today or company_today()
    stages = _stages()
    statements = _dashboard_statements(opportunity_visibility_scope(user), today, _stale_rule(stages), list_size)
    by_stage = _figures_by_stage(statements.figures)
    counted = ("open", "closing", "overdue", "expired", "stale", "pool")
    kpis = {key: sum(row[key] for row in by_stage.values()) for key in counted}
    amounts = [row["open_amount"] for row in by_stage.values() if row["open_amount"] is not None]
    kpis["open_amount"] = sum(amounts) if amounts else None
    return {
        "today": today,
        "soon": today + datetime.timedelta(days=7),
        "yesterday": today - datetime.timedelta(days=1),
        "expired_days": DASHBOARD_EXPIRED_DAYS,
        "kpis": kpis,
        "pipelines": _pipelines(by_stage, stages),
        **_short_lists(statements.first_rows, stages=stages, list_size=list_size),
    }


SHORT_LISTS = ("closing", "overdue", "expired", "stale")


class _Statement(NamedTuple):
    sql: str | None
    params: tuple
    keys: tuple = ()  # the figures' names (after the stage id); the list of each short list's part


class _DashboardStatements(NamedTuple):
    figures: _Statement
    first_rows: _Statement


@functools.lru_cache(maxsize=1024)
def _dashboard_statements(
    scope: tuple, today: datetime.date, stale_rule: tuple, list_size: int
) -> _DashboardStatements:
    """The dashboard's two statements for a visibility scope, a day, the idle limits in use and
    a list size: SQL and parameters only, see ``opportunity_dashboard``."""
    soon = today + datetime.timedelta(days=7)
    stale = _stale_among_open(stale_rule, today=today)
    branches = Opportunity.objects.visible_in_scope_by_branch(scope)
    closing = Q(expected_close_date__gte=today, expected_close_date__lte=soon)
    overdue = Q(expected_close_date__lt=today)
    expired_q = Q(
        status=Opportunity.Status.EXPIRED,
        closed_at__gte=_company_midnight(today - datetime.timedelta(days=DASHBOARD_EXPIRED_DAYS)),
    )
    # Each branch's open and recently expired deals, built once for the figures and the lists;
    # the open ones also with when they last showed life, for the stale figure and list.
    idle_since = idle_since_expression()
    branch_deals = []
    for branch in branches:
        open_deals = branch.filter(status=Opportunity.Status.OPEN)
        branch_deals.append(
            {
                "open": open_deals,
                "open_idle": open_deals.annotate(idle_since=idle_since),
                "expired": branch.filter(expired_q),
            }
        )
    nothing = Value(0, output_field=BigIntegerField())
    open_figures = {
        "open": Count("*"),
        "open_amount": Sum("amount_base"),
        "closing": Count("pk", filter=closing),
        "overdue": Count("pk", filter=overdue),
        "expired": nothing,
        "stale": Count("pk", filter=stale),
        "pool": Count("pk", filter=Q(owner__isnull=True)),
    }
    # The recently expired deals are only counted (one figure, no stage): from the partial
    # expired-deal index of each branch, with no grouping. COUNT(*), not of a column: the
    # index alone answers it (a column's count read each deal's row, 2,400 of a team's).
    expired_figures = dict.fromkeys(open_figures, nothing) | {
        "open_amount": Cast(Value(None), output_field=DecimalField(max_digits=16, decimal_places=2)),
        "expired": Count("*"),
    }
    no_stage = Cast(Value(None), output_field=BigIntegerField())
    figures_sql, figures_params = union_all_sql(
        [
            part
            for deals in branch_deals
            for part in (
                deals["open_idle"].order_by().values("stage_id").annotate(**open_figures),
                deals["expired"].order_by().annotate(no_stage=no_stage).values("no_stage").annotate(**expired_figures),
            )
        ]
    )
    lists = {
        "closing": ("open", closing, ("expected_close_date", "pk")),
        "overdue": ("open", overdue, ("expected_close_date", "pk")),
        "expired": ("expired", None, ("-closed_at", "-pk")),
        "stale": ("open_idle", stale, ("idle_since", "pk")),
    }

    def first_rows(deals: QuerySet, condition: Q | None, order: tuple) -> QuerySet:
        return (deals if condition is None else deals.filter(condition)).order_by(*order)

    rows_sql, rows_params, keys = _first_rows_sql(
        {
            (name, position): first_rows(deals[of], condition, order)
            for name, (of, condition, order) in lists.items()
            for position, deals in enumerate(branch_deals)
        },
        limit=list_size,
    )
    return _DashboardStatements(
        figures=_Statement(figures_sql, tuple(figures_params or ()), tuple(open_figures)),
        first_rows=_Statement(rows_sql, tuple(rows_params), tuple(keys)),
    )


def _figures_by_stage(statement: _Statement) -> dict:
    """The grouped rows of the figures' statement (a UNION ALL of querysets of no common deal:
    a stage id, then the figures named by its ``keys``), the figures of a stage added up across
    them, by stage id (None: the rows counted without a stage)."""
    from django.db import connection

    figures = statement.keys
    rows: dict = {}
    if statement.sql:
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, statement.params)
            for stage_id, *values in cursor.fetchall():
                row = dict(zip(figures, values, strict=True))
                if stage_id not in rows:
                    rows[stage_id] = row
                    continue
                for name in figures:
                    if row[name] is not None:
                        rows[stage_id][name] = row[name] + (rows[stage_id][name] or 0)
    return rows


def _pipelines(by_stage: dict, stages: dict[int, dict]) -> list[dict]:
    """The stages with open deals, grouped by pipeline, in pipeline and stage order; each stage's
    bar as a share of its pipeline's widest."""
    shown = [
        stages[stage_id] | {"count": row["open"], "amount": row["open_amount"]}
        for stage_id, row in by_stage.items()
        if stage_id is not None and row["open"]
    ]
    shown.sort(key=lambda stage: (stage["pipeline__order"], stage["pipeline__name"], stage["order"], stage["id"]))
    pipelines: list[dict] = []
    for stage in shown:
        if not pipelines or pipelines[-1]["id"] != stage["pipeline_id"]:
            pipelines.append({"id": stage["pipeline_id"], "name": stage["pipeline__name"], "stages": []})
        pipelines[-1]["stages"].append(
            {"id": stage["id"], "name": stage["name"], "count": stage["count"], "amount": stage["amount"]}
        )
    for pipeline in pipelines:
        widest = max(stage["count"] for stage in pipeline["stages"])
        for stage in pipeline["stages"]:
            stage["share"] = round(100 * stage["count"] / widest)
    return pipelines


class DealOwner(NamedTuple):
    """A listed deal's owner, read as the three columns its name is made of: ``person``
    (crm/templatetags/jihui.py) writes it as it writes a user."""

    username: str
    first_name: str
    last_name: str

    def get_full_name(self) -> str:
        """As ``AbstractUser.get_full_name``."""
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True, slots=True)
class DashboardDeal:
    """A deal of the home page's short lists: only what the lists show, read as values. Model
    instances (a deal with its customer, stage and owner, all their columns) for these two
    dozen rows cost the page more than the query that found them."""

    pk: int
    title: str
    expected_close_date: datetime.date | None
    amount_base: Decimal | None
    closed_at: datetime.datetime | None
    idle_since: datetime.datetime
    customer_name: str
    stage_name: str
    owner: DealOwner | None  # None: the team's unassigned pool


def _short_lists(statement: _Statement, *, stages: dict[int, dict], list_size: int) -> dict:
    """The first ``list_size`` deals of each short list, as ``DashboardDeal``: the first ids of
    each list branch by branch of the visibility rule (each in the list's order on an index of
    its own: an OR of the branches made PostgreSQL walk every open deal for the stale list),
    joined to what the lists show, in one query (``_first_rows_sql``); merged here."""
    shown: dict[str, list[DashboardDeal]] = {name: [] for name in SHORT_LISTS}
    for (name, _position), (
        pk,
        title,
        close_date,
        amount,
        closed_at,
        last_activity_at,
        stage_entered_at,
        stage_id,
        customer,
        *owner,
    ) in _first_rows(statement):
        shown[name].append(
            DashboardDeal(
                pk=pk,
                title=title,
                expected_close_date=close_date,
                amount_base=amount,
                closed_at=closed_at,
                # idle_since_expression, as opportunity_is_stale computes it for a loaded deal
                idle_since=max(filter(None, (last_activity_at, stage_entered_at))),
                customer_name=customer,
                stage_name=stages[stage_id]["name"],
                owner=DealOwner(*owner) if owner[0] is not None else None,
            )
        )
    keys = {
        "closing": _by_close_date,
        "overdue": _by_close_date,
        "expired": _by_closed_at_desc,
        "stale": _by_idle_since,
    }
    return {name: sorted(shown[name], key=keys[name])[:list_size] for name in SHORT_LISTS}


def _by_close_date(deal: DashboardDeal):
    return (deal.expected_close_date, deal.pk)


def _by_closed_at_desc(deal: DashboardDeal):
    return (-deal.closed_at.timestamp(), -deal.pk)


def _by_idle_since(deal: DashboardDeal):
    return (deal.idle_since, deal.pk)


_FIRST_ROW_FIELDS = (
    "id",
    "title",
    "expected_close_date",
    "amount_base",
    "closed_at",
    "last_activity_at",
    "stage_entered_at",
    "stage",
)


def _first_rows_sql(querysets: dict, *, limit: int) -> tuple[str | None, list, list]:
    """SQL of the first ``limit`` deals of each queryset (of visible deals) in one query, its
    parameters and the key of each part: each ordered, sliced SELECT of ids stays as it is (and
    keeps its index) inside a UNION ALL, and only those ids are joined to the columns the lists
    show, their customer's name and their owner's (the stage's name is in the stages read
    already)."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    from customers.models import Customer
    from teams.models import User

    parts, params = [], []
    for position, queryset in enumerate(querysets.values()):
        try:
            sql, part_params = queryset.values_list("pk", flat=True)[:limit].query.sql_with_params()
        except EmptyResultSet:  # a condition that matches nothing (e.g. no idle limit in use)
            continue
        parts.append(f"SELECT {position} AS list, first_rows.pk FROM ({sql}) first_rows")  # noqa: S608 (ORM SQL)
        params.extend(part_params)
    if not parts:
        return None, [], []
    quote = connection.ops.quote_name
    deals, customers, users = (quote(model._meta.db_table) for model in (Opportunity, Customer, User))
    columns = ", ".join(f"o.{quote(Opportunity._meta.get_field(name).column)}" for name in _FIRST_ROW_FIELDS)
    sql = f"""
        SELECT found.list, {columns}, c.{quote("name")}, u.{quote("username")}, u.{quote("first_name")},
               u.{quote("last_name")}
        FROM ({" UNION ALL ".join(parts)}) found
        JOIN {deals} o ON o.{quote("id")} = found.pk
        JOIN {customers} c ON c.{quote("id")} = o.{quote("customer_id")}
        LEFT JOIN {users} u ON u.{quote("id")} = o.{quote("owner_id")}
    """  # noqa: S608 (the ORM's SQL and quoted names; every value is a parameter)
    return sql, params, list(querysets)


def _first_rows(statement: _Statement) -> list[tuple]:
    """The rows of ``_first_rows_sql``'s statement as (key, row) pairs, their values as the ORM
    would give them (SQLite returns dates, moments and decimals as text)."""
    from django.db import connection
    from django.db.models.expressions import Col

    if statement.sql is None:
        return []
    fields = [Opportunity._meta.get_field(name) for name in _FIRST_ROW_FIELDS]
    converters = [
        (index, converter, Col("o", field))
        for index, field in enumerate(fields, start=1)
        for converter in (*connection.ops.get_db_converters(Col("o", field)), *field.get_db_converters(connection))
    ]
    with connection.cursor() as cursor:
        prepared.execute(cursor, statement.sql, statement.params)
        rows = [list(row) for row in cursor.fetchall()]
    for row in rows:
        for index, converter, expression in converters:
            row[index] = converter(row[index], expression, connection)
    return [(statement.keys[position], row) for position, *row in rows]
