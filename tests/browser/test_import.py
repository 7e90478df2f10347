"""The lead import in Chromium (issue 7): a GBK business-card CSV from Excel, a corrected column
mapping, the preview, the progress bar finishing and the deals on the Kanban board."""

import re

from django.urls import reverse
from playwright.sync_api import expect

from opportunities.imports.models import ImportJob
from opportunities.models import Opportunity
from tests.imports.files import card, excel_gbk_csv

# "参展商" (exhibitor) is not among the recognised headers: the manager maps it to Company.
HEADERS = ["参展商", "联系人", "邮箱", "电话", "国家"]


def business_cards(count: int) -> list[list[str]]:
    rows = []
    for n in range(1, count + 1):
        company, contact, _title, phone, email, country, *_rest = card(n)
        rows.append([company, contact, email, phone, country])
    return rows


def test_a_manager_imports_a_gbk_csv_and_sees_the_deals_on_the_board(
    login, live_server, manager, team, rep, other_rep, pipeline, stages, source, celery_eager, tmp_path
):
    rows = business_cards(4)
    csv_path = tmp_path / "广交会名片.csv"
    csv_path.write_bytes(excel_gbk_csv([HEADERS, *rows]))

    page = login(manager)
    page.goto(live_server.url + reverse("opportunities:imports:list"))
    page.goto(live_server.url + reverse("opportunities:imports:new"))

    # 1. Upload, with the source, pipeline, team and round-robin over the team's two reps.
    page.set_input_files("#id_file", str(csv_path))
    page.select_option("#id_source", str(source.pk))
    page.select_option("#id_team", str(team.pk))
    page.select_option("#id_pipeline", str(pipeline.pk))
    page.fill("#id_close_in_days", "30")
    page.select_option("#id_assign", "round_robin")
    page.select_option("#id_reps", [str(rep.pk), str(other_rep.pk)])
    page.click("form.card button[type=submit]")
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    job = ImportJob.objects.get()
    assert job.encoding.lower() in ("gb18030", "gbk")

    # 2. The mapping: the unrecognised first column is not imported until the manager says so.
    company_column = page.locator('select[name="col_0"]')
    expect(company_column).to_have_value("")
    expect(page.locator('select[name="col_2"]')).to_have_value("email")
    company_column.select_option("company")
    page.click('button[name="action"][value="preview"]')

    # The preview is computed by the task; the page reloads itself (htmx) once it is ready.
    start = page.locator('button[name="action"][value="start"]')
    expect(start).to_be_visible(timeout=15_000)
    expect(start).to_contain_text("Import 4 opportunities")
    for company, _contact, email, *_ in rows:
        expect(page.locator("tr", has_text=email)).to_contain_text(company)

    # 3. Import, and watch the progress bar reach done.
    start.click()
    progress = page.locator("#import-progress")
    expect(progress.locator("h2")).to_have_text("Done", timeout=15_000)
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    expect(progress).to_contain_text("4 created")
    expect(progress).not_to_have_attribute("hx-trigger", re.compile(".+"))

    deals = Opportunity.objects.filter(pipeline=pipeline)
    assert deals.count() == 4
    owners = list(deals.values_list("owner__username", flat=True))
    assert sorted(owners) == ["other_rep", "other_rep", "rep", "rep"]
    assert {deal.customer.name for deal in deals} == {row[0] for row in rows}  # no mojibake

    # 4. The deals are on the board, in the pipeline's first stage.
    page.goto(f"{live_server.url}{reverse('opportunities:board')}?pipeline={pipeline.pk}")
    first_stage = page.locator(f'.board-cards[data-stage="{stages["New"].pk}"]')
    for deal in deals:
        card_locator = first_stage.locator(f"#opp-{deal.pk}")
        expect(card_locator).to_be_visible()
        expect(card_locator).to_contain_text(deal.title)
        expect(card_locator.locator(".opp-card-customer")).to_have_text(deal.customer.name)
