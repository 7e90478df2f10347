"""The visibility matrix: who sees which opportunities, customers and attachments.

Cast: ``rep`` and ``other_rep`` in ``team`` (managed by ``manager``); ``outsider_manager`` and
``outsider_rep`` in ``other_team``; ``admin`` (staff); and deactivated users.
"""

import pytest

from customers.selectors import contacts_visible_to, customers_visible_to
from opportunities.models import Opportunity
from opportunities.selectors import attachments_visible_to, opportunities_visible_to, opportunity_get_for_user
from opportunities.services import opportunity_add_activity
from teams.visibility import can_edit_opportunity, can_manage_opportunity
from tests.factories import ContactFactory, CustomerFactory, UserFactory, upload

pytestmark = pytest.mark.django_db

CAST = ["rep", "other_rep", "manager", "outsider_manager", "outsider_rep", "admin"]


@pytest.fixture
def cast(request, team, other_team):
    return {name: request.getfixturevalue(name) for name in CAST}


def who_sees(cast, selector, row) -> set[str]:
    return {name for name, user in cast.items() if selector(user=user).filter(pk=row.pk).exists()}


# --- opportunities -----------------------------------------------------------------------------


def test_it_shows_a_reps_deal_to_the_rep_their_manager_and_admins(cast, deal):
    assert who_sees(cast, opportunities_visible_to, deal) == {"rep", "manager", "admin"}


def test_it_shows_an_outsiders_deal_only_to_their_side(cast, make_deal, other_team, outsider_rep):
    foreign = make_deal(team=other_team, owner=outsider_rep)
    assert who_sees(cast, opportunities_visible_to, foreign) == {"outsider_rep", "outsider_manager", "admin"}


def test_it_hides_the_pool_from_reps_unless_the_team_allows(cast, make_deal, team):
    pooled = make_deal(owner=None)
    assert who_sees(cast, opportunities_visible_to, pooled) == {"manager", "admin"}

    team.reps_see_pool = True
    team.save()

    assert who_sees(cast, opportunities_visible_to, pooled) == {"rep", "other_rep", "manager", "admin"}


def test_it_shows_the_pool_only_of_the_reps_own_team(cast, make_deal, other_team, team):
    team.reps_see_pool = True
    team.save()
    foreign_pool = make_deal(team=other_team, owner=None)
    assert who_sees(cast, opportunities_visible_to, foreign_pool) == {"outsider_manager", "admin"}


def test_it_keeps_showing_a_managers_own_deals_in_other_teams(make_deal, manager, other_team):
    other_team.members.add(manager)
    own_elsewhere = make_deal(team=other_team, owner=manager)
    assert opportunities_visible_to(user=manager).filter(pk=own_elsewhere.pk).exists()


def test_it_shows_closed_deals_like_open_ones(cast, make_deal, rep, stages):
    won = make_deal(owner=rep, stage=stages["Won"], status=Opportunity.Status.WON)
    assert who_sees(cast, opportunities_visible_to, won) == {"rep", "manager", "admin"}


@pytest.mark.parametrize("role", ["deactivated rep", "deactivated manager", "deactivated admin"])
def test_it_shows_nothing_to_a_deactivated_user(deal, make_deal, rep, manager, admin, role):
    user = {"deactivated rep": rep, "deactivated manager": manager, "deactivated admin": admin}[role]
    make_deal(owner=None)
    user.is_active = False
    user.save()
    assert not opportunities_visible_to(user=user).exists()
    assert not customers_visible_to(user=user).exists()
    assert not attachments_visible_to(user=user).exists()


def test_it_shows_nothing_to_an_anonymous_visitor(deal):
    from django.contrib.auth.models import AnonymousUser

    assert not opportunities_visible_to(user=AnonymousUser()).exists()


def test_it_treats_another_users_deal_as_not_found(deal, other_rep):
    with pytest.raises(Opportunity.DoesNotExist):
        opportunity_get_for_user(user=other_rep, pk=deal.pk)
    assert opportunity_get_for_user(user=deal.owner, pk=deal.pk) == deal


def test_it_reads_the_same_rules_for_single_rows(cast, deal, make_deal, team):
    pooled = make_deal(owner=None)
    editors = {name for name, user in cast.items() if can_edit_opportunity(user, deal)}
    managers = {name for name, user in cast.items() if can_manage_opportunity(user, deal)}
    assert editors == who_sees(cast, opportunities_visible_to, deal) == {"rep", "manager", "admin"}
    assert managers == {"manager", "admin"}

    team.reps_see_pool = True
    team.save()
    pool_editors = {name for name, user in cast.items() if can_edit_opportunity(user, pooled)}
    assert pool_editors == who_sees(cast, opportunities_visible_to, pooled)


# --- customers -----------------------------------------------------------------------------------


def test_it_shows_a_customer_through_a_visible_deal(cast, make_deal, rep):
    customer = CustomerFactory(name="Acme Trading", created_by=None)
    make_deal(owner=rep, customer=customer)
    assert who_sees(cast, customers_visible_to, customer) == {"rep", "manager", "admin"}


def test_it_shows_a_customer_to_whoever_recorded_it(cast, other_rep):
    customer = CustomerFactory(name="Card from the fair", created_by=other_rep)
    assert who_sees(cast, customers_visible_to, customer) == {"other_rep", "admin"}


def test_it_shows_a_pool_customer_to_reps_only_when_the_team_allows(cast, make_deal, team):
    customer = CustomerFactory(name="Pool customer", created_by=None)
    make_deal(owner=None, customer=customer)
    assert who_sees(cast, customers_visible_to, customer) == {"manager", "admin"}
    team.reps_see_pool = True
    team.save()
    assert who_sees(cast, customers_visible_to, customer) == {"rep", "other_rep", "manager", "admin"}


def test_it_shows_contacts_with_their_customer(cast, make_deal, rep):
    customer = CustomerFactory(name="Acme Trading", created_by=None)
    make_deal(owner=rep, customer=customer)
    contact = ContactFactory(customer=customer)
    assert who_sees(cast, contacts_visible_to, contact) == {"rep", "manager", "admin"}


def test_it_lists_a_customer_once_whatever_the_number_of_deals(make_deal, rep):
    customer = CustomerFactory(name="Big buyer", created_by=rep)
    for _ in range(3):
        make_deal(owner=rep, customer=customer)
    assert list(customers_visible_to(user=rep).filter(pk=customer.pk)) == [customer]


# --- attachments --------------------------------------------------------------------------------


def test_it_shows_attachments_through_their_deal(cast, deal, rep, make_deal, team):
    opportunity_add_activity(opportunity=deal, by=rep, kind="sample", files=[upload("photo.png")])
    attachment = deal.attachments.get()
    assert who_sees(cast, attachments_visible_to, attachment) == {"rep", "manager", "admin"}

    pooled = make_deal(owner=None)
    opportunity_add_activity(opportunity=pooled, by=cast["manager"], kind="sample", files=[upload("pool.png")])
    pool_file = pooled.attachments.get()
    assert who_sees(cast, attachments_visible_to, pool_file) == {"manager", "admin"}
    team.reps_see_pool = True
    team.save()
    assert who_sees(cast, attachments_visible_to, pool_file) == {"rep", "other_rep", "manager", "admin"}


def test_it_hides_a_former_owners_file_after_reassignment(deal, rep, other_rep, manager):
    from opportunities.services import opportunity_assign

    opportunity_add_activity(opportunity=deal, by=rep, kind="sample", files=[upload("photo.png")])
    opportunity_assign(opportunity_ids=[deal.pk], owner=other_rep, by=manager)

    assert not attachments_visible_to(user=rep).exists()
    assert attachments_visible_to(user=other_rep).count() == 1


def test_it_gives_a_new_user_nothing(deal):
    stranger = UserFactory(username="stranger")
    assert not opportunities_visible_to(user=stranger).exists()
    assert not customers_visible_to(user=stranger).exists()


def test_the_request_user_comes_with_the_teams_they_see_deals_of(
    team, other_team, manager, rep, outsider_rep, django_assert_num_queries
):
    """The authentication backend loads the user's team scope with them (PostgreSQL): the same
    teams ``user_team_scope`` reads, kept for the request, and no query of its own after."""
    from teams.backends import UserBackend
    from teams.models import User
    from teams.visibility import user_team_scope
    from tests.query_counts import team_scope_queries

    team.reps_see_pool = True
    team.save()
    other_team.managers.add(rep)  # a rep who also manages another team
    for user in (manager, rep, outsider_rep):
        loaded = UserBackend().get_user(user.pk)
        expected = user_team_scope(User.objects.get(pk=user.pk))  # read by its own query
        with django_assert_num_queries(team_scope_queries()):
            assert user_team_scope(loaded) == expected
        assert loaded.manages_teams == bool(expected[0])
    assert user_team_scope(UserBackend().get_user(rep.pk)) == (frozenset({other_team.pk}), frozenset({team.pk}))
    assert user_team_scope(UserBackend().get_user(outsider_rep.pk)) == (frozenset(), frozenset())


def test_the_request_user_is_read_by_the_statement_compiled_once(team, manager, rep, deal):
    """``UserBackend.get_user`` runs ``_users()`` compiled once per process: the same user with
    the same fields and annotations as the queryset itself, on either database; an id that is
    not one, or of nobody, or of a deactivated user, gives no user."""
    from notifications.selectors import notifications_unread_count
    from teams.backends import UserBackend, _users
    from tests.factories import NotificationFactory

    NotificationFactory.create_batch(2, user=rep, opportunity=deal)
    NotificationFactory(user=rep, opportunity=deal, read_at="2026-01-01T00:00Z")
    for user in (manager, rep):
        loaded, expected = UserBackend().get_user(str(user.pk)), _users().get(pk=user.pk)
        fields = [field.attname for field in type(user)._meta.concrete_fields]
        assert [getattr(loaded, name) for name in fields] == [getattr(expected, name) for name in fields]
        assert loaded.unread_notifications == expected.unread_notifications == notifications_unread_count(user=user)
        assert loaded.manages_teams is (user == manager)
    assert UserBackend().get_user(rep.pk).unread_notifications == 2
    assert UserBackend().get_user("not a number") is None
    assert UserBackend().get_user(10**9) is None
    rep.is_active = False
    rep.save()
    assert UserBackend().get_user(rep.pk) is None
