"""/api/reports/…: {"start", "end", "rows", "totals"}, ids as numbers, money as decimal strings,
the same numbers as the pages."""

import jsonschema
import pytest
import yaml
from django.core.management import call_command

from reports.catalog import REPORTS

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.mark.parametrize("slug", list(REPORTS))
def test_it_answers_the_common_shape(report_scenario, client, admin, slug):
    client.force_login(admin)
    response = client.get(f"/api/reports/{slug}/", MARCH)
    assert response.status_code == 200
    body = response.json()
    assert {"start", "end", "rows", "totals"} <= set(body)
    assert isinstance(body["rows"], list) and isinstance(body["totals"], dict)


def test_it_gives_ids_as_numbers_and_money_as_strings(report_scenario, client, admin, rep):
    client.force_login(admin)
    body = client.get("/api/reports/incentives/", MARCH).json()
    assert (body["start"], body["end"]) == ("2026-03-01", "2026-03-31")
    first = body["rows"][0]
    assert first["owner"] == rep.pk and first["owner_name"] == "rep"
    assert first["payout"] == "4180.00" and first["won"] == 2
    assert first["lines"][0] == {
        "opportunity": report_scenario.deals["D1"].pk,
        "title": "D1",
        "won_at": "2026-03-10T10:00:00+08:00",
        "base": "1000.00",
        "difficulty": "2.50",
        "bonus": "0.00",
        "payout": "2500.00",
    }
    assert body["totals"] == {"won": 5, "payout": "7380.00", "currency": "CNY"}


def test_it_answers_sources_with_channels_and_null_ratios(report_scenario, client, admin):
    client.force_login(admin)
    body = client.get("/api/reports/sources/", MARCH).json()
    referral = next(row for row in body["rows"] if row["name"] == "Referral")
    assert isinstance(referral["source"], int)
    assert referral["cost"] == "0.00" and referral["roi"] is None and referral["conversion_rate"] == "0.5000"
    assert body["totals"]["cost"] == "20000.00" and body["totals"]["roi"] == "1.5050"
    assert [row["channel"] for row in body["channels"]] == ["online_platform", "referral", "trade_show"]


def test_it_answers_pipeline_forecast_and_funnel(report_scenario, client, admin):
    client.force_login(admin)
    pipeline = client.get("/api/reports/pipeline/").json()
    forecast = client.get("/api/reports/forecast/").json()
    assert pipeline["totals"] == forecast["totals"] == {"count": 3, "amount": "12500.00", "weighted": "4250.00"}
    assert forecast["rows"][0]["bucket"] == "overdue"
    funnel = client.get("/api/reports/funnel/", MARCH).json()
    assert funnel["rows"][0]["median_days"] == "5.5" and funnel["pipeline"]["name"] == "Main pipeline"


@pytest.mark.parametrize("slug", list(REPORTS))
def test_it_matches_the_page(report_scenario, client, manager, slug):
    from reports.formatting import api_payload

    client.force_login(manager)
    page = client.get(f"/reports/{slug}/", MARCH).context["report"]
    assert client.get(f"/api/reports/{slug}/", MARCH).json() == api_payload(page)


def test_it_refuses_anonymous_callers_and_bad_filters(client, rep):
    assert client.get("/api/reports/incentives/").status_code == 401
    client.force_login(rep)
    response = client.get("/api/reports/sources/", {"start": "2026-02-30"})
    assert response.status_code == 400 and list(response.json()) == ["start"]
    assert client.get("/api/reports/sources/", {"channel": "nope"}).status_code == 400


# --- the documented schema -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def documented(tmp_path_factory):
    """The 200 answer of each report as a JSON Schema, from the OpenAPI document: ``nullable``
    made a JSON Schema null, and no property beyond the documented ones (so documentation and
    answer list the same keys)."""
    path = tmp_path_factory.mktemp("schema") / "schema.yml"
    call_command("spectacular", "--lang", "en", "--file", str(path))
    openapi = yaml.safe_load(path.read_text())

    def convert(node):
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: convert(value) for key, value in node.items()}
        if "$ref" in node:
            node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/$defs/")
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        if node.pop("nullable", False):
            return {"anyOf": [node, {"type": "null"}]}
        return node

    definitions = convert(openapi["components"]["schemas"])
    schemas = {}
    for slug in REPORTS:
        answer = openapi["paths"][f"/api/reports/{slug}/"]["get"]["responses"]["200"]["content"]["application/json"]
        schemas[slug] = {**convert(answer["schema"]), "$defs": definitions}
    return schemas


def assert_documented(schema: dict, body: dict) -> None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(body)]
    assert not errors, errors


@pytest.mark.parametrize("slug", list(REPORTS))
def test_it_answers_exactly_its_documented_schema(report_scenario, client, admin, manager, rep, documented, slug):
    for user in (admin, manager, rep):
        client.force_login(user)
        body = client.get(f"/api/reports/{slug}/", MARCH).json()
        assert body["rows"], (slug, user)  # real rows, with their lines
        assert_documented(documented[slug], body)
        assert_documented(documented[slug], client.get(f"/api/reports/{slug}/", {"start": "2025-01-01"}).json())


def test_it_documents_the_funnel_without_an_active_pipeline(client, manager, pipeline, documented):
    pipeline.is_active = False
    pipeline.save()
    client.force_login(manager)
    body = client.get("/api/reports/funnel/").json()
    assert body["pipeline"] is None and body["totals"] == {"deals": 0, "won": 0}
    assert_documented(documented["funnel"], body)


# --- bad parameters: 400 keyed by the parameter, never a 500 --------------------------------------

NUL = "\x00"


@pytest.mark.parametrize(
    ("slug", "params", "key"),
    [
        ("sources", {"start": "2026-02-30"}, "start"),
        ("sources", {"start": "1 March 2026"}, "start"),
        ("sources", {"end": "2026-13-01"}, "end"),
        ("sources", {"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ("sources", {"start": "2020-01-01", "end": "2026-03-01"}, "end"),
        ("incentives", {"start": "0001-01-01"}, "start"),
        ("incentives", {"start": "9999-12-15"}, "start"),
        ("incentives", {"end": "9999-12-31"}, "end"),
        ("expired", {"team": "999999"}, "team"),
        ("expired", {"team": str(2**63)}, "team"),
        ("expired", {"team": "9" * 40}, "team"),
        ("expired", {"team": "-1"}, "team"),
        ("expired", {"team": "1.5"}, "team"),
        ("funnel", {"pipeline": "999999"}, "pipeline"),
        ("funnel", {"pipeline": str(2**63 - 1)}, "pipeline"),
        ("pipeline", {"pipeline": "9" * 40}, "pipeline"),
        ("sources", {"channel": "nope"}, "channel"),
        ("sources", {"channel": f"trade_show{NUL}"}, "channel"),
        ("scorecard", {"start": f"2026-03-01{NUL}"}, "start"),
        ("forecast", {"team": f"1{NUL}"}, "team"),
    ],
)
def test_it_answers_400_naming_the_bad_parameter(client, manager, team, slug, params, key):
    client.force_login(manager)
    response = client.get(f"/api/reports/{slug}/", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == [key]
    assert body[key] and all(isinstance(message, str) and message for message in body[key])


def test_it_refuses_a_team_the_caller_does_not_manage(client, rep, manager, team, other_team):
    client.force_login(rep)  # a rep manages no team, not even their own
    assert client.get("/api/reports/expired/", {"team": team.pk}).json() == {
        "team": ["Select a valid choice. That choice is not one of the available choices."]
    }
    client.force_login(manager)
    assert client.get("/api/reports/expired/", {"team": other_team.pk}).status_code == 400
    assert client.get("/api/reports/expired/", {"team": team.pk}).status_code == 200


def test_it_explains_bad_parameters_in_the_callers_language(client, manager):
    client.force_login(manager)
    response = client.get(
        "/api/reports/sources/", {"start": "2026-03-31", "end": "2026-03-01"}, headers={"accept-language": "zh-hans"}
    )
    assert response.json() == {"end": ["结束日期不能早于开始日期。"]}
    response = client.get("/api/reports/sources/", {"end": "3000-01-01"}, headers={"accept-language": "zh-hans"})
    assert list(response.json()) == ["end"] and "1900-01-01" in response.json()["end"][0]
