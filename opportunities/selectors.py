"""Reads of opportunities. Every user-dependent read starts from ``visible_to(user)``."""

import datetime
import functools
import re
from collections.abc import Callable

from django.db.models import F, Lookup, Q, QuerySet, Value
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from opportunities.models import Activity, Attachment, LostReason, Opportunity
from opportunities.pagination import BranchedRows, RowsById
from stages.models import Stage
from teams.models import Team
from teams.visibility import attachment_visibility_q


def opportunities_visible_to(*, user) -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user).select_related(
        "customer", "contact", "pipeline", "stage", "owner", "team", "source", "lost_reason"
    )


def opportunity_rows(queryset: QuerySet[Opportunity] | None = None) -> QuerySet[Opportunity]:
    """Opportunities (of ``queryset``, default all) as a page reads them to show them: a page of
    a list by id, once its ids are known from the visible rows (the list page, the API's list),
    or the API's one deal among those visible. The customer, contact, owner and stage joined,
    and the names of the pipeline, team, lead source and lost reason as scalar subqueries
    (``pipeline_name``, ``team_name``, ``source_name``, ``lost_reason_name``).

    PostgreSQL spends longer choosing the order of a join of nine tables (~6 ms at 1,000,000
    deals) than running it (~1 ms) for fifty rows; a subquery on a small table by its primary
    key is planned on its own, at almost no cost."""
    from django.db.models import OuterRef, Subquery

    from sources.models import LeadSource
    from stages.models import Pipeline

    def name_of(model, column: str) -> Subquery:
        return Subquery(model.objects.filter(pk=OuterRef(column)).order_by().values("name"))  # one row: no sort

    if queryset is None:
        return _all_rows().all()  # a copy: the one built below is never evaluated
    return queryset.select_related("customer", "contact", "owner", "stage").annotate(
        pipeline_name=name_of(Pipeline, "pipeline_id"),
        team_name=name_of(Team, "team_id"),
        source_name=name_of(LeadSource, "source_id"),
        lost_reason_name=name_of(LostReason, "lost_reason_id"),
    )


@functools.cache
def _all_rows() -> QuerySet[Opportunity]:
    """``opportunity_rows()`` of every opportunity, built once per process (resolving its four
    subqueries costs more than copying it); callers get copies, so it is never evaluated."""
    return opportunity_rows(Opportunity.objects.all())


# The ``values()`` names a row needs for row_staleness and row_owner_name.
ROW_STALE_FIELDS = ("status", "stage__kind", "stage__rotting_days", "last_activity_at", "stage_entered_at")
ROW_OWNER_FIELDS = ("owner_id", "owner__username", "owner__first_name", "owner__last_name")


# What a row of the list page shows (opportunities/list_table.py), as ``values()`` names.
LIST_ROW_FIELDS = (
    "pk",
    "title",
    "customer_id",
    "customer__name",
    "contact_id",
    "contact__name",
    *ROW_OWNER_FIELDS,
    "stage__name",
    *ROW_STALE_FIELDS,
    "amount_base",
    "expected_close_date",
    "probability",
    "difficulty",
    "amount",
    "currency",
    "pipeline_name",
    "team_name",
    "source_name",
)


@functools.cache
def _list_rows() -> QuerySet[Opportunity]:
    return opportunity_rows().values(*LIST_ROW_FIELDS)


def opportunity_list_values() -> QuerySet[Opportunity]:
    """``opportunity_rows()`` as the list page reads a page of it, by id: dictionaries of
    ``LIST_ROW_FIELDS`` (the same four joins and subqueries), no model instances — fifty rows
    of five instances each cost more than the query that reads them."""
    return _list_rows().all()


@functools.cache
def opportunity_list_reader() -> RowsById:
    """``opportunity_list_values`` read by the ids of a page, compiled once per process."""
    return RowsById(_list_rows())


def opportunity_filter_choices() -> tuple[list[tuple], list[tuple]]:
    """What the list's filter bar offers besides people and teams, in one statement: every stage
    as (id, name, pipeline id, pipeline name) in the pipelines' order then the stages', and
    every lead source as (id, name), active ones first, each by name. Configuration, the same
    for every user."""
    from django.db import connection

    from sources.models import LeadSource
    from stages.models import Pipeline

    sql = f"""
        SELECT part, id, name, pipeline_id, pipeline_name FROM (
            SELECT 0 AS part, s.id, s.name, p.id AS pipeline_id, p.name AS pipeline_name,
                   ROW_NUMBER() OVER (ORDER BY p."order", p.name, s."order", s.id) AS position
            FROM {Stage._meta.db_table} s JOIN {Pipeline._meta.db_table} p ON p.id = s.pipeline_id
            UNION ALL
            SELECT 1, src.id, src.name, NULL, NULL,
                   ROW_NUMBER() OVER (ORDER BY src.is_active DESC, src.name, src.id)
            FROM {LeadSource._meta.db_table} src
        ) choices ORDER BY part, position"""  # noqa: S608 (table names from the models)
    stages, sources = [], []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for part, pk, name, pipeline_id, pipeline_name in cursor.fetchall():
            if part == 0:
                stages.append((pk, name, pipeline_id, pipeline_name))
            else:
                sources.append((pk, name))
    return stages, sources


def opportunity_get_for_user(*, user, pk) -> Opportunity:
    """One visible opportunity, with its creator (the timeline's first event); anything else is
    Opportunity.DoesNotExist (a 404 for callers)."""
    return opportunities_visible_to(user=user).select_related("created_by").get(pk=pk)


def attachments_visible_to(*, user) -> QuerySet[Attachment]:
    return Attachment.objects.filter(attachment_visibility_q(user)).select_related("opportunity", "stage")


def opportunity_unmet_exit_criteria(
    *,
    opportunity: Opportunity,
    stage: Stage | None = None,
    target: Stage | None = None,
) -> list[str]:
    """What is still missing before the deal may leave ``stage`` (default: its current stage)
    and, when ``target`` is given, pass every gated open stage between the two.

    Evidence for a stage counts if it was recorded while the deal was in that stage. For a stage
    the move jumps over, evidence recorded in the stage being left counts too: the rep provides
    it as they skip. So going back to an earlier stage and jumping forward again never bypasses
    a gate. Three queries at most, however many stages are passed.
    """
    current = stage or opportunity.stage
    gated = [current]
    if target is not None:
        passed = Stage.objects.filter(pipeline_id=current.pipeline_id, kind=Stage.Kind.OPEN).order_by("order", "pk")
        gated += [
            candidate
            for candidate in passed
            if (candidate.order, candidate.pk) > (current.order, current.pk)
            and (target.kind == Stage.Kind.WON or (candidate.order, candidate.pk) < (target.order, target.pk))
        ]
    gated = [item for item in gated if item.has_exit_criteria]
    if not gated:
        return []
    stage_ids = {item.pk for item in gated} | {current.pk}
    with_files = set()
    with_tracking = set()
    if any(item.requires_attachment for item in gated):
        with_files = set(
            Attachment.objects.filter(opportunity=opportunity, stage_id__in=stage_ids).values_list(
                "stage_id", flat=True
            )
        )
    if any(item.requires_tracking_number for item in gated):
        with_tracking = set(
            Activity.objects.filter(opportunity=opportunity, stage_id__in=stage_ids)
            .exclude(tracking_number="")
            .values_list("stage_id", flat=True)
        )
    missing: list[str] = []
    for item in gated:
        # Evidence recorded in the stage itself, or (for a skipped stage) in the stage being left.
        places = {item.pk, current.pk}
        if item.requires_attachment and not places & with_files:
            missing.append(_("Attach a file (e.g. a sample photo) in the stage “%(stage)s”.") % {"stage": item.name})
        if item.requires_tracking_number and not places & with_tracking:
            missing.append(_("Enter a courier tracking number in the stage “%(stage)s”.") % {"stage": item.name})
    for field in dict.fromkeys(field for item in gated for field in item.required_fields or []):
        label = Stage.REQUIRED_FIELD_CHOICES.get(field)
        if label is None:
            continue
        value = getattr(opportunity, f"{field}_id" if field == "contact" else field)
        if value in (None, ""):
            missing.append(_("Fill in “%(field)s”.") % {"field": label})
    return missing


# --- staleness ("rotting") -----------------------------------------------------------------


def _stale_threshold(*, rotting_days: int, today):
    """The moment before which a deal's last sign of life makes it stale, in company time.

    A deal idle for ``rotting_days`` whole company-calendar days is stale: last touched on
    day D, it turns stale at the start of day D + rotting_days.
    """
    import datetime

    from crm.dates import company_zone

    first_fresh_day = today - datetime.timedelta(days=rotting_days - 1)
    return datetime.datetime.combine(first_fresh_day, datetime.time.min, tzinfo=company_zone())


def opportunity_stale_q(*, today=None):
    """A Q for open deals idle past their stage's rotting days.

    Idle since the later of the last activity and the stage entry: an activity logged in an
    earlier stage does not make a deal that just moved look stale. One small query reads the
    distinct rotting-day values in use, so the condition stays one OR per value, not per stage.
    """
    from django.db.models import Q

    from crm.dates import company_today

    today = today or company_today()
    days_in_use = (
        Stage.objects.filter(rotting_days__isnull=False, kind=Stage.Kind.OPEN)
        .order_by()
        .values_list("rotting_days", flat=True)
        .distinct()
    )
    condition = Q(pk__in=[])
    for days in days_in_use:
        threshold = _stale_threshold(rotting_days=days, today=today)
        condition |= Q(stage__rotting_days=days, stage_entered_at__lt=threshold) & (
            Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=threshold)
        )
    return Q(status=Opportunity.Status.OPEN) & condition


def opportunity_is_stale(*, opportunity: Opportunity, today=None) -> bool:
    """The same rule as ``opportunity_stale_q``, for one row already loaded with its stage."""
    from crm.dates import company_today

    return opportunity_staleness(today=today or company_today())(opportunity)


def _stale_rule(*, today) -> Callable[..., bool]:
    """``opportunity_stale_q`` as of ``today`` on a deal's values, for many deals: each idle
    limit's threshold is worked out once, not once per deal."""
    thresholds: dict[int, datetime.datetime] = {}

    def is_stale(status, stage_kind, rotting_days, last_activity_at, stage_entered_at) -> bool:
        if status != Opportunity.Status.OPEN or rotting_days is None or stage_kind != Stage.Kind.OPEN:
            return False
        threshold = thresholds.get(rotting_days)
        if threshold is None:
            threshold = thresholds[rotting_days] = _stale_threshold(rotting_days=rotting_days, today=today)
        return max(filter(None, (last_activity_at, stage_entered_at))) < threshold

    return is_stale


def opportunity_staleness(*, today) -> Callable[[Opportunity], bool]:
    """``opportunity_is_stale`` as of ``today`` for many deals loaded with their stage (a
    board's 160 cards)."""
    rule = _stale_rule(today=today)
    return lambda deal: rule(
        deal.status, deal.stage.kind, deal.stage.rotting_days, deal.last_activity_at, deal.stage_entered_at
    )


def row_staleness(*, today) -> Callable[[dict], bool]:
    """``opportunity_is_stale`` as of ``today`` for ``values()`` rows of ``opportunity_rows``
    (the list page's, the API's) with ``ROW_STALE_FIELDS``."""
    rule = _stale_rule(today=today)
    return lambda row: rule(*(row[name] for name in ROW_STALE_FIELDS))


def row_owner_name(row: dict) -> str | None:
    """The owner's full name, else their user name (``User.get_full_name``), of a ``values()``
    row; None for the unassigned pool."""
    if not row["owner_id"]:
        return None
    return f"{row['owner__first_name']} {row['owner__last_name']}".strip() or row["owner__username"]


# --- activities and the timeline ----------------------------------------------------------


def opportunity_activities(*, opportunity: Opportunity) -> QuerySet[Activity]:
    """The activities of one (already visibility-checked) opportunity, with their files."""
    return (
        Activity.objects.filter(opportunity=opportunity)
        .select_related("author", "stage")
        .prefetch_related("attachments")
    )


# The timeline's event types (selectors_timeline.py), in the order events of one moment are
# shown: events written in one service call share their moment.
TIMELINE_EVENT_TYPES = (
    "created",
    "assigned",
    "stage_changed",
    "close_date_changed",
    "field_changed",
    "activity",
    "won",
    "lost",
    "expired",
    "reopened",
)


# --- pages: the home dashboard (its deals: opportunities/selectors_dashboard.py) ----------


def opportunity_incentive_month_to_date(*, user, today: datetime.date | None = None) -> dict:
    """My incentive so far this month, on the home page: the totals of the reports app's
    incentive report (the IncentivePolicy in force on the day each deal was won: base reward ×
    difficulty coefficient + bonuses) over the deals won since the 1st, company time, credited to
    ``user`` — or, for a manager, to anyone in the teams they manage. Summed by the database
    without the report's lines. Two queries (the policies, the sums).
    ``{"won_count", "payout", "currency"}``."""
    from crm.dates import company_today
    from reports.periods import Period, month_start
    from reports.selectors import incentive_totals

    today = today or company_today()
    totals = incentive_totals(viewer=user, period=Period(month_start(today), today))
    return {"won_count": totals["won"], "payout": totals["payout"], "currency": totals["currency"]}


# --- pages: the opportunity list and its exports -------------------------------------------

# ?sort= keys of the list page (a leading "-" sorts descending) → the fields they order by.
OPPORTUNITY_SORTS = {
    "title": ("title",),
    "customer": ("customer__name",),
    "stage": ("pipeline__order", "pipeline__name", "stage__order"),
    "status": ("status",),
    "owner": ("owner__first_name", "owner__username"),
    "team": ("team__name",),
    "source": ("source__name",),
    "amount": ("amount_base",),
    "probability": ("probability",),
    "difficulty": ("difficulty",),
    "close": ("expected_close_date",),
    "activity": ("last_activity_at",),
    "created": ("created_at",),
    "closed": ("closed_at",),
}
OPPORTUNITY_DEFAULT_SORT = "-created"


class _InIds(Lookup):
    """``column IN (subquery)``; on PostgreSQL ``column = ANY(ARRAY(subquery))``: the subquery
    runs once and the column's index can serve the match even inside an OR (an IN-subquery
    there becomes a filter on every row)."""

    lookup_name = "in_ids"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


class _UpperContains(Lookup):
    """``icontains`` (the same match: the term as plain characters, in any case, upper-cased by
    PostgreSQL) on a column stored upper-cased, so that a trigram index on the column serves it.

    A term with no word of three characters (华强, "ab", "50%") has no trigram: as a LIKE, the
    index would be read whole (a second for 1,000,000 deals), so it is matched with STRPOS, which
    the index does not serve, and PostgreSQL walks the user's deals instead.
    """

    lookup_name = "upper_contains"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        term = self.rhs
        if any(len(word) >= 3 for word in re.findall(r"[^\W_]+", term)):
            return f"{lhs} LIKE UPPER(%s)", [*lhs_params, f"%{connection.ops.prep_for_like_query(term)}%"]
        return f"STRPOS({lhs}, UPPER(%s)) > 0", [*lhs_params, term]


# Between the title, the customer's name and the contact's name in ``Opportunity.search_text``.
SEARCH_TEXT_SEPARATOR = "\n"


def opportunity_search_q(text: str) -> Q:
    """Every word must appear in the title, the customer's name or the contact's name (as the
    API's ``search``, whose words are split its own way: ``opportunity_search_terms_q``)."""
    return opportunity_search_terms_q(text.split()[:10])


def opportunity_search_terms_q(terms: list[str]) -> Q:
    """Every term must appear, in any case, in the title, the customer's name or the contact's
    name.

    On PostgreSQL a term is looked for in ``search_text``, the three upper-cased one per line
    (kept by triggers, opportunities/migrations/0010): one trigram index condition that
    PostgreSQL combines with the owner's or team's index. A term without a line break is in
    those lines exactly when it is in one of the three names, so the rows are the same. Matching
    names in their own tables first, a common word ("Harbor": 5,300 customers) meant probing the
    deals once per customer. A term with a line break (only a quoted API phrase can have one)
    and other databases look in the three fields themselves.
    """
    from django.db import connection

    from customers.models import Contact, Customer

    condition = Q()
    for term in terms:
        if connection.vendor == "postgresql" and SEARCH_TEXT_SEPARATOR not in term:
            condition &= Q(_UpperContains(F("search_text"), term))
            continue
        customers = Customer.objects.filter(name__icontains=term).order_by().values("pk")
        contacts = Contact.objects.filter(name__icontains=term).order_by().values("pk")
        condition &= (
            Q(title__icontains=term) | Q(_InIds(F("customer_id"), customers)) | Q(_InIds(F("contact_id"), contacts))
        )
    return condition


def opportunity_sort_fields(sort: str) -> tuple[str, list]:
    """The valid sort key (the default for anything else) and its ORDER BY, empty values last
    and the id as the tie-breaker, so pages never overlap."""
    from django.db.models import F

    key = sort.removeprefix("-")
    if key not in OPPORTUNITY_SORTS:
        sort = OPPORTUNITY_DEFAULT_SORT
        key = sort.removeprefix("-")
    descending = sort.startswith("-")
    fields = []
    for name in OPPORTUNITY_SORTS[key]:
        # NULLS LAST only where a value can be empty: a plain ORDER BY on a NOT NULL column can
        # walk an index (created_at, amount …) and stop after one page.
        nulls_last = True if _sort_path_is_nullable(name) else None
        fields.append(F(name).desc(nulls_last=nulls_last) if descending else F(name).asc(nulls_last=nulls_last))
    return sort, [*fields, "-pk" if descending else "pk"]


def _sort_path_is_nullable(path: str) -> bool:
    model, nullable = Opportunity, False
    for part in path.split("__"):
        field = model._meta.get_field(part)
        nullable = nullable or field.null
        model = field.related_model or model
    return nullable


class OpportunityListing:
    """The list page's reading of its query string: the FilterSet (the API's own), the search
    words, the sort, and the resulting rows.

    ``queryset`` is every matching row in order, annotated with ``is_stale`` and ``is_overdue``
    (the exports read it; built only when asked for). A page of the list is read through
    ``rows`` (``BranchedRows``): branch by branch of the visibility rule (a rep's own deals,
    their team's pool; a manager's teams), each branch in the sort's order on an index of its
    own, the branches merged in SQL, then the page's rows read by id
    (``opportunity_list_values``). An OR of the branches would make PostgreSQL read every
    visible row and sort them for one page.
    """

    def __init__(self, *, user, data, today: datetime.date | None = None):
        from crm.dates import company_today
        from opportunities.filtersets import OpportunityFilterSet

        self.today = today or company_today()
        self.search = (data.get("q") or "").strip()[:200]
        self.sort, self.order_by = opportunity_sort_fields(data.get("sort") or OPPORTUNITY_DEFAULT_SORT)
        self.user = user
        # The FilterSet parses and validates the query string; the rows read are always the
        # user's visible ones, narrowed by it (``_narrowed``).
        self.filterset = OpportunityFilterSet(data)
        self.filterset.errors  # noqa: B018 (validates: the filters below read its cleaned data)
        branches = [
            self._narrowed(branch).order_by(*self.order_by) for branch in Opportunity.objects.visible_to_by_branch(user)
        ]
        self.rows = BranchedRows(order_by=self.order_by, branches=branches, read=opportunity_list_reader())

    @cached_property
    def queryset(self) -> QuerySet[Opportunity]:
        from django.db.models import BooleanField, Case, When

        flag = {"default": Value(False), "output_field": BooleanField()}
        return (
            self._narrowed(opportunities_visible_to(user=self.user))
            .order_by(*self.order_by)
            .annotate(
                is_stale=Case(When(opportunity_stale_q(today=self.today), then=Value(True)), **flag),
                is_overdue=Case(
                    When(status=Opportunity.Status.OPEN, expected_close_date__lt=self.today, then=Value(True)), **flag
                ),
            )
        )

    def _narrowed(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        queryset = self.filterset.filter_queryset(queryset)
        return queryset.filter(opportunity_search_q(self.search)) if self.search else queryset


def opportunity_handover_preview(*, by, from_owner) -> dict:
    """What ``opportunity_reassign_all`` would move from ``from_owner`` now: their open deals,
    as ``by`` sees them. ``hidden`` counts open deals of theirs ``by`` cannot see (in teams they
    do not manage): then the hand-over is for an administrator. Two queries."""
    deals = list(
        opportunities_visible_to(user=by)
        .filter(owner=from_owner, status=Opportunity.Status.OPEN)
        .order_by("expected_close_date", "pk")
    )
    total = Opportunity.objects.filter(owner=from_owner, status=Opportunity.Status.OPEN).count()
    return {
        "deals": deals,
        "count": len(deals),
        "hidden": total - len(deals),
        "amount": sum((deal.amount_base or 0) for deal in deals),
        "ids": ",".join(str(deal.pk) for deal in sorted(deals, key=lambda deal: deal.pk)),
    }
