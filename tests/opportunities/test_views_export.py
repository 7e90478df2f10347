"""Exports of the opportunity list: the same rows and columns as the page, CSV for Excel
(UTF-8 with a BOM) and XLSX, streamed, in a constant number of queries."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.dates import company_today
from opportunities.exports import OPPORTUNITY_COLUMNS
from tests.factories import ContactFactory, CustomerFactory, OpportunityFactory
from tests.query_counts import team_scope_queries

CSV = reverse("opportunities:export", args=["csv"])
XLSX = reverse("opportunities:export", args=["xlsx"])


def csv_rows(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(workbook.active.iter_rows(values_only=True))


@pytest.fixture
def deals(make_deal, rep, other_rep):
    buyer = CustomerFactory(name="汉堡泵业 GmbH")
    return {
        "mine": make_deal(
            owner=rep,
            title="水泵 500 台",
            customer=buyer,
            contact=ContactFactory(customer=buyer, name="Jonas"),
            amount=Decimal("1000.00"),
            currency="USD",
            amount_base=Decimal("7100.00"),
            expected_close_date=company_today() + datetime.timedelta(days=9),
        ),
        "theirs": make_deal(owner=other_rep, title="Valves for Lyon"),
        "pool": make_deal(owner=None, title="Fair lead"),
    }


def test_it_exports_csv_with_a_bom_and_the_list_columns(client_as, rep, deals):
    response = client_as(rep).get(CSV, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming and 'attachment; filename="opportunities-' in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == [str(column.label) for column in OPPORTUNITY_COLUMNS]
    assert header[:4] == ["Title", "Customer", "Stage", "Status"]
    assert len(rows) == 1  # a rep's export has only their rows
    row = dict(zip(header, rows[0], strict=True))
    assert row["Title"] == "水泵 500 台" and row["Customer"] == "汉堡泵业 GmbH" and row["Contact"] == "Jonas"
    assert (row["Amount"], row["Currency"], row["Amount (CNY)"]) == ("1000.00", "USD", "7100.00")
    assert row["Owner"] == "rep" and row["Status"] == "Open"
    assert row["Expected close date"] == (company_today() + datetime.timedelta(days=9)).isoformat()


def test_it_exports_the_page_columns_in_the_page_order(client_as, manager, deals):
    body = client_as(manager).get(reverse("opportunities:list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    table_header = body.split('<table class="data" id="opportunity-table">')[1].split("</thead>")[0]
    cells = [
        re.sub(r"<[^>]+>|[↑↓]", "", cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", table_header, re.S)
    ]
    header = csv_rows(client_as(manager).get(CSV, HTTP_ACCEPT_LANGUAGE="en"))[0]
    assert cells[1:] == header  # after the managers' select-all box


def test_it_exports_the_filtered_searched_and_sorted_rows(client_as, manager, rep, deals):
    client = client_as(manager)
    assert [row[0] for row in csv_rows(client.get(CSV, {"sort": "title"}))[1:]] == [
        "Fair lead",
        "Valves for Lyon",
        "水泵 500 台",
    ]
    assert [row[0] for row in csv_rows(client.get(CSV, {"unassigned": "true"}))[1:]] == ["Fair lead"]
    assert [row[0] for row in csv_rows(client.get(CSV, {"q": "汉堡"}))[1:]] == ["水泵 500 台"]
    assert [row[0] for row in csv_rows(client.get(CSV, {"owner": rep.pk, "page": 9}))[1:]] == ["水泵 500 台"]


def test_it_exports_nothing_of_another_team(client_as, outsider_manager, other_team, deals):
    assert csv_rows(client_as(outsider_manager).get(CSV))[1:] == []
    assert xlsx_rows(client_as(outsider_manager).get(XLSX))[1:] == []


def test_it_writes_the_headers_in_the_users_language(client_as, rep, deals):
    header = csv_rows(client_as(rep).get(CSV, HTTP_ACCEPT_LANGUAGE="zh-hans"))[0]
    assert header[0] == "标题"


def test_it_never_exports_a_formula(client_as, rep, make_deal):
    make_deal(owner=rep, title='=HYPERLINK("http://evil.example","Click")')
    client = client_as(rep)
    assert csv_rows(client.get(CSV))[1][0] == '\'=HYPERLINK("http://evil.example","Click")'
    workbook = load_workbook(io.BytesIO(b"".join(client.get(XLSX).streaming_content)))
    cell = workbook.active["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_it_exports_xlsx_with_typed_cells(client_as, rep, deals):
    response = client_as(rep).get(XLSX, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith('attachment; filename="opportunities-')
    header, *rows = xlsx_rows(response)
    assert list(header) == [str(column.label) for column in OPPORTUNITY_COLUMNS]
    row = dict(zip(header, rows[0], strict=True))
    assert row["Title"] == "水泵 500 台" and row["Amount (CNY)"] == 7100 and row["Probability (%)"] == 10
    assert row["Expected close date"].date() == company_today() + datetime.timedelta(days=9)
    assert len(rows) == 1


def test_it_refuses_an_unknown_format(client_as, rep):
    assert client_as(rep).get(reverse("opportunities:export", args=["pdf"])).status_code == 404


def test_it_needs_a_login(client, db):
    assert client.get(CSV).status_code == 302


@pytest.mark.parametrize("rows", [1, 50])
@pytest.mark.parametrize("url", [CSV, XLSX])
def test_it_exports_in_a_constant_number_of_queries(
    client_as, manager, team, pipeline, source, rep, rows, url, django_assert_num_queries
):
    contact = ContactFactory()
    OpportunityFactory.create_batch(
        rows, team=team, pipeline=pipeline, source=source, customer=contact.customer, contact=contact, owner=rep
    )
    client = client_as(manager)
    # session, user, [the user's teams], idle limits, the rows (in chunks)
    with django_assert_num_queries(4 + team_scope_queries()):
        response = client.get(url, {"status": "open"})
        content = b"".join(response.streaming_content)
    if url == CSV:
        assert len(list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))) == rows + 1
    else:
        assert len(list(load_workbook(io.BytesIO(content)).active.iter_rows())) == rows + 1
