"""/api/users/ (whom the caller may assign to) and /api/teams/."""

import pytest

from tests.factories import TeamFactory, UserFactory

USERS = "/api/users/"
TEAMS = "/api/teams/"


def usernames(response):
    return [row["username"] for row in response.json()["results"]]


def test_it_lists_a_managers_active_team_members(api_as, manager, team, other_team, rep):
    UserFactory(username="gone", is_active=False).teams.add(team)
    assert usernames(api_as(manager).get(USERS)) == ["other_rep", "rep"]
    assert api_as(manager).get(f"{USERS}{rep.pk}/").json()["username"] == "rep"


def test_it_lists_every_active_member_for_an_admin(api_as, admin, team, other_team):
    assert usernames(api_as(admin).get(USERS)) == ["other_rep", "outsider_rep", "rep"]


def test_it_lists_nobody_for_a_rep(api_as, rep, team):
    body = api_as(rep).get(USERS).json()
    assert body["count"] == 0
    assert api_as(rep).get(f"{USERS}{rep.pk}/").status_code == 404


def test_it_hides_other_teams_members_from_a_manager(api_as, manager, team, other_team, outsider_rep):
    assert "outsider_rep" not in usernames(api_as(manager).get(USERS))
    assert api_as(manager).get(f"{USERS}{outsider_rep.pk}/").status_code == 404


def test_it_filters_and_searches_users(api_as, admin, team, other_team):
    assert usernames(api_as(admin).get(USERS, {"team": other_team.pk})) == ["outsider_rep"]
    assert usernames(api_as(admin).get(USERS, {"search": "other"})) == ["other_rep"]
    assert usernames(api_as(admin).get(USERS, {"ordering": "-username"})) == ["rep", "outsider_rep", "other_rep"]
    assert api_as(admin).get(USERS, {"team": "x"}).status_code == 400


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_users_in_a_constant_number_of_queries(api_as, manager, team, rows, django_assert_num_queries):
    team.members.add(*[UserFactory() for _ in range(rows)])
    client = api_as(manager)
    with django_assert_num_queries(2):
        client.get(USERS, {"page_size": 100})


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rep", ["外贸一部"]),
        ("manager", ["外贸一部"]),
        ("outsider_rep", ["外贸二部"]),
        ("admin", ["外贸一部", "外贸二部"]),
    ],
)
def test_it_lists_the_teams_one_belongs_to_or_manages(api_as, team, other_team, who, expected, request):
    body = api_as(request.getfixturevalue(who)).get(TEAMS).json()
    assert sorted(row["name"] for row in body["results"]) == sorted(expected)


def test_it_describes_a_team(api_as, rep, team, other_team):
    body = api_as(rep).get(f"{TEAMS}{team.pk}/").json()
    assert sorted(member["username"] for member in body["members"]) == ["other_rep", "rep"]
    assert [manager["username"] for manager in body["managers"]] == ["manager"]
    assert api_as(rep).get(f"{TEAMS}{other_team.pk}/").status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_teams_in_a_constant_number_of_queries(api_as, admin, rep, rows, django_assert_num_queries):
    for _ in range(rows):
        TeamFactory(members=[rep], managers=[admin])
    client = api_as(admin)
    with django_assert_num_queries(4):  # count, page, managers, members
        client.get(TEAMS, {"page_size": 100})


def test_it_answers_401_to_anonymous(api_client, db):
    assert api_client.get(USERS).status_code == 401
    assert api_client.get(TEAMS).status_code == 401
