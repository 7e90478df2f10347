"""The team page for managers: reps with their counts, and the hand-over of a leaving rep's deals
(preview exactly what moves, then confirm), optionally deactivating them."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from opportunities.models import Assignment, Opportunity
from tests.factories import TeamFactory, UserFactory


def detail(team) -> str:
    return reverse("teams:detail", args=[team.pk])


def handover(team) -> str:
    return reverse("teams:handover", args=[team.pk])


@pytest.fixture
def leaving_deals(make_deal, rep, stages):
    deals = [make_deal(owner=rep, title=f"Rep's deal {number}") for number in range(3)]
    make_deal(owner=rep, title="Rep's won deal", status=Opportunity.Status.WON, stage=stages["Won"])
    return deals


def test_it_refuses_reps(client_as, rep, team):
    client = client_as(rep)
    assert client.get(reverse("teams:list")).status_code == 403
    assert client.get(detail(team)).status_code == 403
    assert client.post(handover(team), {"from_user": rep.pk, "to_user": "pool"}).status_code == 403


def test_it_hides_another_managers_team(client_as, outsider_manager, other_team, team):
    client = client_as(outsider_manager)
    assert client.get(detail(team)).status_code == 404
    assert client.get(handover(team)).status_code == 404


def test_it_takes_a_manager_of_one_team_straight_to_it(client_as, manager, team):
    response = client_as(manager).get(reverse("teams:list"))
    assert response.status_code == 302 and response.url == detail(team)


def test_it_lists_the_teams_of_a_manager_of_several(client_as, manager, team, rep, make_deal):
    TeamFactory(name="外贸三部", managers=[manager])
    make_deal(owner=None)
    response = client_as(manager).get(reverse("teams:list"))
    rows = {row.name: (row.member_count, row.open_count, row.pool_count) for row in response.context["teams"]}
    assert rows == {"外贸一部": (2, 1, 1), "外贸三部": (0, 0, 0)}


def test_it_shows_the_reps_with_their_counts(
    client_as, manager, team, rep, other_rep, leaving_deals, make_deal, stages
):
    make_deal(owner=other_rep, status=Opportunity.Status.EXPIRED)
    make_deal(owner=None)
    response = client_as(manager).get(detail(team))
    assert response.status_code == 200
    counts = {
        member.username: (member.open_count, member.won_count, member.expired_count)
        for member in response.context["members"]
    }
    assert counts == {"rep": (3, 1, 0), "other_rep": (0, 0, 1)}
    assert response.context["pool"] == 1


@pytest.mark.parametrize("reps", [2, 12])
def test_it_counts_for_all_reps_in_one_query(client_as, manager, team, make_deal, reps, django_assert_num_queries):
    for number in range(reps):
        member = UserFactory(username=f"member{number}")
        team.members.add(member)
        make_deal(owner=member)
    client = client_as(manager)
    # session, user (with the bell's count), team, members with counts, pool; the hand-over
    # form: successors, leaving reps
    with django_assert_num_queries(7):
        response = client.get(detail(team))
    assert response.content.decode().count('data-count="open"') == reps + 2


def test_it_previews_exactly_what_moves(client_as, manager, team, rep, other_rep, leaving_deals):
    response = client_as(manager).get(
        handover(team), {"from_user": rep.pk, "to_user": other_rep.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    assert [deal.title for deal in preview["deals"]] == [deal.title for deal in leaving_deals]
    body = response.content.decode()
    assert "3 open opportunities of rep will move to other_rep" in body and "Rep&#x27;s won deal" not in body
    assert not Assignment.objects.filter(to_owner=other_rep).exists()  # a preview changes nothing


def test_it_hands_over_after_the_preview(client_as, manager, team, rep, other_rep, leaving_deals):
    client = client_as(manager)
    preview = client.get(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk}).context["preview"]
    response = client.post(
        handover(team),
        {"from_user": rep.pk, "to_user": other_rep.pk, "reason": "Left the company", "expected": preview["ids"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302 and response.url == detail(team)
    moved = Opportunity.objects.filter(pk__in=[deal.pk for deal in leaving_deals])
    assert set(moved.values_list("owner__username", flat=True)) == {"other_rep"}
    assert Opportunity.objects.get(title="Rep's won deal").owner == rep  # closed deals keep their owner
    assert (
        Assignment.objects.filter(from_owner=rep, to_owner=other_rep, by=manager, reason="Left the company").count()
        == 3
    )
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "3 open opportunities of rep handed over."
    ]
    rep.refresh_from_db()
    assert rep.is_active


def test_it_can_deactivate_the_leaving_rep(client_as, manager, team, rep, other_rep, leaving_deals):
    client = client_as(manager)
    preview = client.get(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk}).context["preview"]
    client.post(
        handover(team), {"from_user": rep.pk, "to_user": other_rep.pk, "deactivate": "on", "expected": preview["ids"]}
    )
    rep.refresh_from_db()
    assert not rep.is_active
    assert not Opportunity.objects.filter(owner=rep, status=Opportunity.Status.OPEN).exists()


def test_it_hands_over_to_the_pool(client_as, manager, team, rep, leaving_deals):
    client = client_as(manager)
    preview = client.get(handover(team), {"from_user": rep.pk, "to_user": "pool"}).context["preview"]
    client.post(handover(team), {"from_user": rep.pk, "to_user": "pool", "expected": preview["ids"]})
    assert Opportunity.objects.filter(owner__isnull=True).count() == 3


def test_it_shows_the_preview_again_when_the_deals_changed(
    client_as, manager, team, rep, other_rep, leaving_deals, make_deal
):
    client = client_as(manager)
    preview = client.get(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk}).context["preview"]
    make_deal(owner=rep, title="Assigned meanwhile")
    response = client.post(
        handover(team),
        {"from_user": rep.pk, "to_user": other_rep.pk, "expected": preview["ids"]},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and len(response.context["preview"]["deals"]) == 4
    assert "The deals changed since the preview" in response.content.decode()
    assert Opportunity.objects.filter(owner=rep, status=Opportunity.Status.OPEN).count() == 4


def test_it_refuses_the_same_person_as_successor(client_as, manager, team, rep, leaving_deals):
    response = client_as(manager).get(
        handover(team), {"from_user": rep.pk, "to_user": rep.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.context["form"].errors["to_user"] == ["Choose a different person to take over."]
    assert response.context["preview"] is None


def test_it_refuses_a_successor_outside_the_team(
    client_as, manager, team, rep, outsider_rep, other_team, leaving_deals
):
    response = client_as(manager).get(handover(team), {"from_user": rep.pk, "to_user": outsider_rep.pk})
    assert "to_user" in response.context["form"].errors


def test_it_says_when_the_rep_has_deals_in_a_team_the_manager_does_not_manage(
    client_as, manager, team, rep, other_rep, other_team, leaving_deals, make_deal
):
    other_team.members.add(rep)
    make_deal(owner=rep, team=other_team, title="Elsewhere")
    client = client_as(manager)
    response = client.get(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk}, HTTP_ACCEPT_LANGUAGE="en")
    preview = response.context["preview"]
    assert (preview["count"], preview["hidden"]) == (3, 1)
    body = response.content.decode()
    assert (
        "an administrator must hand it over" in body and 'id="confirm-handover"' not in body and "Elsewhere" not in body
    )
    response = client.post(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk, "expected": preview["ids"]})
    assert Opportunity.objects.filter(owner=rep, status=Opportunity.Status.OPEN).count() == 4  # refused by the service


def test_it_lets_an_admin_hand_over_in_any_team(client_as, admin, team, rep, other_rep, leaving_deals):
    client = client_as(admin)
    preview = client.get(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk}).context["preview"]
    client.post(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk, "expected": preview["ids"]})
    assert Opportunity.objects.filter(owner=other_rep).count() == 3


def test_it_needs_csrf_to_hand_over(manager, team, rep, other_rep, leaving_deals):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post(handover(team), {"from_user": rep.pk, "to_user": other_rep.pk}).status_code == 403
