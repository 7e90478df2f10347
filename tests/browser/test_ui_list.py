"""The opportunity list in a real browser: a manager distributes 20 pool deals across the team;
htmx refreshes the results as filters change; a rep sees no bulk controls."""

import re

from playwright.sync_api import expect

from opportunities.models import Assignment, Opportunity


def test_it_lets_a_manager_distribute_20_pool_deals_across_the_team(
    login, manager, rep, other_rep, team, make_deal, live_server
):
    pool = [make_deal(owner=None, title=f"Canton Fair lead {number:02}") for number in range(20)]
    make_deal(owner=rep, title="Already owned")
    page = login(manager)
    page.goto(f"{live_server.url}/opportunities/?status=open&unassigned=true&sort=title")
    rows = page.locator("#opportunity-table tbody tr")
    expect(rows).to_have_count(20)
    page.check("input[data-check-all]")
    expect(page.locator("[data-selected-count]")).to_have_text("20")
    page.select_option("#bulk-team", str(team.pk))
    page.select_option("#bulk-strategy", "round_robin")
    page.click("button[value=distribute]")
    expect(page.locator(".messages .success")).to_contain_text("20 opportunities distributed across 外贸一部")
    expect(page).to_have_url(re.compile(r"unassigned=true"))  # back to the list as it was
    expect(page.locator("#opportunity-table tbody")).to_contain_text("No opportunities match.")

    owners = Opportunity.objects.filter(pk__in=[deal.pk for deal in pool]).values_list("owner__username", flat=True)
    assert sorted(owners) == ["other_rep"] * 10 + ["rep"] * 10
    assert Assignment.objects.filter(by=manager).count() == 20
    page.goto(f"{live_server.url}/opportunities/?owner={rep.pk}&q=canton")
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(10)


def test_it_refreshes_the_results_as_the_filters_change(login, manager, team, make_deal, live_server):
    make_deal(owner=None, title="Brake pads for Lagos")
    make_deal(owner=None, title="Wipers for Oslo")
    page = login(manager)
    page.goto(f"{live_server.url}/opportunities/")
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(2)
    page.fill("#id_q", "oslo")
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(1)
    expect(page.locator("#opportunity-table")).to_contain_text("Wipers for Oslo")
    expect(page).to_have_url(re.compile(r"\?q=oslo"))  # bookmarkable
    page.reload()
    expect(page.locator("#opportunity-table tbody tr")).to_have_count(1)
    expect(page.locator("#id_q")).to_have_value("oslo")


def test_it_shows_a_rep_no_bulk_controls(login, rep, team, make_deal, live_server):
    make_deal(owner=rep, title="My own deal")
    page = login(rep)
    page.goto(f"{live_server.url}/opportunities/")
    expect(page.locator("#opportunity-table")).to_contain_text("My own deal")
    expect(page.locator("[data-bulk]")).to_have_count(0)
    expect(page.locator("input[name=ids]")).to_have_count(0)
    expect(page.locator("input[data-check-all]")).to_have_count(0)
