"""Which column holds what: header synonyms in Chinese and English, and mapping checks.

A mapping is ``{column index as text: field}``. Headers are recognised after normalising
(full-width → half-width, case, spaces and punctuation removed); bilingual headers such as
``公司 / Company`` or ``邮箱(Email)`` are split and read part by part; a Chinese compound is read
by its last word (``联系人电话`` is a phone, ``公司地址`` is not a company).
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FIELDS: dict[str, str] = {
    "company": gettext_lazy("Company"),
    "contact": gettext_lazy("Contact name"),
    "title": gettext_lazy("Job title"),
    "phone": gettext_lazy("Phone"),
    "email": gettext_lazy("E-mail"),
    "country": gettext_lazy("Country"),
    "wechat": gettext_lazy("WeChat"),
    "whatsapp": gettext_lazy("WhatsApp"),
    "website": gettext_lazy("Website"),
    "industry": gettext_lazy("Industry"),
    "product": gettext_lazy("Product interest"),
    "deal_title": gettext_lazy("Opportunity title"),
    "amount": gettext_lazy("Amount"),
    "currency": gettext_lazy("Currency"),
    "close_date": gettext_lazy("Expected close date"),
    "notes": gettext_lazy("Notes"),
    "owner": gettext_lazy("Owner"),
}
REQUIRED = ("company",)
# Fields several columns may feed: the first non-empty phone is the contact's phone (the
# others are kept in the description); every notes column is kept; contact name parts are joined.
MULTI = frozenset({"phone", "notes", "contact"})

SYNONYMS: dict[str, tuple[str, ...]] = {
    "company": (
        "公司",
        "公司名称",
        "公司名",
        "单位",
        "单位名称",
        "企业",
        "企业名称",
        "客户",
        "客户名称",
        "客户公司",
        "厂商",
        "厂家",
        "工厂",
        "买家公司",
        "采购商",
        "company",
        "company name",
        "companyname",
        "organisation",
        "organization",
        "org",
        "customer",
        "customer name",
        "account",
        "account name",
        "firm",
        "enterprise",
        "buyer company",
    ),
    "contact": (
        "联系人",
        "姓名",
        "名字",
        "联系人姓名",
        "客户姓名",
        "买家",
        "买家姓名",
        "contact",
        "contact name",
        "contact person",
        "name",
        "full name",
        "person",
        "buyer",
        "buyer name",
        "first name",
        "last name",
    ),
    "title": ("职位", "职务", "头衔", "岗位", "title", "job title", "position", "designation", "role"),
    "phone": (
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "电话号码",
        "联系电话",
        "联系方式",
        "座机",
        "固话",
        "移动电话",
        "tel",
        "telephone",
        "phone",
        "phone number",
        "mobile",
        "mobile phone",
        "cell",
        "cell phone",
        "mob",
    ),
    "email": ("邮箱", "邮件", "电子邮件", "电子邮箱", "邮箱地址", "email", "e-mail", "mail", "email address"),
    "country": ("国家", "国家地区", "地区", "国别", "country", "region", "country region", "nation"),
    "wechat": ("微信", "微信号", "wechat", "weixin", "wechat id"),
    "whatsapp": ("whatsapp", "whatsapp number"),
    "website": ("网站", "网址", "官网", "公司网站", "主页", "website", "web", "url", "homepage", "web site"),
    "industry": ("行业", "所属行业", "industry", "sector"),
    "product": (
        "产品",
        "意向产品",
        "感兴趣产品",
        "兴趣产品",
        "需求产品",
        "产品兴趣",
        "询盘产品",
        "采购产品",
        "product",
        "products",
        "product interest",
        "interest",
        "interested in",
        "interested products",
        "inquiry",
        "enquiry",
        "产品名称",
        "product name",
    ),
    "deal_title": (
        "商机",
        "商机名称",
        "机会名称",
        "销售机会",
        "项目名称",
        "opportunity",
        "opportunity name",
        "deal",
        "deal name",
        "subject",
    ),
    "amount": (
        "金额",
        "预计金额",
        "预算",
        "订单金额",
        "意向金额",
        "采购金额",
        "amount",
        "value",
        "deal value",
        "budget",
        "expected amount",
        "estimated value",
        "order value",
    ),
    "currency": ("币种", "货币", "currency", "curr"),
    "close_date": (
        "预计成交日期",
        "预计成交",
        "成交日期",
        "预计签单日期",
        "expected close date",
        "close date",
        "closing date",
        "expected close",
    ),
    "notes": (
        "备注",
        "说明",
        "附言",
        "留言",
        "询盘内容",
        "需求描述",
        "notes",
        "note",
        "remarks",
        "remark",
        "comment",
        "comments",
        "memo",
        "message",
        "description",
    ),
    "owner": (
        "负责人",
        "业务员",
        "销售",
        "销售员",
        "跟进人",
        "归属人",
        "所属销售",
        "业务代表",
        "owner",
        "sales rep",
        "rep",
        "assigned to",
        "assignee",
        "salesperson",
        "account manager",
    ),
}

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_SPLIT = re.compile(r"[/|()（）\[\]【】<>《》,，、;；:：\n]+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def normalize_header(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").casefold().replace("*", ""))


_LOOKUP: dict[str, str] = {normalize_header(word): field for field, words in SYNONYMS.items() for word in words}
# Suffix matching only for words specific enough to decide a compound on their own.
_SUFFIXES = sorted(
    ((key, field) for key, field in _LOOKUP.items() if (_CJK.search(key) and len(key) >= 2) or len(key) >= 5),
    key=lambda item: -len(item[0]),
)


def guess_field(header: str) -> tuple[str | None, int]:
    """(field, confidence): 3 exact, 2 every part of a bilingual header agrees, 1 by last word."""
    key = normalize_header(header)
    if not key:
        return None, 0
    if key in _LOOKUP:
        return _LOOKUP[key], 3
    parts = {_LOOKUP.get(normalize_header(part)) for part in _SPLIT.split(header) if normalize_header(part)}
    parts.discard(None)
    if len(parts) == 1:
        return parts.pop(), 2
    if not parts:
        for suffix, field in _SUFFIXES:
            if key.endswith(suffix):
                return field, 1
    return None, 0


def mapping_guess(headers: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """The best mapping for ``headers``: a saved mapping's choices first, then synonyms.
    A single-valued field goes to the most confident column (leftmost on a tie)."""
    saved = saved or {}
    scored: list[tuple[int, int, str]] = []
    for index, header in enumerate(headers):
        key = normalize_header(header)
        if key in saved:
            if saved[key] in FIELDS:
                scored.append((4, index, saved[key]))
            continue  # saved as "not imported"
        field, confidence = guess_field(header)
        if field:
            scored.append((confidence, index, field))
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for _confidence, index, field in sorted(scored, key=lambda item: (-item[0], item[1])):
        if field in taken and field not in MULTI:
            continue
        taken.add(field)
        mapping[str(index)] = field
    return dict(sorted(mapping.items(), key=lambda item: int(item[0])))


def mapping_clean(headers: list[str], mapping: dict) -> dict[str, str]:
    """Check a mapping chosen by a person: known fields, real columns, single fields used once,
    and the company mapped. Raises ValidationError with every problem."""
    errors: list[str] = []
    clean: dict[str, str] = {}
    used: dict[str, int] = {}
    for raw_index, field in (mapping or {}).items():
        if not field:
            continue
        try:
            index = int(raw_index)
        except (TypeError, ValueError):
            errors.append(_("Unknown column “%(column)s”.") % {"column": raw_index})
            continue
        if not 0 <= index < len(headers):
            errors.append(_("Unknown column “%(column)s”.") % {"column": raw_index})
            continue
        if field not in FIELDS:
            errors.append(_("Unknown field “%(field)s”.") % {"field": field})
            continue
        used[field] = used.get(field, 0) + 1
        clean[str(index)] = field
    for field, count in used.items():
        if count > 1 and field not in MULTI:
            errors.append(
                _("“%(field)s” is chosen for %(count)d columns; choose one.") % {"field": FIELDS[field], "count": count}
            )
    for field in REQUIRED:
        if field not in used:
            errors.append(_("Choose the column that holds “%(field)s”.") % {"field": FIELDS[field]})
    if errors:
        raise ValidationError(errors, code="mapping")
    return dict(sorted(clean.items(), key=lambda item: int(item[0])))


def mapping_from_names(headers: list[str], given: dict, base: dict[str, str]) -> dict[str, str]:
    """Apply corrections keyed by header text or column number (API and command) on ``base``."""
    mapping = dict(base)
    by_name = {normalize_header(header): str(index) for index, header in reversed(list(enumerate(headers)))}
    errors = []
    for key, field in (given or {}).items():
        key = str(key)
        index = key if key.isdigit() else by_name.get(normalize_header(key))
        if index is None:
            errors.append(_("The file has no column “%(column)s”.") % {"column": key})
            continue
        if field:
            mapping[index] = field
        else:
            mapping.pop(index, None)
    if errors:
        raise ValidationError({"mapping": errors}, code="mapping")
    return mapping


def header_label(headers: list[str], index: int) -> str:
    header = headers[index] if index < len(headers) else ""
    return header or _("Column %(number)d") % {"number": index + 1}


def looks_like_header(cells: list[str]) -> bool:
    return sum(1 for cell in cells if guess_field(cell)[0]) >= 2
