"""Normal forms of company names, e-mails and phone numbers, for duplicate detection."""

import re
import unicodedata

_COMPANY_SUFFIXES = re.compile(
    r"\b(co|company|corp|corporation|inc|incorporated|ltd|limited|llc|gmbh|sarl|srl|spa|bv|pte|plc|sa)\b\.?",
    re.IGNORECASE,
)
_CJK_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_email(value: str) -> str:
    return (value or "").strip().lower()


def normalize_phone(value: str) -> str:
    """Digits only, international prefix '00' folded into '+' form without the sign."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("00"):
        digits = digits[2:]
    return digits


def normalize_company(value: str) -> str:
    """Case-, width-, punctuation- and legal-suffix-insensitive company key."""
    text = unicodedata.normalize("NFKC", value or "").strip().lower()
    for suffix in _CJK_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    text = _COMPANY_SUFFIXES.sub(" ", text)
    return _NON_WORD.sub("", text)
