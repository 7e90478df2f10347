"""The home dashboard: a rep's own deals; a manager's teams with a line per rep and the pool."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.dates import company_today
from opportunities.models import Opportunity
from tests.query_counts import team_scope_queries

HOME = reverse("home")


@pytest.fixture
def today():
    return company_today()


@pytest.fixture
def world(make_deal, rep, other_rep, stages, today):
    """rep: 2 open (one closing in 3 days, one overdue), 1 won this month, 1 expired last week,
    1 stale; other_rep: 1 open; the pool: 1 open."""
    stages["New"].rotting_days = 5
    stages["New"].save()
    long_ago = timezone.now() - datetime.timedelta(days=20)
    deals = {
        "soon": make_deal(owner=rep, title="Soon", expected_close_date=today + datetime.timedelta(days=3)),
        "overdue": make_deal(owner=rep, title="Late", expected_close_date=today - datetime.timedelta(days=2)),
        "stale": make_deal(owner=rep, title="Sleepy", stage_entered_at=long_ago, amount_base=Decimal("500")),
        "won": make_deal(
            owner=rep,
            title="Won one",
            status=Opportunity.Status.WON,
            stage=stages["Won"],
            closed_at=timezone.now(),
            amount_base=Decimal("8000"),
        ),
        "expired": make_deal(
            owner=rep,
            title="Gone",
            status=Opportunity.Status.EXPIRED,
            closed_at=timezone.now() - datetime.timedelta(days=6),
        ),
        "other": make_deal(owner=other_rep, title="Not yours"),
        "pool": make_deal(owner=None, title="Nobody's"),
    }
    return deals


def kpi(response, name) -> int:
    return response.context["dashboard"]["kpis"][name]


def test_it_shows_a_rep_their_own_deals_only(client_as, rep, world):
    response = client_as(rep).get(HOME)
    assert response.status_code == 200
    body = response.content.decode()
    assert (kpi(response, "open"), kpi(response, "closing"), kpi(response, "overdue")) == (3, 1, 1)
    assert (kpi(response, "stale"), kpi(response, "expired")) == (1, 1)
    assert [deal.title for deal in response.context["dashboard"]["closing"]] == ["Soon"]
    assert [deal.title for deal in response.context["dashboard"]["overdue"]] == ["Late"]
    assert [deal.title for deal in response.context["dashboard"]["stale"]] == ["Sleepy"]
    assert [deal.title for deal in response.context["dashboard"]["expired"]] == ["Gone"]
    assert "Not yours" not in body and "Nobody's" not in body
    assert response.context["reps"] == [] and "data-reps" not in body


def test_it_shows_a_reps_open_deals_by_stage(client_as, rep, world):
    response = client_as(rep).get(HOME)
    [pipeline] = response.context["dashboard"]["pipelines"]
    assert [(stage["name"], stage["count"]) for stage in pipeline["stages"]] == [("New", 3)]


def win(deal, by, *, difficulty="1.00", is_new_customer=False):
    """Close ``deal`` as won through the service (the incentive report reads its history)."""
    from opportunities.services import opportunity_close

    Opportunity.objects.filter(pk=deal.pk).update(difficulty=Decimal(difficulty), is_new_customer=is_new_customer)
    deal.refresh_from_db()
    return opportunity_close(opportunity=deal, outcome=Opportunity.Status.WON, by=by)


def test_it_shows_my_incentive_so_far_this_month_by_the_policy(client_as, rep, other_rep, manager, quick_deal):
    from reports.models import IncentivePolicy

    IncentivePolicy.objects.create(
        effective_from=datetime.date(2020, 1, 1), base_reward=Decimal("1000"), new_customer_bonus=Decimal("300")
    )
    win(quick_deal(owner=rep), rep, difficulty="2.50")  # 1000 × 2.5
    win(quick_deal(owner=rep), rep, difficulty="0.80", is_new_customer=True)  # 1000 × 0.8 + 300
    win(quick_deal(owner=other_rep), other_rep)  # 1000, not the rep's
    response = client_as(rep).get(HOME)
    assert response.context["incentive"] == {"won_count": 2, "payout": Decimal("3600.00"), "currency": "CNY"}
    assert 'data-kpi="payout">¥3,600<' in response.content.decode()
    team = client_as(manager).get(HOME).context["incentive"]
    assert (team["won_count"], team["payout"]) == (3, Decimal("4600.00"))


def test_the_kept_incentive_statement_follows_the_policies_and_the_scope_at_once(
    client_as, rep, other_rep, quick_deal, team
):
    """The incentive's statement is kept per scope, period, team and policies
    (``reports.selectors._incentive_totals_statement``): a new policy or a change of the viewer's
    teams shows on the next page of the same process."""
    from reports.models import IncentivePolicy

    win(quick_deal(owner=rep), rep, difficulty="2.00")
    win(quick_deal(owner=other_rep), other_rep)
    client = client_as(rep)
    assert client.get(HOME).context["incentive"]["payout"] == Decimal("2000.00")  # the default 1000
    policy = IncentivePolicy.objects.create(effective_from=datetime.date(2020, 1, 1), base_reward=Decimal("1500"))
    assert client.get(HOME).context["incentive"]["payout"] == Decimal("3000.00")  # a new policy
    policy.base_reward = Decimal("1200")
    policy.save()
    assert client.get(HOME).context["incentive"]["payout"] == Decimal("2400.00")  # a changed one
    team.managers.add(rep)  # the scope: now credited with the team's wins too
    incentive = client.get(HOME).context["incentive"]
    assert (incentive["won_count"], incentive["payout"]) == (2, Decimal("3600.00"))


def test_it_leaves_out_deals_won_before_this_month(client_as, rep, quick_deal, today):
    import time_machine

    deal = quick_deal(owner=rep)
    first = datetime.datetime.combine(today.replace(day=1), datetime.time.min, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(first - datetime.timedelta(minutes=1)):
        win(deal, rep)
    assert client_as(rep).get(HOME).context["incentive"]["won_count"] == 0


def test_it_shows_a_manager_the_team_with_a_line_per_rep_and_the_pool(client_as, manager, rep, other_rep, world):
    response = client_as(manager).get(HOME)
    assert response.status_code == 200
    assert (kpi(response, "open"), kpi(response, "pool")) == (5, 1)
    lines = {
        member.username: (member.open_count, member.won_count, member.expired_count)
        for member in response.context["reps"]
    }
    assert lines == {"rep": (3, 1, 1), "other_rep": (1, 0, 0)}
    body = response.content.decode()
    assert "data-reps" in body and 'data-kpi="pool"' in body


def test_it_shows_an_outsider_manager_nothing_of_another_team(client_as, outsider_manager, other_team, world):
    response = client_as(outsider_manager).get(HOME)
    assert kpi(response, "open") == 0
    assert [(member.username, member.open_count) for member in response.context["reps"]] == [("outsider_rep", 0)]
    assert "Sleepy" not in response.content.decode()


def test_it_shows_an_admin_everything(client_as, admin, world, outsider_deal):
    response = client_as(admin).get(HOME)
    assert kpi(response, "open") == 6
    assert {member.username for member in response.context["reps"]} >= {"rep", "other_rep", "outsider_rep"}


def test_it_sends_anonymous_visitors_to_the_login_page(client, db):
    response = client.get(HOME)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("rows", [1, 30])
def test_it_keeps_a_constant_number_of_queries(
    client_as, manager, rep, make_deal, stages, rows, django_assert_num_queries
):
    stages["New"].rotting_days = 3
    stages["New"].save()
    for _ in range(rows):
        make_deal(owner=rep, expected_close_date=company_today() + datetime.timedelta(days=2))
    make_deal(owner=None)
    client = client_as(manager)
    client.get(HOME)
    # session, user (with the role, the bell's count and, on PostgreSQL, their teams), [the
    # user's teams], idle limits, figures by stage, the deals of the 4 lists, reps, the incentive
    # report (policies, lines)
    with django_assert_num_queries(8 + team_scope_queries()):
        response = client.get(HOME)
    assert response.context["dashboard"]["kpis"]["open"] == rows + 1


def test_it_links_to_the_filtered_list(client_as, rep, world):
    body = client_as(rep).get(HOME).content.decode()
    assert reverse("opportunities:list") + "?stale=true" in body


# --- my incentive this month: the incentive report's totals, read on the viewer's scope alone ---


class TestIncentiveOfTheMonth:
    """The scenario needs a pipeline without evidence gates, as the reports' tests."""

    @pytest.fixture
    def pipeline(self, db):
        """The report scenario's pipeline: no evidence gates, since it wins deals from early stages."""
        from tests.reports.scenario import scenario_pipeline

        return scenario_pipeline()

    @pytest.mark.parametrize("viewer", ["rep", "other_rep", "manager", "outsider_manager", "admin"])
    def test_it_shows_the_incentive_reports_totals_for_the_month(self, request, report_scenario, viewer):
        """tests/reports/scenario.py in March 2026: two policies (the default, then 1200 × difficulty
        + bonuses from 15 March), a reopened win (D3), a USD deal (D2), a rep who changed teams."""
        from opportunities.selectors import opportunity_incentive_month_to_date
        from reports.periods import Period
        from reports.selectors import report_incentives
        from tests.reports.scenario import MARCH

        user = request.getfixturevalue(viewer)
        shown = opportunity_incentive_month_to_date(user=user, today=MARCH[1])
        totals = report_incentives(viewer=user, period=Period(*MARCH)).totals
        assert shown == {"won_count": totals["won"], "payout": totals["payout"], "currency": totals["currency"]}

    def test_it_pays_a_rep_and_a_manager_what_the_report_says(self, report_scenario, rep, manager):
        from opportunities.selectors import opportunity_incentive_month_to_date
        from tests.reports.scenario import MARCH

        # rep: D1 2500.00 + D2 (USD) 1680.00, not D3 (reopened); manager's team adds other_rep's D4 600.00.
        assert opportunity_incentive_month_to_date(user=rep, today=MARCH[1]) == {
            "won_count": 2,
            "payout": Decimal("4180.00"),
            "currency": "CNY",
        }
        assert opportunity_incentive_month_to_date(user=manager, today=MARCH[1]) == {
            "won_count": 3,
            "payout": Decimal("4780.00"),
            "currency": "CNY",
        }


def test_it_lists_the_first_deals_across_a_managers_own_and_their_teams(make_deal, manager, rep, today):
    from opportunities.selectors_dashboard import opportunity_dashboard

    def late(owner, days):
        return make_deal(owner=owner, title=f"{days}", expected_close_date=today - datetime.timedelta(days=days))

    deals = [late(rep, 1), late(manager, 2), late(rep, 3), late(manager, 4), late(rep, 5)]
    dashboard = opportunity_dashboard(user=manager, list_size=3)
    # the longest overdue first
    assert [deal.pk for deal in dashboard["overdue"]] == [deals[4].pk, deals[3].pk, deals[2].pk]
    assert dashboard["kpis"]["overdue"] == 5


def test_it_counts_the_recently_expired_deals_from_their_index_alone(client_as, rep, world):
    """The figures statement counts the recently expired deals with COUNT(*), which their
    partial index answers alone (an index-only scan); a count of their ids, which that index
    does not hold, read each deal's row — 2,400 rows of a team's at 1,000,000 deals."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans")
    with CaptureQueriesContext(connection) as captured:
        client_as(rep).get(HOME)
    [figures] = [query["sql"] for query in captured if '"stage_id" AS "stage_id", COUNT(' in query["sql"]]
    with connection.cursor() as cursor:
        # a test's few rows make scanning the table cheapest: which index reads them is what is tested
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {figures}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Index Only Scan using opp_expired_" in plan
    assert "Index Scan using opp_expired_" not in plan


def test_it_counts_and_lists_as_stale_what_the_stale_rule_says(make_deal, rep, stages, today):
    """The dashboard writes the stale rule on the open-deal indexes' columns (idle since, stage
    ids); it must agree with ``opportunity_stale_q``, deal for deal: idle since the later of the
    last activity and the stage entry, against each stage's own limit."""
    from opportunities.selectors import opportunity_stale_q
    from opportunities.selectors_dashboard import opportunity_dashboard

    stages["New"].rotting_days = 5
    stages["New"].save()
    stages["Quote"].rotting_days = 30
    stages["Quote"].save()
    now = timezone.now()
    days = datetime.timedelta(days=1)
    for stage, entered, activity in [
        ("New", now - 20 * days, None),  # stale
        ("New", now - 20 * days, now - 1 * days),  # touched since: fresh
        ("New", now - 1 * days, now - 20 * days),  # moved since: fresh
        ("New", now - 20 * days, now - 10 * days),  # stale
        ("Quote", now - 20 * days, None),  # within its stage's longer limit
        ("Quote", now - 40 * days, now - 35 * days),  # stale
        ("Sample", now - 400 * days, None),  # no limit
    ]:
        make_deal(owner=rep, stage=stages[stage], stage_entered_at=entered, last_activity_at=activity)
    dashboard = opportunity_dashboard(user=rep)
    stale = Opportunity.objects.filter(opportunity_stale_q(today=today))
    assert dashboard["kpis"]["stale"] == stale.count() == 3
    assert {deal.pk for deal in dashboard["stale"]} == set(stale.values_list("pk", flat=True))


def test_its_kept_statements_follow_every_change_of_what_they_are_built_from(
    make_deal, rep, other_rep, manager, team, other_team, outsider_rep, stages, today
):
    """The dashboard's statements are kept per visibility scope, day, idle limits and list size
    (``_dashboard_statements``): each change of one of them shows at once, in the same process,
    while the figures of someone whose scope did not change stay theirs."""
    from opportunities.selectors_dashboard import opportunity_dashboard
    from teams.backends import UserBackend

    def dashboard(user, **kwargs):
        return opportunity_dashboard(user=UserBackend().get_user(user.pk), **kwargs)  # as a request loads it

    long_ago = timezone.now() - datetime.timedelta(days=20)
    make_deal(
        owner=rep, title="Mine", stage_entered_at=long_ago, expected_close_date=today + datetime.timedelta(days=3)
    )
    make_deal(owner=outsider_rep, team=other_team, title="Theirs")
    assert dashboard(rep)["kpis"]["open"] == 1
    assert dashboard(other_rep)["kpis"]["open"] == 0
    # the scope: rep now manages the other team
    other_team.managers.add(rep)
    assert dashboard(rep)["kpis"]["open"] == 2
    assert dashboard(other_rep)["kpis"]["open"] == 0
    # the idle limits: the deal's stage gets one it has passed
    assert dashboard(rep)["kpis"]["stale"] == 0
    stages["New"].rotting_days = 5
    stages["New"].save()
    assert dashboard(rep)["kpis"]["stale"] == 1
    # the day: a week later the deal closing in 3 days is overdue
    assert (dashboard(rep)["kpis"]["closing"], dashboard(rep)["kpis"]["overdue"]) == (1, 0)
    later = dashboard(rep, today=today + datetime.timedelta(days=7))
    assert (later["kpis"]["closing"], later["kpis"]["overdue"]) == (0, 1)
    # the list size
    assert len(dashboard(rep, list_size=1)["stale"]) == 1
    assert dashboard(rep, list_size=0)["stale"] == []


def test_the_incentive_of_someone_who_sees_nothing_is_nothing(rep, quick_deal):
    from opportunities.selectors import opportunity_incentive_month_to_date

    win(quick_deal(owner=rep), rep)
    rep.is_active = False
    rep.save()
    assert opportunity_incentive_month_to_date(user=rep) == {
        "won_count": 0,
        "payout": Decimal("0.00"),
        "currency": "CNY",
    }
