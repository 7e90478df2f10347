"""Reads of the Kanban board: pipelines, per-stage figures and cards.

Every read starts from ``Opportunity.objects.visible_to(user)`` and narrows it with the list's
FilterSet, so the board shows exactly what the list and the API would. The number of queries
is fixed (one for the figures of every column, one for the first cards of every column), however
many deals a pipeline holds: cards are paged per column by a keyset cursor (close date, id).
The board with no filter keeps its two statements per visibility scope, pipeline, open stages
and page size (``board_columns_unfiltered``).
"""

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.db.models import BigIntegerField, Count, DecimalField, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.http import QueryDict

from crm.statements import CompiledValues
from opportunities.filtersets import OpportunityFilterSet
from opportunities.models import Opportunity
from opportunities.pagination import union_all_sql
from stages.models import Pipeline, Stage
from stages.selectors import pipelines_active
from teams.models import User

BOARD_PAGE_SIZE = 20
# The list filters that make sense on a board (whose columns are the stages of one pipeline).
BOARD_FILTERS = ("owner", "team", "unassigned", "source")
CARD_ORDER = ("expected_close_date", "pk")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(slots=True)
class BoardCard:
    """What a card shows and its marks need (BoardCards), read as one row: a board shows 160
    cards, and an Opportunity with its customer and owner is three model instances each.
    Named as on Opportunity, so the display rules (overdue, stale, people) read either."""

    pk: int
    stage_id: int
    version: int
    status: str
    title: str
    amount: Decimal | None
    currency: str
    expected_close_date: datetime.date
    last_activity_at: datetime.datetime | None
    stage_entered_at: datetime.datetime
    customer_name: str
    owner: User | None
    stage: Stage | None = None  # the column's

    @property
    def is_open(self) -> bool:
        return self.status == Opportunity.Status.OPEN

    @classmethod
    def of(cls, opportunity: Opportunity) -> "BoardCard":
        """The card of a deal already loaded (with its customer, owner and stage)."""
        return cls(
            *(opportunity.pk, opportunity.stage_id, opportunity.version, opportunity.status, opportunity.title),
            *(opportunity.amount, opportunity.currency, opportunity.expected_close_date),
            *(opportunity.last_activity_at, opportunity.stage_entered_at, opportunity.customer.name),
            owner=opportunity.owner,
            stage=opportunity.stage,
        )


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    total: Decimal = ZERO
    weighted: Decimal = ZERO
    cards: list[BoardCard] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return self.count > len(self.cards)

    @property
    def cursor(self) -> str:
        return board_cursor(self.cards[-1]) if self.cards else ""


def board_pipelines(*, user, flag_deals: bool = True) -> list[Pipeline]:
    """Active pipelines in order. With ``flag_deals``, each has ``has_deals``: whether ``user``
    sees an open deal in it, which only choosing a pipeline needs (an EXISTS over the user's deals
    per pipeline: a board asked for by id goes without it)."""
    if not flag_deals:
        return pipelines_active()
    visible_open = Opportunity.objects.visible_to(user).filter(status=Opportunity.Status.OPEN, pipeline=OuterRef("pk"))
    pipelines = Pipeline.objects.filter(is_active=True).order_by("order", "name")
    return list(pipelines.annotate(has_deals=Exists(visible_open)))


def board_pipeline_choose(*, pipelines: list[Pipeline], pipeline_id: int | None) -> Pipeline | None:
    """The pipeline asked for, else the first one with deals the user sees, else the first one."""
    if pipeline_id is not None:
        return next((pipeline for pipeline in pipelines if pipeline.pk == pipeline_id), None)
    return next((pipeline for pipeline in pipelines if pipeline.has_deals), pipelines[0] if pipelines else None)


def board_filter_data(params: QueryDict) -> QueryDict:
    """Only the filters the board applies (a stage or status filter would contradict the columns)."""
    data = QueryDict(mutable=True)
    for name in BOARD_FILTERS:
        value = params.get(name, "").strip()
        if value:
            data[name] = value
    return data


def board_opportunities(*, user, pipeline: Pipeline, filters: QueryDict) -> QuerySet[Opportunity]:
    """The open deals of ``pipeline`` that ``user`` sees, narrowed by the board's filters. A filter
    value that does not parse (``owner=abc``) is ignored rather than emptying the board."""
    queryset = Opportunity.objects.visible_to(user).filter(pipeline=pipeline, status=Opportunity.Status.OPEN)
    filterset = OpportunityFilterSet(data=board_filter_data(filters), queryset=queryset)
    filterset.is_valid()
    return filterset.filter_queryset(queryset)


def board_opportunities_by_branch(*, user, pipeline: Pipeline, filters: QueryDict) -> list[QuerySet[Opportunity]]:
    """``board_opportunities`` split by the branches of the visibility rule (no deal in two):
    each branch reads an index of its own (opp_open_owner_board, opp_open_team_board)."""
    branches = [
        branch.filter(pipeline=pipeline, status=Opportunity.Status.OPEN)
        for branch in Opportunity.objects.visible_to_by_branch(user)
    ]
    data = board_filter_data(filters)
    if not data:  # the FilterSet of no filter leaves the branches as they are (it costs ~0.4 ms)
        return branches
    filterset = OpportunityFilterSet(data=data, queryset=Opportunity.objects.none())
    filterset.is_valid()
    return [filterset.filter_queryset(branch) for branch in branches]


def board_columns(*, stages: list[Stage], branches: list[QuerySet[Opportunity]], page_size: int = BOARD_PAGE_SIZE):
    """One column per open stage with its count, total and weighted amount (amount in CNY ×
    probability, summed in SQL) and its first ``page_size`` cards. ``branches``
    (``board_opportunities_by_branch``) are read branch by branch and stage by stage, each on
    an index. Two queries."""
    statements = _board_statements_of(branches=branches, stage_ids=_open_stage_ids(stages), page_size=page_size)
    return _board_columns(stages, statements)


def board_columns_unfiltered(*, user, pipeline: Pipeline, stages: list[Stage], page_size: int = BOARD_PAGE_SIZE):
    """``board_columns`` of ``pipeline``'s board with no filter, as ``user`` sees it. Its two
    statements are built from what they depend on alone — the user's visibility scope, the
    pipeline, its open stages and the page size — and kept per process under exactly that
    (``_board_statements``): building and compiling them with the ORM took a rep's board longer
    than PostgreSQL's work. SQL only, no data: a change of any of those is another key."""
    from teams.visibility import opportunity_visibility_scope

    statements = _board_statements(opportunity_visibility_scope(user), pipeline.pk, _open_stage_ids(stages), page_size)
    return _board_columns(stages, statements)


def _open_stage_ids(stages: list[Stage]) -> tuple[int, ...]:
    return tuple(stage.pk for stage in stages if stage.kind == Stage.Kind.OPEN)


class _BoardStatements(NamedTuple):
    figures: tuple[str | None, tuple]
    first_cards: CompiledValues | None


@functools.lru_cache(maxsize=1024)
def _board_statements(scope: tuple, pipeline_id: int, stage_ids: tuple[int, ...], page_size: int) -> _BoardStatements:
    branches = [
        branch.filter(pipeline_id=pipeline_id, status=Opportunity.Status.OPEN)
        for branch in Opportunity.objects.visible_in_scope_by_branch(scope)
    ]
    return _board_statements_of(branches=branches, stage_ids=stage_ids, page_size=page_size)


def _board_statements_of(
    *, branches: list[QuerySet[Opportunity]], stage_ids: tuple[int, ...], page_size: int
) -> _BoardStatements:
    sql, params = _column_figures_sql(branches)
    return _BoardStatements(
        figures=(sql, tuple(params or ())),
        first_cards=_first_cards_values(branches=branches, stage_ids=list(stage_ids), page_size=page_size),
    )


def _board_columns(stages: list[Stage], statements: _BoardStatements) -> list["BoardColumn"]:
    columns = {stage.pk: BoardColumn(stage=stage) for stage in stages if stage.kind == Stage.Kind.OPEN}
    for row in _column_figures(*statements.figures):
        column = columns.get(row["stage_id"])
        if column is not None:
            column.count, column.total, column.weighted = row["count"], row["total"], row["weighted"]
    rows = [] if statements.first_cards is None else statements.first_cards.rows()
    for card in _cards_of_rows(rows):
        column = columns.get(card.stage_id)
        if column is not None:
            card.stage = column.stage
            column.cards.append(card)
    return list(columns.values())


def board_column_figures_by_branch(*, branches: list[QuerySet[Opportunity]]) -> list[dict]:
    """``board_column_figures`` of the union of ``branches`` (which share no deal): each
    branch grouped on its own index, the sums added up. One query."""
    return _column_figures(*_column_figures_sql(branches))


def _column_figures_sql(branches: list[QuerySet[Opportunity]]) -> tuple[str | None, list]:
    """The weighted total is summed per probability, then multiplied: the same exact sum as
    ``SUM(amount × probability)``, without a numeric product per deal (a manager's column adds
    up tens of thousands), as a stage's deals share a handful of probabilities."""
    grouped = [
        branch.order_by()
        .values("stage_id", "probability")
        .annotate(
            count=Count("pk"), total=Sum("amount_base", output_field=DecimalField(max_digits=24, decimal_places=2))
        )
        for branch in branches
    ]
    return union_all_sql(grouped)


def _column_figures(sql: str | None, params) -> list[dict]:
    if sql is None:
        return []
    sums: dict[int, list] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for stage_id, probability, count, total in cursor.fetchall():
            row = sums.setdefault(stage_id, [0, None, None])
            row[0] += count
            if total is not None:
                total = Decimal(str(total))
                row[1] = total + (row[1] or 0)
                row[2] = total * probability + (row[2] or 0)
    return [
        {
            "stage_id": stage_id,
            "count": count,
            "total": _money(total),
            "weighted": _money(None if weighted_pct is None else weighted_pct / 100),
        }
        for stage_id, (count, total, weighted_pct) in sums.items()
    ]


def _first_cards_values(
    *, branches: list[QuerySet[Opportunity]], stage_ids: list[int], page_size: int
) -> CompiledValues | None:
    """The first ``page_size`` cards of every stage, in one query: the first ids in card order
    of each stage, each branch on its index (``_first_card_ids_sql``), and their cards read by id
    (the ids were read through the user's branches)."""
    sql, params = _first_card_ids_sql(branches=branches, stage_ids=stage_ids, page_size=page_size)
    if sql is None:
        return None
    cards = Opportunity.objects.filter(pk__in=RawSQL(sql, params))  # noqa: S611 (ORM SQL)
    return CompiledValues(cards.order_by("stage_id", *CARD_ORDER).values_list(*_CARD_COLUMNS))


def _first_card_ids_sql(
    *, branches: list[QuerySet[Opportunity]], stage_ids: list[int], page_size: int
) -> tuple[str | None, list]:
    """SQL of the ids of each stage's first ``page_size`` cards, the first of every branch's
    first (each an index range); None when no branch can match.

    On PostgreSQL the stages are a LATERAL loop around one subquery per branch: PostgreSQL
    plans a query in time that grows with its subqueries, and branches × stages of them (16 on a
    rep's board) took longer to plan (~2 ms) than to run. Elsewhere (SQLite) every (branch,
    stage) pair is a part of a UNION ALL, ranked per stage."""
    order = ", ".join(f'"{name}"' for name in CARD_ORDER)

    def first_ids(branch: QuerySet[Opportunity], stage) -> QuerySet:
        return branch.filter(stage_id=stage).order_by(*CARD_ORDER).values_list("pk", "stage_id", *CARD_ORDER[:-1])

    if not stage_ids:
        return None, []
    if _lateral_joins():
        stage = RawSQL('"board_stage"."id"', (), output_field=BigIntegerField())  # noqa: S611 (fixed SQL)
        merged, params = union_all_sql(first_ids(branch, stage)[:page_size] for branch in branches)
        if merged is None:
            return None, []
        return (
            "SELECT first_cards.pk FROM unnest(%s) AS board_stage (id) CROSS JOIN LATERAL "  # noqa: S608 (ORM SQL)
            f"(SELECT pk FROM ({merged}) branches ORDER BY {order} LIMIT %s) first_cards",
            [list(stage_ids), *params, page_size],
        )
    merged, params = union_all_sql(
        first_ids(branch, stage_id)[:page_size] for branch in branches for stage_id in stage_ids
    )
    if merged is None:
        return None, []
    return (
        "SELECT pk FROM (SELECT pk, ROW_NUMBER() OVER "  # noqa: S608 (ORM SQL)
        f'(PARTITION BY "stage_id" ORDER BY {order}) AS column_rank FROM ({merged}) first_ids) ranked '
        "WHERE column_rank <= %s",
        [*params, page_size],
    )


def _lateral_joins() -> bool:
    return connection.vendor == "postgresql"


def board_column_figures(*, queryset: QuerySet[Opportunity]) -> list[dict]:
    """Per stage: count, total (CNY) and weighted total (CNY × probability / 100). One query."""
    return board_column_figures_by_branch(branches=[queryset])


def _money(value) -> Decimal:
    # SQLite hands sums back as floats; round them to cents like PostgreSQL's numeric does.
    return ZERO if value is None else Decimal(str(value)).quantize(CENT)


_CARD_COLUMNS = (
    *("pk", "stage_id", "version", "status", "title", "amount", "currency", "expected_close_date"),
    *("last_activity_at", "stage_entered_at", "customer__name"),
    *("owner_id", "owner__username", "owner__first_name", "owner__last_name"),
)


def _board_cards(queryset: QuerySet[Opportunity]) -> list[BoardCard]:
    """The cards of ``queryset`` in its order, one row each; one User per owner, whose name
    every card of theirs shows (a rep's board is one owner and the pool)."""
    return _cards_of_rows(queryset.values_list(*_CARD_COLUMNS))


def _cards_of_rows(rows) -> list[BoardCard]:
    owners: dict[int | None, User | None] = {None: None}
    cards = []
    for *fields, owner_id, username, first_name, last_name in rows:
        owner = owners.get(owner_id, False)
        if owner is False:
            owner = owners[owner_id] = User(pk=owner_id, username=username, first_name=first_name, last_name=last_name)
        cards.append(BoardCard(*fields, owner))
    return cards


def board_column_cards(
    *, queryset: QuerySet[Opportunity], stage: Stage, after: tuple[datetime.date, int] | None, page_size: int
) -> tuple[list[BoardCard], bool]:
    """The next cards of one column after the cursor, and whether there are more. One query."""
    cards = queryset.filter(stage=stage)
    if after is not None:
        close_date, pk = after
        cards = cards.filter(Q(expected_close_date__gt=close_date) | Q(expected_close_date=close_date, pk__gt=pk))
    page = _board_cards(cards.order_by(*CARD_ORDER)[: page_size + 1])
    for card in page:
        card.stage = stage
    return page[:page_size], len(page) > page_size


def board_cursor(card: BoardCard) -> str:
    return f"{card.expected_close_date.isoformat()}_{card.pk}"


def board_cursor_parse(raw: str) -> tuple[datetime.date, int] | None:
    """``2026-05-01_123`` → (date, id); anything else raises ValueError."""
    if not raw:
        return None
    day, _sep, pk = raw.partition("_")
    return datetime.date.fromisoformat(day), int(pk)


def board_stage_for(*, stage_id: int) -> Stage:
    """An open stage of an active pipeline (a column), or Stage.DoesNotExist."""
    return Stage.objects.select_related("pipeline").get(pk=stage_id, kind=Stage.Kind.OPEN, pipeline__is_active=True)
