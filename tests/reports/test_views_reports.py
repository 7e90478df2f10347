"""Report pages: login, filters, the table and chart numbers, translations of the page chrome."""

import pytest
from django.urls import reverse

from reports.catalog import REPORTS

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    for slug in [*REPORTS, "index"]:
        url = reverse(f"reports:{slug}") if slug != "index" else reverse("reports:index")
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_it_lists_the_reports(client, rep):
    client.force_login(rep)
    response = client.get(reverse("reports:index"))
    assert response.status_code == 200
    for slug in REPORTS:
        assert reverse(f"reports:{slug}").encode() in response.content


@pytest.mark.parametrize("slug", list(REPORTS))
def test_it_renders_every_report_with_its_exports_and_local_chart(report_scenario, client, manager, slug):
    client.force_login(manager)
    response = client.get(reverse(f"reports:{slug}"), MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/reports/{slug}/export.csv?" in html and f"/reports/{slug}/export.xlsx?" in html
    assert "/static/vendor/chartjs/chart.umd.js" in html
    assert "cdn" not in html.lower()


def test_it_shows_the_selectors_numbers_formatted(report_scenario, client, admin):
    client.force_login(admin)
    response = client.get(reverse("reports:incentives"), MARCH)
    html = response.content.decode()
    assert "2,500.00" in html and "4,180.00" in html and "7,380.00" in html
    assert response.context["chart"]["datasets"][0]["data"] == [4180.0, 1800.0, 1400.0]
    sources = client.get(reverse("reports:sources"), MARCH).content.decode()
    assert "216.67%" in sources  # ROI 2.1667 of 2026春季广交会
    assert "—" in sources  # a null ROI (zero cost) is shown as a dash, not 0


def test_it_explains_bad_filters_and_shows_no_numbers(client, manager):
    client.force_login(manager)
    response = client.get(
        reverse("reports:incentives"), {"start": "2026-03-31", "end": "2026-03-01"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.context["report"] is None
    assert "The end date cannot be before the start date." in response.content.decode()
    assert client.get(reverse("reports:sources"), {"start": "not a date"}).status_code == 400


def test_it_speaks_chinese(client, manager):
    client.force_login(manager)
    response = client.get(reverse("reports:pipeline"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_it_defaults_to_this_month(report_scenario, client, admin):
    client.force_login(admin)
    report = client.get(reverse("reports:incentives")).context["report"]
    assert (str(report.start), str(report.end)) == ("2026-04-01", "2026-04-30")
    assert report.totals["won"] == 1  # D5, won at midnight on 1 April


def test_it_shows_report_pages_in_simplified_chinese(client, manager):
    """Needs the compiled catalogue (``manage.py compilemessages`` at set-up); skipped without it."""
    from pathlib import Path

    if not (Path(__file__).resolve().parents[2] / "reports/locale/zh_Hans/LC_MESSAGES/django.mo").exists():
        pytest.skip("translations not compiled")
    client.force_login(manager)
    html = client.get(reverse("reports:pipeline"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "销售管道" in html and "导出 CSV" in html
