"""Reads of pipelines and stages for the deal pages (board, opportunity page): small fixed-shape
queries, each compiled to SQL once per process (``crm.statements.CompiledModels``) and run on
every request — only SQL is kept, never rows."""

import functools

from crm.statements import CompiledModels
from stages.models import Pipeline, Stage

# Stands for the pipeline's id while the statement is compiled: no pipeline has it.
_PIPELINE_PLACEHOLDER = -7_319_451_123


def stages_of_pipeline(*, pipeline_id: int) -> list[Stage]:
    """The stages of a pipeline in their order, each with its pipeline loaded. One query."""
    return _stages_of_pipeline().rows(pipeline_id)


def pipelines_active() -> list[Pipeline]:
    """The active pipelines in their order (then by name). One query."""
    return _pipelines_active().rows()


@functools.cache
def _stages_of_pipeline() -> CompiledModels:
    return CompiledModels(
        Stage.objects.filter(pipeline_id=_PIPELINE_PLACEHOLDER).select_related("pipeline"), _PIPELINE_PLACEHOLDER
    )


@functools.cache
def _pipelines_active() -> CompiledModels:
    return CompiledModels(Pipeline.objects.filter(is_active=True).order_by("order", "name"))
