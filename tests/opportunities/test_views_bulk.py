"""Managers' bulk actions on the list's selected rows, through the services."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from opportunities.models import Assignment, FieldChange, Opportunity
from teams.models import Team

BULK = reverse("opportunities:bulk")
LIST = reverse("opportunities:list")


@pytest.fixture
def pool(make_deal):
    return [make_deal(owner=None, title=f"Lead {number}") for number in range(4)]


def ids(deals) -> list[int]:
    return [deal.pk for deal in deals]


def owners(deals) -> list[str | None]:
    return [
        row.owner.username if row.owner else None
        for row in Opportunity.objects.filter(pk__in=ids(deals)).order_by("pk")
    ]


def notes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_it_assigns_the_selected_deals_to_a_rep(client_as, manager, rep, pool):
    next_url = f"{LIST}?unassigned=true&sort=title"
    response = client_as(manager).post(
        BULK,
        {"ids": ids(pool[:3]), "action": "assign", "owner": rep.pk, "reason": "Fair leads", "next": next_url},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302 and response.url == next_url
    assert owners(pool) == ["rep", "rep", "rep", None]
    assert Assignment.objects.filter(to_owner=rep, by=manager, reason="Fair leads").count() == 3
    assert notes(response) == ["3 opportunities assigned to rep."]


def test_it_moves_deals_back_to_the_pool(client_as, manager, rep, make_deal):
    deal = make_deal(owner=rep)
    client_as(manager).post(BULK, {"ids": [deal.pk], "action": "assign", "owner": "pool"})
    assert owners([deal]) == [None]


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_it_distributes_across_the_team(client_as, manager, team, pool, strategy):
    response = client_as(manager).post(
        BULK,
        {"ids": ids(pool), "action": "distribute", "team": team.pk, "strategy": strategy},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert sorted(owners(pool)) == ["other_rep", "other_rep", "rep", "rep"]
    [message] = notes(response)
    assert message.startswith("4 opportunities distributed across 外贸一部:")


def test_it_sets_the_difficulty_in_one_transaction(client_as, manager, pool):
    response = client_as(manager).post(BULK, {"ids": ids(pool), "action": "difficulty", "difficulty": "2.5"})
    assert response.status_code == 302
    assert set(Opportunity.objects.filter(pk__in=ids(pool)).values_list("difficulty", flat=True)) == {Decimal("2.50")}
    assert FieldChange.objects.filter(field="difficulty", new_value="2.50").count() == 4


def test_it_refuses_a_difficulty_out_of_range_and_changes_nothing(client_as, manager, pool):
    response = client_as(manager).post(
        BULK, {"ids": ids(pool), "action": "difficulty", "difficulty": "20"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert set(Opportunity.objects.filter(pk__in=ids(pool)).values_list("difficulty", flat=True)) == {Decimal("1.00")}
    assert any("less than or equal to 10" in note for note in notes(response))


def test_it_refuses_a_rep_with_403_and_changes_nothing(client_as, rep, team, pool):
    response = client_as(rep).post(BULK, {"ids": ids(pool), "action": "assign", "owner": rep.pk})
    assert response.status_code == 403
    assert owners(pool) == [None] * 4


def test_it_treats_a_deal_of_another_team_as_unknown(client_as, manager, rep, pool, outsider_deal):
    response = client_as(manager).post(
        BULK, {"ids": [*ids(pool), outsider_deal.pk], "action": "assign", "owner": rep.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert notes(response) == ["Selected opportunities: Some of the selected opportunities do not exist."]
    assert owners(pool) == [None] * 4
    outsider_deal.refresh_from_db()
    assert outsider_deal.owner.username == "outsider_rep"


def test_it_refuses_an_outsider_manager(client_as, outsider_manager, outsider_rep, other_team, pool):
    client_as(outsider_manager).post(BULK, {"ids": ids(pool), "action": "assign", "owner": outsider_rep.pk})
    assert owners(pool) == [None] * 4


def test_it_refuses_a_rep_of_another_team_as_owner(client_as, manager, outsider_rep, other_team, pool):
    response = client_as(manager).post(
        BULK, {"ids": ids(pool), "action": "assign", "owner": outsider_rep.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert owners(pool) == [None] * 4
    assert notes(response) == [
        f"Assign to: Select a valid choice. {outsider_rep.pk} is not one of the available choices."
    ]


def test_it_shows_the_services_refusal_and_changes_nothing(client_as, manager, rep, pool, make_deal, stages):
    won = make_deal(owner=rep, status=Opportunity.Status.WON, stage=stages["Won"], title="Closed one")
    response = client_as(manager).post(
        BULK, {"ids": [*ids(pool), won.pk], "action": "assign", "owner": rep.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert owners(pool) == [None] * 4
    [message] = notes(response)
    assert "closed" in message and "Closed one" in message


def test_it_asks_for_a_selection_and_the_missing_choice(client_as, manager, team, pool):
    client = client_as(manager)
    response = client.post(BULK, {"action": "assign", "owner": "pool"}, HTTP_ACCEPT_LANGUAGE="en")
    assert notes(response) == ["Selected opportunities: This field is required."]
    response = client.post(BULK, {"ids": ids(pool), "action": "distribute"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Team: Choose the team to distribute across." in notes(response)


def test_it_only_returns_to_the_list(client_as, manager, pool):
    response = client_as(manager).post(
        BULK, {"ids": ids(pool), "action": "assign", "owner": "pool", "next": "https://evil.example/opportunities/"}
    )
    assert response.url == LIST


def test_it_lets_an_admin_distribute_any_team(client_as, admin, team, pool):
    client_as(admin).post(BULK, {"ids": ids(pool), "action": "distribute", "team": team.pk, "strategy": "round_robin"})
    assert None not in owners(pool)


def test_it_needs_csrf(client, manager, pool):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager)
    assert strict.post(BULK, {"ids": ids(pool), "action": "assign", "owner": "pool"}).status_code == 403


def test_it_only_takes_posts(client_as, manager):
    assert client_as(manager).get(BULK).status_code == 405


def test_it_lists_the_teams_and_reps_of_the_manager_only(client_as, manager, team, other_team, pool):
    body = client_as(manager).get(LIST).content.decode()
    form = body.split('id="bulk-form"')[1].split("</fieldset>\n</div>")[0]
    assert "外贸一部" in form and "外贸二部" not in form and "outsider_rep" not in form
    assert Team.objects.count() == 2
