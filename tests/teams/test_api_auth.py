"""/api/auth/token/ and /api/me/."""

import pytest
from rest_framework.authtoken.models import Token

TOKEN = "/api/auth/token/"
ME = "/api/me/"


def test_it_exchanges_a_password_for_a_token_that_works(api_client, rep, team):
    response = api_client.post(TOKEN, {"username": "rep", "password": "pw-for-tests-1"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=rep).key
    me = api_client.get(ME, HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200 and me.json()["username"] == "rep"
    again = api_client.post(TOKEN, {"username": "rep", "password": "pw-for-tests-1"}, format="json")
    assert again.json()["token"] == token


def test_it_accepts_form_data_for_the_token(api_client, rep):
    response = api_client.post(TOKEN, {"username": "rep", "password": "pw-for-tests-1"})
    assert response.status_code == 200


def test_it_refuses_bad_credentials_with_400(api_client, rep):
    response = api_client.post(TOKEN, {"username": "rep", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    response = api_client.post(TOKEN, {"username": "rep"}, format="json")
    assert response.status_code == 400 and "password" in response.json()


def test_it_refuses_a_deactivated_user(api_client, rep):
    rep.is_active = False
    rep.save()
    response = api_client.post(TOKEN, {"username": "rep", "password": "pw-for-tests-1"}, format="json")
    assert response.status_code == 400


def test_it_stops_honouring_the_token_of_a_deactivated_user(api_client, rep):
    token = Token.objects.create(user=rep)
    rep.is_active = False
    rep.save()
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401


def test_it_answers_401_to_a_bad_token(api_client, db):
    response = api_client.get(ME, HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401


def test_it_accepts_the_browser_session(client, rep):
    client.force_login(rep)
    assert client.get(ME).json()["username"] == "rep"


@pytest.mark.parametrize(
    ("who", "role", "teams"),
    [
        ("rep", "rep", [{"name": "外贸一部", "is_member": True, "is_manager": False}]),
        ("manager", "manager", [{"name": "外贸一部", "is_member": False, "is_manager": True}]),
        ("admin", "admin", []),
        ("outsider_manager", "manager", [{"name": "外贸二部", "is_member": False, "is_manager": True}]),
    ],
)
def test_it_tells_who_i_am(api_as, team, other_team, who, role, teams, request):
    user = request.getfixturevalue(who)
    body = api_as(user).get(ME).json()
    assert body["id"] == user.pk and body["username"] == user.username and body["role"] == role
    assert [{key: team[key] for key in ("name", "is_member", "is_manager")} for team in body["teams"]] == teams


def test_it_answers_401_to_anonymous_me(api_client, db):
    assert api_client.get(ME).status_code == 401
