"""upload_check: the type of an evidence file is decided by its bytes, never by its name."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError

from opportunities.attachments import SNIFF_BYTES, upload_check
from tests.factories import upload


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "name, content, content_type, extension",
    [
        ("invoice.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf", "pdf"),
        ("quote.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        ("photo.txt", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "image/jpeg", "jpg"),
        ("notes.md", b"Courier: SF\r\nTracking: SF123\f\n", "text/plain", "txt"),
    ],
    ids=["pdf", "docx", "jpeg-named-txt", "text-with-form-feed"],
)
def test_it_detects_the_type_from_the_content(name, content, content_type, extension):
    checked = upload_check(upload(name, content))
    assert checked.content_type == content_type
    assert checked.stored_name.endswith(f".{extension}")
    assert checked.original_name == name


def test_it_reads_a_long_utf8_text_cut_inside_a_character():
    text = ("样" * (SNIFF_BYTES // 3 + 10)).encode()  # 3-byte characters: the sniffed head ends mid-character
    assert SNIFF_BYTES % 3 != 0
    assert upload_check(upload("long.txt", text)).content_type == "text/plain"


def test_it_keeps_only_the_base_name_of_a_path():
    assert upload_check(upload("../../etc/passwd.png")).original_name == "passwd.png"
    assert upload_check(upload("D:\\报价\\final quote.png")).original_name == "final_quote.png"


def test_it_names_the_file_in_the_message(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as excinfo:
        upload_check(upload("样品.png"))
    assert excinfo.value.code == "file_too_large"
    assert "样品.png" in excinfo.value.messages[0]
