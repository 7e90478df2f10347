"""/api/pipelines/: company configuration, the same for everyone."""

import pytest

from tests.factories import PipelineFactory

PIPELINES = "/api/pipelines/"


@pytest.mark.parametrize("who", ["rep", "manager", "outsider_rep", "admin"])
def test_it_lists_pipelines_with_ordered_stages(api_as, pipeline, who, request):
    body = api_as(request.getfixturevalue(who)).get(PIPELINES).json()
    assert body["count"] == 1
    stages = body["results"][0]["stages"]
    assert [stage["name"] for stage in stages] == ["New", "Sample", "Quote", "Won", "Lost"]
    assert [stage["kind"] for stage in stages] == ["open", "open", "open", "won", "lost"]
    sample = stages[1]
    assert sample["probability"] == 50 and sample["requires_attachment"] and sample["requires_tracking_number"]
    assert stages[2]["required_fields"] == ["amount"]
    assert {"id", "name", "order", "probability", "kind"} <= set(sample)


def test_it_filters_retrieves_and_answers_404(api_as, rep, pipeline):
    PipelineFactory(name="Retired", is_active=False)
    client = api_as(rep)
    assert [row["name"] for row in client.get(PIPELINES, {"is_active": "true"}).json()["results"]] == ["Main pipeline"]
    assert client.get(f"{PIPELINES}{pipeline.pk}/").json()["name"] == "Main pipeline"
    assert client.get(f"{PIPELINES}999999/").status_code == 404


def test_it_is_read_only(api_as, admin):
    assert api_as(admin).post(PIPELINES, {"name": "x"}, format="json").status_code == 405


def test_it_answers_401_to_anonymous(api_client, db):
    assert api_client.get(PIPELINES).status_code == 401


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_in_a_constant_number_of_queries(api_as, rep, rows, django_assert_num_queries):
    PipelineFactory.create_batch(rows)
    client = api_as(rep)
    with django_assert_num_queries(3):  # count, page, stages
        response = client.get(PIPELINES, {"page_size": 100})
    assert response.json()["count"] == rows
