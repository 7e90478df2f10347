"""The pipeline page: stage rules as form errors, never a 500, and nothing changed on refusal."""

import pytest
from django.urls import reverse

from stages.models import Pipeline, Stage
from tests.admin_support import change_form_data
from tests.factories import OpportunityFactory


@pytest.fixture
def admin_client_(client, admin):
    client.force_login(admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def change_url(pipeline):
    return reverse("admin:stages_pipeline_change", args=[pipeline.pk])


def stage_rows(data: dict) -> dict[str, int]:
    """Stage name → its row index in the posted formset."""
    total = int(data["stages-TOTAL_FORMS"])
    return {data[f"stages-{index}-name"]: index for index in range(total)}


def snapshot(pipeline):
    return list(
        pipeline.stages.order_by("order").values_list("name", "kind", "order", "probability", "required_fields")
    )


def post(client, pipeline, change):
    data = change_form_data(client.get(change_url(pipeline)))
    change(data, stage_rows(data))
    return client.post(change_url(pipeline), data)


def non_form_errors(response) -> list[str]:
    (inline,) = response.context["inline_admin_formsets"]
    return list(inline.formset.non_form_errors())


def test_it_saves_an_unchanged_pipeline(admin_client_, pipeline):
    before = snapshot(pipeline)
    response = post(admin_client_, pipeline, lambda data, rows: None)
    assert response.status_code == 302
    assert snapshot(pipeline) == before


def test_it_reorders_stages_and_saves_required_fields_as_a_list(admin_client_, pipeline):
    def change(data, rows):
        data[f"stages-{rows['New']}-order"] = "25"  # dragged below "Sample"
        data[f"stages-{rows['New']}-required_fields"] = ["amount", "contact"]

    response = post(admin_client_, pipeline, change)
    assert response.status_code == 302
    names = list(pipeline.stages.order_by("order").values_list("name", flat=True))
    assert names.index("New") > names.index("Sample")
    assert Stage.objects.get(pipeline=pipeline, name="New").required_fields == ["amount", "contact"]


def test_it_refuses_a_second_won_stage_and_changes_nothing(admin_client_, pipeline):
    before = snapshot(pipeline)

    def change(data, rows):
        data[f"stages-{rows['Lost']}-kind"] = Stage.Kind.WON

    response = post(admin_client_, pipeline, change)
    assert response.status_code == 200
    errors = non_form_errors(response)
    assert "A pipeline needs exactly one won stage (it has 2)." in errors
    assert "A pipeline needs at least one lost stage." in errors
    assert snapshot(pipeline) == before


def test_it_refuses_to_delete_the_only_won_stage(admin_client_, pipeline):
    before = snapshot(pipeline)

    def change(data, rows):
        data[f"stages-{rows['Won']}-DELETE"] = "on"

    response = post(admin_client_, pipeline, change)
    assert response.status_code == 200
    assert non_form_errors(response) == ["A pipeline needs exactly one won stage (it has 0)."]
    assert snapshot(pipeline) == before


def test_it_refuses_to_delete_a_stage_in_use_and_says_why(admin_client_, pipeline, team, source):
    OpportunityFactory(pipeline=pipeline, team=team, source=source)  # sits in "New"
    before = snapshot(pipeline)

    def change(data, rows):
        data[f"stages-{rows['New']}-DELETE"] = "on"

    response = post(admin_client_, pipeline, change)
    assert response.status_code == 200
    assert non_form_errors(response) == ["The stage “New” holds 1 opportunity; move it to another stage first."]
    assert snapshot(pipeline) == before


def test_it_refuses_to_change_the_kind_of_a_stage_in_use(admin_client_, pipeline, team, source):
    OpportunityFactory(pipeline=pipeline, team=team, source=source)
    before = snapshot(pipeline)

    def change(data, rows):
        data[f"stages-{rows['New']}-kind"] = Stage.Kind.LOST

    response = post(admin_client_, pipeline, change)
    assert response.status_code == 200
    assert "The stage “New” holds 1 opportunity, so its kind cannot change." in non_form_errors(response)
    assert snapshot(pipeline) == before


def test_it_deletes_an_unused_stage_and_adds_a_new_one_at_the_end(admin_client_, pipeline):
    def change(data, rows):
        data[f"stages-{rows['Quote']}-DELETE"] = "on"
        index = int(data["stages-TOTAL_FORMS"])
        data["stages-TOTAL_FORMS"] = str(index + 1)
        data.update(
            {
                f"stages-{index}-name": "Factory audit",
                f"stages-{index}-kind": Stage.Kind.OPEN,
                f"stages-{index}-probability": "80",
                f"stages-{index}-order": "",
            }
        )

    response = post(admin_client_, pipeline, change)
    assert response.status_code == 302
    names = list(pipeline.stages.order_by("order").values_list("name", flat=True))
    assert "Quote" not in names
    assert names[-1] == "Factory audit"


def test_it_rejects_an_unknown_required_field(admin_client_, pipeline):
    before = snapshot(pipeline)

    def change(data, rows):
        data[f"stages-{rows['New']}-required_fields"] = ["salary"]

    response = post(admin_client_, pipeline, change)
    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert any("required_fields" in form.errors for form in inline.formset.forms)
    assert snapshot(pipeline) == before


def test_it_creates_a_pipeline_only_with_a_valid_set_of_stages(admin_client_):
    url = reverse("admin:stages_pipeline_add")
    data = change_form_data(admin_client_.get(url))
    data.update({"name": "Spare parts", "is_active": "on", "stages-TOTAL_FORMS": "2"})
    for index, (name, kind) in enumerate([("Enquiry", "open"), ("Won", "won")]):
        data.update(
            {
                f"stages-{index}-name": name,
                f"stages-{index}-kind": kind,
                f"stages-{index}-probability": "10",
                f"stages-{index}-order": str(index + 1),
            }
        )
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "A pipeline needs at least one lost stage." in non_form_errors(response)
    assert not Pipeline.objects.filter(name="Spare parts").exists()

    data.update(
        {
            "stages-TOTAL_FORMS": "3",
            "stages-2-name": "Lost",
            "stages-2-kind": "lost",
            "stages-2-probability": "0",
            "stages-2-order": "3",
        }
    )
    assert admin_client_.post(url, data).status_code == 302
    assert list(Pipeline.objects.get(name="Spare parts").stages.values_list("name", flat=True)) == [
        "Enquiry",
        "Won",
        "Lost",
    ]


def test_it_refuses_to_delete_a_pipeline_in_use_with_a_clear_message(admin_client_, pipeline, team, source):
    OpportunityFactory(pipeline=pipeline, team=team, source=source)
    url = reverse("admin:stages_pipeline_delete", args=[pipeline.pk])
    response = admin_client_.get(url)
    assert response.status_code == 200
    assert "Opportunities in this pipeline: 1. Make the pipeline inactive instead" in response.content.decode()
    response = admin_client_.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()


def test_it_refuses_the_bulk_delete_of_pipelines_in_use(admin_client_, pipeline, team, source):
    OpportunityFactory(pipeline=pipeline, team=team, source=source)
    url = reverse("admin:stages_pipeline_changelist")
    response = admin_client_.post(url, {"action": "delete_selected", "_selected_action": [pipeline.pk], "post": "yes"})
    assert response.status_code == 200
    assert "Opportunities in this pipeline: 1." in response.content.decode()
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()


def test_it_deletes_an_unused_pipeline_with_its_stages(admin_client_, pipeline):
    url = reverse("admin:stages_pipeline_delete", args=[pipeline.pk])
    assert admin_client_.post(url, {"post": "yes"}).status_code == 302
    assert not Pipeline.objects.filter(pk=pipeline.pk).exists()
    assert not Stage.objects.filter(pipeline_id=pipeline.pk).exists()
