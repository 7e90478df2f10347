"""/api/opportunities/{id}/activities/ and /api/attachments/{id}/download/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from opportunities.models import Activity, Attachment, Opportunity
from opportunities.services import opportunity_add_activity
from tests.api_fixtures import customer, deal  # noqa: F401  (service-made deal, see the module)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def url(deal):
    return f"/api/opportunities/{deal.pk}/activities/"


def download(attachment_id):
    return f"/api/attachments/{attachment_id}/download/"


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
def test_it_logs_an_activity_with_several_files(api_as, deal, stages, who, request):
    response = api_as(request.getfixturevalue(who)).post(
        url(deal),
        {
            "kind": "sample",
            "body": "Sent samples",
            "carrier": "SF Express",
            "tracking_number": "SF123",
            "files": [upload("photo.png", PNG, "image/png"), upload("quote.pdf", PDF, "application/pdf")],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "sample" and body["tracking_number"] == "SF123" and body["stage"] == stages["New"].pk
    assert sorted(item["original_name"] for item in body["attachments"]) == ["photo.png", "quote.pdf"]
    assert all(item["download_url"].startswith("http://testserver/api/attachments/") for item in body["attachments"])
    assert Opportunity.objects.get(pk=deal.pk).last_activity_at is not None


def test_it_logs_a_note_as_json(api_as, rep, deal):
    response = api_as(rep).post(url(deal), {"kind": "call", "body": "Called Mr. Weber"}, format="json")
    assert response.status_code == 201
    assert response.json()["attachments"] == []
    assert response.json()["author"]["username"] == "rep"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "fax", "body": "x"}, "kind"),
        ({"body": "x"}, "kind"),
        ({"kind": "note"}, "body"),
        ({"kind": "sample", "body": "Sent", "carrier": "DHL"}, "tracking_number"),
        ({"kind": "note", "body": "x", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
    ],
)
def test_it_answers_400_to_a_bad_activity(api_as, rep, deal, payload, field):
    response = api_as(rep).post(url(deal), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Activity.objects.exists()


def test_it_rejects_the_whole_entry_for_one_bad_file(api_as, rep, deal):
    response = api_as(rep).post(
        url(deal),
        {"kind": "quote", "body": "Quote", "files": [upload("ok.png", PNG), upload("virus.jpg", EXE)]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "virus.jpg" in response.json()["files"][0]
    assert not Activity.objects.exists() and not Attachment.objects.exists()


@pytest.mark.parametrize("who", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_for_someone_elses_activities(api_as, deal, who, request):
    client = api_as(request.getfixturevalue(who))
    assert client.get(url(deal)).status_code == 404
    assert client.post(url(deal), {"kind": "note", "body": "x"}, format="json").status_code == 404
    assert not Activity.objects.exists()


def test_it_answers_401_to_anonymous(api_client, deal):
    assert api_client.get(url(deal)).status_code == 401


def test_it_lists_activities_newest_first_with_filters(api_as, rep, deal):
    opportunity_add_activity(opportunity=deal, by=rep, kind="call", body="first")
    opportunity_add_activity(opportunity=deal, by=rep, kind="note", body="second")
    body = api_as(rep).get(url(deal)).json()
    assert body["count"] == 2 and [row["body"] for row in body["results"]] == ["second", "first"]
    assert [row["body"] for row in api_as(rep).get(url(deal), {"kind": "call"}).json()["results"]] == ["first"]
    assert api_as(rep).get(url(deal), {"search": "seco"}).json()["count"] == 1


@pytest.mark.parametrize("rows", [1, 50])
def test_it_lists_in_a_constant_number_of_queries(api_as, rep, deal, rows, django_assert_num_queries):
    for number in range(rows):
        opportunity_add_activity(
            opportunity=deal, by=rep, kind="note", body=f"n{number}", files=[upload(f"p{number}.png", PNG)]
        )
    client = api_as(rep)
    with django_assert_num_queries(5):  # the caller's teams, the deal, count, page, attachments
        response = client.get(url(deal), {"page_size": 100})
    assert response.json()["count"] == rows


# --- download ------------------------------------------------------------------------------


@pytest.fixture
def attachments(deal, rep):
    activity = opportunity_add_activity(
        opportunity=deal,
        by=rep,
        kind="quote",
        body="Quote and photo",
        files=[upload("photo.png", PNG), upload("quote.pdf", PDF)],
    )
    return {item.original_name: item for item in activity.attachments.all()}


@pytest.mark.parametrize("who", ["rep", "manager", "admin"])
def test_it_serves_a_file_to_whoever_sees_the_deal(api_as, attachments, who, request):
    response = api_as(request.getfixturevalue(who)).get(download(attachments["quote.pdf"].pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_shows_an_image_inline_whatever_the_client_accepts(api_as, rep, attachments):
    response = api_as(rep).get(download(attachments["photo.png"].pk), HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")


@pytest.mark.parametrize("who", ["other_rep", "outsider_manager", "outsider_rep"])
def test_it_answers_404_for_someone_elses_file(api_as, attachments, who, request):
    response = api_as(request.getfixturevalue(who)).get(download(attachments["photo.png"].pk), HTTP_ACCEPT="image/png")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_it_answers_401_to_an_anonymous_download(api_client, attachments):
    assert api_client.get(download(attachments["photo.png"].pk)).status_code == 401


def test_it_answers_404_when_the_file_is_gone_from_disk(api_as, rep, attachments):
    attachment = attachments["photo.png"]
    attachment.file.storage.delete(attachment.file.name)
    assert api_as(rep).get(download(attachment.pk)).status_code == 404
