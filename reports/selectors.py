"""The reports: one selector per report, each taking the viewer and the filters and returning a
``Report`` (start, end, rows, totals). Definitions are in docs/REPORTS.md.

Rules every selector keeps:

- Every figure — counts, sums, averages, medians, ratios, rounding — is computed by the database
  (annotate / aggregate / window functions / subqueries). Python only picks columns, turns
  integer cents into Decimals, fills empty buckets with zeros and attaches lines to their row.
- A fixed, small number of queries whatever the number of deals (pinned in the tests).
- Scope through ``reports.scope``: the deals the viewer may see, and for figures credited to a
  person only the rows the viewer may see (a rep: their own).
- Totals are aggregated by their own query over the same rows, never summed from the rows.
"""

import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    RowRange,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Lead, NullIf, Round
from django.utils.translation import gettext as _

from crm.dates import company_today
from crm.statements import CompiledValues
from opportunities.models import Activity, Opportunity, StageChange, StatusChange
from reports.expressions import AsFetched, DaysBetween, Median, Over, PerGroup, Rounded, as_rounded_decimal, ratio
from reports.models import IncentivePolicy
from reports.periods import Period, company_midnight, month_start
from reports.scope import credit_q, credit_scope_q, deal_q, deal_scope_q, viewer_sees_team_figures
from sources.models import LeadSource
from stages.models import Pipeline, Stage
from teams.models import Team, User
from teams.visibility import opportunity_visibility_scope

OPEN = Opportunity.Status.OPEN
WON = Opportunity.Status.WON
LOST = Opportunity.Status.LOST
EXPIRED = Opportunity.Status.EXPIRED
CLOSED = (WON, LOST, EXPIRED)
CENT = Decimal("0.01")
ZERO = Value(0)
FORECAST_MONTHS = 6


@dataclass(frozen=True)
class Report:
    start: datetime.date
    end: datetime.date
    rows: list[dict]
    totals: dict
    extra: dict = field(default_factory=dict)


# --- small helpers (no arithmetic on figures here) ----------------------------------------


def _money(cents) -> Decimal | None:
    """Integer cents (an int, or a whole Decimal from PostgreSQL's SUM) → an exact Decimal."""
    return None if cents is None else Decimal(cents).scaleb(-2)


_NOBODY = object()  # not an owner id, nor None (the unassigned pool)


class _HundredthsOnce(dict):
    """Integer hundredths (cents, or a difficulty × 100) → the Decimal with two places, each
    distinct value converted once (for columns with few values)."""

    def __missing__(self, hundredths):
        value = self[hundredths] = _money(hundredths)
        return value


def _person_fields(prefix: str) -> tuple[str, ...]:
    return (f"{prefix}username", f"{prefix}first_name", f"{prefix}last_name")


def _person_name(row: dict, prefix: str) -> str:
    if row.get(f"{prefix}username") is None:
        return _("Unassigned")
    full = f"{row[f'{prefix}first_name']} {row[f'{prefix}last_name']}".strip()
    return full or row[f"{prefix}username"]


def _money_sum(expression, **filter_kwargs):
    return Rounded(Coalesce(Sum(expression, **filter_kwargs), ZERO), 2)


def _weighted_sum(**filter_kwargs):
    """Σ amount in CNY × probability / 100 (weighted pipeline), rounded once at the end."""
    return Rounded(Coalesce(Sum(F("amount_base") * F("probability"), **filter_kwargs), ZERO) / Value(100), 2)


# --- incentive policy -------------------------------------------------------------------


@dataclass(frozen=True)
class _Policy:
    effective_from: datetime.date | None
    base_cents: int
    new_customer_cents: int
    new_product_cents: int
    currency: str


# Until an admin records a policy: 1000 CNY × difficulty, no bonuses (the model's defaults).
DEFAULT_POLICY = _Policy(None, 100000, 0, 0, "CNY")


def _policies() -> list[_Policy]:
    """Every policy, latest first (a handful of rows: one query)."""
    return [
        _Policy(day, int(base * 100), int(customer * 100), int(product * 100), currency)
        for day, base, customer, product, currency in IncentivePolicy.objects.order_by("-effective_from").values_list(
            "effective_from", "base_reward", "new_customer_bonus", "new_product_bonus", "currency"
        )
    ]


def _policy_value(policies: list[_Policy], attr: str, moment: str, period: Period | None = None):
    """The policy figure in force at ``moment`` (a CASE over the policies' start instants,
    latest first). With the ``period`` every moment falls in, only the policies that can be in
    force in it are asked about: none that starts after it, none older than the one in force
    at its start (the CASE's default) — a month under one policy is a constant, not a CASE
    the database evaluates for each deal and Django builds for each page."""
    whens, default = [], DEFAULT_POLICY
    for policy in policies:
        begins = company_midnight(policy.effective_from)
        if period is not None and begins >= period.end_at:
            continue
        if period is not None and begins <= period.start_at:
            default = policy
            break
        whens.append(When(**{f"{moment}__gte": begins}, then=Value(getattr(policy, attr))))
    default = Value(getattr(default, attr))
    return Case(*whens, default=default, output_field=BigIntegerField()) if whens else default


def _payout_expressions(
    policies: list[_Policy], *, prefix: str = "opportunity__", moment: str = "at", period: Period | None = None
) -> dict:
    """Integer cents, so the rounding is exact on every database:
    payout = round_half_up(base × difficulty, 0.01) + new-customer bonus + new-product bonus.
    ``period``: the one the moments fall in (``_policy_value``)."""
    base = _policy_value(policies, "base_cents", moment, period)
    difficulty_hundredths = Cast(Round(F(f"{prefix}difficulty") * Value(100)), BigIntegerField())
    bonus = ExpressionWrapper(
        _policy_value(policies, "new_customer_cents", moment, period)
        * Cast(F(f"{prefix}is_new_customer"), IntegerField())
        + _policy_value(policies, "new_product_cents", moment, period)
        * Cast(F(f"{prefix}is_new_product"), IntegerField()),
        output_field=BigIntegerField(),
    )
    scaled = ExpressionWrapper((base * difficulty_hundredths + Value(50)) / Value(100), output_field=BigIntegerField())
    return {
        "base_cents": base,
        "bonus_cents": bonus,
        "payout_cents": ExpressionWrapper(scaled + bonus, output_field=BigIntegerField()),
    }


def _policy_currency(policies: list[_Policy]) -> str:
    return policies[0].currency if policies else DEFAULT_POLICY.currency


# --- closing events: won / lost / expired that still stand -----------------------------------


def closing_events(
    *, viewer, period: Period, team: Team | None = None, team_ids: bool = False
) -> QuerySet[StatusChange]:
    """Each deal's close (won, lost or expired) that happened in ``period`` and has not been undone
    by a later reopen — credited to ``StatusChange.owner``, the owner at that moment.
    ``team_ids``: the viewer's teams as ids (one small query first; see ``reports.scope``)."""
    return _closing_events(
        period=period,
        team_id=None if team is None else team.pk,
        deal=deal_q(viewer, "opportunity__", team_ids=team_ids),
        credit=credit_q(viewer, "owner", "opportunity__", team_ids=team_ids),
    )


def _closing_events(*, period: Period, team_id: int | None, deal: Q, credit: Q) -> QuerySet[StatusChange]:
    reopened_later = StatusChange.objects.filter(opportunity=OuterRef("opportunity"), to_status=OPEN).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    )
    events = (
        StatusChange.objects.filter(to_status__in=CLOSED, at__gte=period.start_at, at__lt=period.end_at)
        .filter(~Exists(reopened_later))
        .filter(deal, credit)
    )
    if team_id is not None:
        events = events.filter(opportunity__team=team_id)
    return events


# --- incentives ------------------------------------------------------------------------------


def report_incentives(*, viewer, period: Period, team: Team | None = None) -> Report:
    """Payouts per rep for the deals won in the period, line by line. 2 queries: the policies,
    then one statement with the lines and each rep's and the overall count and payout
    (``_incentive_lines_and_sums``: the deals won are read once)."""
    policies = _policies()
    currency = _policy_currency(policies)
    pay = _payout_expressions(policies, period=period)
    lines = (
        closing_events(viewer=viewer, period=period, team=team)
        .filter(to_status=WON)
        .annotate(
            base_cents=AsFetched(pay["base_cents"]),
            bonus_cents=AsFetched(pay["bonus_cents"]),
            payout_cents=AsFetched(pay["payout_cents"]),
            # integer hundredths, converted once per distinct value below (numeric → Decimal in
            # the driver costs more than the int and a dict lookup)
            difficulty_hundredths=AsFetched(Cast(Round(F("opportunity__difficulty") * Value(100)), BigIntegerField())),
        )
        .values_list(
            "owner",
            "opportunity",
            "opportunity__title",
            "at",
            "difficulty_hundredths",
            "base_cents",
            "bonus_cents",
            "payout_cents",
            "pk",
        )
        .order_by("owner", "at", "pk")
    )
    # Cents repeat (a few policies × difficulties of two decimals), and so do difficulties:
    # each value converted once (to the same Decimal, two places, as the column's).
    money, difficulties = _HundredthsOnce(), _HundredthsOnce()
    lines_by_owner: dict[int | None, list[dict]] = {}
    sums, current, owner_lines, owner_keys = [], _NOBODY, [], []
    line_keys: dict[int | None, list[tuple]] = {}  # (won at, line id) of each line, per rep
    out_of_order: set[int | None] = set()
    for (
        owner,
        opportunity,
        title,
        won_at,
        difficulty_hundredths,
        base,
        bonus,
        payout,
        line_id,
        won,
        owner_payout,
        total_won,
        total_payout,
        username,
        first_name,
        last_name,
    ) in _incentive_lines_and_sums(lines):
        if opportunity is None:  # a rep's figures, not a line
            sums.append((owner, won, owner_payout, total_won, total_payout, username, first_name, last_name))
            continue
        if owner != current:  # the lines come rep by rep
            current, owner_lines = owner, lines_by_owner.setdefault(owner, [])
            owner_keys = line_keys.setdefault(owner, [])
        key = (won_at, line_id)
        if owner_keys and key < owner_keys[-1]:
            out_of_order.add(owner)
        owner_keys.append(key)
        owner_lines.append(
            {
                "opportunity": opportunity,
                "title": title,
                "won_at": won_at,
                "base": money[base],
                "difficulty": difficulties[difficulty_hundredths],
                "bonus": money[bonus],
                "payout": money[payout],
            }
        )
    # The statement returns the lines in order (see _incentive_lines_and_sums); should a database
    # ever hand them back otherwise, a rep's lines are put back in order here, never shown out of it.
    for owner in out_of_order:
        keyed = sorted(zip(line_keys[owner], lines_by_owner[owner], strict=True), key=lambda pair: pair[0])
        lines_by_owner[owner] = [line for _key, line in keyed]
    rows = [
        {
            "owner": owner,
            "owner_name": _person_name({"username": username, "first_name": first_name, "last_name": last_name}, ""),
            "won": won,
            "payout": money[payout],
            "currency": currency,
            "lines": lines_by_owner.get(owner, []),
        }
        for owner, won, payout, _total_won, _total_payout, username, first_name, last_name in sums
    ]
    totals = {"won": 0, "payout": Decimal("0.00"), "currency": currency}
    if sums:  # every rep's row carries the overall figures
        totals.update(won=sums[0][3], payout=money[sums[0][4]])
    rows.sort(key=lambda row: (-row["payout"], row["owner_name"]))  # biggest payout first
    return Report(period.start, period.end, rows, totals)


def _incentive_lines_and_sums(lines: QuerySet) -> list:
    """One statement: the rows of ``lines`` (owner, opportunity, title, at, difficulty × 100,
    base, bonus and payout cents, line id; in order), each followed by 7 NULLs; then one row per
    owner: the owner, 8 NULLs, the owner's count and payout cents, the overall count and payout
    cents, and the owner's username, first and last name.

    The lines are a WITH query read twice — for the lines, and for the sums grouped by owner —
    so PostgreSQL computes them once, payouts and sort in its parallel workers, as the
    hand-written SQL does. (Running window sums over the lines, the earlier way, ran in a single
    process over every line: a third of the report's time at a year of 1,000,000 deals.) Django
    has no WITH, so the ORM's SQL for the lines is wrapped here, and its converters applied."""
    compiler = lines.query.get_compiler(using=lines.db)
    try:
        lines_sql, params = compiler.as_sql()
    except EmptyResultSet:  # nothing in scope (a deactivated viewer): no query, as the ORM does
        return []
    converters = compiler.get_converters([expression for expression, _sql, _alias in compiler.select])
    connection = compiler.connection
    users, user_id = connection.ops.quote_name(User._meta.db_table), connection.ops.quote_name(User._meta.pk.column)
    # PostgreSQL returns a WITH query's rows as it wrote them, in the lines' order; SQLite may
    # drop the ORDER BY of a WITH query, so there the statement orders its rows again (small data).
    reorder = "" if connection.vendor == "postgresql" else "ORDER BY owner_id, won_at, line_id"
    sql = f"""
        WITH incentive_lines (owner_id, opportunity_id, title, won_at, difficulty_hundredths, base_cents,
                              bonus_cents, payout_cents, line_id) AS ({lines_sql})
        SELECT owner_id, opportunity_id, title, won_at, difficulty_hundredths, base_cents, bonus_cents,
               payout_cents, line_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM incentive_lines
        UNION ALL
        SELECT per_owner.owner_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               per_owner.won, per_owner.payout_cents,
               CAST(SUM(per_owner.won) OVER () AS bigint), CAST(SUM(per_owner.payout_cents) OVER () AS bigint),
               {users}.username, {users}.first_name, {users}.last_name
        FROM (SELECT owner_id, COUNT(*) AS won, CAST(SUM(payout_cents) AS bigint) AS payout_cents
              FROM incentive_lines GROUP BY owner_id) per_owner
        LEFT JOIN {users} ON {users}.{user_id} = per_owner.owner_id
        {reorder}
    """  # noqa: S608 (the ORM's SQL and quoted names; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return list(compiler.apply_converters(rows, converters)) if converters else rows


def incentive_totals(*, viewer, period: Period, team: Team | None = None) -> dict:
    """The totals of ``report_incentives`` (won count, payout, currency) without its lines: the
    same closing events and payout expressions, aggregated by the database — for the home page,
    which shows only those two figures. The viewer's teams are written as ids, so the month's
    wins are read on the owner's (a rep) or the deal's team's index and their deals by id.
    2 queries (the policies, the sums), plus the viewer's teams unless the request has them.

    The sums' statement is built from what it depends on alone — the viewer's visibility scope,
    the period, the team and the policies — and kept per process under exactly that
    (``_incentive_totals_statement``): building and compiling it cost the home page more than
    the database's work. SQL only: a change of any of those is another key."""
    policies = tuple(_policies())
    statement = _incentive_totals_statement(
        opportunity_visibility_scope(viewer), period, None if team is None else team.pk, policies
    )
    rows = statement.rows()  # one row; none when the scope sees nothing (no query is made)
    won, payout_cents = rows[0] if rows else (0, None)
    return {
        "won": won,
        "payout": _money(payout_cents) if won else Decimal("0.00"),
        "currency": _policy_currency(list(policies)),
    }


@functools.lru_cache(maxsize=1024)
def _incentive_totals_statement(scope: tuple, period: Period, team_id: int | None, policies: tuple) -> CompiledValues:
    pay = _payout_expressions(list(policies), period=period)
    events = _closing_events(
        period=period,
        team_id=team_id,
        deal=deal_scope_q(scope, "opportunity__"),
        credit=credit_scope_q(scope, "owner", "opportunity__"),
    ).filter(to_status=WON)
    if connection.vendor == "postgresql":
        # The credit rule once more on the event's own columns (``deal_team`` is the deal's team,
        # kept equal to it by PostgreSQL's triggers, migration 0009): the same events, but read
        # from the viewer's wins and their teams' wins of the period, each on an index of its
        # own, instead of every win of the company joined to its deal.
        on_event = credit_scope_q(scope, "owner", "deal_")
        if team_id is not None:
            on_event &= Q(deal_team=team_id)
        events = events.filter(on_event)
    # An aggregate as a values query grouped by nothing (a constant is no GROUP BY column): one
    # row, as aggregate() gives, but a queryset whose SQL can be kept.
    sums = (
        events.order_by()
        .annotate(everything=Value(1))
        .values("everything")
        .annotate(won=Count("pk"), payout_cents=Sum(pay["payout_cents"]))
        .values_list("won", "payout_cents")
    )
    return CompiledValues(sums)


# --- lead sources ------------------------------------------------------------------------------


# The report is grouped from the sources' side, joined to their leads: PostgreSQL then groups by
# the source's primary key alone (its other columns depend on it) instead of by every source
# column selected — one integer hash key per lead row, as a hand-written GROUP BY source_id has.
LEAD = "opportunities__"


def _sources_with_leads(*, viewer, period: Period, team: Team | None, channel: str | None) -> QuerySet[LeadSource]:
    """The sources joined to their leads: the opportunities created in the period, in scope. The
    lead conditions are in one ``filter()`` so they all apply to the one join the figures use."""
    leads = Q(
        deal_q(viewer, LEAD), **{f"{LEAD}created_at__gte": period.start_at, f"{LEAD}created_at__lt": period.end_at}
    )
    if team is not None:
        leads &= Q(**{f"{LEAD}team": team})
    sources = LeadSource.objects.filter(leads)
    if channel:
        sources = sources.filter(channel=channel)
    return sources


def _lead_figures(prefix: str = "", partition_by=None) -> dict:
    """Every lead figure, from the grouped row (``partition_by`` None), or — as windows over the
    grouped rows — per channel (``partition_by=[channel]``) or in total (``partition_by=[]``).
    Sums and counts are added up before anything is rounded or divided, so a total is exactly
    the figure of all its leads, not a sum of rounded parts."""

    def level(aggregate):
        return aggregate if partition_by is None else Over("SUM", aggregate, partition_by=partition_by)

    def figure(key: str) -> F:
        # a figure already annotated (earlier in this dict): Django reuses its resolved
        # expression instead of resolving the same tree again for every ratio that uses it
        return F(f"{prefix}{key}")

    status = f"{LEAD}status"
    won, lost, expired = Q(**{status: WON}), Q(**{status: LOST}), Q(**{status: EXPIRED})
    is_open = Q(**{status: OPEN})
    lead_id, amount, probability = f"{LEAD}pk", f"{LEAD}amount_base", f"{LEAD}probability"
    cycle = DaysBetween(f"{LEAD}created_at", f"{LEAD}closed_at")
    figures = {
        "leads": level(Count(lead_id)),
        "open": level(Count(lead_id, filter=is_open)),
        "won": level(Count(lead_id, filter=won)),
        "lost": level(Count(lead_id, filter=lost)),
        "expired": level(Count(lead_id, filter=expired)),
        "conversion_rate": ratio(figure("won"), figure("leads")),
        "win_rate": ratio(figure("won"), level(Count(lead_id, filter=won | lost | expired))),
        "won_amount": Rounded(Coalesce(level(Sum(amount, filter=won)), ZERO), 2),
        "weighted_pipeline": Rounded(
            Coalesce(level(Sum(F(amount) * F(probability), filter=is_open)), ZERO) / Value(100), 2
        ),
        # every won deal has closed_at, so its cycle count is the won count
        "avg_cycle_days": Rounded(level(Sum(cycle, filter=won)) / NullIf(figure("won"), ZERO), 1),
        "cost": Rounded(level(PerGroup(_source_cost())), 2),
        "cost_per_lead": ratio(figure("cost"), figure("leads"), 2),
        "cost_per_win": ratio(figure("cost"), figure("won"), 2),
        "roi": ratio(figure("won_amount") - figure("cost"), figure("cost"), 4),
    }
    return {f"{prefix}{key}": value for key, value in figures.items()}


def _source_cost(prefix: str = ""):
    """Money + person-days × day rate, in CNY."""
    return F(f"{prefix}cost_money") + F(f"{prefix}manpower_days") * F(f"{prefix}day_rate")


LEAD_FIGURES = (
    "leads",
    "open",
    "won",
    "lost",
    "expired",
    "conversion_rate",
    "win_rate",
    "won_amount",
    "weighted_pipeline",
    "avg_cycle_days",
    "cost",
    "cost_per_lead",
    "cost_per_win",
    "roi",
)
EMPTY_LEAD_TOTALS = {
    "leads": 0,
    "open": 0,
    "won": 0,
    "lost": 0,
    "expired": 0,
    "conversion_rate": None,
    "win_rate": None,
    "won_amount": Decimal("0.00"),
    "weighted_pipeline": Decimal("0.00"),
    "avg_cycle_days": None,
    "cost": Decimal("0.00"),
    "cost_per_lead": None,
    "cost_per_win": None,
    "roi": None,
}


def report_sources(*, viewer, period: Period, team: Team | None = None, channel: str | None = None) -> Report:
    """Leads created in the period per source, with per-channel and overall figures from the same
    GROUP BY (window sums over its rows). 1 query.

    A source's cost is counted in full in any period in which it has at least one lead the viewer
    sees (docs/REPORTS.md says why)."""
    sources = _sources_with_leads(viewer=viewer, period=period, team=team, channel=channel)
    rows = list(
        sources.values("pk", "name", "channel", "cost_money", "manpower_days", "day_rate")
        .annotate(**_lead_figures())
        .annotate(**_lead_figures("channel__", partition_by=[F("channel")]))
        .annotate(**_lead_figures("total__", partition_by=[]))
        .order_by("channel", "name", "pk")
    )
    channel_names = dict(LeadSource.Channel.choices)

    def label(code: str) -> str:
        return str(channel_names.get(code, code))

    per_source = [
        {
            "source": row["pk"],
            "name": row["name"],
            "channel": row["channel"],
            "channel_name": label(row["channel"]),
            **{key: row[key] for key in LEAD_FIGURES},
        }
        for row in rows
    ]
    first_of_channel = {row["channel"]: row for row in reversed(rows)}
    channels = [
        {"channel": code, "channel_name": label(code), **{key: row[f"channel__{key}"] for key in LEAD_FIGURES}}
        for code, row in sorted(first_of_channel.items())
    ]
    totals = {key: rows[0][f"total__{key}"] for key in LEAD_FIGURES} if rows else dict(EMPTY_LEAD_TOTALS)
    return Report(period.start, period.end, per_source, totals, {"channels": channels})


# --- expiries ------------------------------------------------------------------------------------


def report_expired(*, viewer, period: Period, team: Team | None = None) -> Report:
    """Per rep: deals expired in the period (count, amount, list), their close-date pushes, and the
    share of the rep's closes in the period that were expiries. 2 queries: the reps' counts of
    closes and expiries (totals as window sums over them), then the expired deals with each rep's
    and the overall amount and pushes as running sums.

    Only the second query reads the deals: the counts come from the history rows alone, so the
    deals table is scanned once (for an admin, who has no deal scope to check), not twice."""
    events = closing_events(viewer=viewer, period=period, team=team)
    is_expired = Q(to_status=EXPIRED)

    def counts(prefix: str, level) -> dict:
        closed, expired = level(Count("pk")), level(Count("pk", filter=is_expired))
        return {
            f"{prefix}closed": closed,
            f"{prefix}expired": expired,
            f"{prefix}expired_share": ratio(expired, closed),
        }

    grouped = list(
        events.values("owner", *_person_fields("owner__"))
        .annotate(**counts("", lambda aggregate: aggregate))
        .annotate(**counts("total_", lambda aggregate: Over("SUM", aggregate)))
        .order_by()
    )
    # Running sums in the lines' own order (one sort, streamed): a rep's last line carries the
    # rep's amount and pushes, the very last line the overall ones.
    in_order = {"order_by": [F("owner").asc(), F("at").asc(), F("pk").asc()], "frame": RowRange(None, 0)}
    amount, pushes = F("opportunity__amount_base"), F("opportunity__close_date_pushes")

    def running(aggregate, **partition):
        return Window(aggregate, **partition, **in_order)

    by_owner = {"partition_by": [F("owner")]}
    lines = (
        events.filter(is_expired)
        .annotate(
            # converted in Python only for the lines kept (as_rounded_decimal below)
            owner_amount=AsFetched(Rounded(Coalesce(running(Sum(amount), **by_owner), ZERO), 2)),
            owner_pushes=AsFetched(Cast(running(Sum(pushes), **by_owner), BigIntegerField())),
            total_amount=AsFetched(Rounded(Coalesce(running(Sum(amount)), ZERO), 2)),
            total_pushes=AsFetched(Cast(running(Sum(pushes)), BigIntegerField())),
        )
        .values_list(
            "owner",
            "opportunity",
            "opportunity__title",
            "at",
            "opportunity__expected_close_date",
            "opportunity__amount_base",
            "opportunity__close_date_pushes",
            "opportunity__last_activity_at",
            "owner_amount",
            "owner_pushes",
            "total_amount",
            "total_pushes",
        )
        .order_by("owner", "at", "pk")
    )
    zero = Decimal("0.00")
    lines_by_owner: dict[int | None, list[dict]] = {}
    sums_by_owner: dict[int | None, tuple[Decimal, int]] = {}
    total_sums = (zero, 0)
    for (
        owner,
        opportunity,
        title,
        expired_at,
        close_date,
        line_amount,
        line_pushes,
        last_activity,
        owner_amount,
        owner_pushes,
        total_amount,
        total_pushes,
    ) in lines:
        lines_by_owner.setdefault(owner, []).append(
            {
                "opportunity": opportunity,
                "title": title,
                "expired_at": expired_at,
                "expected_close_date": close_date,
                "amount": line_amount,
                "pushes": line_pushes,
                "last_activity_at": last_activity,
            }
        )
        sums_by_owner[owner] = (owner_amount, owner_pushes)
        total_sums = (total_amount, total_pushes)
    # Most expiries first, then the largest amount, then by username (the unassigned pool last).
    sort_keys = {}
    rows = []
    for row in grouped:
        expired_amount, row_pushes = sums_by_owner.get(row["owner"], (zero, 0))
        expired_amount = as_rounded_decimal(expired_amount)
        username = row["owner__username"]
        sort_keys[row["owner"]] = (
            -row["expired"],
            -expired_amount,
            username is None,
            username or "",
            row["owner"] or 0,
        )
        rows.append(
            {
                "owner": row["owner"],
                "owner_name": _person_name(row, "owner__"),
                "closed": row["closed"],
                "expired": row["expired"],
                "expired_amount": expired_amount,
                "pushes": row_pushes,
                "expired_share": row["expired_share"],
                "lines": lines_by_owner.get(row["owner"], []),
            }
        )
    rows.sort(key=lambda row: sort_keys[row["owner"]])
    first = grouped[0] if grouped else None
    totals = {
        "closed": first["total_closed"] if first else 0,
        "expired": first["total_expired"] if first else 0,
        "expired_amount": as_rounded_decimal(total_sums[0]),
        "pushes": total_sums[1],
        "expired_share": first["total_expired_share"] if first else None,
    }
    return Report(period.start, period.end, rows, totals)


# --- pipeline and forecast ----------------------------------------------------------------------


def _open_deals(*, viewer, team: Team | None, pipeline: Pipeline | None) -> QuerySet[Opportunity]:
    deals = Opportunity.objects.filter(deal_q(viewer), status=OPEN)
    if team is not None:
        deals = deals.filter(team=team)
    if pipeline is not None:
        deals = deals.filter(pipeline=pipeline)
    return deals


def _open_measures() -> dict:
    """Per group, and the overall totals as window sums over the groups (same query)."""
    total = lambda aggregate: Over("SUM", aggregate)  # noqa: E731
    return {
        "count": Count("pk"),
        "amount": _money_sum("amount_base"),
        "weighted": _weighted_sum(),
        "total_count": total(Count("pk")),
        "total_amount": Rounded(Coalesce(total(Sum("amount_base")), ZERO), 2),
        "total_weighted": Rounded(Coalesce(total(Sum(F("amount_base") * F("probability"))), ZERO) / Value(100), 2),
    }


def _open_totals(groups: dict) -> dict:
    first = next(iter(groups.values()), None)
    if first is None:
        return {"count": 0, "amount": Decimal("0.00"), "weighted": Decimal("0.00")}
    return {"count": first["total_count"], "amount": first["total_amount"], "weighted": first["total_weighted"]}


def report_pipeline(*, viewer, team: Team | None = None, pipeline: Pipeline | None = None) -> Report:
    """Open deals now, per stage: count, amount (CNY) and weighted amount.
    Every open stage of the active pipelines is listed, empty ones with zeros. 2 queries."""
    deals = _open_deals(viewer=viewer, team=team, pipeline=pipeline)
    stages = Stage.objects.filter(kind=Stage.Kind.OPEN).filter(
        Q(pipeline__is_active=True) | Q(pk__in=deals.values("stage"))
    )
    if pipeline is not None:
        stages = stages.filter(pipeline=pipeline)
    stages = stages.order_by("pipeline__order", "pipeline__name", "order", "pk").values(
        "pk", "name", "pipeline", "pipeline__name"
    )
    per_stage = {row["stage"]: row for row in deals.values("stage").annotate(**_open_measures()).order_by()}
    totals = _open_totals(per_stage)
    zero = Decimal("0.00")
    rows = []
    for stage in stages:
        figures = per_stage.get(stage["pk"], {"count": 0, "amount": zero, "weighted": zero})
        rows.append(
            {
                "stage": stage["pk"],
                "name": stage["name"],
                "pipeline": stage["pipeline"],
                "pipeline_name": stage["pipeline__name"],
                "count": figures["count"],
                "amount": figures["amount"],
                "weighted": figures["weighted"],
            }
        )
    today = company_today()
    return Report(today, today, rows, totals)


def forecast_buckets(today: datetime.date) -> list[tuple[str, datetime.date | None, datetime.date | None]]:
    """(key, first day, last day): slipped deals, this month and the next five, then later."""
    months = [month_start(today, offset) for offset in range(FORECAST_MONTHS + 1)]
    buckets: list[tuple[str, datetime.date | None, datetime.date | None]] = [
        ("overdue", None, today - datetime.timedelta(days=1))
    ]
    for first, following in zip(months, months[1:], strict=False):
        buckets.append((first.strftime("%Y-%m"), max(first, today), following - datetime.timedelta(days=1)))
    buckets.append(("later", months[-1], None))
    return buckets


def report_forecast(*, viewer, team: Team | None = None, pipeline: Pipeline | None = None) -> Report:
    """Open deals by expected close month: weighted amount for this month and the next five, deals
    whose date has already passed (slipped, not yet expired) in their own bucket, and the rest in
    "later" — so the buckets add up to the pipeline. 1 query."""
    today = company_today()
    buckets = forecast_buckets(today)
    whens = [When(expected_close_date__lt=today, then=Value("overdue"))]
    whens += [When(expected_close_date__lte=last, then=Value(key)) for key, _first, last in buckets[1:-1]]
    deals = _open_deals(viewer=viewer, team=team, pipeline=pipeline).annotate(
        bucket=Case(*whens, default=Value("later"), output_field=CharField())
    )
    per_bucket = {row["bucket"]: row for row in deals.values("bucket").annotate(**_open_measures()).order_by()}
    totals = _open_totals(per_bucket)
    zero = Decimal("0.00")
    rows = []
    for key, first, last in buckets:
        figures = per_bucket.get(key, {"count": 0, "amount": zero, "weighted": zero})
        rows.append(
            {
                "bucket": key,
                "first_day": first,
                "last_day": last,
                "count": figures["count"],
                "amount": figures["amount"],
                "weighted": figures["weighted"],
            }
        )
    return Report(buckets[1][1], buckets[-2][2], rows, totals)


# --- funnel and stage time ---------------------------------------------------------------------


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True).order_by("order", "name").first()


def report_funnel(*, viewer, period: Period, pipeline: Pipeline | None = None, team: Team | None = None) -> Report:
    """Deals created in the period in one pipeline: how many reached each stage (entered it or a
    later one), conversion to the next stage, and the average and median days spent in each
    stage (completed stays). 4 queries (3 when a pipeline is given)."""
    pipeline = pipeline or default_pipeline()
    if pipeline is None:
        return Report(period.start, period.end, [], {"deals": 0, "won": 0}, {"pipeline": None})
    stages = list(pipeline.stages.exclude(kind=Stage.Kind.LOST).order_by("order", "pk").values("pk", "name", "kind"))
    cohort = Opportunity.objects.filter(
        deal_q(viewer), pipeline=pipeline, created_at__gte=period.start_at, created_at__lt=period.end_at
    )
    if team is not None:
        cohort = cohort.filter(team=team)

    # How far each deal got: the highest position among the funnel stages it ever entered.
    position = Case(
        *[When(stage_changes__to_stage=stage["pk"], then=Value(index)) for index, stage in enumerate(stages)],
        default=None,
        output_field=IntegerField(),
    )
    reached = {f"reached_{i}": Count("pk", filter=Q(furthest__gte=i)) for i in range(len(stages))}
    conversion = {
        f"conversion_{i}": ratio(Count("pk", filter=Q(furthest__gte=i + 1)), Count("pk", filter=Q(furthest__gte=i)))
        for i in range(len(stages) - 1)
    }
    counts = (
        cohort.annotate(furthest=Max(position)).aggregate(deals=Count("pk"), **reached, **conversion)
        if stages
        else {"deals": 0}
    )

    # Stays: from entering a stage to the next stage change of the same deal.
    stays = StageChange.objects.filter(
        deal_q(viewer, "opportunity__"),
        opportunity__pipeline=pipeline,
        opportunity__created_at__gte=period.start_at,
        opportunity__created_at__lt=period.end_at,
    )
    if team is not None:
        stays = stays.filter(opportunity__team=team)
    stays = stays.annotate(
        left_at=Window(Lead("at"), partition_by=[F("opportunity_id")], order_by=[F("at").asc(), F("pk").asc()]),
    )
    days = DaysBetween("at", "left_at")
    time_aggregates = {}
    for i, stage in enumerate(stages):
        if stage["kind"] != Stage.Kind.OPEN:
            continue  # the won stage ends the funnel: time "in" it is not a stay
        completed = Q(to_stage=stage["pk"], left_at__isnull=False)
        time_aggregates[f"stays_{i}"] = Count("pk", filter=completed)
        time_aggregates[f"avg_days_{i}"] = Rounded(Avg(days, filter=completed), 1)
        time_aggregates[f"median_days_{i}"] = Rounded(Median(days, filter=completed), 1)
    times = stays.aggregate(**time_aggregates) if stages else {}

    rows = [
        {
            "stage": stage["pk"],
            "name": stage["name"],
            "kind": stage["kind"],
            "reached": counts[f"reached_{i}"],
            "conversion_to_next": counts.get(f"conversion_{i}"),
            "stays": times.get(f"stays_{i}"),
            "avg_days": times.get(f"avg_days_{i}"),
            "median_days": times.get(f"median_days_{i}"),
        }
        for i, stage in enumerate(stages)
    ]
    won = next((row["reached"] for row in rows if row["kind"] == Stage.Kind.WON), 0)
    totals = {"deals": counts["deals"], "won": won}
    return Report(period.start, period.end, rows, totals, {"pipeline": {"id": pipeline.pk, "name": pipeline.name}})


# --- rep scorecard ---------------------------------------------------------------------------


def report_scorecard(*, viewer, period: Period, team: Team | None = None) -> Report:
    """Per rep: open deals now; won, lost and expired in the period (standing closes credited to
    the owner at the time); win rate; average cycle of the deals won; payout (the same figure as
    the incentives report); last activity they logged. 5 queries (6 for a manager): the policies,
    closes, open deals and activities per rep (each with its totals as window functions), people."""
    policies = _policies()
    currency = _policy_currency(policies)
    payout_cents = _payout_expressions(policies, period=period)["payout_cents"]
    events = closing_events(viewer=viewer, period=period, team=team)
    won = Q(to_status=WON)
    cycle = DaysBetween("opportunity__created_at", "at")

    def close_figures(prefix: str, level) -> dict:
        won_n = level(Count("pk", filter=won))
        return {
            f"{prefix}won": won_n,
            f"{prefix}lost": level(Count("pk", filter=Q(to_status=LOST))),
            f"{prefix}expired": level(Count("pk", filter=Q(to_status=EXPIRED))),
            # Every standing close is won, lost or expired, so the win rate is won ÷ all closes.
            f"{prefix}win_rate": ratio(won_n, level(Count("pk"))),
            f"{prefix}avg_cycle_days": Rounded(
                level(Sum(cycle, filter=won)) / NullIf(level(Count(cycle, filter=won)), ZERO), 1
            ),
            f"{prefix}payout_cents": Coalesce(level(Sum(payout_cents, filter=won)), ZERO),
        }

    def total(aggregate, function="SUM"):
        return Over(function, aggregate)

    open_deals = Opportunity.objects.filter(deal_q(viewer), credit_q(viewer, "owner"), status=OPEN, owner__isnull=False)
    activities = Activity.objects.filter(deal_q(viewer, "opportunity__"), credit_q(viewer, "author", "opportunity__"))
    if team is not None:
        open_deals = open_deals.filter(team=team)
        activities = activities.filter(opportunity__team=team)

    closes = {
        row["owner"]: row
        for row in events.values("owner")
        .annotate(**close_figures("", lambda a: a), **close_figures("total_", total))
        .order_by()
    }
    opens = {
        row["owner"]: row
        for row in open_deals.values("owner").annotate(n=Count("pk"), total=total(Count("pk"))).order_by()
    }
    last = {
        row["author"]: row
        for row in activities.values("author")
        .annotate(last=Max("occurred_at"), total=total(Max("occurred_at"), "MAX"))
        .order_by()
    }
    first_close = next(iter(closes.values()), None)
    first_open = next(iter(opens.values()), None)
    first_last = next(iter(last.values()), None)

    # Rows: everyone with a figure, plus (for managers) every member of their teams, idle or not.
    ids = {*closes, *opens, *last} - {None}
    if viewer_sees_team_figures(viewer):
        members = team.members.all() if team is not None else User.objects.filter(teams__in=_viewer_teams(viewer))
        people = User.objects.filter(Q(pk__in=ids) | Q(pk__in=members.values("pk")))
    else:
        people = User.objects.filter(pk=viewer.pk)
    people = people.order_by("username").values("pk", *_person_fields(""))

    rows = []
    for person in people:
        close = closes.get(person["pk"], {})
        rows.append(
            {
                "owner": person["pk"],
                "owner_name": _person_name(person, ""),
                "open": opens.get(person["pk"], {}).get("n", 0),
                "won": close.get("won", 0),
                "lost": close.get("lost", 0),
                "expired": close.get("expired", 0),
                "win_rate": close.get("win_rate"),
                "avg_cycle_days": close.get("avg_cycle_days"),
                "payout": _money(close.get("payout_cents", 0)),
                "currency": currency,
                "last_activity_at": last.get(person["pk"], {}).get("last"),
            }
        )
    totals = {
        "open": first_open["total"] if first_open else 0,
        "won": first_close["total_won"] if first_close else 0,
        "lost": first_close["total_lost"] if first_close else 0,
        "expired": first_close["total_expired"] if first_close else 0,
        "win_rate": first_close["total_win_rate"] if first_close else None,
        "avg_cycle_days": first_close["total_avg_cycle_days"] if first_close else None,
        "payout": _money(first_close["total_payout_cents"] if first_close else 0),
        "currency": currency,
        "last_activity_at": first_last["total"] if first_last else None,
    }
    return Report(period.start, period.end, rows, totals)


def _viewer_teams(viewer) -> QuerySet[Team]:
    return Team.objects.all() if viewer.is_crm_admin else Team.objects.filter(managers=viewer)


__all__ = [
    "Report",
    "closing_events",
    "forecast_buckets",
    "incentive_totals",
    "report_expired",
    "report_forecast",
    "report_funnel",
    "report_incentives",
    "report_pipeline",
    "report_scorecard",
    "report_sources",
]
