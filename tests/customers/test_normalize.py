"""Normal forms used for duplicate detection (business cards from fairs come in every spelling)."""

import pytest

from customers.normalize import normalize_company, normalize_email, normalize_phone


@pytest.mark.parametrize(
    "raw",
    ["john.doe@example.com", "  John.Doe@Example.COM ", "ＪＯＨＮ.ＤＯＥ＠ｅｘａｍｐｌｅ.ｃｏｍ"],
    ids=["plain", "case-and-spaces", "full-width"],
)
def test_it_normalises_emails(raw):
    assert normalize_email(raw) == "john.doe@example.com"


def test_it_keeps_an_empty_email_empty():
    assert normalize_email("") == normalize_email(None) == ""


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138 0013 8000",
        "0086-138-0013-8000",
        "(+86) 138.0013.8000",
        "８６１３８００１３８０００",
        "+86 (138) 0013 8000",
    ],
    ids=["plus", "double-zero", "dots", "full-width", "brackets"],
)
def test_it_normalises_phones_to_digits_with_the_country_code(raw):
    assert normalize_phone(raw) == "8613800138000"


def test_it_keeps_a_local_number_as_its_digits():
    assert normalize_phone("(0755) 8888-1234") == "075588881234"


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "深圳市华强电子有限公司",
            "深圳市华强电子",
            "深圳市华强电子股份有限公司",
            "深圳市华强电子有限责任公司",
            "深圳市 华强电子（有限公司）",
        ],
        [
            "Shenzhen Huaqiang Electronics Co., Ltd.",
            "SHENZHEN HUAQIANG ELECTRONICS CO.,LTD",
            "Shenzhen Huaqiang Electronics Company Limited",
            "shenzhen huaqiang electronics",
            "Shenzhen Huaqiang Electronics Ltd",
        ],
        ["Müller GmbH", "MÜLLER", "Müller  GmbH."],
        ["Acme, Inc.", "ACME INC", "Acme Incorporated", "Acme LLC"],
    ],
    ids=["chinese", "english", "german", "american"],
)
def test_it_gives_every_spelling_of_one_company_the_same_key(spellings):
    keys = {normalize_company(name) for name in spellings}
    assert len(keys) == 1
    assert keys != {""}


def test_it_strips_only_legal_suffixes_at_the_end():
    assert normalize_company("Co-operative Bank Ltd") != normalize_company("Operative Bank")
    assert normalize_company("Limited Edition Toys Ltd") == "limitededitiontoys"
    assert normalize_company("SA Power Networks") == "sapowernetworks"
    assert normalize_company("Spa Resort Supplies Co., Ltd.") == "sparesortsupplies"


def test_it_keeps_a_name_that_is_only_a_suffix():
    assert normalize_company("有限公司") == "有限公司"
    assert normalize_company("Company") == "company"


def test_it_keeps_an_empty_name_empty():
    assert normalize_company("") == normalize_company(None) == ""
