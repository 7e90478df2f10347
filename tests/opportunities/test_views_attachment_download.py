"""/opportunities/attachments/<id>/download/: files only through the visibility selector."""

import pytest
from django.urls import reverse

from opportunities.services import opportunity_add_activity
from tests.factories import png_bytes, upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def photo(deal, rep):
    opportunity_add_activity(opportunity=deal, by=rep, kind="sample", files=[upload("样品.png")])
    return deal.attachments.get()


@pytest.fixture
def quote(deal, rep):
    opportunity_add_activity(opportunity=deal, by=rep, kind="quote", files=[upload("quote.pdf", PDF)])
    return deal.attachments.get()


def url(attachment) -> str:
    return reverse("opportunities:attachment_download", args=[attachment.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("viewer", ["rep", "manager", "admin"])
def test_it_serves_the_file_to_who_sees_the_deal(client, photo, viewer, request):
    client.force_login(request.getfixturevalue(viewer))
    response = client.get(url(photo))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert body(response) == png_bytes()


@pytest.mark.parametrize("viewer", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_to_an_outsider(client, photo, viewer, other_team, request):
    client.force_login(request.getfixturevalue(viewer))
    assert client.get(url(photo)).status_code == 404


def test_it_answers_404_for_an_unknown_file(client, rep):
    client.force_login(rep)
    assert client.get(reverse("opportunities:attachment_download", args=[999999])).status_code == 404


def test_it_sends_an_anonymous_visitor_to_the_login_page(client, photo):
    response = client.get(url(photo))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_it_locks_out_a_deactivated_owner(client, photo, rep):
    client.force_login(rep)
    rep.is_active = False
    rep.save()
    assert client.get(url(photo)).status_code != 200


def test_it_offers_non_images_as_a_download_under_their_own_name(client, quote, rep):
    client.force_login(rep)
    response = client.get(url(quote))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "quote.pdf" in response["Content-Disposition"]
    assert body(response) == PDF


def test_it_shows_images_inline(client, photo, rep):
    client.force_login(rep)
    assert client.get(url(photo))["Content-Disposition"].startswith("inline;")


def test_it_refuses_other_methods(client, photo, rep):
    client.force_login(rep)
    assert client.post(url(photo)).status_code == 405
