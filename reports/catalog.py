"""What each report is made of, in one place: its selector, its filters, its columns and its
chart. The page, the CSV/XLSX exports and the API all read this catalogue, so a column cannot
exist on one and be missing (or computed differently) on another."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.dates import company_zone
from reports import selectors
from reports.selectors import Report

# Column kinds decide formatting only; the values are the selector's.
ID, INT, TEXT, MONEY, RATE, DAYS, DATE, DATETIME = "id", "int", "text", "money", "rate", "days", "date", "datetime"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = INT


@dataclass(frozen=True)
class ReportSpec:
    slug: str
    title: str
    description: str
    filters: tuple[str, ...]
    run: Callable[..., Report]
    columns: tuple[Column, ...]
    total_label_key: str
    line_columns: tuple[Column, ...] = ()
    lines_title: str = ""
    extra_tables: tuple[tuple[str, str, tuple[Column, ...]], ...] = ()  # (extra key, title, columns)
    chart: Callable[[Report], dict] | None = None
    one_pipeline: bool = False  # the pipeline filter picks one pipeline rather than narrowing


def _period_run(selector):
    def run(*, viewer, data: dict) -> Report:
        kwargs = {key: data[key] for key in ("team", "channel", "pipeline") if key in data and data[key]}
        return selector(viewer=viewer, period=data["period"], **kwargs)

    return run


def _snapshot_run(selector):
    def run(*, viewer, data: dict) -> Report:
        kwargs = {key: data[key] for key in ("team", "pipeline") if key in data and data[key]}
        return selector(viewer=viewer, **kwargs)

    return run


def _bar_chart(label_key: str, datasets: list[tuple[str, str]], *, horizontal: bool = False):
    """Chart.js data straight from the report rows: the chart shows exactly the table's numbers."""

    def chart(report: Report) -> dict:
        return {
            "type": "bar",
            "horizontal": horizontal,
            "labels": [str(row[label_key]) for row in report.rows],
            "datasets": [
                {"label": str(label), "data": [_chart_number(row[key]) for row in report.rows]}
                for key, label in datasets
            ],
        }

    return chart


def _chart_number(value):
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal) else value


OWNER = Column("owner_name", _("Rep"), TEXT)

REPORTS: dict[str, ReportSpec] = {
    spec.slug: spec
    for spec in (
        ReportSpec(
            slug="incentives",
            title=_("Incentive payouts"),
            description=_(
                "Deals won in the period, paid base reward × difficulty coefficient + bonuses, "
                "credited to the owner at the time of the win."
            ),
            filters=("start", "end", "team"),
            run=_period_run(selectors.report_incentives),
            columns=(OWNER, Column("won", _("Deals won")), Column("payout", _("Payout"), MONEY)),
            total_label_key="owner_name",
            line_columns=(
                Column("opportunity", _("Deal #"), ID),
                Column("title", _("Opportunity"), TEXT),
                Column("won_at", _("Won at"), DATETIME),
                Column("base", _("Base reward"), MONEY),
                Column("difficulty", _("Difficulty"), DAYS),
                Column("bonus", _("Bonus"), MONEY),
                Column("payout", _("Payout"), MONEY),
            ),
            lines_title=_("Payout lines"),
            chart=_bar_chart("owner_name", [("payout", _("Payout"))]),
        ),
        ReportSpec(
            slug="sources",
            title=_("Lead sources and ROI"),
            description=_(
                "Leads created in the period, by source and by channel, with their outcome so far "
                "and what the source cost."
            ),
            filters=("start", "end", "team", "channel"),
            run=_period_run(selectors.report_sources),
            columns=(
                Column("name", _("Source"), TEXT),
                Column("channel_name", _("Channel"), TEXT),
                Column("leads", _("Leads")),
                Column("open", _("Open")),
                Column("won", _("Won")),
                Column("lost", _("Lost")),
                Column("expired", _("Expired")),
                Column("conversion_rate", _("Conversion"), RATE),
                Column("win_rate", _("Win rate"), RATE),
                Column("won_amount", _("Won amount (CNY)"), MONEY),
                Column("weighted_pipeline", _("Weighted pipeline (CNY)"), MONEY),
                Column("avg_cycle_days", _("Avg. cycle (days)"), DAYS),
                Column("cost", _("Cost (CNY)"), MONEY),
                Column("cost_per_lead", _("Cost per lead"), MONEY),
                Column("cost_per_win", _("Cost per win"), MONEY),
                Column("roi", _("ROI"), RATE),
            ),
            total_label_key="name",
            extra_tables=(("channels", _("By channel"), ()),),  # filled below: same figures, per channel
            chart=_bar_chart("name", [("cost", _("Cost (CNY)")), ("won_amount", _("Won amount (CNY)"))]),
        ),
        ReportSpec(
            slug="expired",
            title=_("Expired opportunities"),
            description=_(
                "Per rep: deals whose expected close date passed without a win or a loss, in the "
                "period — the accountability list."
            ),
            filters=("start", "end", "team"),
            run=_period_run(selectors.report_expired),
            columns=(
                OWNER,
                Column("expired", _("Expired")),
                Column("expired_amount", _("Expired amount (CNY)"), MONEY),
                Column("pushes", _("Close-date pushes")),
                Column("closed", _("Closed deals")),
                Column("expired_share", _("Share expired"), RATE),
            ),
            total_label_key="owner_name",
            line_columns=(
                Column("opportunity", _("Deal #"), ID),
                Column("title", _("Opportunity"), TEXT),
                Column("expired_at", _("Expired at"), DATETIME),
                Column("expected_close_date", _("Expected close date"), DATE),
                Column("amount", _("Amount (CNY)"), MONEY),
                Column("pushes", _("Pushes")),
                Column("last_activity_at", _("Last activity"), DATETIME),
            ),
            lines_title=_("Expired deals"),
            chart=_bar_chart("owner_name", [("expired", _("Expired"))]),
        ),
        ReportSpec(
            slug="pipeline",
            title=_("Pipeline"),
            description=_(
                "Open deals now, per stage: how many, their amount and their weighted amount "
                "(amount × win probability)."
            ),
            filters=("team", "pipeline"),
            run=_snapshot_run(selectors.report_pipeline),
            columns=(
                Column("pipeline_name", _("Pipeline"), TEXT),
                Column("name", _("Stage"), TEXT),
                Column("count", _("Deals")),
                Column("amount", _("Amount (CNY)"), MONEY),
                Column("weighted", _("Weighted (CNY)"), MONEY),
            ),
            total_label_key="pipeline_name",
            chart=_bar_chart("name", [("amount", _("Amount (CNY)")), ("weighted", _("Weighted (CNY)"))]),
        ),
        ReportSpec(
            slug="forecast",
            title=_("Forecast"),
            description=_(
                "Open deals by expected close month: this month and the next five, slipped deals "
                "(date passed, not yet expired) apart, and later ones."
            ),
            filters=("team", "pipeline"),
            run=_snapshot_run(selectors.report_forecast),
            columns=(
                Column("bucket_label", _("Expected close"), TEXT),
                Column("count", _("Deals")),
                Column("amount", _("Amount (CNY)"), MONEY),
                Column("weighted", _("Weighted (CNY)"), MONEY),
            ),
            total_label_key="bucket_label",
            chart=_bar_chart("bucket_label", [("weighted", _("Weighted (CNY)"))]),
        ),
        ReportSpec(
            slug="funnel",
            title=_("Funnel and stage time"),
            description=_(
                "Deals created in the period: how many reached each stage, conversion to the next, "
                "and the days they spent in each stage."
            ),
            filters=("start", "end", "team", "pipeline"),
            one_pipeline=True,
            run=_period_run(selectors.report_funnel),
            columns=(
                Column("name", _("Stage"), TEXT),
                Column("reached", _("Reached")),
                Column("conversion_to_next", _("Conversion to next"), RATE),
                Column("stays", _("Completed stays")),
                Column("avg_days", _("Avg. days"), DAYS),
                Column("median_days", _("Median days"), DAYS),
            ),
            total_label_key="name",
            chart=_bar_chart("name", [("reached", _("Reached"))], horizontal=True),
        ),
        ReportSpec(
            slug="scorecard",
            title=_("Rep scorecard"),
            description=_(
                "Per rep: open deals now; won, lost and expired in the period; win rate; average "
                "cycle; payout; last logged activity."
            ),
            filters=("start", "end", "team"),
            run=_period_run(selectors.report_scorecard),
            columns=(
                OWNER,
                Column("open", _("Open")),
                Column("won", _("Won")),
                Column("lost", _("Lost")),
                Column("expired", _("Expired")),
                Column("win_rate", _("Win rate"), RATE),
                Column("avg_cycle_days", _("Avg. cycle (days)"), DAYS),
                Column("payout", _("Payout"), MONEY),
                Column("last_activity_at", _("Last activity"), DATETIME),
            ),
            total_label_key="owner_name",
            chart=_bar_chart("owner_name", [("won", _("Won")), ("lost", _("Lost")), ("expired", _("Expired"))]),
        ),
    )
}

CHANNEL_COLUMNS = (Column("channel_name", _("Channel"), TEXT), *REPORTS["sources"].columns[2:])


def extra_columns(spec: ReportSpec, key: str) -> tuple[Column, ...]:
    return CHANNEL_COLUMNS if (spec.slug, key) == ("sources", "channels") else ()


BUCKET_LABELS = {"overdue": _("Slipped (date passed)"), "later": _("Later")}


def decorate(spec: ReportSpec, report: Report) -> Report:
    """Display labels that are not figures (the forecast's bucket names)."""
    if spec.slug == "forecast":
        for row in report.rows:
            row["bucket_label"] = str(BUCKET_LABELS.get(row["bucket"], row["bucket"]))
    return report


def local(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Moments are shown in the company time zone everywhere (page, export, API)."""
    return None if moment is None else timezone.localtime(moment, company_zone())
