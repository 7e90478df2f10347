from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from opportunities.forms_admin import ProtectedSummaryMixin
from opportunities.models import Opportunity
from sources.models import LeadSource


@admin.register(LeadSource)
class LeadSourceAdmin(ProtectedSummaryMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "channel",
        "start_date",
        "end_date",
        "cost_money",
        "manpower_days",
        "day_rate",
        "total_cost",
        "lead_count",
        "is_active",
    )
    list_filter = ("channel", "is_active")
    search_fields = ("name",)
    date_hierarchy = "start_date"
    ordering = ("-start_date", "name")
    readonly_fields = ("total_cost", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "channel", "is_active", ("start_date", "end_date"))}),
        (
            _("Cost"),
            {
                "fields": ("cost_money", ("manpower_days", "day_rate"), "total_cost"),
                "description": _("Total cost = money cost + person-days × day rate."),
            },
        ),
        (_("Record"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    protected_hint = _("Make the source inactive instead: its leads keep counting in the reports.")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(lead_total=Count("opportunities"))

    @admin.display(description=_("total cost (CNY)"))
    def total_cost(self, obj):
        return obj.total_cost

    @admin.display(description=_("leads"), ordering="lead_total")
    def lead_count(self, obj):
        return getattr(obj, "lead_total", None)

    def protected_counts(self, objs):
        return [(str(_("Opportunities from this source")), Opportunity.objects.filter(source__in=objs).count())]
