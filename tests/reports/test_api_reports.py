"""/api/reports/…: {"start", "end", "rows", "totals"}, ids as numbers, money as decimal strings,
the same numbers as the pages."""

import pytest

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
    assert client.get("/api/reports/incentives/").status_code in (401, 403)
    client.force_login(rep)
    response = client.get("/api/reports/sources/", {"start": "2026-02-30"})
    assert response.status_code == 400 and "start" in response.json()["errors"]
    assert client.get("/api/reports/sources/", {"channel": "nope"}).status_code == 400
