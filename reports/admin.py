from django.contrib import admin

from reports.models import IncentivePolicy


@admin.register(IncentivePolicy)
class IncentivePolicyAdmin(admin.ModelAdmin):
    list_display = ("effective_from", "base_reward", "currency", "new_customer_bonus", "new_product_bonus", "note")
    ordering = ("-effective_from",)
    date_hierarchy = "effective_from"
