from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from sources.models import LeadSource


class LeadSourceSerializer(serializers.ModelSerializer):
    total_cost = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        read_only=True,
        help_text=_("Money cost plus person-days × day rate, in CNY."),
    )

    class Meta:
        model = LeadSource
        fields = [
            "id",
            "name",
            "channel",
            "start_date",
            "end_date",
            "cost_money",
            "manpower_days",
            "day_rate",
            "total_cost",
            "is_active",
        ]
        read_only_fields = fields
