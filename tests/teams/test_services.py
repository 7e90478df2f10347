"""teams.services: people leaving (deactivated, never deleted) and team membership."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opportunities.models import Assignment, Opportunity
from teams.models import User
from teams.services import team_add_member, user_deactivate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_hands_over_the_deals_and_deactivates_without_deleting(make_deal, manager, rep, other_rep):
    open_deals = [make_deal(owner=rep), make_deal(owner=rep)]
    won = make_deal(owner=rep, status=Opportunity.Status.WON)

    moved = user_deactivate(user=rep, by=manager, successor=other_rep)

    assert moved == 2
    rep.refresh_from_db()
    assert rep.is_active is False
    assert User.objects.filter(pk=rep.pk).exists()
    assert set(Opportunity.objects.filter(owner=other_rep)) == set(open_deals)
    assert Opportunity.objects.get(pk=won.pk).owner == rep
    assert Assignment.objects.filter(from_owner=rep, to_owner=other_rep, by=manager).count() == 2
    assert {row.reason for row in Assignment.objects.all()} == {f"{rep} left"}


def test_it_returns_the_deals_to_the_pool_without_a_successor(make_deal, manager, rep):
    deal = make_deal(owner=rep)
    assert user_deactivate(user=rep, by=manager, reason="Moved to Hangzhou") == 1
    deal.refresh_from_db()
    assert deal.owner is None
    assert Assignment.objects.get().reason == "Moved to Hangzhou"


def test_it_lets_an_admin_deactivate_anyone(admin, manager, team):
    user_deactivate(user=manager, by=admin)
    manager.refresh_from_db()
    assert manager.is_active is False


@pytest.mark.parametrize("actor", ["other_rep", "outsider_manager"])
def test_it_refuses_who_does_not_manage_the_person(make_deal, rep, other_team, actor, request):
    deal = make_deal(owner=rep)
    with pytest.raises(PermissionDenied):
        user_deactivate(user=rep, by=request.getfixturevalue(actor))
    rep.refresh_from_db()
    deal.refresh_from_db()
    assert (rep.is_active, deal.owner) == (True, rep)


@pytest.mark.parametrize("target", ["admin", "teamless"])
def test_it_refuses_a_manager_deactivating_someone_outside_their_teams(manager, team, target, admin):
    person = admin if target == "admin" else UserFactory(username="freelancer")
    with pytest.raises(PermissionDenied):
        user_deactivate(user=person, by=manager)
    person.refresh_from_db()
    assert person.is_active is True


def test_it_refuses_a_rep_deactivating_an_admin(rep, team, admin):
    with pytest.raises(PermissionDenied):
        user_deactivate(user=admin, by=rep)
    admin.refresh_from_db()
    assert admin.is_active is True


def test_it_refuses_deactivating_oneself(admin):
    with pytest.raises(ValidationError):
        user_deactivate(user=admin, by=admin)
    admin.refresh_from_db()
    assert admin.is_active is True


def test_it_refuses_a_successor_outside_the_team_and_keeps_the_person_active(
    make_deal, manager, rep, outsider_rep, other_team
):
    deal = make_deal(owner=rep)
    with pytest.raises(ValidationError):
        user_deactivate(user=rep, by=manager, successor=outsider_rep)
    rep.refresh_from_db()
    deal.refresh_from_db()
    assert (rep.is_active, deal.owner) == (True, rep)


def test_it_adds_an_active_member(manager, team):
    newcomer = UserFactory(username="newcomer")
    team_add_member(team=team, user=newcomer, by=manager)
    assert team.members.filter(pk=newcomer.pk).exists()


def test_it_refuses_adding_a_deactivated_member(manager, team):
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(ValidationError):
        team_add_member(team=team, user=gone, by=manager)
    assert not team.members.filter(pk=gone.pk).exists()


def test_it_refuses_adding_members_to_a_team_one_does_not_manage(rep, outsider_manager, team):
    newcomer = UserFactory(username="newcomer")
    for by in (rep, outsider_manager):
        with pytest.raises(PermissionDenied):
            team_add_member(team=team, user=newcomer, by=by)
    assert not team.members.filter(pk=newcomer.pk).exists()
