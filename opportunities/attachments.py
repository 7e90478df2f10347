"""Upload checks for evidence files: size, and type decided from the content, not the name.

A file renamed to ``.jpg`` is still judged by its bytes; what we store gets a random name
with the extension of the detected type, so nothing the uploader names reaches the disk.
"""

import unicodedata
import uuid
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/heic": "heic",
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/zip": "zip",
    "text/plain": "txt",
}
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    stored_name: str
    original_name: str
    size: int


# Control characters that real text files carry; any other (and private-use or unassigned code
# points, which GB18030 happily decodes binary bytes into) means the bytes are not text.
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1a\x1b")
_NOT_TEXT_CATEGORIES = frozenset({"Cc", "Co", "Cn", "Cs"})


def _decode(head: bytes, encoding: str, *, complete: bool) -> str | None:
    # The head of a longer file may end inside a multi-byte character (up to 3 bytes of it).
    for cut in (0,) if complete else (0, 1, 2, 3):
        try:
            return head[: len(head) - cut].decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _looks_like_text(head: bytes, *, complete: bool = False) -> bool:
    """UTF-8 or GB18030 (which covers GBK) text, made of printable characters and whitespace."""
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        text = _decode(head, encoding, complete=complete)
        if text is None:
            continue
        odd = sum(
            1 for char in text if char not in _TEXT_CONTROLS and unicodedata.category(char) in _NOT_TEXT_CATEGORIES
        )
        return odd * 100 <= len(text)  # tolerate a stray odd character in a long text
    return False


def _original_name(name: str, extension: str) -> str:
    """The uploader's file name without any folder, for display and download only (never a path)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return get_valid_filename(base)[:255]
    except SuspiciousFileOperation:  # nothing usable left, e.g. "???"
        return f"file.{extension}"


def upload_check(upload) -> CheckedUpload:
    """Validate one uploaded file; raise ValidationError with a message naming the file."""
    name = getattr(upload, "name", "") or "file"
    size = upload.size
    limit = settings.ATTACHMENT_MAX_BYTES
    if size == 0:
        raise ValidationError(_("%(name)s is empty.") % {"name": name}, code="empty_file")
    if size > limit:
        raise ValidationError(
            _("%(name)s is %(size)s; the limit is %(limit)s.")
            % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="file_too_large",
        )
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        content_type = kind.mime
    elif _looks_like_text(head, complete=size <= len(head)):
        content_type = "text/plain"
    else:
        content_type = ""
    if content_type not in ALLOWED_TYPES:
        raise ValidationError(
            _("%(name)s is not an allowed file type (photos, PDF, Office documents, text or ZIP).") % {"name": name},
            code="file_type",
        )
    extension = ALLOWED_TYPES[content_type]
    original = _original_name(name, extension)
    return CheckedUpload(
        content_type=content_type,
        stored_name=f"{uuid.uuid4().hex}.{extension}",
        original_name=original,
        size=size,
    )
