"""Normal forms of company names, e-mails and phone numbers, for duplicate detection."""

import re
import unicodedata

_LATIN_SUFFIXES = frozenset(
    {
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "gmbh",
        "sarl",
        "srl",
        "spa",
        "bv",
        "pte",
        "plc",
        "sa",
    }
)
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
# The last Latin word, standing on its own (after a space, punctuation or a CJK character):
# "xüco" does not end in the suffix "co", "华强电子ltd" does end in "ltd".
_LAST_LATIN_WORD = re.compile(r"(?:^|(?<=[\W_])|(?<=[\u3000-\u9fff\uf900-\ufaff]))([a-z]+)$")
_TRAILING_NON_WORD = re.compile(r"[\W_]+$", re.UNICODE)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_email(value: str) -> str:
    """Trimmed, lower-case, full-width characters folded (ＡＢＣ＠… typed on a Chinese keyboard)."""
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def normalize_phone(value: str) -> str:
    """Digits only, international prefix '00' folded into '+' form without the sign."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("00"):
        digits = digits[2:]
    return digits


def _strip_one_suffix(text: str) -> str:
    text = _TRAILING_NON_WORD.sub("", text)
    for suffix in _CJK_SUFFIXES:
        if text.endswith(suffix):
            return text[: -len(suffix)]
    match = _LAST_LATIN_WORD.search(text)
    if match and match.group(1) in _LATIN_SUFFIXES:
        return text[: match.start(1)]
    return text


def normalize_company(value: str) -> str:
    """Case-, width-, punctuation- and legal-suffix-insensitive company key.

    Only legal suffixes at the end are dropped, repeatedly ("Co., Ltd.", "集团有限公司"), so
    "Co-operative Bank" or "SA Power" keep their words; a name that is nothing but a suffix
    stays as it is.
    """
    text = unicodedata.normalize("NFKC", value or "").strip().lower()
    while True:
        stripped = _strip_one_suffix(text)
        if stripped == text or not _NON_WORD.sub("", stripped):
            break
        text = stripped
    return _NON_WORD.sub("", text)
