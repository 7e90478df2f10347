from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from stages.models import Pipeline, Stage

STAGE_REQUIRED_FIELD_CHOICES = list(Stage.REQUIRED_FIELD_CHOICES.items())


class StageBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "kind"]


class StageSerializer(serializers.ModelSerializer):
    required_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=STAGE_REQUIRED_FIELD_CHOICES),
        read_only=True,
        help_text=_("Opportunity fields that must be filled before a deal leaves this stage."),
    )

    class Meta:
        model = Stage
        fields = [
            "id",
            "name",
            "order",
            "probability",
            "kind",
            "rotting_days",
            "requires_attachment",
            "requires_tracking_number",
            "required_fields",
            "guidance",
        ]
        read_only_fields = fields


class PipelineSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True, help_text=_("In their order."))

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_active", "order", "stages"]
        read_only_fields = fields
