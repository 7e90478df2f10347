"""Opportunities, their read-only history, lost reasons and currency rates.

Every change that touches a rule goes through ``opportunities.services``: the add and change
forms call ``opportunity_create`` / ``opportunity_update``; owner and close date change through
the list's actions. History tables are read-only everywhere.
"""

import datetime

from adminsortable2.admin import SortableAdminMixin
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.dates import company_today
from opportunities.forms_admin import (
    SERVICE_ERRORS,
    AssignForm,
    DistributeForm,
    OpportunityAddForm,
    OpportunityChangeForm,
    ProtectedSummaryMixin,
    PushCloseDateForm,
    ReadOnlyAdminMixin,
    ServiceFormAdminMixin,
    action_form_response,
    action_step_form,
    add_service_errors,
)
from opportunities.models import (
    Activity,
    Assignment,
    Attachment,
    CloseDateChange,
    CurrencyRate,
    FieldChange,
    LostReason,
    Opportunity,
    StageChange,
    StatusChange,
)
from opportunities.services import (
    BASE_CURRENCY,
    opportunity_assign,
    opportunity_distribute,
    opportunity_push_close_date,
)
from stages.models import Stage
from teams.models import User

# --- list filters -------------------------------------------------------------------------------


class StageListFilter(admin.SimpleListFilter):
    """Stages named with their pipeline, read in one query (Stage.__str__ would read each pipeline)."""

    title = _("stage")
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        stages = Stage.objects.select_related("pipeline").order_by("pipeline__order", "pipeline__name", "order", "pk")
        return [(str(stage.pk), f"{stage.pipeline.name} / {stage.name}") for stage in stages]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(stage_id=int(value))
        return queryset


class OwnerListFilter(admin.SimpleListFilter):
    title = _("owner")
    parameter_name = "owner"
    POOL = "pool"

    def lookups(self, request, model_admin):
        users = User.objects.filter(teams__isnull=False).distinct().order_by("username")
        return [(self.POOL, _("Unassigned pool")), *((str(user.pk), str(user)) for user in users)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.POOL:
            return queryset.filter(owner__isnull=True)
        if value and value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset


class CloseDateListFilter(admin.SimpleListFilter):
    """Due dates as a manager reads them, in the company's time zone."""

    title = _("expected close date")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue (still open)")),
            ("week", _("Due within 7 days")),
            ("later", _("Due later")),
        ]

    def queryset(self, request, queryset):
        today = company_today()
        open_deals = queryset.filter(status=Opportunity.Status.OPEN)
        if self.value() == "overdue":
            return open_deals.filter(expected_close_date__lt=today)
        if self.value() == "week":
            return open_deals.filter(
                expected_close_date__gte=today, expected_close_date__lte=today + datetime.timedelta(days=7)
            )
        if self.value() == "later":
            return open_deals.filter(expected_close_date__gt=today + datetime.timedelta(days=7))
        return queryset


# --- read-only history inlines -------------------------------------------------------------------


class HistoryInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.select_related)

    def get_readonly_fields(self, request, obj=None):
        return self.fields


def _stage_name(stage) -> str:
    return stage.name if stage is not None else "—"


class AssignmentInline(HistoryInline):
    model = Assignment
    fields = ("at", "from_owner", "to_owner", "to_team", "by", "reason")
    select_related = ("from_owner", "to_owner", "to_team", "by")
    verbose_name_plural = _("assignment history")


class StageChangeInline(HistoryInline):
    model = StageChange
    fields = ("at", "from_stage_name", "to_stage_name", "probability_before", "probability_after", "by", "note")
    select_related = ("from_stage", "to_stage", "by")
    verbose_name_plural = _("stage history")

    @admin.display(description=_("from"))
    def from_stage_name(self, obj):
        return _stage_name(obj.from_stage)

    @admin.display(description=_("to"))
    def to_stage_name(self, obj):
        return _stage_name(obj.to_stage)


class CloseDateChangeInline(HistoryInline):
    model = CloseDateChange
    fields = ("at", "old_date", "new_date", "by", "reason")
    select_related = ("by",)
    verbose_name_plural = _("close-date history")


class StatusChangeInline(HistoryInline):
    model = StatusChange
    fields = ("at", "from_status", "to_status", "lost_reason", "owner", "by", "reason")
    select_related = ("lost_reason", "owner", "by")
    verbose_name_plural = _("status history")


class FieldChangeInline(HistoryInline):
    model = FieldChange
    fields = ("at", "field", "old_value", "new_value", "by")
    select_related = ("by",)
    verbose_name_plural = _("field changes")


def attachment_links(attachments) -> str:
    """Links through the scoped download view: files are never served from MEDIA_URL."""
    return format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        ((reverse("opportunities:attachment_download", args=[item.pk]), item.original_name) for item in attachments),
    )


class ActivityInline(HistoryInline):
    model = Activity
    fields = ("occurred_at", "stage_name", "kind", "body", "carrier", "tracking_number", "author", "files")
    select_related = ("stage", "author")
    verbose_name_plural = _("activities and evidence")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("created_at", "pk")))
        )

    @admin.display(description=_("stage at the time"))
    def stage_name(self, obj):
        return _stage_name(obj.stage)

    @admin.display(description=_("files"))
    def files(self, obj):
        return attachment_links(obj.attachments.all())


# --- opportunities ---------------------------------------------------------------------------------


@admin.register(Opportunity)
class OpportunityAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    form = OpportunityChangeForm
    add_form = OpportunityAddForm
    list_display = (
        "title",
        "customer",
        "owner_display",
        "team",
        "pipeline",
        "stage_name",
        "status",
        "amount_display",
        "amount_base",
        "probability",
        "difficulty",
        "expected_close_date",
        "source",
    )
    list_select_related = ("customer", "owner", "team", "pipeline", "stage", "source")
    list_filter = (
        "status",
        CloseDateListFilter,
        "pipeline",
        StageListFilter,
        OwnerListFilter,
        "team",
        "source",
        "is_new_customer",
        "is_new_product",
    )
    search_fields = ("title", "customer__name", "contact__name", "contact__email")
    date_hierarchy = "created_at"
    autocomplete_fields = ("customer", "contact")
    list_per_page = 50
    show_full_result_count = False
    actions = ["assign_to_rep", "distribute_across_team", "push_close_date"]
    inlines = [
        AssignmentInline,
        StageChangeInline,
        StatusChangeInline,
        CloseDateChangeInline,
        FieldChangeInline,
        ActivityInline,
    ]
    readonly_fields = (
        "pipeline",
        "stage",
        "status",
        "owner",
        "team",
        "probability",
        "probability_is_manual",
        "expected_close_date",
        "close_date_pushes",
        "stage_entered_at",
        "last_activity_at",
        "closed_at",
        "close_reason",
        "lost_reason",
        "exchange_rate",
        "amount_base",
        "created_by",
        "created_at",
        "updated_at",
    )
    add_fieldsets = (
        (None, {"fields": ("title", "description", "customer", "contact", "source")}),
        (_("Process"), {"fields": ("pipeline", "stage", "team", "owner", "expected_close_date")}),
        (_("Money"), {"fields": ("amount", "currency")}),
        (_("Manager settings"), {"fields": ("probability", "difficulty", "is_new_customer", "is_new_product")}),
    )
    fieldsets = (
        (None, {"fields": ("title", "description", "customer", "contact", "source", "version")}),
        (_("Money"), {"fields": ("amount", "currency", "exchange_rate", "amount_base")}),
        (_("Incentive"), {"fields": ("difficulty", "is_new_customer", "is_new_product")}),
        (
            _("Process"),
            {
                "fields": (
                    "pipeline",
                    "stage",
                    "status",
                    "owner",
                    "team",
                    "probability",
                    "probability_is_manual",
                    "expected_close_date",
                    "close_date_pushes",
                    "stage_entered_at",
                    "last_activity_at",
                    "closed_at",
                    "close_reason",
                    "lost_reason",
                ),
                "description": _(
                    "Owner and expected close date change through the actions of the opportunity list; "
                    "stage and status through the opportunity's own page."
                ),
            },
        ),
        (_("Record"), {"fields": ("created_by", "created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "customer", "contact", "owner", "team", "pipeline", "stage", "source", "lost_reason", "created_by"
            )
        )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inline_instances(self, request, obj=None):
        return [] if obj is None else super().get_inline_instances(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = self.add_form if obj is None else self.form
        form = super().get_form(request, obj, change=change, form=base, **kwargs)
        # The services need the acting user; the admin builds the form class per request.
        return type(form.__name__, (form,), {"acting_user": request.user})

    def save_model(self, request, obj, form, change):
        """Nothing to do: the form's service already saved the opportunity and its history."""

    def has_delete_permission(self, request, obj=None):
        # Deals are closed (won, lost, expired), never deleted: reports and payouts depend on them.
        return False

    @admin.display(description=_("owner"), ordering="owner__username")
    def owner_display(self, obj):
        return obj.owner or _("— pool —")

    @admin.display(description=_("stage"), ordering="stage__order")
    def stage_name(self, obj):
        return obj.stage.name

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        if obj.amount is None:
            return None
        return f"{obj.amount:,.2f} {obj.currency}"

    # --- actions (each calls one service; errors are shown on the intermediate page) -------------------

    def _selected_ids(self, queryset) -> list[int]:
        return list(queryset.order_by("pk").values_list("pk", flat=True))

    @admin.action(description=_("Assign selected to a rep (or to the pool) …"), permissions=["change"])
    def assign_to_rep(self, request, queryset):
        form = action_step_form(AssignForm, request)
        if form.is_bound and form.is_valid():
            owner = form.cleaned_data["owner"]
            try:
                changed = opportunity_assign(
                    opportunity_ids=self._selected_ids(queryset),
                    owner=owner,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except SERVICE_ERRORS as exc:
                add_service_errors(form, exc)
            else:
                target = str(owner) if owner else _("the unassigned pool")
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d opportunity assigned to %(target)s.",
                        "%(count)d opportunities assigned to %(target)s.",
                        changed,
                    )
                    % {"count": changed, "target": target},
                    messages.SUCCESS,
                )
                return None
        return action_form_response(
            self,
            request,
            queryset,
            form=form,
            action="assign_to_rep",
            title=_("Assign opportunities"),
            submit_label=_("Assign"),
        )

    @admin.action(description=_("Distribute selected across a team …"), permissions=["change"])
    def distribute_across_team(self, request, queryset):
        form = action_step_form(DistributeForm, request)
        if form.is_bound and form.is_valid():
            try:
                given = opportunity_distribute(
                    opportunity_ids=self._selected_ids(queryset),
                    team=form.cleaned_data["team"],
                    strategy=form.cleaned_data["strategy"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except SERVICE_ERRORS as exc:
                add_service_errors(form, exc)
            else:
                names = dict(User.objects.filter(pk__in=given).values_list("pk", "username"))
                spread = ", ".join(f"{names[pk]}: {count}" for pk, count in sorted(given.items()))
                self.message_user(
                    request,
                    _("%(count)d opportunities distributed (%(spread)s).")
                    % {"count": sum(given.values()), "spread": spread},
                    messages.SUCCESS,
                )
                return None
        return action_form_response(
            self,
            request,
            queryset,
            form=form,
            action="distribute_across_team",
            title=_("Distribute opportunities across a team"),
            submit_label=_("Distribute"),
        )

    @admin.action(description=_("Change the expected close date …"), permissions=["change"])
    def push_close_date(self, request, queryset):
        form = action_step_form(PushCloseDateForm, request)
        if form.is_bound and form.is_valid():
            try:
                # All or nothing: one refused deal (closed, say) leaves every date as it was.
                with transaction.atomic():
                    for opportunity in queryset.order_by("pk"):
                        opportunity_push_close_date(
                            opportunity=opportunity,
                            by=request.user,
                            new_date=form.cleaned_data["new_date"],
                            reason=form.cleaned_data["reason"],
                        )
            except SERVICE_ERRORS as exc:
                add_service_errors(form, exc)
            else:
                count = len(self._selected_ids(queryset))
                self.message_user(
                    request,
                    ngettext(
                        "The expected close date of %(count)d opportunity was changed.",
                        "The expected close dates of %(count)d opportunities were changed.",
                        count,
                    )
                    % {"count": count},
                    messages.SUCCESS,
                )
                return None
        return action_form_response(
            self,
            request,
            queryset,
            form=form,
            action="push_close_date",
            title=_("Change the expected close date"),
            submit_label=_("Change the date"),
        )


# --- read-only history tables --------------------------------------------------------------------


class HistoryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    date_hierarchy = "at"
    list_per_page = 100
    search_fields = ("opportunity__title",)
    show_full_result_count = False


@admin.register(Assignment)
class AssignmentAdmin(HistoryAdmin):
    list_display = ("at", "opportunity", "from_owner", "to_owner", "to_team", "by", "reason")
    list_select_related = ("opportunity", "from_owner", "to_owner", "to_team", "by")
    list_filter = ("to_team",)


@admin.register(StageChange)
class StageChangeAdmin(HistoryAdmin):
    list_display = (
        "at",
        "opportunity",
        "from_stage_name",
        "to_stage_name",
        "probability_before",
        "probability_after",
        "by",
    )
    list_select_related = ("opportunity", "from_stage", "to_stage", "by")
    list_filter = ("to_stage__pipeline",)

    @admin.display(description=_("from"))
    def from_stage_name(self, obj):
        return _stage_name(obj.from_stage)

    @admin.display(description=_("to"))
    def to_stage_name(self, obj):
        return _stage_name(obj.to_stage)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_stage__pipeline", "to_stage__pipeline")


@admin.register(CloseDateChange)
class CloseDateChangeAdmin(HistoryAdmin):
    list_display = ("at", "opportunity", "old_date", "new_date", "by", "reason")
    list_select_related = ("opportunity", "by")


@admin.register(StatusChange)
class StatusChangeAdmin(HistoryAdmin):
    list_display = ("at", "opportunity", "from_status", "to_status", "lost_reason", "owner", "by")
    list_select_related = ("opportunity", "lost_reason", "owner", "by")
    list_filter = ("to_status",)


@admin.register(FieldChange)
class FieldChangeAdmin(HistoryAdmin):
    list_display = ("at", "opportunity", "field", "old_value", "new_value", "by")
    list_select_related = ("opportunity", "by")
    list_filter = ("field",)


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("occurred_at", "opportunity", "stage_name", "kind", "tracking_number", "author", "files")
    list_select_related = ("opportunity", "stage", "author")
    list_filter = ("kind",)
    search_fields = ("opportunity__title", "body", "tracking_number")
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    fields = (
        "opportunity",
        "stage",
        "kind",
        "body",
        "carrier",
        "tracking_number",
        "occurred_at",
        "author",
        "created_at",
        "files",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stage__pipeline").prefetch_related("attachments")

    @admin.display(description=_("stage at the time"))
    def stage_name(self, obj):
        return _stage_name(obj.stage)

    @admin.display(description=_("files"))
    def files(self, obj):
        return attachment_links(obj.attachments.all())


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "original_name",
        "opportunity",
        "stage_name",
        "content_type",
        "size",
        "uploaded_by",
        "created_at",
        "download",
    )
    list_select_related = ("opportunity", "stage", "uploaded_by")
    search_fields = ("original_name", "opportunity__title")
    list_filter = ("content_type",)
    show_full_result_count = False
    # The file field is left out on purpose: its URL would point at MEDIA_URL, which is never served.
    fields = (
        "original_name",
        "download",
        "opportunity",
        "activity",
        "stage",
        "content_type",
        "size",
        "uploaded_by",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stage__pipeline", "activity")

    @admin.display(description=_("stage"))
    def stage_name(self, obj):
        return _stage_name(obj.stage)

    @admin.display(description=_("download"))
    def download(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("opportunities:attachment_download", args=[obj.pk]), obj.original_name
        )


# --- reference data ------------------------------------------------------------------------------------


@admin.register(LostReason)
class LostReasonAdmin(ProtectedSummaryMixin, SortableAdminMixin, admin.ModelAdmin):
    list_display = ("name", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    ordering = ("order", "name")
    protected_hint = _("Make the reason inactive instead: past deals keep it.")

    def protected_counts(self, objs):
        return [
            (str(_("Opportunities lost for this reason")), Opportunity.objects.filter(lost_reason__in=objs).count()),
            (str(_("Status changes naming it")), StatusChange.objects.filter(lost_reason__in=objs).count()),
        ]


class CurrencyRateForm(forms.ModelForm):
    class Meta:
        model = CurrencyRate
        fields = ("currency", "rate", "valid_from")
        help_texts = {
            "currency": _("ISO 4217 code, e.g. USD."),
            "rate": _("How many CNY one unit of the currency is worth."),
        }

    def clean_currency(self):
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        if len(code) != 3 or not code.isalpha() or not code.isascii():
            raise forms.ValidationError(_("Enter a three-letter currency code such as USD."))
        if code == BASE_CURRENCY:
            raise forms.ValidationError(_("CNY is the base currency; it needs no rate."))
        return code


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    form = CurrencyRateForm
    list_display = ("currency", "rate", "valid_from", "updated_at")
    list_filter = ("currency",)
    search_fields = ("currency",)
    date_hierarchy = "valid_from"
