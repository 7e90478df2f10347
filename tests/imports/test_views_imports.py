import pytest
from django.urls import reverse

from customers.models import Customer
from opportunities.imports.models import ImportJob
from opportunities.imports.services import import_leads
from opportunities.models import Opportunity
from tests.imports.files import CARD_HEADERS_ZH, card, cards, excel_gbk_csv, upload


@pytest.fixture
def form(team, pipeline, source):
    return {
        "source": source.pk,
        "team": team.pk,
        "pipeline": pipeline.pk,
        "close_in_days": 30,
        "currency": "CNY",
        "assign": "round_robin",
        "duplicates": "skip",
    }


def test_it_takes_a_manager_from_a_gbk_file_to_assigned_opportunities(
    client, manager, form, rep, other_rep, celery_eager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    rows = [["单位", *CARD_HEADERS_ZH[1:]], *cards(9), ["", "无名"]]
    response = client.post(reverse("opportunities:imports:new"), {**form, "file": upload(excel_gbk_csv(rows))})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("opportunities:imports:detail", args=[job.pk])

    page = client.get(response.url)
    assert page.status_code == 200
    assert "GB18030" in page.content.decode() and 'name="col_0"' in page.content.decode()

    mapping = {f"col_{index}": field for index, field in job.mapping.items()} | {"col_0": "company"}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(response.url, {**mapping, "duplicates": "skip", "action": "preview", "save_as": "名片"})
    assert response.status_code == 302
    waiting = client.get(response.url).content.decode()
    assert "Preparing the preview" in waiting and 'hx-trigger="every 1s"' in waiting
    for callback in callbacks:
        callback()  # the worker computes the preview
    progress = client.get(reverse("opportunities:imports:progress", args=[job.pk]), headers={"HX-Request": "true"})
    assert progress["HX-Redirect"] == response.url
    page = client.get(response.url).content.decode()
    assert "深圳市第1电子有限公司" in page and "The company name is missing." in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response.url, {**mapping, "duplicates": "skip", "action": "start"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created, job.failed) == ("done", 9, 1)
    assert set(Opportunity.objects.values_list("owner__username", flat=True)) == {"rep", "other_rep"}

    progress = client.get(reverse("opportunities:imports:progress", args=[job.pk]), headers={"HX-Request": "true"})
    body = progress.content.decode()
    assert 'value="100"' in body and "hx-trigger" not in body and "9 created" in body
    csv_file = client.get(reverse("opportunities:imports:rejected", args=[job.pk]))
    assert csv_file["Content-Type"].startswith("text/csv")
    assert "The company name is missing." in b"".join(csv_file.streaming_content).decode("utf-8-sig")


def test_it_polls_the_progress_while_the_import_runs(client, manager, import_options):
    client.force_login(manager)
    job = import_leads(
        by=manager, file=upload(excel_gbk_csv([CARD_HEADERS_ZH, card(1)])), enqueue=False, **import_options
    )
    body = client.get(reverse("opportunities:imports:detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in body and "htmx" in body and "Queued" in body


def test_it_shows_why_a_file_cannot_be_read_and_stores_nothing(client, manager, form, settings):
    client.force_login(manager)
    data = "Company;Contact\r\nMüller GmbH;Jürgen\r\n".encode("cp1252")
    response = client.post(reverse("opportunities:imports:new"), {**form, "file": upload(data)})
    assert response.status_code == 200
    assert "garbled" in response.content.decode()
    assert not ImportJob.objects.exists() and not (settings.MEDIA_ROOT / "imports").exists()


@pytest.mark.parametrize("name", ["opportunities:imports:list", "opportunities:imports:new"])
def test_it_forbids_reps(client, rep, team, name):
    client.force_login(rep)
    assert client.get(reverse(name)).status_code == 403


def test_it_forbids_a_rep_to_upload(client, rep, form):
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:imports:new"), {**form, "file": upload(excel_gbk_csv([["公司"], ["甲"]]))}
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


@pytest.fixture
def job(manager, form, client):
    client.force_login(manager)
    client.post(
        reverse("opportunities:imports:new"), {**form, "file": upload(excel_gbk_csv([CARD_HEADERS_ZH, card(1)]))}
    )
    client.logout()
    return ImportJob.objects.get()


@pytest.mark.parametrize("name", ["detail", "progress", "rejected"])
def test_it_hides_another_teams_import(client, outsider_manager, other_team, job, name):
    client.force_login(outsider_manager)
    assert client.get(reverse(f"opportunities:imports:{name}", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("name", ["detail", "progress", "rejected"])
def test_it_forbids_a_rep_an_import_page(client, rep, job, name):
    client.force_login(rep)
    assert client.get(reverse(f"opportunities:imports:{name}", args=[job.pk])).status_code == 403


def test_it_lists_imports_in_a_constant_number_of_queries(client, manager, job, form, django_assert_num_queries):
    client.force_login(manager)
    client.post(
        reverse("opportunities:imports:new"), {**form, "file": upload(excel_gbk_csv([CARD_HEADERS_ZH, card(2)]))}
    )
    # session, user (with the role and the bell's unread count), the jobs with their relations
    # joined
    with django_assert_num_queries(4):
        response = client.get(reverse("opportunities:imports:list"))
    assert response.content.decode().count("cards.csv") == 2


def test_it_refuses_a_mapping_without_the_company(client, manager, job):
    client.force_login(manager)
    response = client.post(
        reverse("opportunities:imports:detail", args=[job.pk]),
        {"col_0": "", "col_1": "contact", "duplicates": "skip", "action": "preview"},
    )
    assert response.status_code == 200
    assert "Choose the column that holds “Company”." in response.content.decode()
