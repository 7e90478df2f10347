import pytest
from django.urls import reverse

from notifications.models import Notification
from tests.factories import NotificationFactory, OpportunityFactory


@pytest.fixture
def opportunity(team, pipeline, rep):
    return OpportunityFactory(team=team, pipeline=pipeline, owner=rep, title="Pumps for Hamburg")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def test_it_shows_the_unread_count_in_the_bell(rep_client, rep, opportunity):
    NotificationFactory.create_batch(2, user=rep, opportunity=opportunity)
    NotificationFactory(user=rep, opportunity=opportunity, read_at="2026-01-01T00:00Z")
    response = rep_client.get(reverse("home"))
    assert response.status_code == 200
    assert b'id="notification-bell"' in response.content
    assert b'<span class="badge">2</span>' in response.content


def test_it_reads_the_bells_count_with_the_user(rep_client, rep, opportunity, django_assert_num_queries):
    NotificationFactory(user=rep, opportunity=opportunity)
    assert b'<span class="badge">1</span>' in rep_client.get(reverse("notifications:list")).content
    NotificationFactory(user=rep, opportunity=opportunity)  # arrives between two requests
    # session + user (with the bell's count) + paginator count + page: no query for the bell
    with django_assert_num_queries(4):
        response = rep_client.get(reverse("notifications:list"))
    assert b'<span class="badge">2</span>' in response.content


def test_it_shows_no_bell_and_runs_no_query_for_anonymous_users(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("login"))
    assert b"notification-bell" not in response.content


def test_it_lists_only_my_notifications_with_a_constant_number_of_queries(
    rep_client, rep, other_rep, opportunity, django_assert_num_queries
):
    mine = NotificationFactory(user=rep, opportunity=opportunity, data={"close_date": "2026-03-10", "days_left": 3})
    NotificationFactory(user=other_rep, opportunity=opportunity, kind="stale", data={"idle_days": 9, "stage": "New"})
    response = rep_client.get(reverse("notifications:list"))
    assert list(response.context["page"].object_list) == [mine]
    assert "Pumps for Hamburg" in response.content.decode()
    NotificationFactory.create_batch(10, user=rep, opportunity=opportunity, kind="expired")
    with django_assert_num_queries(4):
        response = rep_client.get(reverse("notifications:list"))
    assert len(response.context["page"].object_list) == 11


def test_it_marks_a_notification_read(rep_client, rep, opportunity):
    notification = NotificationFactory(user=rep, opportunity=opportunity)
    response = rep_client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_it_answers_htmx_with_the_row_and_an_out_of_band_bell(rep_client, rep, opportunity):
    notification, _other = NotificationFactory.create_batch(2, user=rep, opportunity=opportunity)
    response = rep_client.post(reverse("notifications:read", args=[notification.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{notification.pk}"' in body and "Mark as read" not in body.split("notification-bell")[0]
    assert 'hx-swap-oob="true"' in body and '<span class="badge">1</span>' in body


def test_it_refuses_to_mark_read_with_get(rep_client, rep, opportunity):
    notification = NotificationFactory(user=rep, opportunity=opportunity)
    assert rep_client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405


def test_it_gives_an_outsider_a_404_and_changes_nothing(client, outsider_manager, rep, opportunity, other_team):
    notification = NotificationFactory(user=rep, opportunity=opportunity)
    client.force_login(outsider_manager)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 404
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_it_marks_all_read(rep_client, rep, other_rep, opportunity):
    NotificationFactory.create_batch(3, user=rep, opportunity=opportunity)
    theirs = NotificationFactory(user=other_rep, opportunity=opportunity)
    rep_client.post(reverse("notifications:read_all"))
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_it_sends_anonymous_users_to_the_login_page(db, client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_it_opens_the_deal_from_an_email_link_only_for_those_who_may_see_it(
    rep_client, client, opportunity, outsider_manager, other_team, admin
):
    link = reverse("notifications:opportunity", args=[opportunity.pk])
    assert rep_client.get(link).status_code == 302
    client.force_login(outsider_manager)
    assert client.get(link).status_code == 404
    client.force_login(admin)
    response = client.get(link)
    assert response.status_code == 302
