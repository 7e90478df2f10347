"""/api/opportunities/assign/ and /api/opportunities/reassign/."""

import pytest

from opportunities.models import Assignment, Opportunity
from tests.api_fixtures import customer, deal  # noqa: F401  (service-made deal, see the module)
from tests.factories import OpportunityFactory, UserFactory

ASSIGN = "/api/opportunities/assign/"
REASSIGN = "/api/opportunities/reassign/"


@pytest.fixture
def pool(team, pipeline, source, customer):
    return OpportunityFactory.create_batch(
        6, team=team, pipeline=pipeline, source=source, customer=customer, owner=None
    )


def owners():
    return dict(Opportunity.objects.values_list("pk", "owner_id"))


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_it_assigns_many_deals_to_one_rep(api_as, pool, rep, who, request):
    ids = [row.pk for row in pool]
    response = api_as(request.getfixturevalue(who)).post(
        ASSIGN, {"opportunities": ids, "owner": rep.pk, "reason": "Canton Fair leads"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"assigned": 6}
    assert set(Opportunity.objects.filter(pk__in=ids).values_list("owner_id", flat=True)) == {rep.pk}
    assert Assignment.objects.filter(reason="Canton Fair leads").count() == 6


def test_it_returns_deals_to_the_pool(api_as, manager, deal):
    response = api_as(manager).post(ASSIGN, {"opportunities": [deal.pk], "owner": None}, format="json")
    assert response.status_code == 200 and response.json() == {"assigned": 1}
    assert Opportunity.objects.get(pk=deal.pk).owner is None


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded"])
def test_it_distributes_over_the_team(api_as, manager, pool, team, rep, other_rep, strategy):
    response = api_as(manager).post(
        ASSIGN, {"opportunities": [row.pk for row in pool], "team": team.pk, "strategy": strategy}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["assigned"] == 6
    assert sorted(item["count"] for item in body["distribution"]) == [3, 3]
    assert {item["owner"] for item in body["distribution"]} == {rep.pk, other_rep.pk}


def test_it_distributes_to_chosen_reps_only(api_as, manager, pool, team, rep):
    response = api_as(manager).post(
        ASSIGN,
        {"opportunities": [row.pk for row in pool], "team": team.pk, "strategy": "round_robin", "reps": [rep.pk]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["distribution"] == [{"owner": rep.pk, "count": 6}]


def test_it_refuses_assignment_by_a_rep_with_403(api_as, rep, deal, other_rep):
    before = owners()
    response = api_as(rep).post(ASSIGN, {"opportunities": [deal.pk], "owner": other_rep.pk}, format="json")
    assert response.status_code == 403
    assert owners() == before


def test_it_treats_deals_the_caller_cannot_see_as_unknown(api_as, rep, outsider_manager, deal, outsider_deal):
    before = owners()
    response = api_as(outsider_manager).post(
        ASSIGN, {"opportunities": [deal.pk, outsider_deal.pk], "owner": None}, format="json"
    )
    assert response.status_code == 400
    assert "opportunities" in response.json()
    assert str(deal.pk) in response.json()["opportunities"][0]
    assert owners() == before


def test_it_refuses_an_owner_outside_the_team(api_as, manager, deal, outsider_rep):
    response = api_as(manager).post(ASSIGN, {"opportunities": [deal.pk], "owner": outsider_rep.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["owner"]


def test_it_refuses_distribution_into_a_team_the_manager_does_not_manage(api_as, manager, deal, other_team):
    response = api_as(manager).post(
        ASSIGN, {"opportunities": [deal.pk], "team": other_team.pk, "strategy": "round_robin"}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"owner": None}, "opportunities"),
        ({"opportunities": [], "owner": None}, "opportunities"),
        ({"opportunities": ["x"], "owner": None}, "opportunities"),
        ({"opportunities": [1]}, "owner"),
        ({"opportunities": [1], "strategy": "round_robin"}, "team"),
        ({"opportunities": [1], "team": 1, "strategy": "by_mood"}, "strategy"),
    ],
)
def test_it_answers_400_to_a_malformed_assignment(api_as, manager, deal, payload, field):
    payload = {key: ([deal.pk] if value == [1] else value) for key, value in payload.items()}
    response = api_as(manager).post(ASSIGN, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_it_refuses_to_assign_a_closed_deal(api_as, manager, team, pipeline, source, customer, rep):
    closed = OpportunityFactory(
        team=team, pipeline=pipeline, source=source, customer=customer, owner=rep, status=Opportunity.Status.WON
    )
    response = api_as(manager).post(ASSIGN, {"opportunities": [closed.pk], "owner": None}, format="json")
    assert response.status_code == 400 and "non_field_errors" in response.json()


# --- reassign ---------------------------------------------------------------------------


@pytest.fixture
def reps_deals(team, pipeline, source, customer, rep):
    return OpportunityFactory.create_batch(3, team=team, pipeline=pipeline, source=source, customer=customer, owner=rep)


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_it_hands_every_open_deal_to_a_successor(api_as, reps_deals, rep, other_rep, who, request):
    response = api_as(request.getfixturevalue(who)).post(
        REASSIGN, {"from_owner": rep.pk, "to_owner": other_rep.pk, "reason": "rep left"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"reassigned": 3}
    assert not Opportunity.objects.filter(owner=rep).exists()
    assert Assignment.objects.filter(from_owner=rep, to_owner=other_rep, reason="rep left").count() == 3


def test_it_hands_them_to_the_pool(api_as, manager, reps_deals, rep):
    response = api_as(manager).post(REASSIGN, {"from_owner": rep.pk, "to_owner": None}, format="json")
    assert response.json() == {"reassigned": 3}


def test_it_refuses_a_reassignment_by_a_rep_with_403(api_as, other_rep, reps_deals, rep):
    before = owners()
    response = api_as(other_rep).post(REASSIGN, {"from_owner": rep.pk, "to_owner": other_rep.pk}, format="json")
    assert response.status_code == 403
    assert owners() == before


def test_it_refuses_a_reassignment_by_an_outsider_manager_with_403(
    api_as, outsider_manager, reps_deals, rep, outsider_rep
):
    before = owners()
    response = api_as(outsider_manager).post(
        REASSIGN, {"from_owner": rep.pk, "to_owner": outsider_rep.pk}, format="json"
    )
    assert response.status_code == 403
    assert owners() == before


def test_it_answers_400_to_a_bad_reassignment(api_as, manager, reps_deals, rep, outsider_rep):
    response = api_as(manager).post(REASSIGN, {"from_owner": rep.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["to_owner"]
    response = api_as(manager).post(REASSIGN, {"from_owner": rep.pk, "to_owner": rep.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["to_owner"]
    response = api_as(manager).post(REASSIGN, {"from_owner": rep.pk, "to_owner": outsider_rep.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["to_owner"]


def test_it_reassigns_from_a_deactivated_rep(api_as, manager, team, reps_deals, rep, other_rep):
    rep.is_active = False
    rep.save()
    response = api_as(manager).post(REASSIGN, {"from_owner": rep.pk, "to_owner": other_rep.pk}, format="json")
    assert response.json() == {"reassigned": 3}


def test_it_answers_401_to_anonymous_assignment(api_client, deal):
    assert api_client.post(ASSIGN, {"opportunities": [deal.pk], "owner": None}, format="json").status_code == 401
    assert api_client.post(REASSIGN, {}, format="json").status_code == 401


def test_it_reassigns_nothing_from_a_team_member_without_open_deals(api_as, manager, team):
    idle = UserFactory(username="idle")
    team.members.add(idle)
    response = api_as(manager).post(REASSIGN, {"from_owner": idle.pk, "to_owner": None}, format="json")
    assert response.json() == {"reassigned": 0}


def test_it_refuses_to_tell_an_outsider_whether_someone_has_open_deals(api_as, outsider_manager, rep, other_rep):
    response = api_as(outsider_manager).post(REASSIGN, {"from_owner": rep.pk, "to_owner": None}, format="json")
    assert response.status_code == 403
