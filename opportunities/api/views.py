"""Opportunity endpoints. Each parses its input, calls one service (opportunities/services.py)
and answers the row re-read through the visibility selector; the services decide every rule
and crm/api_errors.py turns their errors into 400 / 403 / 409 answers."""

from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api_docs import DETAIL_ERRORS, LIST_ERRORS, VERSIONED_WRITE_ERRORS, WRITE_ERRORS
from crm.api_filters import OnceFilterBackend, StableOrderingFilter
from crm.dates import company_today
from opportunities.api.serializers import (
    ActivityCreateSerializer,
    ActivitySerializer,
    AssignResultSerializer,
    AssignSerializer,
    CloseSerializer,
    LostReasonSerializer,
    MoveSerializer,
    OpportunityCreateSerializer,
    OpportunitySerializer,
    OpportunityUpdateSerializer,
    ReassignResultSerializer,
    ReassignSerializer,
    ReopenSerializer,
    TimelineEventSerializer,
    opportunity_api_reader,
    opportunity_api_values,
    opportunity_representation,
)
from opportunities.filtersets import (
    ActivityFilterSet,
    LostReasonFilterSet,
    OpportunityFilterSet,
    OpportunitySearchFilter,
)
from opportunities.models import Activity, LostReason, Opportunity
from opportunities.pagination import BranchedRows
from opportunities.selectors import (
    attachments_visible_to,
    opportunities_visible_to,
    opportunity_activities,
    row_staleness,
)
from opportunities.selectors_timeline import opportunity_timeline
from opportunities.services import (
    opportunity_add_activity,
    opportunity_assign,
    opportunity_close,
    opportunity_create,
    opportunity_distribute,
    opportunity_move_stage,
    opportunity_reassign_all,
    opportunity_reopen,
    opportunity_update,
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Opportunities you can see"),
        description=_(
            "A rep sees the deals they own (and their team's unassigned pool if the team allows it), a "
            "manager the deals of the teams they manage, an admin all. `search` looks in the title, the "
            "customer's name and the contact's name."
        ),
        responses={200: OpportunitySerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary=_("Opportunity"), responses={200: OpportunitySerializer, **DETAIL_ERRORS}),
    create=extend_schema(
        summary=_("Create an open opportunity"),
        description=_(
            "A rep creates deals for themself; `owner`, `difficulty`, `probability` and the incentive flags "
            "are for managers (a rep sending them gets 403 and nothing is created)."
        ),
        request=OpportunityCreateSerializer,
        responses={201: OpportunitySerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary=_("Change fields of an opportunity"),
        description=_(
            "Send the `version` you read: if the deal changed since, the answer is 409 and nothing changes. "
            "A new `expected_close_date` is recorded (a later one counts as a push); a new `owner` is an "
            "assignment. `owner`, `difficulty`, `probability`, `probability_is_manual` and the incentive flags "
            "are for managers: a rep who changes them gets 403 and nothing changes (sending the current value "
            "is not a change)."
        ),
        request=OpportunityUpdateSerializer,
        responses={200: OpportunitySerializer, **VERSIONED_WRITE_ERRORS},
    ),
)
class OpportunityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    filter_backends = [OnceFilterBackend, OpportunitySearchFilter, StableOrderingFilter]
    # What OpportunitySearchFilter looks in (named here for the schema's description).
    search_fields = ["title", "customer__name", "contact__name"]
    ordering_fields = [
        "created_at",
        "updated_at",
        "expected_close_date",
        "amount_base",
        "probability",
        "title",
        "last_activity_at",
        "stage_entered_at",
        "closed_at",
        "id",
    ]
    ordering = ["-created_at"]

    def get_queryset(self):
        if self.action == "retrieve":  # read as the list reads its rows: four joins, no model instances
            return opportunity_api_values().visible_to(self.request.user)
        return opportunities_visible_to(user=self.request.user)

    def filter_queryset(self, queryset):
        if self.action == "retrieve" and not self.request.query_params:
            return queryset  # no filter, search or order asked: the backends would only build a FilterSet
        return super().filter_queryset(queryset)

    def retrieve(self, request, *args, **kwargs):
        return Response(opportunity_representation(self.get_object(), stale=row_staleness(today=company_today())))

    def list(self, request, *args, **kwargs):
        """Pages (and the count) read branch by branch of the visibility rule, each narrowed by
        the same filters, search and order (``BranchedRows``): the list's way at scale. The
        page's rows are read by id as ``values()`` rows (``opportunity_api_reader``). The whole
        visible queryset is never filtered: only its branches are read."""
        if self.paginator is None:
            return super().list(request, *args, **kwargs)
        branches = [self.filter_queryset(branch) for branch in Opportunity.objects.visible_to_by_branch(request.user)]
        order_by = branches[0].query.order_by if branches else self.ordering  # the same for every branch
        rows = BranchedRows(order_by=order_by, branches=branches, read=opportunity_api_reader())
        page = self.paginator.paginate_queryset(rows, request, view=self)
        stale = row_staleness(today=company_today())
        return self.get_paginated_response([opportunity_representation(deal, stale=stale) for deal in page])

    def _input(self, serializer_class, **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _answer(self, opportunity: Opportunity, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=opportunity.pk)
        return Response(self.get_serializer(fresh).data, status=status_code)

    def create(self, request, *args, **kwargs):
        opportunity = opportunity_create(by=request.user, **self._input(OpportunityCreateSerializer))
        return self._answer(opportunity, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        opportunity = self.get_object()
        changes = self._input(OpportunityUpdateSerializer, partial=True)
        version, reason = changes.pop("version"), changes.pop("reason", "")
        owner_sent = "owner" in changes
        owner = changes.pop("owner", None)
        with transaction.atomic():  # the edit and the reassignment stand or fall together
            opportunity = opportunity_update(
                opportunity=opportunity, by=request.user, version=version, reason=reason, **changes
            )
            if owner_sent and (owner.pk if owner else None) != opportunity.owner_id:
                opportunity_assign(opportunity_ids=[opportunity.pk], owner=owner, by=request.user, reason=reason)
        return self._answer(opportunity)

    @extend_schema(
        summary=_("Move to another stage of its pipeline"),
        description=_(
            "Leaving a stage forward needs its exit criteria: when unmet, the answer is 400 with each missing "
            "item in `non_field_errors`, and nothing changes. Moving to the won or a lost stage closes the deal."
        ),
        request=MoveSerializer,
        responses={200: OpportunitySerializer, **VERSIONED_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        opportunity = self.get_object()
        opportunity_move_stage(opportunity=opportunity, by=request.user, **self._input(MoveSerializer))
        return self._answer(opportunity)

    @extend_schema(
        summary=_("Close as won or lost"),
        description=_("Won needs the exit criteria of the current stage; lost needs a `lost_reason`."),
        request=CloseSerializer,
        responses={200: OpportunitySerializer, **VERSIONED_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        opportunity = self.get_object()
        opportunity_close(opportunity=opportunity, by=request.user, **self._input(CloseSerializer))
        return self._answer(opportunity)

    @extend_schema(
        summary=_("Reopen a won, lost or expired deal (managers)"),
        request=ReopenSerializer,
        responses={200: OpportunitySerializer, **VERSIONED_WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        opportunity = self.get_object()
        opportunity_reopen(opportunity=opportunity, by=request.user, **self._input(ReopenSerializer))
        return self._answer(opportunity)

    @extend_schema(
        summary=_("Assign many opportunities (managers)"),
        description=_(
            "Either `owner` (one rep, or null for the team's pool) or `team` + `strategy` (`round_robin` "
            "continues from the team's pointer, `least_loaded` favours whoever has the fewest open deals). "
            "Every change of hands is recorded. All or nothing."
        ),
        request=AssignSerializer,
        responses={200: AssignResultSerializer, **WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def assign(self, request):
        data = self._input(AssignSerializer)
        ids, reason = data["opportunities"], data.get("reason", "")
        if "strategy" in data:
            given = opportunity_distribute(
                opportunity_ids=ids,
                team=data["team"],
                strategy=data["strategy"],
                by=request.user,
                reason=reason,
                reps=data.get("reps"),
            )
            distribution = [{"owner": owner_id, "count": count} for owner_id, count in sorted(given.items())]
            return Response({"assigned": sum(given.values()), "distribution": distribution})
        assigned = opportunity_assign(
            opportunity_ids=ids, owner=data["owner"], team=data.get("team"), by=request.user, reason=reason
        )
        return Response({"assigned": assigned})

    @extend_schema(
        summary=_("Hand every open deal of one rep to another (managers)"),
        description=_("Stages, probabilities and history stay; each deal gets one assignment record."),
        request=ReassignSerializer,
        responses={200: ReassignResultSerializer, **WRITE_ERRORS},
    )
    @action(detail=False, methods=["post"])
    def reassign(self, request):
        data = self._input(ReassignSerializer)
        moved = opportunity_reassign_all(
            from_owner=data["from_owner"], to_owner=data["to_owner"], by=request.user, reason=data.get("reason", "")
        )
        return Response({"reassigned": moved})


class _OpportunityChildMixin:
    """Endpoints under /opportunities/{id}/: the parent must be visible, else 404."""

    @cached_property
    def opportunity(self) -> Opportunity:
        return get_object_or_404(opportunities_visible_to(user=self.request.user), pk=self.kwargs["pk"])


@extend_schema(
    summary=_("The history of an opportunity, oldest first"),
    description=_(
        "One list merging creation, assignments, stage changes, close-date changes, field edits, "
        "won / lost / expired / reopened, and activities with their files. Each event has `type`, `at`, "
        "`by` and the details of its type."
    ),
    responses={200: TimelineEventSerializer(many=True), **DETAIL_ERRORS},
)
class OpportunityHistoryView(_OpportunityChildMixin, APIView):
    def get(self, request, pk):
        events = opportunity_timeline(opportunity=self.opportunity)
        return Response(TimelineEventSerializer(events, many=True, context={"request": request}).data)


@extend_schema_view(
    get=extend_schema(
        summary=_("Activities of an opportunity, newest first"),
        responses={200: ActivitySerializer(many=True), **LIST_ERRORS},
    ),
    post=extend_schema(
        summary=_("Log an activity, with evidence files"),
        description=_(
            "multipart/form-data with `kind`, `body`, `carrier`, `tracking_number`, `occurred_at` and any "
            "number of `files`. The activity is tagged with the deal's current stage (exit criteria count "
            "evidence per stage). One bad file rejects the whole entry."
        ),
        request={"multipart/form-data": ActivityCreateSerializer, "application/json": ActivityCreateSerializer},
        responses={201: ActivitySerializer, **WRITE_ERRORS},
    ),
)
class OpportunityActivityListView(_OpportunityChildMixin, generics.ListCreateAPIView):
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    search_fields = ["body", "tracking_number", "carrier"]
    ordering_fields = ["occurred_at", "created_at", "id"]
    ordering = ["-occurred_at", "-id"]
    parser_classes = [MultiPartParser, JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no parent
            return Activity.objects.none()
        return opportunity_activities(opportunity=self.opportunity)

    def create(self, request, *args, **kwargs):
        serializer = ActivityCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        activity = opportunity_add_activity(opportunity=self.opportunity, by=request.user, **serializer.validated_data)
        fresh = opportunity_activities(opportunity=self.opportunity).get(pk=activity.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)


class _AnyAcceptContentNegotiation(DefaultContentNegotiation):
    """A file answers in its own type whatever the client accepts; errors fall back to JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(
    summary=_("Download an attachment"),
    description=_("Only users who can see the opportunity get the file; anyone else gets 404."),
    responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description=_("The file.")), **DETAIL_ERRORS},
)
class AttachmentDownloadView(APIView):
    content_negotiation_class = _AnyAcceptContentNegotiation
    renderer_classes = [JSONRenderer]

    def get(self, request, pk):
        attachment = get_object_or_404(attachments_visible_to(user=request.user), pk=pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        response = FileResponse(
            handle,
            as_attachment=not attachment.is_image,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


@extend_schema_view(
    list=extend_schema(
        summary=_("Reasons a deal can be lost"),
        responses={200: LostReasonSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(summary=_("Lost reason"), responses={200: LostReasonSerializer, **DETAIL_ERRORS}),
)
class LostReasonViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LostReasonSerializer
    filterset_class = LostReasonFilterSet
    search_fields = ["name"]
    ordering_fields = ["order", "name", "id"]
    ordering = ["order", "name"]

    def get_queryset(self):
        # Company configuration: every signed-in user reads all of it.
        return LostReason.objects.all()
