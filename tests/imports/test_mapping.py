import pytest
from django.core.exceptions import ValidationError

from opportunities.imports.mapping import guess_field, mapping_clean, mapping_from_names, mapping_guess
from tests.imports.files import CARD_HEADERS_EN, CARD_HEADERS_ZH

EXPECTED = ["company", "contact", "title", "phone", "email", "country", "wechat", "product", "amount", "notes"]


@pytest.mark.parametrize("headers", [CARD_HEADERS_ZH, CARD_HEADERS_EN])
def test_it_recognises_chinese_and_english_card_headers(headers):
    assert list(mapping_guess(headers).values()) == EXPECTED


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("公司", "company"),
        ("客户名称", "company"),
        ("Company Name", "company"),
        ("ＣＯＭＰＡＮＹ", "company"),
        ("*公司名称", "company"),
        ("公司 / Company", "company"),
        ("邮箱(Email)", "email"),
        ("E-mail Address", "email"),
        ("联系人电话", "phone"),
        ("手机", "phone"),
        ("电话", "phone"),
        ("Tel.", "phone"),
        ("国家/地区", "country"),
        ("微信号", "wechat"),
        ("WhatsApp", "whatsapp"),
        ("负责人", "owner"),
        ("Owner", "owner"),
        ("产品", "product"),
        ("Product interest", "product"),
        ("金额", "amount"),
        ("备注", "notes"),
        ("Remarks", "notes"),
        ("预计成交日期", "close_date"),
        ("职位", "title"),
        ("Job title", "title"),
        ("币种", "currency"),
    ],
)
def test_it_guesses_fields_from_headers(header, field):
    assert guess_field(header)[0] == field


@pytest.mark.parametrize("header", ["公司地址", "Address", "", "Mobile/WhatsApp", "序号"])
def test_it_leaves_unknown_or_ambiguous_headers_unmapped(header):
    assert guess_field(header)[0] is None


def test_it_gives_a_single_field_to_the_clearest_column_and_phones_to_all():
    mapping = mapping_guess(["客户", "公司名称", "手机", "座机"])
    assert mapping == {"0": "company", "2": "phone", "3": "phone"}  # exact matches tie: leftmost wins


def test_it_prefers_a_saved_mapping_over_synonyms():
    saved = {"客户": "contact", "公司名称": "company", "座机": ""}
    assert mapping_guess(["客户", "公司名称", "手机", "座机"], saved) == {"0": "contact", "1": "company", "2": "phone"}


def test_it_checks_a_corrected_mapping():
    headers = ["A", "B", "C"]
    assert mapping_clean(headers, {"0": "company", "1": "", "2": "phone"}) == {"0": "company", "2": "phone"}
    with pytest.raises(ValidationError) as error:
        mapping_clean(headers, {"0": "email", "1": "email", "5": "notes", "2": "salary"})
    text = " ".join(error.value.messages)
    assert "E-mail" in text and "Unknown column" in text and "Unknown field" in text and "Company" in text


def test_it_applies_corrections_by_header_or_number():
    headers = ["公司名称", "Name", "Handy"]
    base = mapping_guess(headers)
    assert mapping_from_names(headers, {"Handy": "phone", "1": ""}, base) == {"0": "company", "2": "phone"}
    with pytest.raises(ValidationError):
        mapping_from_names(headers, {"Fax": "phone"}, base)
