"""The OpenAPI document (/api/schema/) and Swagger UI (/api/docs/)."""

import pytest
import yaml
from django.core.management import call_command

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
        if method == "patch" or path.endswith(("/move/", "/close/", "/reopen/")):
            assert "409" in codes, (method, path)
        assert operation.get("summary") or operation.get("description"), (method, path)


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
