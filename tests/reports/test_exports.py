"""CSV and XLSX exports carry exactly the page's numbers (the same selector values)."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from reports.catalog import REPORTS
from reports.formatting import plain

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}  # for the tests that read English sheet and section titles


def csv_sections(content: bytes) -> dict[str, list[list[str]]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    sections, current = {}, None
    for row in rows[1:]:
        if not row:
            current = None
        elif current is None:
            current = sections.setdefault(row[0], [])
        else:
            current.append(row)
    return sections


@pytest.mark.parametrize("slug", list(REPORTS))
def test_it_exports_the_page_numbers_as_csv(report_scenario, client, admin, slug):
    client.force_login(admin)
    spec = REPORTS[slug]
    page = client.get(reverse(f"reports:{slug}"), MARCH, **EN).context
    response = client.get(reverse(f"reports:{slug}_export", kwargs={"fmt": "csv"}), MARCH, **EN)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    with translation.override("en"):
        title, labels = str(spec.title), [str(column.label) for column in spec.columns]
    header, *body = csv_sections(response.content)[title]
    assert header == labels
    expected = [
        ["" if row.get(column.key) is None else str(plain(row.get(column.key))) for column in spec.columns]
        for row in [*page["report"].rows, page["total"]]
    ]
    body[-1][0] = page["total"][spec.columns[0].key] or ""  # the totals row's label
    expected[-1][0] = expected[-1][0] or ""
    assert body == expected


def test_it_exports_payout_lines_in_chinese_friendly_csv(report_scenario, client, admin):
    client.force_login(admin)
    response = client.get(reverse("reports:incentives_export", kwargs={"fmt": "csv"}), MARCH, **EN)
    lines = csv_sections(response.content)["Payout lines"]
    assert lines[1][:2] == ["rep", str(report_scenario.deals["D1"].pk)]
    assert lines[1][-1] == "2500.00"
    sources = csv_sections(client.get(reverse("reports:sources_export", kwargs={"fmt": "csv"}), MARCH, **EN).content)
    assert ["2026春季广交会", "Trade show", "6"] == sources["Lead sources and ROI"][3][:3]
    assert sources["By channel"][-1][0] == "Trade show"


def test_it_exports_the_page_numbers_as_xlsx(report_scenario, client, admin):
    client.force_login(admin)
    page = client.get(reverse("reports:sources"), MARCH, **EN).context
    response = client.get(reverse("reports:sources_export", kwargs={"fmt": "xlsx"}), MARCH, **EN)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    sheet = workbook["Lead sources and ROI"]
    keys = [column.key for column in REPORTS["sources"].columns]
    for index, row in enumerate([*page["report"].rows, page["total"]], start=2):
        cells = [cell.value for cell in sheet[index]]
        for key, value in zip(keys[2:], cells[2:], strict=True):
            expected = row.get(key)
            assert (None if value is None else Decimal(str(value))) == expected, (index, key)
    assert sheet.cell(row=2, column=16).number_format == "0.00%"  # ROI
    lines = load_workbook(
        io.BytesIO(client.get(reverse("reports:incentives_export", kwargs={"fmt": "xlsx"}), MARCH, **EN).content)
    )["Payout lines"]
    assert lines["A2"].value == "rep" and Decimal(str(lines["H2"].value)) == Decimal("2500.00")


def test_it_refuses_an_unknown_format_and_bad_filters(client, admin):
    client.force_login(admin)
    assert client.get(reverse("reports:sources_export", kwargs={"fmt": "pdf"})).status_code == 404
    assert client.get(reverse("reports:sources_export", kwargs={"fmt": "csv"}), {"end": "x"}).status_code == 400


def test_it_exports_only_a_reps_own_rows(report_scenario, client, rep):
    client.force_login(rep)
    response = client.get(reverse("reports:scorecard_export", kwargs={"fmt": "csv"}), MARCH, **EN)
    summary = csv_sections(response.content)["Rep scorecard"]
    assert [row[0] for row in summary[1:]] == ["rep", "Total"]
