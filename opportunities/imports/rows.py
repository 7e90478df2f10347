"""One row of a lead file → clean values and its errors, with the same rules as
``opportunity_create`` (the services' own validators are called, cached per distinct value so
100,000 rows cost a handful of queries)."""

import datetime
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db.models import Q, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext as _

from crm.dates import company_today
from customers.models import Contact, Customer
from customers.normalize import normalize_company, normalize_email, normalize_phone
from opportunities.imports.mapping import FIELDS, header_label
from opportunities.models import Opportunity
from opportunities.services import _check_owner_in_team, _validate_amount, _validate_close_date, currency_rate_for

CENT = Decimal("0.01")
MAX_LENGTHS = {
    "company": Customer._meta.get_field("name").max_length,
    "country": Customer._meta.get_field("country").max_length,
    "industry": Customer._meta.get_field("industry").max_length,
    "website": Customer._meta.get_field("website").max_length,
    "contact": Contact._meta.get_field("name").max_length,
    "title": Contact._meta.get_field("title").max_length,
    "phone": Contact._meta.get_field("phone").max_length,
    "email": Contact._meta.get_field("email").max_length,
    "wechat": Contact._meta.get_field("wechat").max_length,
    "whatsapp": Contact._meta.get_field("whatsapp").max_length,
    "currency": 3,
}
TITLE_MAX = Opportunity._meta.get_field("title").max_length

_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[;,，；、/\s]+")
_PHONE_SEPARATORS = re.compile(r"[;,，；、/]|\s{2,}")
_EXCEL_NUMBER = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_CODE = re.compile(r"^([A-Za-z]{3})\s*(.*)$|^(.*?)\s*([A-Za-z]{3})$")
_SIGNS = (("US$", "USD"), ("RMB", "CNY"), ("$", "USD"), ("€", "EUR"), ("£", "GBP"), ("¥", "CNY"), ("元", "CNY"))
_CURRENCY_NAMES = {
    "RMB": "CNY",
    "人民币": "CNY",
    "元": "CNY",
    "美元": "USD",
    "欧元": "EUR",
    "英镑": "GBP",
    "日元": "JPY",
    "港币": "HKD",
    "港元": "HKD",
}
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_url = URLValidator()


class RowError(Exception):
    pass


def _clean(text: str) -> str:
    """Width-folded (full-width Ｂ → B, as typed on Chinese keyboards), spaces collapsed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


def parse_amount(text: str) -> tuple[Decimal | None, str]:
    """“12,500”, “$1,200.50”, “USD 3000”, “1.234,56”, “5万” → (amount, currency code or "")."""
    raw = _clean(text).replace(" ", "").replace("'", "")
    if not raw:
        return None, ""
    currency = ""
    for sign, code in _SIGNS:
        if raw.startswith(sign) or raw.endswith(sign):
            currency = code
            raw = raw.removeprefix(sign).removesuffix(sign)
            break
    else:
        match = _CODE.match(raw)
        if match:
            currency = (match.group(1) or match.group(4)).upper()
            raw = match.group(2) if match.group(1) else match.group(3)
    multiplier = 1
    if raw.endswith("万"):
        multiplier, raw = 10000, raw[:-1]
    elif raw.endswith(("千", "k", "K")):
        multiplier, raw = 1000, raw[:-1]
    if "," in raw and "." in raw:
        decimal_mark = "," if raw.rfind(",") > raw.rfind(".") else "."
        raw = raw.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    elif "," in raw:
        raw = raw.replace(",", "") if _THOUSANDS.match(raw) else raw.replace(",", ".")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise RowError(_("“%(value)s” is not an amount.") % {"value": text}) from exc
    if not amount.is_finite():
        raise RowError(_("“%(value)s” is not an amount.") % {"value": text})
    return amount * multiplier, currency


def parse_date(text: str) -> datetime.date:
    """Year first, as Chinese Excel and ISO write dates: 2026-05-01, 2026/5/1, 2026年5月1日, 20260501."""
    raw = _clean(text)
    match = _DATE.match(raw) or _COMPACT_DATE.match(raw)
    try:
        if not match:
            raise ValueError
        return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise RowError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text}) from exc


@dataclass(slots=True)
class LeadRow:
    number: int
    cells: list[str]
    errors: list[str] = field(default_factory=list)
    fingerprint: str = ""
    company: str = ""
    company_key: str = ""
    contact: str = ""
    title: str = ""
    phone: str = ""
    phone_key: str = ""
    email: str = ""
    email_key: str = ""
    country: str = ""
    wechat: str = ""
    whatsapp: str = ""
    website: str = ""
    industry: str = ""
    deal_title: str = ""
    description: str = ""
    amount: Decimal | None = None
    currency: str = "CNY"
    exchange_rate: Decimal = Decimal("1")
    amount_base: Decimal | None = None
    close_date: datetime.date | None = None
    owner: object = None  # a User, for owners taken from a column

    @property
    def has_contact(self) -> bool:
        return bool(self.contact or self.email or self.phone or self.wechat or self.whatsapp)

    def display(self) -> dict:
        """What the preview shows for this row."""
        return {
            "row": self.number,
            "company": self.company,
            "contact": self.contact,
            "title": self.title,
            "email": self.email,
            "phone": self.phone,
            "country": self.country,
            "title_of_deal": self.deal_title,
            "amount": "" if self.amount is None else f"{self.amount} {self.currency}",
            "close_date": self.close_date.isoformat() if self.close_date else "",
            "owner": str(self.owner) if self.owner else "",
        }


class RowReader:
    """Reads rows of one import: knows its mapping, team, default currency and close date."""

    def __init__(
        self,
        *,
        headers: list[str],
        mapping: dict[str, str],
        team,
        currency: str,
        expected_close_date: datetime.date,
        read_owner: bool = False,
    ):
        self.headers = headers
        self.columns: dict[str, list[int]] = {}
        for index, target in sorted(mapping.items(), key=lambda item: int(item[0])):
            self.columns.setdefault(target, []).append(int(index))
        self.fingerprint_fields = sorted(self.columns)
        self.team = team
        self.read_owner = read_owner
        self.currency = currency.upper()
        self.default_close_date = expected_close_date
        self.today = company_today()
        self._owners: dict[str, tuple[object, str]] = {}
        self._rates: dict[str, tuple[Decimal | None, str]] = {}
        self._occurrences: dict[bytes, int] = {}
        self._dates: dict[str, tuple[datetime.date | None, str]] = {}
        self.labels = {key: str(label) for key, label in FIELDS.items()}  # translated once, not per row

    # --- cells -------------------------------------------------------------------------

    def _cells(self, cells: list[str], target: str) -> list[tuple[int, str]]:
        width = len(cells)
        return [(i, cells[i]) for i in self.columns.get(target, ()) if i < width and cells[i]]

    def _one(self, cells: list[str], target: str) -> str:
        """The first non-empty cell of ``target``, cleaned (called ~10 times per row: kept lean)."""
        indexes = self.columns.get(target)
        if not indexes:
            return ""
        width = len(cells)
        for i in indexes:
            if i < width and cells[i]:
                return _clean(cells[i])
        return ""

    def count_occurrence(self, cells: list[str]) -> None:
        """Account for a row without reading it (a resumed run skipping rows already done)."""
        self._fingerprint(cells)

    def _fingerprint(self, cells: list[str]) -> str:
        """Same mapped values → same fingerprint; the n-th identical row of a file gets its own,
        so a file with two identical rows re-imports as exactly those two rows."""
        width = len(cells)
        content = "\x1f".join(
            target + "\x1e" + "\x1d".join(cells[i] for i in self.columns[target] if i < width)
            for target in self.fingerprint_fields
        )
        digest = hashlib.blake2b(content.encode(), digest_size=16).digest()
        occurrence = self._occurrences.get(digest, 0) + 1
        self._occurrences[digest] = occurrence
        return hashlib.blake2b(digest + occurrence.to_bytes(4, "big"), digest_size=20).hexdigest()

    # --- cached look-ups (one query per distinct value) -------------------------------

    def _rate(self, currency: str) -> tuple[Decimal | None, str]:
        if currency not in self._rates:
            try:
                self._rates[currency] = (currency_rate_for(currency=currency, on=self.today), "")
            except ValidationError as exc:
                self._rates[currency] = (None, " ".join(exc.messages))
        return self._rates[currency]

    def _owner(self, value: str) -> tuple[object, str]:
        key = value.casefold()
        if key not in self._owners:
            self._owners[key] = self._find_owner(value)
        return self._owners[key]

    def _find_owner(self, value: str) -> tuple[object, str]:
        User = get_user_model()
        users = list(User.objects.filter(Q(username__iexact=value) | Q(email__iexact=value))[:2])
        if not users:
            users = list(
                User.objects.annotate(
                    western=Concat("first_name", Value(" "), "last_name"), chinese=Concat("last_name", "first_name")
                ).filter(Q(western__iexact=value) | Q(chinese__iexact=value))[:2]
            )
        if not users:
            return None, _("There is no user “%(value)s” (give a username, e-mail or full name).") % {"value": value}
        if len(users) > 1:
            return None, _("“%(value)s” names more than one user; give the username.") % {"value": value}
        try:
            _check_owner_in_team(users[0], self.team)
        except ValidationError as exc:
            return None, " ".join(exc.messages)
        return users[0], ""

    # --- the row -------------------------------------------------------------------------

    def read(self, number: int, cells: list[str]) -> LeadRow:
        row = LeadRow(number=number, cells=cells, fingerprint=self._fingerprint(cells))
        errors = row.errors
        extras: list[str] = []

        for target in ("company", "title", "country", "wechat", "whatsapp", "industry"):
            setattr(row, target, self._one(cells, target))
        row.contact = " ".join(_clean(value) for _i, value in self._cells(cells, "contact"))
        row.deal_title = self._one(cells, "deal_title")
        if not row.company:
            errors.append(_("The company name is missing."))
        row.company_key = normalize_company(row.company)
        if row.company and not row.company_key:
            errors.append(_("“%(value)s” is not a company name.") % {"value": row.company})

        email_text = self._one(cells, "email").removeprefix("mailto:")
        if email_text:
            addresses = [part for part in _SEPARATORS.split(email_text) if part]
            try:
                for address in addresses:
                    validate_email(address)
            except ValidationError:
                errors.append(_("“%(value)s” is not a valid e-mail address.") % {"value": email_text})
            else:
                row.email = addresses[0]
                row.email_key = normalize_email(row.email)
                if len(addresses) > 1:
                    extras.append(f"{self.labels['email']}: {', '.join(addresses[1:])}")

        for index, value in self._cells(cells, "phone"):
            numbers = [part.strip() for part in _PHONE_SEPARATORS.split(_clean(value)) if part.strip()]
            for phone in numbers:
                if _EXCEL_NUMBER.match(phone):
                    errors.append(
                        _("Excel turned the phone number into “%(value)s”; format the column as text and export again.")
                        % {"value": phone}
                    )
                elif not 5 <= len(normalize_phone(phone)) <= 20:
                    errors.append(_("“%(value)s” is not a phone number.") % {"value": phone})
                elif not row.phone:
                    row.phone = phone
                    row.phone_key = normalize_phone(phone)
                else:
                    extras.append(f"{header_label(self.headers, index)}: {phone}")

        website = self._one(cells, "website")
        if website:
            url = website if "://" in website else f"http://{website}"
            try:
                _url(url)
                row.website = url
            except ValidationError:
                errors.append(_("“%(value)s” is not a web address.") % {"value": website})

        for target, limit in MAX_LENGTHS.items():
            value = getattr(row, target, "")
            if isinstance(value, str) and len(value) > limit:
                errors.append(
                    _("%(field)s is longer than %(max)d characters.") % {"field": self.labels[target], "max": limit}
                )

        self._read_money(row, cells)
        self._read_close_date(row, cells)
        owner_text = self._one(cells, "owner") if self.read_owner else ""
        if owner_text:
            row.owner, error = self._owner(owner_text)
            if error:
                errors.append(error)

        product = self._one(cells, "product")
        lines = [f"{self.labels['product']}: {product}"] if product else []
        notes = self._cells(cells, "notes")
        for index, value in notes:
            lines.append(f"{header_label(self.headers, index)}: {value}" if len(notes) > 1 else value)
        row.description = "\n".join(lines + extras)
        title = row.deal_title or (f"{row.company} · {product}" if product else row.company)
        row.deal_title = title[:TITLE_MAX]
        return row

    def _read_money(self, row: LeadRow, cells: list[str]) -> None:
        currency = self._one(cells, "currency").upper()
        currency = _CURRENCY_NAMES.get(currency, currency) or self.currency
        amount_text = self._one(cells, "amount")
        if amount_text:
            try:
                amount, code = parse_amount(amount_text)
                currency = code or currency
                row.amount = _validate_amount(amount)
            except RowError as exc:
                row.errors.append(str(exc))
            except ValidationError as exc:
                row.errors.append(" ".join(exc.messages))
        row.currency = currency
        rate, error = self._rate(currency)
        if error:
            row.errors.append(error)
            return
        row.exchange_rate = rate
        # The arithmetic of opportunities.services._apply_amount, with the rate looked up once.
        row.amount_base = None if row.amount is None else (row.amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)

    def _read_close_date(self, row: LeadRow, cells: list[str]) -> None:
        text = self._one(cells, "close_date")
        if text not in self._dates:
            try:
                self._dates[text] = (_validate_close_date(parse_date(text) if text else self.default_close_date), "")
            except RowError as exc:
                self._dates[text] = (None, str(exc))
            except ValidationError as exc:
                self._dates[text] = (None, " ".join(exc.messages))
        row.close_date, error = self._dates[text]
        if error:
            row.errors.append(error)
