import io

import pytest

from opportunities.imports.decoding import FileFormatError, first_records, inspect_file, iter_records
from tests.imports.files import (
    CARD_HEADERS_EN,
    CARD_HEADERS_ZH,
    cards,
    excel_gbk_csv,
    utf8_bom_csv,
    utf16_text,
    xlsx_bytes,
)

LIMIT = 50 * 1024 * 1024


def read(data: bytes):
    f = io.BytesIO(data)
    info = inspect_file(f, max_bytes=LIMIT)
    return info, list(iter_records(f, info))


def test_it_reads_a_gbk_csv_as_excel_writes_it():
    rows = [
        CARD_HEADERS_ZH,
        *cards(3),
        ["广州“好运”贸易有限公司", "李四", "", "", "", "", "", "地址: 天河区,\n体育西路", "", ""],
    ]
    info, records = read(excel_gbk_csv(rows))
    assert (info.format, info.encoding, info.delimiter) == ("csv", "gb18030", ",")
    assert records[0] == (1, CARD_HEADERS_ZH)
    assert records[1][1][0] == "深圳市第1电子有限公司"
    assert records[-1][1][0] == "广州“好运”贸易有限公司"
    assert records[-1][1][7] == "地址: 天河区,\n体育西路"


def test_it_reads_gb18030_characters_outside_gbk():
    info, records = read("公司,联系人\r\n㐀㐁科技有限公司,王喆\r\n".encode("gb18030"))
    assert info.encoding == "gb18030"
    assert records[1][1] == ["㐀㐁科技有限公司", "王喆"]


def test_it_drops_the_utf8_byte_order_mark():
    info, records = read(utf8_bom_csv([CARD_HEADERS_EN, *cards(2)]))
    assert info.encoding == "utf-8-sig"
    assert records[0][1][0] == "Company"


def test_it_reads_plain_utf8():
    info, records = read(b"Company,Contact\nM\xc3\xbcller GmbH,J\xc3\xbcrgen\n")
    assert info.encoding == "utf-8"
    assert records[1][1] == ["Müller GmbH", "Jürgen"]


def test_it_reads_utf16_unicode_text_with_tabs():
    info, records = read(utf16_text([CARD_HEADERS_ZH, *cards(2)]))
    assert (info.encoding, info.delimiter) == ("utf-16", "\t")
    assert records[2][1][0] == "深圳市第2电子有限公司"


def test_it_reads_utf16_without_a_byte_order_mark():
    info, records = read("Company\tContact\r\nACME\tAnna\r\n".encode("utf-16-le"))
    assert info.encoding == "utf-16-le"
    assert records[1][1] == ["ACME", "Anna"]


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_it_sniffs_the_separator(delimiter):
    rows = [["Company", "Contact", "Amount"], ["ACME GmbH", "Hans", "1.234,50"], ["Beta SA", "Luc", "99"]]
    info, records = read(utf8_bom_csv(rows, delimiter=delimiter))
    assert info.delimiter == delimiter
    assert records[1][1] == ["ACME GmbH", "Hans", "1.234,50"]


def test_it_refuses_latin1_text_that_gbk_would_garble():
    data = "Company;Contact\r\nMüller GmbH;Jürgen Müller\r\nAçores Lda;João\r\n".encode("cp1252")
    with pytest.raises(FileFormatError) as error:
        read(data)
    assert "garbled" in error.value.messages[0]


def test_it_refuses_bytes_no_encoding_reads_and_names_the_line():
    data = b"Company,Contact\r\nACME,Anna\r\n\x81\xff\xfe broken,x\r\n"
    with pytest.raises(FileFormatError) as error:
        read(data)
    assert "line 3" in error.value.messages[0]


def test_it_names_a_damaged_utf8_file():
    data = ("公司,联系人\n" + "深圳电子有限公司,张三\n" * 50).encode() + b"\xe4\xb8 bad\n"
    with pytest.raises(FileFormatError) as error:
        read(data)
    assert "UTF-8" in error.value.messages[0] and "line 52" in error.value.messages[0]


def test_it_refuses_an_old_xls_workbook():
    with pytest.raises(FileFormatError) as error:
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert ".xls" in error.value.messages[0]


def test_it_refuses_an_empty_file_and_one_over_the_limit():
    with pytest.raises(FileFormatError):
        read(b"")
    with pytest.raises(FileFormatError) as error:
        inspect_file(io.BytesIO(b"a,b\n" * 1000), max_bytes=100)
    assert error.value.code == "too_big"


def test_it_streams_xlsx_cells_as_people_see_them():
    import datetime

    data = xlsx_bytes(
        [
            ["公司", "电话", "预计成交日期", "金额"],
            ["ACME", 13800138000, datetime.date(2031, 5, 1), 1234.5],
            [None, None, None, None],
            ["Beta", "+49 30 123", None, 7],
        ]
    )
    info, records = read(data)
    assert info.format == "xlsx"
    assert records == [
        (1, ["公司", "电话", "预计成交日期", "金额"]),
        (2, ["ACME", "13800138000", "2031-05-01", "1234.5"]),
        (4, ["Beta", "+49 30 123", "", "7"]),
    ]


def test_it_refuses_a_zip_that_is_not_a_workbook():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(FileFormatError) as error:
        read(out.getvalue())
    assert ".xlsx" in error.value.messages[0]


def test_it_keeps_excel_row_numbers_across_blank_lines():
    f = io.BytesIO(b"Company\r\n\r\nACME\r\n")
    info = inspect_file(f, max_bytes=LIMIT)
    assert first_records(f, info, 5) == [(1, ["Company"]), (3, ["ACME"])]
