"""Lead files made by the tests themselves, the way the programs our users have write them."""

import csv
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from crm.dates import company_today

CARD_HEADERS_ZH = ["公司名称", "联系人", "职位", "手机", "邮箱", "国家", "微信", "意向产品", "预计金额", "备注"]
CARD_HEADERS_EN = [
    "Company",
    "Contact",
    "Title",
    "Phone",
    "E-mail",
    "Country",
    "WeChat",
    "Product interest",
    "Amount",
    "Notes",
]


def card(n: int) -> list[str]:
    """One business card; every n gives a different company, person, phone and e-mail."""
    return [
        f"深圳市第{n}电子有限公司",
        f"张{n}",
        "采购经理",
        f"138{n:08d}",
        f"buyer{n}@factory{n}.cn",
        "中国",
        f"wx_{n}",
        "LED灯",
        f"{1000 + n}",
        f"广交会名片 {n}",
    ]


def cards(count: int, start: int = 1) -> list[list[str]]:
    return [card(n) for n in range(start, start + count)]


def csv_text(rows: list[list[str]], *, delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def excel_gbk_csv(rows: list[list[str]]) -> bytes:
    """“CSV (逗号分隔)” from Chinese Excel: GBK, no BOM, CRLF, quotes only where needed."""
    return csv_text(rows).encode("gbk")


def utf8_bom_csv(rows: list[list[str]], *, delimiter: str = ",") -> bytes:
    """“CSV UTF-8” from Excel: a byte-order mark first."""
    return b"\xef\xbb\xbf" + csv_text(rows, delimiter=delimiter).encode("utf-8")


def utf16_text(rows: list[list[str]]) -> bytes:
    """“Unicode text” from Excel: UTF-16 little-endian with a BOM, tab-separated."""
    return csv_text(rows, delimiter="\t").encode("utf-16")


def xlsx_bytes(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(data: bytes, name: str = "cards.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def in_days(days: int) -> str:
    return (company_today() + datetime.timedelta(days=days)).isoformat()
