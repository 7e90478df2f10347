"""Expiries per rep against the March 2026 scenario: D7 (rep, pushed once, 4000) expired on
26 March, D8 (other_rep, no amount) on 29 March; D6 was lost, not expired."""

import datetime
from decimal import Decimal

from reports.periods import Period
from reports.selectors import report_expired
from tests.reports.scenario import MARCH, at


def test_it_lists_each_reps_expiries_and_their_share_of_closes(report_scenario, admin):
    report = report_expired(viewer=admin, period=Period(*MARCH))
    rows = {row["owner_name"]: row for row in report.rows}
    # rep closed D1, D2 (won), D6 (lost), D7 (expired): 1 of 4; D3's win was undone by the reopen.
    assert {k: rows["rep"][k] for k in ("closed", "expired", "expired_amount", "pushes", "expired_share")} == {
        "closed": 4,
        "expired": 1,
        "expired_amount": Decimal("4000.00"),
        "pushes": 1,
        "expired_share": Decimal("0.2500"),
    }
    assert rows["rep"]["lines"] == [
        {
            "opportunity": report_scenario.deals["D7"].pk,
            "title": "D7",
            "expired_at": at(3, 26),
            "expected_close_date": datetime.date(2026, 3, 25),
            "amount": Decimal("4000.00"),
            "pushes": 1,
            "last_activity_at": at(3, 15),
        }
    ]
    # other_rep: D4, D11 won, D8 expired with no amount: 1 of 3.
    assert (
        rows["other_rep"]["closed"],
        rows["other_rep"]["expired"],
        rows["other_rep"]["expired_amount"],
        rows["other_rep"]["expired_share"],
    ) == (3, 1, Decimal("0.00"), Decimal("0.3333"))
    assert (rows["outsider_rep"]["expired"], rows["outsider_rep"]["expired_share"]) == (0, Decimal("0.0000"))
    assert report.totals == {
        "closed": 8,
        "expired": 2,
        "expired_amount": Decimal("4000.00"),
        "pushes": 1,
        "expired_share": Decimal("0.2500"),
    }


def test_it_does_not_count_a_lost_deal_as_expired(report_scenario, admin):
    titles = {
        line["title"] for row in report_expired(viewer=admin, period=Period(*MARCH)).rows for line in row["lines"]
    }
    assert titles == {"D7", "D8"}


def test_it_scopes_expiries_per_viewer(report_scenario, manager, rep, outsider_manager):
    period = Period(*MARCH)
    managed = report_expired(viewer=manager, period=period)
    assert {row["owner_name"]: (row["closed"], row["expired"]) for row in managed.rows} == {
        "rep": (4, 1),
        "other_rep": (2, 1),  # D11 belongs to other_team
    }
    assert (managed.totals["closed"], managed.totals["expired"], managed.totals["expired_share"]) == (
        6,
        2,
        Decimal("0.3333"),
    )
    own = report_expired(viewer=rep, period=period)
    assert [row["owner_name"] for row in own.rows] == ["rep"]
    assert own.totals["expired"] == 1
    outsider = report_expired(viewer=outsider_manager, period=period)
    assert {row["owner_name"] for row in outsider.rows} == {"other_rep", "outsider_rep"}
    assert outsider.totals["expired"] == 0


def test_it_answers_an_empty_period(admin):
    report = report_expired(viewer=admin, period=Period(*MARCH))
    assert report.rows == []
    assert report.totals == {
        "closed": 0,
        "expired": 0,
        "expired_amount": Decimal("0.00"),
        "pushes": 0,
        "expired_share": None,
    }
