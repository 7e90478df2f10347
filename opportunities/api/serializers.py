"""Opportunity representations and the input of every opportunity endpoint.

Input serializers check the *shape* of a request (types, lengths, which ids exist for the
caller); every rule — who may set what, dates, exit criteria, versions — is decided by the
services in opportunities/services.py, which the views call with ``validated_data``.
"""

import functools
from collections.abc import Callable

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.dates import company_today
from crm.filtersets import ID_MAX
from customers.models import Contact, Customer
from customers.selectors import contacts_visible_to, customers_visible_to
from opportunities.models import Activity, Attachment, LostReason, Opportunity
from opportunities.pagination import RowsById
from opportunities.selectors import (
    ROW_OWNER_FIELDS,
    ROW_STALE_FIELDS,
    TIMELINE_EVENT_TYPES,
    opportunities_visible_to,
    opportunity_is_stale,
    opportunity_rows,
    row_owner_name,
)
from opportunities.services import DistributionStrategy
from sources.models import LeadSource
from stages.api.serializers import StageBriefSerializer
from stages.models import Pipeline, Stage
from teams.api.serializers import TeamBriefSerializer, UserBriefSerializer
from teams.models import Team, User

CLOSE_OUTCOME_CHOICES = [(Opportunity.Status.WON, _("Won")), (Opportunity.Status.LOST, _("Lost"))]
DISTRIBUTION_STRATEGY_CHOICES = [
    (DistributionStrategy.ROUND_ROBIN, _("Round-robin")),
    (DistributionStrategy.LEAST_LOADED, _("Least-loaded")),
]

# --- reference data -------------------------------------------------------------------------


class LostReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = LostReason
        fields = ["id", "name", "order", "is_active"]
        read_only_fields = fields


class LostReasonBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = LostReason
        fields = ["id", "name"]


# --- opportunities ------------------------------------------------------------------------


class RelatedNameField(serializers.CharField):
    """The read-only ``name`` of a relation: ``<relation>_name`` when the row was read with it
    (``opportunity_rows`` reads the names of the small tables as subqueries), else
    ``<relation>.name``."""

    def __init__(self, relation: str, **kwargs):
        self.relation = relation
        super().__init__(source=f"{relation}.name", read_only=True, **kwargs)

    def get_attribute(self, instance):
        annotated = instance.__dict__.get(f"{self.relation}_name", self)
        return super().get_attribute(instance) if annotated is self else annotated


class OpportunitySerializer(serializers.ModelSerializer):
    """An opportunity as every endpoint answers it. Related objects are ids (what PATCH takes),
    each with a read-only ``*_name`` for display."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact_name = serializers.CharField(source="contact.name", read_only=True, allow_null=True)
    pipeline_name = RelatedNameField("pipeline")
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    owner_name = serializers.SerializerMethodField()
    team_name = RelatedNameField("team")
    source_name = RelatedNameField("source")
    lost_reason_name = RelatedNameField("lost_reason", allow_null=True)
    is_stale = serializers.SerializerMethodField(
        help_text=_("Open and idle longer than its stage's idle limit (rotting days), in company time.")
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "title",
            "description",
            "customer",
            "customer_name",
            "contact",
            "contact_name",
            "pipeline",
            "pipeline_name",
            "stage",
            "stage_name",
            "status",
            "owner",
            "owner_name",
            "team",
            "team_name",
            "source",
            "source_name",
            "amount",
            "currency",
            "exchange_rate",
            "amount_base",
            "probability",
            "probability_is_manual",
            "difficulty",
            "is_new_customer",
            "is_new_product",
            "expected_close_date",
            "close_date_pushes",
            "stage_entered_at",
            "last_activity_at",
            "is_stale",
            "closed_at",
            "close_reason",
            "lost_reason",
            "lost_reason_name",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @cached_property
    def _today(self):
        return company_today()

    def get_owner_name(self, opportunity: Opportunity) -> str | None:
        return _owner_name(opportunity)

    def get_is_stale(self, opportunity: Opportunity) -> bool:
        return opportunity_is_stale(opportunity=opportunity, today=self._today)


def _owner_name(opportunity: Opportunity) -> str | None:
    owner = opportunity.owner
    return (owner.get_full_name() or owner.username) if owner else None


@functools.cache
def _opportunity_columns() -> tuple[tuple[str, str, object], ...]:
    """OpportunitySerializer's fields as (name, ``values()`` name, field), worked out once per
    process: a relation as its id column (``customer_id``), a related name as its path
    (``customer__name``) or, for the small tables, the subquery ``opportunity_rows`` reads
    (``pipeline_name``) — those two are written as read (no field); the two method fields are
    answered by opportunity_representation. A field only turns a value into JSON and keeps
    nothing of an answer."""
    columns = []
    for name, field in OpportunitySerializer().fields.items():
        if name in ("owner_name", "is_stale"):
            columns.append((name, name, None))
        elif isinstance(field, serializers.PrimaryKeyRelatedField):
            columns.append((name, Opportunity._meta.get_field(field.source).attname, None))
        elif isinstance(field, RelatedNameField):
            columns.append((name, f"{field.relation}_name", None))
        else:
            columns.append((name, field.source.replace(".", "__"), field))
    return tuple(columns)


@functools.cache
def _api_rows() -> QuerySet[Opportunity]:
    names = {key for name, key, _field in _opportunity_columns() if name not in ("owner_name", "is_stale")}
    return opportunity_rows().values(*sorted(names | {"pk", *ROW_OWNER_FIELDS, *ROW_STALE_FIELDS}))


def opportunity_api_values() -> QuerySet[Opportunity]:
    """Opportunities as the API writes them (``opportunity_representation``): ``values()`` rows of
    ``opportunity_rows`` (four joins, the small tables' names as subqueries), no model instances.
    Built once per process; callers get a copy, narrowed by visibility and filters."""
    return _api_rows().all()


@functools.cache
def opportunity_api_reader() -> RowsById:
    """``opportunity_api_values`` read by the ids of a page, compiled once per process."""
    return RowsById(_api_rows())


def opportunity_representation(row: dict, *, stale: Callable[[dict], bool]) -> dict:
    """``OpportunitySerializer(opportunity).data`` for a row of ``opportunity_api_values``: the
    same JSON, each value turned into it by the serializer's own field, without making a
    serializer or a model instance per row (on a page of fifty, more than its queries cost).
    ``stale``: ``row_staleness`` as of today, one for the rows of an answer."""
    data = {}
    for name, key, field in _opportunity_columns():
        if name == "owner_name":
            data[name] = row_owner_name(row)
        elif name == "is_stale":
            data[name] = stale(row)
        else:
            value = row[key]
            data[name] = value if value is None or field is None else field.to_representation(value)
    return data


class _ScopedRelationsMixin:
    """Customers and contacts are offered only among those the caller can see: another rep's
    customer is "does not exist", exactly like a made-up id."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            if "customer" in self.fields:
                self.fields["customer"].queryset = customers_visible_to(user=request.user)
            if "contact" in self.fields:
                self.fields["contact"].queryset = contacts_visible_to(user=request.user)


class OpportunityCreateSerializer(_ScopedRelationsMixin, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True)
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.all())
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("An open stage of the pipeline; default its first."),
    )
    source = serializers.PrimaryKeyRelatedField(queryset=LeadSource.objects.all())
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Default: the owner's (or your) only team."),
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Managers only; empty puts the deal in the team's unassigned pool. A rep's deals are their own."),
    )
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, help_text=_("ISO code; default CNY."))
    expected_close_date = serializers.DateField(help_text=_("Today or later (company time zone)."))
    probability = serializers.IntegerField(
        min_value=0, max_value=100, required=False, help_text=_("Managers only: a manual override of the stage's.")
    )
    difficulty = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        required=False,
        help_text=_("Managers only: 0.10–10.00, scales the owner's incentive; default 1.00."),
    )
    is_new_customer = serializers.BooleanField(required=False, help_text=_("Managers only: incentive bonus flag."))
    is_new_product = serializers.BooleanField(required=False, help_text=_("Managers only: incentive bonus flag."))


class OpportunityUpdateSerializer(_ScopedRelationsMixin, serializers.Serializer):
    """A PATCH: only the fields sent change. ``version`` is required (optimistic locking)."""

    version = serializers.IntegerField(
        min_value=1, help_text=_("The version you read. If the deal changed since, you get 409 and nothing changes.")
    )
    reason = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text=_("Why — recorded with a new expected close date or a new owner."),
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), allow_null=True)
    source = serializers.PrimaryKeyRelatedField(queryset=LeadSource.objects.all())
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField(max_length=3)
    expected_close_date = serializers.DateField(
        help_text=_("Recorded as a close-date change; a later date counts as a push.")
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        allow_null=True,
        help_text=_("Managers only: hand the deal to this member of its team (null: the team's pool)."),
    )
    probability = serializers.IntegerField(min_value=0, max_value=100, help_text=_("Managers only: manual override."))
    probability_is_manual = serializers.BooleanField(
        help_text=_("Managers only: false hands the probability back to the stage.")
    )
    difficulty = serializers.DecimalField(max_digits=4, decimal_places=2, help_text=_("Managers only: 0.10–10.00."))
    is_new_customer = serializers.BooleanField(help_text=_("Managers only."))
    is_new_product = serializers.BooleanField(help_text=_("Managers only."))

    def validate(self, attrs):
        # Validated as a partial update (absent fields stay as they are), but the version must come.
        if "version" not in attrs:
            raise serializers.ValidationError({"version": [self.fields["version"].error_messages["required"]]})
        return attrs


class _VersionedActionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, required=False, help_text=_("Optional: the version you read; a stale one gets 409.")
    )


class MoveSerializer(_VersionedActionSerializer):
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.all(), help_text=_("A stage of the same pipeline.")
    )
    note = serializers.CharField(required=False, allow_blank=True)
    lost_reason = serializers.PrimaryKeyRelatedField(
        queryset=LostReason.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Required when moving to a lost stage."),
    )
    won_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("When moving to the won stage: the final amount, in the deal's currency."),
    )
    reason = serializers.CharField(required=False, allow_blank=True, help_text=_("When closing: why."))


class CloseSerializer(_VersionedActionSerializer):
    outcome = serializers.ChoiceField(choices=CLOSE_OUTCOME_CHOICES)
    lost_reason = serializers.PrimaryKeyRelatedField(
        queryset=LostReason.objects.all(), required=False, allow_null=True, help_text=_("Required when lost.")
    )
    reason = serializers.CharField(required=False, allow_blank=True)
    won_amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("When won: the final amount, in the deal's currency."),
    )


class ReopenSerializer(_VersionedActionSerializer):
    expected_close_date = serializers.DateField(
        required=False, allow_null=True, help_text=_("Today or later; default the current one if not past.")
    )
    reason = serializers.CharField(required=False, allow_blank=True)


class OpportunityIdsField(serializers.ListField):
    """Opportunity ids, all of which the caller must see (one query, however many)."""

    child = serializers.IntegerField(min_value=1, max_value=ID_MAX)

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", 10000)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        ids = sorted(set(super().to_internal_value(data)))
        visible = set(
            opportunities_visible_to(user=self.context["request"].user).filter(pk__in=ids).values_list("pk", flat=True)
        )
        missing = [pk for pk in ids if pk not in visible]
        if missing:
            raise serializers.ValidationError(
                _("Unknown opportunities: %(ids)s.") % {"ids": ", ".join(map(str, missing[:20]))}
            )
        return ids


class AssignSerializer(serializers.Serializer):
    opportunities = OpportunityIdsField(help_text=_("Ids of open opportunities you can see."))
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("Give them all to this rep (null: back to the team's pool). Omit when using `strategy`."),
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("With `strategy`: the team whose reps receive them. With `owner`: move them to this team too."),
    )
    strategy = serializers.ChoiceField(
        choices=DISTRIBUTION_STRATEGY_CHOICES,
        required=False,
        help_text=_("Spread them over the team's active reps instead of giving them to one owner."),
    )
    reps = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        many=True,
        required=False,
        help_text=_("With `strategy`: only these members of the team."),
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def validate(self, attrs):
        if "strategy" in attrs:
            if attrs.get("team") is None:
                raise serializers.ValidationError({"team": [_("Choose the team whose reps receive the deals.")]})
        elif "owner" not in attrs:
            raise serializers.ValidationError(
                {"owner": [_("Choose an owner (null for the team's pool), or a team and a strategy.")]}
            )
        return attrs


class DistributionSerializer(serializers.Serializer):
    owner = serializers.IntegerField(help_text=_("User id"))
    count = serializers.IntegerField()


class AssignResultSerializer(serializers.Serializer):
    assigned = serializers.IntegerField(help_text=_("How many opportunities changed hands."))
    distribution = DistributionSerializer(
        many=True, required=False, help_text=_("With `strategy`: how many each rep received.")
    )


class ReassignSerializer(serializers.Serializer):
    from_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text=_("The rep whose open deals move (e.g. who is leaving).")
    )
    to_owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(),
        allow_null=True,
        help_text=_("The successor; null returns the deals to each team's pool."),
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ReassignResultSerializer(serializers.Serializer):
    reassigned = serializers.IntegerField(help_text=_("How many open opportunities moved."))


# --- activities, attachments, history ----------------------------------------------------


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField(help_text=_("Scoped: only users who see the deal get the file."))

    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "is_image",
            "stage",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment: Attachment) -> str:
        url = reverse("api:attachment-download", kwargs={"pk": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class ActivitySerializer(serializers.ModelSerializer):
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    author = UserBriefSerializer(read_only=True)
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "opportunity",
            "stage",
            "stage_name",
            "kind",
            "body",
            "carrier",
            "tracking_number",
            "occurred_at",
            "author",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields


class ActivityCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    body = serializers.CharField(required=False, allow_blank=True, help_text=_("What happened."))
    carrier = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text=_("Courier."))
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    occurred_at = serializers.DateTimeField(required=False, help_text=_("Default: now. Not in the future."))
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=20,
        help_text=_("Evidence: photos, PDF, Office documents, text or ZIP; repeat the field for several files."),
    )


class TimelineEventSerializer(serializers.Serializer):
    """One event of an opportunity's history. Which detail fields are present depends on ``type``."""

    type = serializers.ChoiceField(choices=[(name, name) for name in TIMELINE_EVENT_TYPES])
    at = serializers.DateTimeField()
    by = UserBriefSerializer(allow_null=True, help_text=_("Who did it; null for the system (e.g. expiry)."))
    # created
    stage = StageBriefSerializer(required=False, allow_null=True, help_text=_("created: the first stage."))
    probability = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("created: the first probability.")
    )
    # assigned
    from_owner = UserBriefSerializer(required=False, allow_null=True, help_text=_("assigned: null from the pool."))
    to_owner = UserBriefSerializer(required=False, allow_null=True, help_text=_("assigned: null to the pool."))
    from_team = TeamBriefSerializer(required=False, allow_null=True, help_text=_("assigned"))
    to_team = TeamBriefSerializer(required=False, allow_null=True, help_text=_("assigned"))
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text=_("assigned, close_date_changed, won, lost, expired, reopened")
    )
    # stage_changed
    from_stage = StageBriefSerializer(required=False, allow_null=True, help_text=_("stage_changed"))
    to_stage = StageBriefSerializer(required=False, help_text=_("stage_changed"))
    probability_before = serializers.IntegerField(required=False, allow_null=True, help_text=_("stage_changed"))
    probability_after = serializers.IntegerField(required=False, help_text=_("stage_changed"))
    note = serializers.CharField(required=False, allow_blank=True, help_text=_("stage_changed"))
    # close_date_changed
    old_date = serializers.DateField(required=False, allow_null=True, help_text=_("close_date_changed"))
    new_date = serializers.DateField(required=False, help_text=_("close_date_changed"))
    is_push = serializers.BooleanField(required=False, help_text=_("close_date_changed: moved later (counted)."))
    # field_changed
    field = serializers.CharField(required=False, help_text=_("field_changed: which field."))
    old_value = serializers.CharField(required=False, allow_blank=True, help_text=_("field_changed, as text"))
    new_value = serializers.CharField(required=False, allow_blank=True, help_text=_("field_changed, as text"))
    # won, lost, expired, reopened
    from_status = serializers.ChoiceField(
        choices=Opportunity.Status.choices, required=False, help_text=_("won, lost, expired, reopened")
    )
    lost_reason = LostReasonBriefSerializer(required=False, allow_null=True, help_text=_("lost"))
    owner = UserBriefSerializer(
        required=False, allow_null=True, help_text=_("won, lost, expired, reopened: the owner at that moment.")
    )
    # activity
    activity = ActivitySerializer(required=False, help_text=_("activity: with its attachments."))
