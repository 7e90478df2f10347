"""Reading uploaded lead files: CSV in whatever encoding Excel wrote it, or XLSX, streamed.

CSV encodings are decided in a fixed order, never by guessing statistics on a few bytes:
a byte-order mark (UTF-8, UTF-16) → UTF-16 without a mark (NUL bytes in every other
position) → strict UTF-8 over the whole file → strict GB18030 (a superset of GBK, what
Chinese Excel writes) over the whole file, accepted only if the text reads like Chinese.
The last check matters: GB18030 accepts many byte sequences, so a Big5 or Latin-1 file
"decodes" into garbage; we refuse it with a message rather than store mojibake.
"""

import codecs
import csv
import hashlib
import io
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BLOCK = 1 << 20
SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t", "|")
# Share of non-ASCII characters that must be common Chinese (GB2312 rows, both bytes ≥ 0xA1)
# for a file that is not UTF-8 to be read as GB18030. Real Chinese text scores ~1.0; Big5
# read as GBK ~0.5; Latin-1 or cp1252 read as GBK close to 0.
GB_COMMON_SHARE = 0.8

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"

csv.field_size_limit(1 << 20)


class FileFormatError(ValidationError):
    """The file cannot be read; the message names the problem and what to do."""


@dataclass(frozen=True)
class FileInfo:
    format: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    size: int = 0
    sha256: str = ""


def _line_of(f: BinaryIO, offset: int) -> int:
    f.seek(0)
    return f.read(offset).count(b"\n") + 1


def _strict_decode_error(f: BinaryIO, encoding: str) -> int | None:
    """Decode the whole file strictly in blocks; the byte offset of the first error, or None."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    f.seek(0)
    offset = 0
    while True:
        block = f.read(BLOCK)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            return max(0, offset - pending + exc.start)
        if not block:
            return None
        offset += len(block)


def _looks_like_broken_utf8(sample: bytes) -> bool:
    """Mostly valid multi-byte UTF-8 with a few bad bytes: a damaged UTF-8 file, not GBK."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for char in text if char > "\x7f" and char != "\ufffd")
    return good > 0 and good >= 4 * bad


def _gb_common_share(text: str) -> float:
    non_ascii = [char for char in text if char > "\x7f"]
    if not non_ascii:
        return 1.0
    common = 0
    for char in non_ascii:
        raw = char.encode("gb18030")
        if len(raw) == 2 and raw[0] >= 0xA1 and raw[1] >= 0xA1:
            common += 1
    return common / len(non_ascii)


def _utf16_without_bom(sample: bytes) -> str | None:
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if odd >= len(sample) // 10 and even * 10 < odd:
        return "utf-16-le"
    if even >= len(sample) // 10 and odd * 10 < even:
        return "utf-16-be"
    return None


def detect_encoding(f: BinaryIO) -> str:
    """The Python codec that reads this CSV, or FileFormatError naming the problem."""
    f.seek(0)
    sample = f.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif utf16 := _utf16_without_bom(sample):
        candidates = [utf16]
    else:
        candidates = []
    for encoding in candidates:
        error_at = _strict_decode_error(f, encoding)
        if error_at is None:
            return encoding
        raise FileFormatError(
            _(
                "The file says it is %(encoding)s but line %(line)d contains bytes that are not valid %(encoding)s. "
                "Save it again from Excel as “CSV UTF-8” and upload it."
            )
            % {"encoding": encoding.upper().removesuffix("-SIG"), "line": _line_of(f, error_at)},
            code="encoding",
        )

    utf8_error = _strict_decode_error(f, "utf-8")
    if utf8_error is None:
        return "utf-8"
    f.seek(max(0, utf8_error - SAMPLE_BYTES // 2))
    around = f.read(SAMPLE_BYTES)
    if _looks_like_broken_utf8(around):
        raise FileFormatError(
            _(
                "The file is UTF-8 but line %(line)d contains bytes that are not valid UTF-8 (the file may be damaged "
                "or pieced together from two encodings). Save it again as “CSV UTF-8” and upload it."
            )
            % {"line": _line_of(f, utf8_error)},
            code="encoding",
        )

    gb_error = _strict_decode_error(f, "gb18030")
    if gb_error is None:
        f.seek(0)
        text = codecs.getincrementaldecoder("gb18030")("strict").decode(f.read(SAMPLE_BYTES * 4))
        if _gb_common_share(text) >= GB_COMMON_SHARE:
            return "gb18030"
        raise FileFormatError(
            _(
                "The file is neither UTF-8 nor Chinese GBK/GB18030 text: read as GBK it comes out garbled. It may be "
                "in Big5 or a Western encoding (Latin-1, Windows-1252). Save it from Excel as “CSV UTF-8” and "
                "upload it."
            ),
            code="encoding",
        )
    raise FileFormatError(
        _(
            "The file cannot be read as text in UTF-8, GB18030/GBK or UTF-16 (the first unreadable byte is on line "
            "%(line)d). It may be in another encoding, or not a CSV file at all. Save it from Excel as “CSV UTF-8” "
            "or as an .xlsx workbook and upload it."
        )
        % {"line": _line_of(f, min(utf8_error, gb_error))},
        code="encoding",
    )


def sniff_delimiter(text: str) -> str:
    """The separator that splits the first lines into the same number of columns most often."""
    lines = text.splitlines(keepends=True)
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end inside a row
    sample = "".join(lines[:100])
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [row for row in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(c.strip() for c in row)]
        except csv.Error:
            continue
        if not rows:
            continue
        width, count = Counter(len(row) for row in rows).most_common(1)[0]
        if width < 2:
            continue
        score = (count / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def inspect_file(f: BinaryIO, *, max_bytes: int) -> FileInfo:
    """Decide how to read an upload (format, encoding, separator) and fingerprint it.

    Reads the whole file once or twice in blocks; raises FileFormatError (nothing stored)."""
    f = _binary(f)
    f.seek(0)
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: f.read(BLOCK), b""):
        digest.update(block)
        size += len(block)
    if size == 0:
        raise FileFormatError(_("The file is empty."), code="empty")
    if size > max_bytes:
        raise FileFormatError(
            _("The file is %(size)d MB; the limit is %(limit)d MB. Split it into smaller files.")
            % {"size": -(-size // (1 << 20)), "limit": max_bytes // (1 << 20)},
            code="too_big",
        )
    f.seek(0)
    head = f.read(8)
    if head.startswith(XLS_MAGIC):
        raise FileFormatError(
            _("This is an old Excel 97–2003 (.xls) workbook. Save it as .xlsx or as CSV and upload it."), code="xls"
        )
    if head.startswith(XLSX_MAGIC):
        _open_workbook(f)  # raises if it is some other zip file
        return FileInfo(format="xlsx", size=size, sha256=digest.hexdigest())
    encoding = detect_encoding(f)
    f.seek(0)
    text = codecs.getincrementaldecoder(encoding)("strict").decode(f.read(SAMPLE_BYTES))
    return FileInfo(
        format="csv", encoding=encoding, delimiter=sniff_delimiter(text), size=size, sha256=digest.hexdigest()
    )


def _open_workbook(f: BinaryIO):
    from openpyxl import load_workbook

    f.seek(0)
    try:
        return load_workbook(f, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign zip
        raise FileFormatError(
            _("The file is not a readable Excel .xlsx workbook (%(error)s).") % {"error": exc.__class__.__name__},
            code="xlsx",
        ) from exc


def _cell_text(value) -> str:
    """What a person sees in the cell. Whole numbers stay whole (phone numbers are often typed
    as numbers), dates become ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if hasattr(value, "hour") and hasattr(value, "date"):
        return (
            value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat(" ")
        )
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _binary(f):
    """The plain binary file under a Django File (TextIOWrapper and openpyxl want one)."""
    inner = getattr(f, "file", None)
    return _binary(inner) if inner is not None and not isinstance(f, io.IOBase) else f


def iter_records(f: BinaryIO, info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    """Every non-empty record as (row number as Excel shows it, cells), streamed."""
    f = _binary(f)
    f.seek(0)
    if info.format == "xlsx":
        workbook = _open_workbook(f)
        try:
            sheet = workbook.active or workbook.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    yield number, cells
        finally:
            workbook.close()
        return
    text = io.TextIOWrapper(f, encoding=info.encoding, newline="")
    try:
        reader = csv.reader(text, delimiter=info.delimiter or ",")
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileFormatError(
                    _("Line %(line)d cannot be read as CSV: %(error)s.") % {"line": reader.line_num, "error": exc},
                    code="csv",
                ) from exc
            number += 1
            cells = [cell.strip() for cell in row]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                yield number, cells
    finally:
        text.detach()


def first_records(f: BinaryIO, info: FileInfo, count: int) -> list[tuple[int, list[str]]]:
    return list(itertools.islice(iter_records(f, info), count))
