from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import JobRun, Notification, OutboxMessage, ReminderRecord, ReminderRule
from notifications.services import outbox_requeue


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "days_before", "to_owner", "to_managers", "to_admins", "pipeline", "is_active"]
    list_filter = ["kind", "is_active", "pipeline"]
    list_editable = ["is_active"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "days_before", "pipeline", "is_active"]}),
        (_("Recipients"), {"fields": ["to_owner", "to_managers", "to_admins", "extra_emails"]}),
    ]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "to_address", "subject", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["to_address", "subject", "due_key"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    actions = ["resend"]
    readonly_fields = [
        "due_key",
        "kind",
        "recipient",
        "to_address",
        "language",
        "opportunity",
        "subject",
        "body_text",
        "body_html",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "last_error",
        "sent_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send the selected e-mails again"))
    def resend(self, request, queryset):
        count = outbox_requeue(ids=queryset.values_list("pk", flat=True), by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d e-mail queued again.", "%(count)d e-mails queued again.", count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "opportunity", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "opportunity__title"]
    list_select_related = ["user", "opportunity"]
    raw_id_fields = ["user", "opportunity"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReminderRecord)
class ReminderRecordAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rule", "opportunity", "close_date"]
    list_filter = ["rule"]
    list_select_related = ["rule", "opportunity"]
    search_fields = ["opportunity__title"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """When each periodic job last ran and how many rows it touched (``manage.py jobs_status`` prints the same)."""

    list_display = ["job", "started_at", "finished_at", "duration", "status", "rows"]
    list_filter = ["job", "status"]
    date_hierarchy = "started_at"
    readonly_fields = ["job", "started_at", "finished_at", "status", "rows", "details", "error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
