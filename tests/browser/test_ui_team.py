"""The team page in a real browser: a manager hands a rep's deals over to another rep."""

from playwright.sync_api import expect

from opportunities.models import Assignment, Opportunity


def test_it_hands_over_a_reps_deals_to_another_rep(login, manager, rep, other_rep, team, make_deal, live_server):
    deals = [make_deal(owner=rep, title=f"Rep's deal {number}") for number in range(3)]
    page = login(manager)
    page.goto(f"{live_server.url}/teams/")  # one team: straight to it
    expect(page.locator("#member-table")).to_contain_text("other_rep")
    page.select_option("#id_from_user", str(rep.pk))
    page.select_option("#id_to_user", str(other_rep.pk))
    page.fill("#id_reason", "Moved to the Hamburg office")
    page.click("#handover button[type=submit]")
    expect(page.locator("#handover-preview")).to_contain_text("3 open opportunities of rep will move to other_rep")
    expect(page.locator("#handover-preview tbody tr")).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#confirm-handover")
    expect(page.locator(".messages .success")).to_contain_text("3 open opportunities of rep handed over.")
    expect(page.locator('tr[data-user="other_rep"] [data-count="open"]')).to_have_text("3")
    expect(page.locator('tr[data-user="rep"] [data-count="open"]')).to_have_text("0")

    assert set(Opportunity.objects.filter(pk__in=[deal.pk for deal in deals]).values_list("owner", flat=True)) == {
        other_rep.pk
    }
    assert (
        Assignment.objects.filter(from_owner=rep, to_owner=other_rep, reason="Moved to the Hamburg office").count() == 3
    )
