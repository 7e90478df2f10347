from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import TimeStampedModel
from teams.visibility import (
    opportunity_scope_arms,
    opportunity_scope_q,
    opportunity_visibility_arms,
    opportunity_visibility_q,
)

User = settings.AUTH_USER_MODEL
DIFFICULTY_MIN = Decimal("0.10")
DIFFICULTY_MAX = Decimal("10.00")


class CurrencyRate(TimeStampedModel):
    """Admin-kept exchange rate: one unit of ``currency`` is worth ``rate`` units of the base currency."""

    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("rate to CNY"), max_digits=16, decimal_places=6)
    valid_from = models.DateField(_("valid from"))

    class Meta:
        verbose_name = _("currency rate")
        verbose_name_plural = _("currency rates")
        ordering = ["currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="currency_rate_unique_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="currency_rate_positive"),
        ]

    def save(self, *args, **kwargs):
        self.currency = self.currency.upper()
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} CNY ({self.valid_from})"


class LostReason(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


# After the branch (owner or team) and the pipeline, stage and card order: what the board's column
# figures and the home page's key figures read, so that they read the index only.
_OPEN_DEAL_TAIL = ["pipeline", "stage", "expected_close_date", "id"]
_OPEN_DEAL_FIGURES = ["amount_base", "probability", "last_activity_at", "stage_entered_at"]
# What the list's sorts read from a deal (opportunities.selectors.OPPORTUNITY_SORTS) besides its
# owner, team, close date and id: its own columns, and the ids a sort by a name joins to.
_SORTABLE_COLUMNS = [
    *("status", "title", "amount_base", "probability", "difficulty"),
    *("last_activity_at", "created_at", "closed_at", "stage", "pipeline", "customer", "source"),
]


def idle_since_expression():
    """When an open deal last showed life: the later of its last activity and its stage entry (an
    activity logged in an earlier stage does not make a deal that just moved look fresh). The
    home page's stale list is in this order, on an index of this very expression."""
    from django.db.models.functions import Coalesce, Greatest

    return Greatest(Coalesce("last_activity_at", "stage_entered_at"), "stage_entered_at")


class OpportunityQuerySet(models.QuerySet):
    def visible_to(self, user) -> "OpportunityQuerySet":
        """The one scope for every user-dependent read (pages, API, exports, reports, files)."""
        return self.filter(opportunity_visibility_q(user, team_ids=True))

    def visible_to_by_branch(self, user) -> list["OpportunityQuerySet"]:
        """``visible_to`` as one queryset per branch of the rule (their union is ``visible_to``),
        for reads that page through a big list: each branch can walk an index of its own."""
        return [self.filter(arm) for arm in opportunity_visibility_arms(user)]

    def visible_in_scope(self, scope: tuple) -> "OpportunityQuerySet":
        """``visible_to`` of any user with this ``opportunity_visibility_scope``: for SQL kept
        under the scope."""
        return self.filter(opportunity_scope_q(scope))

    def visible_in_scope_by_branch(self, scope: tuple) -> list["OpportunityQuerySet"]:
        """``visible_to_by_branch`` of any user with this ``opportunity_visibility_scope``: for
        SQL kept under the scope (the dashboard's)."""
        return [self.filter(arm) for arm in opportunity_scope_arms(scope)]

    def open(self) -> "OpportunityQuerySet":
        return self.filter(status=Opportunity.Status.OPEN)


class Opportunity(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        EXPIRED = "expired", _("Expired")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("customer")
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
        verbose_name=_("contact"),
    )
    pipeline = models.ForeignKey(
        "stages.Pipeline", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("pipeline")
    )
    stage = models.ForeignKey(
        "stages.Stage", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("stage")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="opportunities",
        verbose_name=_("owner"),
        help_text=_("Empty: the deal waits in the team's unassigned pool."),
    )
    team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("team")
    )
    source = models.ForeignKey(
        "sources.LeadSource", on_delete=models.PROTECT, related_name="opportunities", verbose_name=_("lead source")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    exchange_rate = models.DecimalField(_("exchange rate used"), max_digits=16, decimal_places=6, default=Decimal("1"))
    amount_base = models.DecimalField(_("amount in CNY"), max_digits=16, decimal_places=2, null=True, blank=True)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    probability_is_manual = models.BooleanField(_("probability set by hand"), default=False)
    difficulty = models.DecimalField(
        _("difficulty coefficient"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(DIFFICULTY_MIN), MaxValueValidator(DIFFICULTY_MAX)],
    )
    is_new_customer = models.BooleanField(_("new customer"), default=False)
    is_new_product = models.BooleanField(_("new product"), default=False)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    close_date_pushes = models.PositiveIntegerField(_("close-date pushes"), default=0)
    stage_entered_at = models.DateTimeField(_("entered stage at"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("close reason"), blank=True)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lost reason")
    )
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # The title, the customer's name and the contact's name, upper-cased, one per line: where the
    # search looks (opportunity_search_terms_q). On PostgreSQL, triggers compute it on every write
    # of the deal and on a rename of its customer or contact (migrations/0010), whatever Django
    # sends; read it in SQL only (an instance's copy may be older). Empty elsewhere.
    search_text = models.TextField(_("search text"), default="", editable=False)

    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "expected_close_date"], name="opp_owner_status_close"),
            # The list's default order (newest first), per branch of the visibility rule.
            models.Index(fields=["owner", "created_at", "id"], name="opp_owner_created"),
            models.Index(fields=["team", "created_at", "id"], name="opp_team_created"),
            # A team's unassigned pool, searched: its few deals read from this index with their
            # search text (a trigram scan of the whole table, combined with the team's index,
            # cost 5-8 ms where this reads a thousand entries in 0.2 ms).
            models.Index(
                fields=["team", "created_at", "id", "search_text"], condition=Q(owner=None), name="opp_pool_search"
            ),
            # The list filtered by stage: its count read index-only, its first page in that order.
            models.Index(fields=["owner", "stage", "created_at", "id"], name="opp_owner_stage_created"),
            models.Index(fields=["team", "stage", "created_at", "id"], name="opp_team_stage_created"),
            # The board and the home page: a branch's open deals of one pipeline, per stage in card
            # order, then what the column figures and the key figures read, so both read the index
            # only (trailing key columns rather than INCLUDE, which SQLite lacks).
            models.Index(
                fields=["owner", *_OPEN_DEAL_TAIL, "team", *_OPEN_DEAL_FIGURES],
                condition=Q(status="open"),
                name="opp_open_owner_board",
            ),
            models.Index(
                fields=["team", *_OPEN_DEAL_TAIL, "owner", *_OPEN_DEAL_FIGURES],
                condition=Q(status="open"),
                name="opp_open_team_board",
            ),
            # The home page's recently expired deals, per branch.
            models.Index(fields=["owner", "closed_at"], condition=Q(status="expired"), name="opp_expired_owner"),
            # (with the owner: the manager's branch leaves out their own deals, counted index-only)
            models.Index(fields=["team", "closed_at", "owner"], condition=Q(status="expired"), name="opp_expired_team"),
            models.Index(fields=["team", "status"], name="opp_team_status"),
            # A team page's (and a manager's home page's) counts per member, read index-only.
            models.Index(fields=["team", "owner", "status", "expected_close_date"], name="opp_team_owner_status"),
            # The home page's short lists per branch: the team's open deals by close date (the
            # owner's are on opp_owner_status_close), and the stale deals, longest idle first.
            models.Index(
                fields=["team", "expected_close_date", "id", "owner"],
                condition=Q(status="open"),
                name="opp_open_team_close",
            ),
            models.Index(
                models.F("owner"),
                idle_since_expression(),
                models.F("id"),
                models.F("stage"),
                models.F("last_activity_at"),
                models.F("stage_entered_at"),
                condition=Q(status="open"),
                name="opp_open_owner_idle",
            ),
            models.Index(
                models.F("team"),
                idle_since_expression(),
                models.F("id"),
                models.F("owner"),
                models.F("stage"),
                models.F("last_activity_at"),
                models.F("stage_entered_at"),
                condition=Q(status="open"),
                name="opp_open_team_idle",
            ),
            # The list sorted by any column, per branch of the visibility rule: the branch's deals
            # by close date (that sort, soonest first, reads them in order) with every column a
            # sort or the merge reads, so PostgreSQL sorts by any other from this index alone (a
            # manager's 235,000 deals: 68-140 ms instead of 220-320 ms reading their table rows).
            # Key columns rather than INCLUDE, which SQLite lacks.
            models.Index(
                fields=["owner", "expected_close_date", "id", "team", *_SORTABLE_COLUMNS], name="opp_owner_sortable"
            ),
            models.Index(
                fields=["team", "expected_close_date", "id", "owner", *_SORTABLE_COLUMNS], name="opp_team_sortable"
            ),
            # The home page's incentive this month joins each won event to its deal by id for the
            # team, the owner and the payout's inputs: read from this index, not the table.
            models.Index(
                fields=["id", "team", "owner", "difficulty", "is_new_customer", "is_new_product"],
                name="opp_id_incentive",
            ),
            models.Index(fields=["source", "created_at"], name="opp_source_created"),
            models.Index(fields=["status", "expected_close_date"], name="opp_status_close"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="open") | Q(expected_close_date__isnull=False),
                name="opp_open_has_close_date",
                violation_error_message=_("An open opportunity needs an expected close date."),
            ),
            models.CheckConstraint(
                condition=Q(difficulty__gte=DIFFICULTY_MIN) & Q(difficulty__lte=DIFFICULTY_MAX),
                name="opp_difficulty_range",
            ),
            models.CheckConstraint(condition=Q(probability__lte=100), name="opp_probability_0_100"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="opp_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class HistoryModel(models.Model):
    """Base of the append-only history tables: written by services only, never edited."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="+")
    by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        # Shown above each row of the history inlines; Django's default is "StageChange object (12)".
        return f"{self._meta.verbose_name} #{self.pk}"


class Assignment(HistoryModel):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("opportunity")
    )
    from_owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("from")
    )
    to_owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("to")
    )
    from_team = models.ForeignKey(
        "teams.Team", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("from team")
    )
    to_team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="+", verbose_name=_("to team"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta(HistoryModel.Meta):
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [models.Index(fields=["opportunity", "at"], name="assignment_opp_at")]


class StageChange(HistoryModel):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes", verbose_name=_("opportunity")
    )
    from_stage = models.ForeignKey(
        "stages.Stage", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("from")
    )
    to_stage = models.ForeignKey("stages.Stage", on_delete=models.PROTECT, related_name="+", verbose_name=_("to"))
    probability_before = models.PositiveSmallIntegerField(_("probability before"), null=True, blank=True)
    probability_after = models.PositiveSmallIntegerField(_("probability after"))
    note = models.TextField(_("note"), blank=True)

    class Meta(HistoryModel.Meta):
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["opportunity", "at"], name="stagechange_opp_at"),
            models.Index(fields=["to_stage", "at"], name="stagechange_stage_at"),
        ]


class CloseDateChange(HistoryModel):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="close_date_changes", verbose_name=_("opportunity")
    )
    old_date = models.DateField(_("old date"), null=True, blank=True)
    new_date = models.DateField(_("new date"))
    reason = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta(HistoryModel.Meta):
        verbose_name = _("close-date change")
        verbose_name_plural = _("close-date changes")
        indexes = [models.Index(fields=["opportunity", "at"], name="closedate_opp_at")]


class StatusChange(HistoryModel):
    """Won, lost, expired and reopened events."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("opportunity")
    )
    from_status = models.CharField(_("from status"), max_length=10, choices=Opportunity.Status.choices)
    to_status = models.CharField(_("to status"), max_length=10, choices=Opportunity.Status.choices)
    reason = models.TextField(_("reason"), blank=True)
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("lost reason")
    )
    # The owner at the moment of the change: incentives are credited to whoever won the deal.
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("owner")
    )
    # The deal's team now: a copy of ``opportunity.team`` that PostgreSQL keeps equal to it
    # (triggers in migration 0009 set it on every insert and follow every change of the deal's
    # team, in the same statement), so a team's events are read on an index of their own. Empty
    # on SQLite, where nothing reads it.
    deal_team = models.ForeignKey(
        "teams.Team",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        related_name="+",
        verbose_name=_("deal's team"),
    )

    class Meta(HistoryModel.Meta):
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [
            models.Index(fields=["opportunity", "at"], name="statuschange_opp_at"),
            models.Index(fields=["to_status", "at"], name="statuschange_status_at"),
            # The home page's incentive this month: the wins of the period (a manager's), a
            # rep's own wins, and the check that no later reopen undid a win, index-only.
            models.Index(
                fields=["at", "opportunity", "owner", "id"],
                condition=Q(to_status="won"),
                name="statuschange_won_at",
            ),
            models.Index(
                fields=["owner", "at", "opportunity", "id"],
                condition=Q(to_status="won"),
                name="statuschange_won_owner_at",
            ),
            models.Index(
                fields=["deal_team", "at", "opportunity", "owner", "id"],
                condition=Q(to_status="won"),
                name="statuschange_won_team_at",
            ),
            models.Index(fields=["opportunity", "at", "id"], condition=Q(to_status="open"), name="statuschange_reopen"),
        ]


class FieldChange(HistoryModel):
    """Edits of plain fields (amount, difficulty, probability override …), old and new as text."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="field_changes", verbose_name=_("opportunity")
    )
    field = models.CharField(_("field"), max_length=50)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)

    class Meta(HistoryModel.Meta):
        verbose_name = _("field change")
        verbose_name_plural = _("field changes")
        indexes = [models.Index(fields=["opportunity", "at"], name="fieldchange_opp_at")]


class Activity(models.Model):
    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        CALL = "call", _("Call")
        EMAIL = "email", _("E-mail")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        SAMPLE = "sample", _("Sample sent")
        QUOTE = "quote", _("Quote")
        OTHER = "other", _("Other")

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="activities", verbose_name=_("opportunity")
    )
    stage = models.ForeignKey(
        "stages.Stage", on_delete=models.PROTECT, related_name="+", verbose_name=_("stage at the time")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NOTE)
    body = models.TextField(_("details"), blank=True)
    carrier = models.CharField(_("courier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("author"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["opportunity", "stage"], name="activity_opp_stage")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.body[:50]}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # The stored name is ours, never the uploader's: a random name keeps paths unguessable and safe.
    return f"attachments/{timezone.now():%Y/%m}/{instance.stored_name}"


class Attachment(models.Model):
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("activity")
    )
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("opportunity")
    )
    stage = models.ForeignKey("stages.Stage", on_delete=models.PROTECT, related_name="+", verbose_name=_("stage"))
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    stored_name = models.CharField(max_length=100, editable=False)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["opportunity", "stage"], name="attachment_opp_stage")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


# Lead import (opportunities/imports/): defined there, registered here with this app.
from opportunities.imports.models import ImportedRow, ImportJob, ImportMapping, ImportRowError  # noqa: E402, F401
