"""Users in the admin: never deleted; deactivated through user_deactivate, deals handed over."""

import pytest
from django.urls import reverse

from opportunities.models import Assignment, Opportunity
from teams.models import Team, User
from tests.admin_support import change_form_data
from tests.factories import OpportunityFactory, UserFactory

CHANGELIST = "admin:teams_user_changelist"


@pytest.fixture
def admin_client_(client, admin):
    client.force_login(admin)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def deals(team, rep, pipeline, source):
    """Three open deals and one won deal of ``rep``."""
    open_deals = [OpportunityFactory(team=team, pipeline=pipeline, source=source, owner=rep) for _ in range(3)]
    won = OpportunityFactory(team=team, pipeline=pipeline, source=source, owner=rep, status=Opportunity.Status.WON)
    return open_deals, won


def deactivate(client, users, **form):
    data = {"action": "deactivate_and_hand_over", "_selected_action": [user.pk for user in users], **form}
    return client.post(reverse(CHANGELIST), data)


def test_it_offers_no_way_to_delete_a_user(admin_client_, rep):
    response = admin_client_.get(reverse(CHANGELIST))
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert "deactivate_and_hand_over" in actions
    assert admin_client_.get(reverse("admin:teams_user_delete", args=[rep.pk])).status_code == 403
    assert admin_client_.post(reverse("admin:teams_user_delete", args=[rep.pk]), {"post": "yes"}).status_code == 403
    response = admin_client_.post(
        reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [rep.pk], "post": "yes"}
    )
    assert User.objects.filter(pk=rep.pk).exists()


def test_it_asks_for_the_successor_first(admin_client_, team, rep, other_rep, deals):
    response = deactivate(admin_client_, [rep])
    assert response.status_code == 200
    assert response.template_name == "admin/jihui/action_form.html"
    successors = list(response.context["form"].fields["successor"].queryset)
    assert other_rep in successors and rep not in successors
    rep.refresh_from_db()
    assert rep.is_active


def test_it_deactivates_and_hands_open_deals_to_the_successor(admin_client_, admin, team, rep, other_rep, deals):
    open_deals, won = deals
    response = deactivate(admin_client_, [rep], jihui_apply="1", successor=other_rep.pk, reason="Left in May")
    assert response.status_code == 302
    rep.refresh_from_db()
    assert not rep.is_active
    assert set(Opportunity.objects.filter(owner=other_rep).values_list("pk", flat=True)) == {d.pk for d in open_deals}
    won.refresh_from_db()
    assert won.owner == rep  # closed deals keep who won them
    handovers = Assignment.objects.filter(from_owner=rep, to_owner=other_rep)
    assert handovers.count() == 3
    assert set(handovers.values_list("by", "reason")) == {(admin.pk, "Left in May")}


def test_it_hands_deals_to_the_team_pool_when_no_successor_is_chosen(admin_client_, team, rep, deals):
    response = deactivate(admin_client_, [rep], jihui_apply="1", successor="")
    assert response.status_code == 302
    assert Opportunity.objects.filter(owner__isnull=True, status="open").count() == 3
    assert Assignment.objects.filter(from_owner=rep, to_owner__isnull=True).count() == 3


def test_it_changes_nothing_when_the_successor_is_not_in_the_team(
    admin_client_, team, rep, deals, outsider_rep, other_team
):
    response = deactivate(admin_client_, [rep], jihui_apply="1", successor=outsider_rep.pk)
    assert response.status_code == 200
    assert "is not a member of the team" in " ".join(response.context["form"].non_field_errors())
    rep.refresh_from_db()
    assert rep.is_active
    assert Opportunity.objects.filter(owner=rep, status="open").count() == 3
    assert not Assignment.objects.filter(from_owner=rep).exists()


def test_it_deactivates_nobody_if_one_hand_over_is_refused(admin_client_, admin, team, rep, other_rep, deals):
    response = deactivate(admin_client_, [rep, admin], jihui_apply="1", successor=other_rep.pk)
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in response.context["form"].non_field_errors()
    rep.refresh_from_db()
    assert rep.is_active
    assert Opportunity.objects.filter(owner=rep, status="open").count() == 3


def test_it_makes_active_read_only_on_the_change_page_until_deactivated(admin_client_, rep):
    url = reverse("admin:teams_user_change", args=[rep.pk])
    data = change_form_data(admin_client_.get(url))
    data.pop("is_active", None)  # a crafted post cannot deactivate without the hand-over
    data["language"] = "en"
    assert admin_client_.post(url, data).status_code == 302
    rep.refresh_from_db()
    assert rep.is_active and rep.language == "en"

    rep.is_active = False
    rep.save()
    response = admin_client_.get(url)
    assert "is_active" in response.context["adminform"].form.fields  # reactivation is allowed


def test_it_adds_a_user_with_the_language_field(admin_client_):
    url = reverse("admin:teams_user_add")
    response = admin_client_.post(
        url,
        {
            "username": "rep9",
            "password1": "a-Long-pass-1234",
            "password2": "a-Long-pass-1234",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="rep9")
    page = admin_client_.get(reverse("admin:teams_user_change", args=[user.pk]))
    assert "language" in page.context["adminform"].form.fields


def test_it_refuses_to_add_a_deactivated_person_to_a_team(admin_client_, team):
    gone = UserFactory(username="gone", is_active=False)
    url = reverse("admin:teams_team_change", args=[team.pk])
    data = change_form_data(admin_client_.get(url))
    data["members"] = [*data["members"], str(gone.pk)]
    response = admin_client_.post(url, data)
    assert response.status_code == 200
    assert "members" in response.context["adminform"].form.errors
    assert not Team.objects.filter(pk=team.pk, members=gone).exists()


def test_it_refuses_to_delete_a_team_with_deals_and_says_why(admin_client_, team, deals):
    url = reverse("admin:teams_team_delete", args=[team.pk])
    response = admin_client_.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "Opportunities of this team: 4." in response.content.decode()
    assert Team.objects.filter(pk=team.pk).exists()
