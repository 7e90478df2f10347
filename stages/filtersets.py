"""Filters of the pipeline list (API and pages alike)."""

import django_filters

from stages.models import Pipeline


class PipelineFilterSet(django_filters.FilterSet):
    class Meta:
        model = Pipeline
        fields = ["is_active"]
