"""crm.statements.UserQuery: a user's queryset compiled once per role, the same rows."""

import pytest

from crm.statements import UserQuery
from opportunities.forms_list import _people_of_managed_teams, opportunity_list_people
from teams.selectors import teams_visible_to, teams_visible_to_by_name
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(team, other_team, manager, rep, other_rep, outsider_rep, admin):
    other_team.managers.add(rep)  # a rep who also manages a team
    left = UserFactory(username="left", is_active=False)
    team.members.add(left)
    return [manager, rep, other_rep, outsider_rep, admin, left]


def test_it_gives_each_user_what_their_queryset_gives(cast, django_assert_max_num_queries):
    for user in cast:
        expected_teams = list(teams_visible_to(user=user).order_by("name"))
        expected_people = list(_people_of_managed_teams(user))
        with django_assert_max_num_queries(2):  # one query each, none for a role that sees nothing
            teams, people = teams_visible_to_by_name(user=user), opportunity_list_people(user=user)
        assert teams == expected_teams
        assert people == expected_people
        assert [person.get_full_name() for person in people] == [person.get_full_name() for person in expected_people]


def test_it_compiles_once_per_role_and_follows_a_change_of_role(rep, team, other_team):
    compiled = []

    def build(user):
        compiled.append(user.pk)
        return teams_visible_to(user=user).order_by("name")

    query = UserQuery(build)
    assert query(rep) == [team]
    other_team.members.add(rep)
    assert query(rep) == sorted([team, other_team], key=lambda item: item.name)
    assert len(compiled) == 1 and compiled[0] != rep.pk  # compiled for a stand-in, run for rep
    rep.is_staff = True  # an administrator sees every team: another statement
    assert len(query(rep)) == 2 and len(compiled) == 2


def test_compiled_values_give_the_querysets_rows_converted_and_keep_none_of_them(make_deal, rep):
    import datetime
    from decimal import Decimal

    from crm.statements import CompiledValues
    from opportunities.models import Opportunity

    make_deal(owner=rep, title="Priced", amount_base=Decimal("1234.50"))
    make_deal(owner=rep, title="Unpriced", amount=None, amount_base=None)
    queryset = Opportunity.objects.order_by("title").values_list(
        "title", "amount_base", "expected_close_date", "stage_entered_at", "customer__name"
    )
    compiled = CompiledValues(queryset)
    rows = compiled.rows()
    assert rows == list(queryset)
    assert isinstance(rows[0][1], Decimal) and isinstance(rows[0][2], datetime.date)
    assert isinstance(rows[0][3], datetime.datetime) and rows[0][3].tzinfo is not None
    make_deal(owner=rep, title="Added")
    assert [row[0] for row in compiled.rows()] == ["Added", "Priced", "Unpriced"]
    assert CompiledValues(Opportunity.objects.filter(pk__in=[]).values_list("pk")).rows() == []


def test_compiled_models_give_the_querysets_instances_with_their_related_objects(
    make_deal, rep, django_assert_num_queries
):
    from django.db import connection

    from crm.statements import CompiledModels
    from opportunities.models import Opportunity

    deal = make_deal(owner=rep, title="Pumps")
    other = make_deal(owner=None, title="Pooled")
    placeholder = -123_456_789
    queryset = Opportunity.objects.select_related("customer", "owner", "stage").filter(pk=placeholder)
    inner = Opportunity.objects.filter(pk=placeholder).query.sql_with_params()
    kept = [CompiledModels(queryset, placeholder)]
    if connection.vendor == "postgresql":  # the table read from a subquery (OFFSET 0 is PostgreSQL's)
        kept.append(CompiledModels(queryset, placeholder, from_table=inner))
    for compiled in kept:
        for expected in (deal, other):
            with django_assert_num_queries(1):
                [found] = compiled.rows(expected.pk)
                assert (found.pk, found.title, found.version) == (expected.pk, expected.title, expected.version)
                assert found.customer.name == expected.customer.name
                assert found.stage.name == expected.stage.name
                assert (found.owner.username if found.owner else None) == (
                    expected.owner.username if expected.owner else None
                )
        assert compiled.rows(-1) == []
    with pytest.raises(ValueError, match="placeholder"):
        CompiledModels(Opportunity.objects.filter(pk=deal.pk), placeholder)
