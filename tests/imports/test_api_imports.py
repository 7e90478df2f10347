import json
from datetime import timedelta

import pytest
from django.utils.timezone import now
from rest_framework.test import APIClient

from customers.models import Customer
from opportunities.imports.models import ImportJob
from opportunities.models import Opportunity
from tests.imports.files import CARD_HEADERS_ZH, card, cards, excel_gbk_csv, upload, xlsx_bytes


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def payload(team, pipeline, source):
    return {"source": source.pk, "pipeline": pipeline.pk, "team": team.pk, "close_in_days": 30}


def post(api, payload, data: bytes, name="cards.csv", **extra):
    return api.post("/api/imports/", {**payload, "file": upload(data, name), **extra}, format="multipart")


def test_it_imports_a_file_and_reports_progress(
    api, manager, payload, rep, celery_eager, django_capture_on_commit_callbacks
):
    api.force_authenticate(manager)
    rows = [CARD_HEADERS_ZH, *cards(4), ["", "无名"]]
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, payload, excel_gbk_csv(rows), assign="owner", owner=rep.pk)
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    assert response["Location"].endswith(f"/api/imports/{job_id}/")

    body = api.get(f"/api/imports/{job_id}/").json()
    assert {key: body[key] for key in ("status", "total", "processed", "created", "skipped", "failed", "percent")} == {
        "status": "done",
        "total": 5,
        "processed": 5,
        "created": 4,
        "skipped": 0,
        "failed": 1,
        "percent": 100,
    }
    assert body["mapping"]["公司名称"] == "company" and body["encoding"] == "gb18030"
    assert "4 created" in body["summary"]
    assert set(Opportunity.objects.values_list("owner", flat=True)) == {rep.pk}

    errors = api.get(f"/api/imports/{job_id}/errors/").json()
    assert errors["count"] == 1
    assert errors["results"] == [
        {"row": 6, "kind": "failed", "reason": "The company name is missing.", "values": {"联系人": "无名"}}
    ]
    csv_file = api.get(f"/api/imports/{job_id}/errors/?format=csv")
    assert csv_file.status_code == 200 and csv_file["Content-Type"] == "text/csv"
    text = b"".join(csv_file.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith(",无名,")


def test_it_takes_an_xlsx_file_and_a_corrected_mapping(
    api, manager, payload, celery_eager, django_capture_on_commit_callbacks
):
    api.force_authenticate(manager)
    data = xlsx_bytes([["客户", "Handy"], ["甲公司", 13900000000]])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, payload, data, "cards.xlsx", mapping=json.dumps({"Handy": "phone"}))
    assert response.status_code == 202, response.json()
    assert ImportJob.objects.get().created == 1
    assert Customer.objects.get().contacts.get().phone == "13900000000"


def test_it_answers_400_naming_the_problem_and_stores_nothing(api, manager, payload, settings):
    api.force_authenticate(manager)
    response = post(api, payload, "Company;Contact\r\nMüller GmbH;Jürgen\r\n".encode("cp1252"))
    assert response.status_code == 400
    assert "garbled" in response.json()["file"][0]
    assert not ImportJob.objects.exists() and not (settings.MEDIA_ROOT / "imports").exists()


def test_it_answers_400_for_bad_options(api, manager, payload, stages):
    api.force_authenticate(manager)
    response = post(api, payload, excel_gbk_csv([["公司"], ["甲"]]), stage=stages["Won"].pk, assign="owner")
    assert response.status_code == 400
    assert set(response.json()) == {"stage", "owner"}


def test_it_answers_400_when_no_column_is_the_company(api, manager, payload):
    api.force_authenticate(manager)
    response = post(api, payload, excel_gbk_csv([["序号", "联系人"], ["1", "张三"]]))
    assert response.status_code == 400
    assert "Company" in response.json()["mapping"][0]
    assert not ImportJob.objects.exists()


def test_it_forbids_a_rep(api, rep, team, payload):
    api.force_authenticate(rep)
    assert post(api, payload, excel_gbk_csv([CARD_HEADERS_ZH, card(1)])).status_code == 403
    assert api.get("/api/imports/").status_code == 403
    assert not ImportJob.objects.exists()


def test_it_refuses_anonymous_callers(api, payload):
    assert post(api, payload, excel_gbk_csv([CARD_HEADERS_ZH, card(1)])).status_code in (401, 403)


def test_it_hides_another_teams_import(api, manager, outsider_manager, other_team, payload):
    api.force_authenticate(manager)
    job_id = post(api, payload, excel_gbk_csv([CARD_HEADERS_ZH, card(1)])).json()["id"]
    api.force_authenticate(outsider_manager)
    assert api.get(f"/api/imports/{job_id}/").status_code == 404
    assert api.get(f"/api/imports/{job_id}/errors/").status_code == 404
    as_csv = api.get(f"/api/imports/{job_id}/errors/?format=csv")  # the error is JSON, not a file
    assert as_csv.status_code == 404 and as_csv["Content-Type"] == "application/json" and as_csv.json()["detail"]
    assert api.get("/api/imports/").json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_it_lists_imports_in_a_constant_number_of_queries(api, manager, payload, django_assert_num_queries):
    api.force_authenticate(manager)
    for n in range(3):
        post(api, payload, excel_gbk_csv([CARD_HEADERS_ZH, card(n)]))
    with django_assert_num_queries(3):  # "manages a team?", count, page (relations joined)
        body = api.get("/api/imports/").json()
    assert body["count"] == 3 and len(body["results"]) == 3


def test_it_pages_searches_and_orders_the_list_like_every_list(api, manager, payload):
    api.force_authenticate(manager)
    for n in range(3):
        post(api, payload, excel_gbk_csv([CARD_HEADERS_ZH, card(n)]), name=f"fair-{n}.csv")
        ImportJob.objects.filter(original_name=f"fair-{n}.csv").update(created_at=now() + timedelta(minutes=n))
    first = api.get("/api/imports/", {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["next"]
    assert [job["original_name"] for job in first["results"]] == ["fair-2.csv", "fair-1.csv"]
    found = api.get("/api/imports/", {"search": "FAIR-1"}).json()
    assert [job["original_name"] for job in found["results"]] == ["fair-1.csv"]
    ordered = api.get("/api/imports/", {"ordering": "created_at"}).json()
    assert [job["original_name"] for job in ordered["results"]] == ["fair-0.csv", "fair-1.csv", "fair-2.csv"]


def test_it_answers_the_rows_not_imported_by_kind_and_refuses_an_unknown_kind(
    api, manager, payload, celery_eager, django_capture_on_commit_callbacks
):
    api.force_authenticate(manager)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = post(api, payload, excel_gbk_csv([CARD_HEADERS_ZH, card(1), card(1), ["", "无名"]])).json()["id"]
    url = f"/api/imports/{job_id}/errors/"
    assert [row["row"] for row in api.get(url).json()["results"]] == [3, 4]
    assert [row["row"] for row in api.get(url, {"kind": "skipped"}).json()["results"]] == [3]
    assert [row["row"] for row in api.get(url, {"kind": "failed"}).json()["results"]] == [4]
    # search and ordering belong to the list: here they neither hide the job nor change the rows
    assert api.get(url, {"search": "nothing-like-it", "ordering": "status"}).json()["count"] == 2
    bad = api.get(url, {"kind": "lost"})
    assert bad.status_code == 400 and set(bad.json()) == {"kind"}
    assert api.get(url, {"page": 9}).status_code == 404


def test_it_answers_an_unknown_column_in_the_mapping_as_a_400(api, manager, payload):
    api.force_authenticate(manager)
    response = post(api, payload, excel_gbk_csv([CARD_HEADERS_ZH, card(1)]), mapping=json.dumps({"Fax": "phone"}))
    assert response.status_code == 400
    (message,) = response.json()["mapping"]
    assert "“Fax”" in message
    assert not ImportJob.objects.exists()


def test_it_answers_400_for_a_team_the_manager_does_not_manage(api, manager, payload, other_team):
    api.force_authenticate(manager)
    response = post(api, {**payload, "team": other_team.pk}, excel_gbk_csv([CARD_HEADERS_ZH, card(1)]))
    assert response.status_code == 400
    assert list(response.json()) == ["team"]
