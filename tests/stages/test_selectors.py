"""stages.selectors: compiled once, read afresh on every call."""

import pytest

from stages.models import Pipeline, Stage
from stages.selectors import pipelines_active, stages_of_pipeline

pytestmark = pytest.mark.django_db


def test_they_give_what_the_querysets_give_and_follow_every_change(pipeline, stages, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = stages_of_pipeline(pipeline_id=pipeline.pk)
        assert [stage.pipeline.name for stage in found] == [pipeline.name] * len(found)  # loaded with them
    assert found == list(Stage.objects.filter(pipeline=pipeline))
    Stage.objects.create(pipeline=pipeline, name="Visit", order=1, probability=20)
    stages["Quote"].name = "Offer"
    stages["Quote"].save()
    names = [stage.name for stage in stages_of_pipeline(pipeline_id=pipeline.pk)]
    assert names == [stage.name for stage in Stage.objects.filter(pipeline=pipeline)]
    assert "Visit" in names and "Offer" in names
    assert stages_of_pipeline(pipeline_id=-1) == []

    other = Pipeline.objects.create(name="Aftersales", order=0)
    assert pipelines_active() == list(Pipeline.objects.filter(is_active=True).order_by("order", "name"))
    other.is_active = False
    other.save()
    assert other not in pipelines_active()
