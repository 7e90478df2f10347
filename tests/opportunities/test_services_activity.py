"""opportunity_add_activity and the upload checks behind it."""

import datetime
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from opportunities.models import Activity, Attachment, Opportunity
from opportunities.services import opportunity_add_activity, opportunity_move_stage
from tests.factories import png_bytes, upload

pytestmark = pytest.mark.django_db

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 120
# Binary junk with no NUL byte that still decodes as UTF-8 and GB18030 (control bytes, and
# byte pairs that happen to be valid GB18030): only a look at the characters tells it from text.
JUNK = bytes(range(1, 9)) * 300 + bytes([0x14, 0x1A, 0x02, 0x1F]) * 200
JUNK_GB = b"".join(bytes([lead, 0x7E if lead % 2 else 0x40, 0x01, 0x1B]) for lead in range(0x81, 0xFF)) * 8


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_it_logs_an_activity_tagged_with_the_current_stage(deal, rep, stages):
    opportunity_move_stage(opportunity=deal, stage=stages["Sample"], by=rep)

    activity = opportunity_add_activity(
        opportunity=deal,
        by=rep,
        kind="sample",
        body="  Sent 3 panels  ",
        carrier="SF Express",
        tracking_number=" SF1234567890 ",
    )

    activity.refresh_from_db()
    assert (activity.stage, activity.kind, activity.author) == (stages["Sample"], "sample", rep)
    assert (activity.body, activity.carrier, activity.tracking_number) == (
        "Sent 3 panels",
        "SF Express",
        "SF1234567890",
    )
    deal.refresh_from_db()
    assert deal.last_activity_at == activity.occurred_at


def test_it_does_not_bump_the_version(deal, rep):
    opportunity_add_activity(opportunity=deal, by=rep, kind="call", body="No answer")
    deal.refresh_from_db()
    assert deal.version == 1


def test_it_keeps_the_latest_activity_time(deal, rep):
    now = timezone.now()
    opportunity_add_activity(opportunity=deal, by=rep, kind="call", body="Today", occurred_at=now)
    opportunity_add_activity(
        opportunity=deal, by=rep, kind="visit", body="Last week", occurred_at=now - datetime.timedelta(days=7)
    )
    deal.refresh_from_db()
    assert deal.last_activity_at == now


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"kind": "telepathy", "body": "x"}, "kind"),
        ({"kind": "note", "body": "   "}, "body"),
        ({"kind": "sample", "body": "Sent", "carrier": "DHL"}, "tracking_number"),
        ({"kind": "call", "body": "x", "occurred_at": "tomorrow"}, "occurred_at"),
    ],
    ids=["kind", "empty", "carrier-without-number", "future"],
)
def test_it_refuses_bad_input_and_writes_nothing(deal, rep, bad, field):
    if bad.get("occurred_at") == "tomorrow":
        bad = {**bad, "occurred_at": timezone.now() + datetime.timedelta(days=1)}
    with pytest.raises(ValidationError) as excinfo:
        opportunity_add_activity(opportunity=deal, by=rep, **bad)
    assert field in excinfo.value.message_dict
    assert not Activity.objects.exists()
    assert Opportunity.objects.get(pk=deal.pk).last_activity_at is None


@pytest.mark.parametrize("actor", ["other_rep", "outsider_manager", "inactive_rep"])
def test_it_refuses_who_may_not_work_the_deal(deal, actor, other_team, request):
    with pytest.raises(PermissionDenied):
        opportunity_add_activity(opportunity=deal, by=request.getfixturevalue(actor), kind="note", body="Hi")
    assert not Activity.objects.exists()


def test_it_lets_a_rep_work_the_pool_when_the_team_allows(make_deal, team, other_rep):
    pooled = make_deal(owner=None)
    with pytest.raises(PermissionDenied):
        opportunity_add_activity(opportunity=pooled, by=other_rep, kind="note", body="Mine?")
    team.reps_see_pool = True
    team.save()
    opportunity_add_activity(opportunity=pooled, by=other_rep, kind="note", body="Called them")
    assert Activity.objects.get().author == other_rep


# --- files --------------------------------------------------------------------------------------------


def test_it_stores_a_photo_under_a_random_name_keeping_no_user_path(deal, rep, settings):
    activity = opportunity_add_activity(
        opportunity=deal, by=rep, kind="sample", files=[upload("C:\\Users\\rep\\Desktop\\样品 照片.png")]
    )

    attachment = Attachment.objects.get()
    assert (attachment.activity, attachment.opportunity, attachment.stage, attachment.uploaded_by) == (
        activity,
        deal,
        deal.stage,
        rep,
    )
    assert attachment.content_type == "image/png"
    assert attachment.size == len(png_bytes())
    assert attachment.original_name == "样品_照片.png"
    assert len(attachment.stored_name) == 36  # 32 hex digits + ".png"
    assert attachment.stored_name.endswith(".png")
    assert "Users" not in attachment.file.name and "样品" not in attachment.file.name
    assert attachment.file.name.endswith(attachment.stored_name)
    [path] = stored_files(settings)
    assert path.read_bytes() == png_bytes()
    assert str(path).startswith(str(settings.MEDIA_ROOT))


def test_it_gives_two_uploads_of_one_name_different_stored_names(deal, rep):
    opportunity_add_activity(opportunity=deal, by=rep, kind="sample", files=[upload("a.png"), upload("a.png")])
    first, second = Attachment.objects.all()
    assert first.stored_name != second.stored_name
    assert first.file.name != second.file.name


def test_it_judges_a_renamed_text_file_by_its_content(deal, rep):
    opportunity_add_activity(
        opportunity=deal, by=rep, kind="quote", files=[upload("quote.jpg", "报价单：每件 12.5 美元\n".encode())]
    )
    attachment = Attachment.objects.get()
    assert attachment.content_type == "text/plain"
    assert attachment.stored_name.endswith(".txt")
    assert attachment.is_image is False


def test_it_accepts_gbk_text(deal, rep):
    opportunity_add_activity(
        opportunity=deal, by=rep, kind="note", files=[upload("备注.txt", "样品已寄出".encode("gbk"))]
    )
    assert Attachment.objects.get().content_type == "text/plain"


@pytest.mark.parametrize(
    "name, content",
    [("setup.exe", WINDOWS_EXE), ("photo.jpg", ELF), ("photo.jpg", JUNK), ("data.bin", JUNK_GB), ("empty.txt", b"")],
    ids=["windows-exe", "elf-renamed-jpg", "control-byte-junk", "gb18030-decodable-junk", "empty"],
)
def test_it_refuses_files_that_are_not_evidence(deal, rep, settings, name, content):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_add_activity(opportunity=deal, by=rep, kind="note", body="See file", files=[upload(name, content)])
    assert name in excinfo.value.message_dict["files"][0]
    assert not Activity.objects.exists()
    assert stored_files(settings) == []


def test_it_refuses_an_oversize_file(deal, rep, settings):
    settings.ATTACHMENT_MAX_BYTES = 50
    with pytest.raises(ValidationError) as excinfo:
        opportunity_add_activity(opportunity=deal, by=rep, kind="sample", files=[upload("big.png")])
    [message] = excinfo.value.message_dict["files"]
    assert "big.png" in message and "50" in message
    assert not Attachment.objects.exists()


def test_it_rejects_the_whole_activity_when_one_file_is_bad(deal, rep, settings):
    with pytest.raises(ValidationError) as excinfo:
        opportunity_add_activity(
            opportunity=deal,
            by=rep,
            kind="sample",
            body="Photos",
            tracking_number="SF1",
            files=[upload("good.png"), upload("virus.jpg", WINDOWS_EXE), upload("also-good.png")],
        )
    assert len(excinfo.value.message_dict["files"]) == 1
    assert not Activity.objects.exists()
    assert not Attachment.objects.exists()
    assert stored_files(settings) == []
    assert Opportunity.objects.get(pk=deal.pk).last_activity_at is None


def test_it_survives_a_file_name_with_nothing_usable_in_it(deal, rep):
    opportunity_add_activity(opportunity=deal, by=rep, kind="sample", files=[upload("???", png_bytes())])
    attachment = Attachment.objects.get()
    assert attachment.original_name == "file.png"
