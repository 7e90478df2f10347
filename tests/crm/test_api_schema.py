"""The OpenAPI document (/api/schema/) and Swagger UI (/api/docs/)."""

import pytest
import yaml
from django.core.management import call_command

from reports.catalog import REPORTS
from sources.models import LeadSource

CONTRACT_PATHS = {
    "/api/auth/token/",
    "/api/me/",
    "/api/pipelines/",
    "/api/sources/",
    "/api/lost-reasons/",
    "/api/users/",
    "/api/teams/",
    "/api/customers/",
    "/api/contacts/",
    "/api/opportunities/",
    "/api/opportunities/{id}/",
    "/api/opportunities/{id}/move/",
    "/api/opportunities/{id}/close/",
    "/api/opportunities/{id}/reopen/",
    "/api/opportunities/assign/",
    "/api/opportunities/reassign/",
    "/api/opportunities/{id}/history/",
    "/api/opportunities/{id}/activities/",
    "/api/attachments/{id}/download/",
    "/api/imports/",
    "/api/imports/{id}/",
    "/api/imports/{id}/errors/",
    "/api/reports/incentives/",
    "/api/reports/sources/",
    "/api/reports/expired/",
    "/api/reports/pipeline/",
    "/api/reports/forecast/",
    "/api/reports/funnel/",
    "/api/reports/scorecard/",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    # --fail-on-warn: any warning of the generator (an undescribed field, an unresolvable type) fails
    call_command("spectacular", "--validate", "--fail-on-warn", "--lang", "en", "--file", str(path))
    return yaml.safe_load(path.read_text())


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_it_generates_a_valid_schema_without_warnings(schema):
    assert schema["openapi"].startswith("3.")
    assert CONTRACT_PATHS <= set(schema["paths"])


def test_it_documents_the_error_answers_of_every_operation(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert "429" in codes, (method, path)
        if path != "/api/auth/token/":
            assert {"401", "403"} <= codes, (method, path)
        if "{id}" in path:
            assert "404" in codes, (method, path)
        if method in ("post", "patch"):
            assert "400" in codes, (method, path)
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            assert "400" in codes, (method, path)  # a bad query parameter
        if method == "patch" or path.endswith(("/move/", "/close/", "/reopen/")):
            assert "409" in codes, (method, path)
        assert operation.get("summary") or operation.get("description"), (method, path)


def test_it_documents_the_reports_parameters_and_answers(schema):
    """Each report: its filters as typed query parameters, its answer as a component whose ids
    and counts are integers and whose money is a decimal string."""
    types = {
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "team": {"type": "integer", "minimum": 1},
        "pipeline": {"type": "integer", "minimum": 1},
        "channel": {"type": "string", "enum": list(LeadSource.Channel.values)},
    }
    components = schema["components"]["schemas"]

    def component(reference):
        return components[reference["$ref"].rsplit("/", 1)[1]]

    for slug, spec in REPORTS.items():
        operation = schema["paths"][f"/api/reports/{slug}/"]["get"]
        parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
        assert set(parameters) == set(spec.filters), slug
        for name, parameter in parameters.items():
            assert parameter["in"] == "query" and parameter["description"], (slug, name)
            assert types[name].items() <= parameter["schema"].items(), (slug, name)
        answer = component(operation["responses"]["200"]["content"]["application/json"]["schema"])
        assert {"start", "end", "rows", "totals"} <= set(answer["required"]), slug
        assert answer["properties"]["start"]["format"] == "date", slug
        row = component(answer["properties"]["rows"]["items"])
        assert set(row["required"]) == set(row["properties"]), slug
    incentives = components["IncentivesReportRow"]["properties"]
    assert incentives["owner"]["type"] == "integer" and incentives["won"]["type"] == "integer"
    assert (incentives["payout"]["type"], incentives["payout"]["format"]) == ("string", "decimal")
    line = components["IncentivesReportLine"]["properties"]
    assert line["opportunity"]["type"] == "integer" and line["won_at"]["format"] == "date-time"


def test_it_names_every_enum_and_requires_the_patch_version(schema):
    components = schema["components"]["schemas"]
    assert components["OpportunityStatusEnum"]["enum"] == ["open", "won", "lost", "expired"]
    assert components["ActivityKindEnum"]["enum"] == [
        "note",
        "call",
        "email",
        "meeting",
        "visit",
        "sample",
        "quote",
        "other",
    ]
    assert "expired" in components["TimelineEventTypeEnum"]["enum"]
    assert components["PatchedOpportunityUpdateRequest"]["required"] == ["version"]
    assert components["ActivityCreateRequest"]["properties"]["files"]["items"]["format"] == "binary"


def test_it_serves_the_schema(api_client, db):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert CONTRACT_PATHS <= set(response.json()["paths"])


def test_it_serves_swagger_ui_from_our_own_static_files(api_client, db):
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
        assert cdn not in html
