"""Who a user may hand deals to, and who takes leads."""

import pytest

from teams.selectors import team_active_reps, teams_managed_by, users_assignable_by

pytestmark = pytest.mark.django_db


def test_it_lists_the_teams_a_user_manages(manager, outsider_manager, admin, rep, team, other_team):
    assert list(teams_managed_by(user=manager)) == [team]
    assert list(teams_managed_by(user=outsider_manager)) == [other_team]
    assert not teams_managed_by(user=rep).exists()
    assert set(teams_managed_by(user=admin)) == {team, other_team}


def test_it_offers_the_active_members_of_the_managed_teams(
    manager, rep, other_rep, inactive_rep, outsider_rep, other_team, admin
):
    assert list(users_assignable_by(user=manager)) == [other_rep, rep]  # by username
    assert set(users_assignable_by(user=admin)) == {rep, other_rep, outsider_rep}


def test_it_lists_the_active_reps_in_a_stable_order(team, rep, other_rep, inactive_rep):
    assert team_active_reps(team=team) == sorted([rep, other_rep], key=lambda user: user.pk)
