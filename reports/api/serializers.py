"""The reports API in OpenAPI terms: the query parameters (parsed here before the report's filter
form sees them) and the answer of each report.

The answers are written by ``reports.formatting.api_payload`` (the same values as the page and the
exports); these serializers only *describe* them: ids and counts are integers, money, ratios and
days are decimal strings, moments ISO 8601 in company time. Figure fields reuse the column labels
of ``reports/catalog.py``; docs/REPORTS.md defines every figure.
"""

import datetime

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.filtersets import ID_MAX
from reports.forms import FIRST_DATE, LAST_DATE, MAX_PERIOD_DAYS
from sources.models import LeadSource
from stages.models import Stage

# --- query parameters ---------------------------------------------------------------------------


def _date_in_range(value: datetime.date) -> datetime.date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise serializers.ValidationError(
            _("Enter a date from %(first)s to %(last)s.")
            % {"first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()}
        )
    return value


def _filter_fields() -> dict[str, serializers.Field]:
    """A fresh field per parameter (a DRF field belongs to one serializer)."""
    return {
        "start": serializers.DateField(
            required=False,
            validators=[_date_in_range],
            help_text=_(
                "First day of the period (YYYY-MM-DD), in the company's time zone. Without start and end "
                "the report covers this month; with only one of them, that date's month."
            ),
        ),
        "end": serializers.DateField(
            required=False,
            validators=[_date_in_range],
            help_text=_("Last day of the period, inclusive (YYYY-MM-DD); at most three years after start."),
        ),
        "team": serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=ID_MAX,
            help_text=_("Only the deals of this team: a team you manage (any other id answers 400)."),
        ),
        "channel": serializers.ChoiceField(
            required=False,
            choices=LeadSource.Channel.choices,
            help_text=_("Only the leads from sources of this channel."),
        ),
        "pipeline": serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=ID_MAX,
            help_text=_(
                "Only this pipeline (an active one). The funnel always shows one pipeline: by default the "
                "first active one."
            ),
        ),
    }


class ReportFiltersSerializer(serializers.Serializer):
    """The query parameters of one report; ``filters_serializer`` makes one class per report."""

    def validate(self, data):
        # The filter form checks the same; here the answer names the parameter to correct.
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            if end < start:
                raise serializers.ValidationError({"end": [_("The end date cannot be before the start date.")]})
            if (end - start).days > MAX_PERIOD_DAYS:
                raise serializers.ValidationError({"end": [_("Choose a period of at most three years.")]})
        return data

    def as_form_data(self) -> dict[str, str]:
        """The validated parameters as the filter form reads them (ISO dates, ids as text)."""
        return {
            name: value.isoformat() if isinstance(value, datetime.date) else str(value)
            for name, value in self.validated_data.items()
        }


def filters_serializer(slug: str, names: tuple[str, ...]) -> type[ReportFiltersSerializer]:
    fields = _filter_fields()
    attrs = {name: fields[name] for name in names}
    return type(f"{slug.title()}ReportFiltersSerializer", (ReportFiltersSerializer,), attrs)


# --- answers: value fields ------------------------------------------------------------------------


def _id(help_text=None, *, null=False) -> serializers.IntegerField:
    return serializers.IntegerField(help_text=help_text, allow_null=null)


def _count(label) -> serializers.IntegerField:
    return serializers.IntegerField(help_text=label)


def _text(label=None) -> serializers.CharField:
    return serializers.CharField(help_text=label)


def _decimal(label, places: int, *, null=False) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=30, decimal_places=places, help_text=label, allow_null=null)


def _money(label, *, null=False) -> serializers.DecimalField:
    return _decimal(label, 2, null=null)


def _rate(label) -> serializers.DecimalField:
    """A ratio as a decimal fraction (0.6667 = 66.67 %); null when it would divide by zero."""
    return _decimal(label, 4, null=True)


def _days(label) -> serializers.DecimalField:
    return _decimal(label, 1, null=True)


def _moment(label, *, null=False) -> serializers.DateTimeField:
    return serializers.DateTimeField(help_text=label, allow_null=null)


def _owner() -> serializers.IntegerField:
    return _id(_("User id of the rep credited; null for the team's unassigned pool."), null=True)


def _currency() -> serializers.CharField:
    return _text(_("Currency of the payouts (the incentive policy's)."))


class _PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text=_("First day covered (company time zone)."))
    end = serializers.DateField(help_text=_("Last day covered, inclusive."))


# --- incentives ---------------------------------------------------------------------------------


class IncentivesReportLineSerializer(serializers.Serializer):
    opportunity = _id(_("Deal #"))
    title = _text(_("Opportunity"))
    won_at = _moment(_("Won at"))
    base = _money(_("Base reward"))
    difficulty = _decimal(_("Difficulty"), 2)
    bonus = _money(_("Bonus"))
    payout = _money(_("Payout"))


class IncentivesReportRowSerializer(serializers.Serializer):
    owner = _owner()
    owner_name = _text(_("Rep"))
    won = _count(_("Deals won"))
    payout = _money(_("Payout"))
    currency = _currency()
    lines = IncentivesReportLineSerializer(many=True, help_text=_("Payout lines"))


class IncentivesReportTotalsSerializer(serializers.Serializer):
    won = _count(_("Deals won"))
    payout = _money(_("Payout"))
    currency = _currency()


class IncentivesReportSerializer(_PeriodSerializer):
    rows = IncentivesReportRowSerializer(many=True)
    totals = IncentivesReportTotalsSerializer()


# --- lead sources ---------------------------------------------------------------------------------


class _LeadFiguresSerializer(serializers.Serializer):
    leads = _count(_("Leads"))
    open = _count(_("Open"))
    won = _count(_("Won"))
    lost = _count(_("Lost"))
    expired = _count(_("Expired"))
    conversion_rate = _rate(_("Conversion"))
    win_rate = _rate(_("Win rate"))
    won_amount = _money(_("Won amount (CNY)"))
    weighted_pipeline = _money(_("Weighted pipeline (CNY)"))
    avg_cycle_days = _days(_("Avg. cycle (days)"))
    cost = _money(_("Cost (CNY)"))
    cost_per_lead = _money(_("Cost per lead"), null=True)
    cost_per_win = _money(_("Cost per win"), null=True)
    roi = _rate(_("ROI"))


def _channel() -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=LeadSource.Channel.choices)


class SourcesReportRowSerializer(_LeadFiguresSerializer):
    source = _id(_("Lead source id"))
    name = _text(_("Source"))
    channel = _channel()
    channel_name = _text(_("Channel"))


class SourcesReportChannelSerializer(_LeadFiguresSerializer):
    channel = _channel()
    channel_name = _text(_("Channel"))


class SourcesReportSerializer(_PeriodSerializer):
    rows = SourcesReportRowSerializer(many=True)
    totals = _LeadFiguresSerializer()
    channels = SourcesReportChannelSerializer(many=True, help_text=_("By channel"))


# --- expiries --------------------------------------------------------------------------------------


class ExpiredReportLineSerializer(serializers.Serializer):
    opportunity = _id(_("Deal #"))
    title = _text(_("Opportunity"))
    expired_at = _moment(_("Expired at"))
    expected_close_date = serializers.DateField(help_text=_("Expected close date"))
    amount = _money(_("Amount (CNY)"), null=True)
    pushes = _count(_("Pushes"))
    last_activity_at = _moment(_("Last activity"), null=True)


class _ExpiredFiguresSerializer(serializers.Serializer):
    expired = _count(_("Expired"))
    expired_amount = _money(_("Expired amount (CNY)"))
    pushes = _count(_("Close-date pushes"))
    closed = _count(_("Closed deals"))
    expired_share = _rate(_("Share expired"))


class ExpiredReportRowSerializer(_ExpiredFiguresSerializer):
    owner = _owner()
    owner_name = _text(_("Rep"))
    lines = ExpiredReportLineSerializer(many=True, help_text=_("Expired deals"))


class ExpiredReportSerializer(_PeriodSerializer):
    rows = ExpiredReportRowSerializer(many=True)
    totals = _ExpiredFiguresSerializer()


# --- pipeline and forecast ------------------------------------------------------------------------


class _OpenFiguresSerializer(serializers.Serializer):
    count = _count(_("Deals"))
    amount = _money(_("Amount (CNY)"))
    weighted = _money(_("Weighted (CNY)"))


class PipelineReportRowSerializer(_OpenFiguresSerializer):
    stage = _id(_("Stage id"))
    name = _text(_("Stage"))
    pipeline = _id(_("Pipeline id"))
    pipeline_name = _text(_("Pipeline"))


class PipelineReportSerializer(_PeriodSerializer):
    rows = PipelineReportRowSerializer(many=True)
    totals = _OpenFiguresSerializer()


class ForecastReportRowSerializer(_OpenFiguresSerializer):
    bucket = _text(_("`overdue` (the date passed, not yet expired), a month `YYYY-MM`, or `later`."))
    bucket_label = _text(_("Expected close"))
    first_day = serializers.DateField(allow_null=True, help_text=_("First day of the bucket; null for `overdue`."))
    last_day = serializers.DateField(allow_null=True, help_text=_("Last day of the bucket; null for `later`."))


class ForecastReportSerializer(_PeriodSerializer):
    rows = ForecastReportRowSerializer(many=True)
    totals = _OpenFiguresSerializer()


# --- funnel -------------------------------------------------------------------------------------


class FunnelReportRowSerializer(serializers.Serializer):
    stage = _id(_("Stage id"))
    name = _text(_("Stage"))
    kind = serializers.ChoiceField(choices=Stage.Kind.choices)
    reached = _count(_("Reached"))
    conversion_to_next = _rate(_("Conversion to next"))
    stays = serializers.IntegerField(allow_null=True, help_text=_("Completed stays"))
    avg_days = _days(_("Avg. days"))
    median_days = _days(_("Median days"))


class FunnelReportTotalsSerializer(serializers.Serializer):
    deals = _count(_("Deals"))
    won = _count(_("Won"))


class FunnelReportPipelineSerializer(serializers.Serializer):
    id = _id(_("Pipeline id"))
    name = _text(_("Pipeline"))


class FunnelReportSerializer(_PeriodSerializer):
    rows = FunnelReportRowSerializer(many=True)
    totals = FunnelReportTotalsSerializer()
    pipeline = FunnelReportPipelineSerializer(
        allow_null=True, help_text=_("The pipeline shown; null when no pipeline is active.")
    )


# --- rep scorecard ------------------------------------------------------------------------------


class _ScorecardFiguresSerializer(serializers.Serializer):
    open = _count(_("Open"))
    won = _count(_("Won"))
    lost = _count(_("Lost"))
    expired = _count(_("Expired"))
    win_rate = _rate(_("Win rate"))
    avg_cycle_days = _days(_("Avg. cycle (days)"))
    payout = _money(_("Payout"))
    currency = _currency()
    last_activity_at = _moment(_("Last activity"), null=True)


class ScorecardReportRowSerializer(_ScorecardFiguresSerializer):
    owner = _id(_("User id"))
    owner_name = _text(_("Rep"))


class ScorecardReportSerializer(_PeriodSerializer):
    rows = ScorecardReportRowSerializer(many=True)
    totals = _ScorecardFiguresSerializer()


ANSWERS: dict[str, type[serializers.Serializer]] = {
    "incentives": IncentivesReportSerializer,
    "sources": SourcesReportSerializer,
    "expired": ExpiredReportSerializer,
    "pipeline": PipelineReportSerializer,
    "forecast": ForecastReportSerializer,
    "funnel": FunnelReportSerializer,
    "scorecard": ScorecardReportSerializer,
}
