"""How report values are written out: as JSON/CSV text (exact, machine-readable) and as page
text (for people). Both start from the same selector values; nothing is recomputed here."""

import datetime
from decimal import Decimal

from reports.catalog import DATE, DATETIME, DAYS, MONEY, RATE, Column, ReportSpec, local
from reports.selectors import Report


def plain(value):
    """JSON / CSV form: money and ratios as decimal strings, ids and counts as numbers, moments
    in the company time zone with their offset."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        return local(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def api_payload(report: Report) -> dict:
    return {
        "start": plain(report.start),
        "end": plain(report.end),
        "rows": plain(report.rows),
        "totals": plain(report.totals),
        **plain(report.extra),
    }


def shown(value, kind: str) -> str:
    """Page form of a value (the same number, formatted for reading)."""
    if value is None or value == "":
        return "—"
    if kind == MONEY:
        return f"{value:,.2f}"  # the grouping both zh-hans and en readers expect
    if kind == RATE:
        return f"{Decimal(value) * 100:.2f}%"
    if kind == DAYS:
        return str(value)
    if kind == DATETIME:
        return local(value).strftime("%Y-%m-%d %H:%M")
    if kind == DATE:
        return value.isoformat()
    return str(value)


def total_row(spec: ReportSpec, columns: tuple[Column, ...], totals: dict, label: str) -> dict:
    """The totals as a row of the table: the label in the first column, figures where the totals have them."""
    return {column.key: (label if column.key == spec.total_label_key else totals.get(column.key)) for column in columns}
