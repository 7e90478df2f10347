"""CSV (UTF-8 with BOM, so Excel opens Chinese text correctly) and XLSX exports of a report.

Both write the values the page shows — the selector's — in sections: the summary table with
its totals row, then the lines (payouts, expired deals) and any extra table (channels)."""

import csv
import io
from collections.abc import Iterator

from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from reports.catalog import DATE, DATETIME, DAYS, ID, INT, MONEY, RATE, Column, ReportSpec, extra_columns, local
from reports.formatting import plain, total_row
from reports.selectors import Report

XLSX_FORMATS = {
    MONEY: "#,##0.00",
    RATE: "0.00%",
    DAYS: "0.0#",
    INT: "0",
    ID: "0",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
}
OWNER_COLUMN = Column("owner_name", gettext_lazy("Rep"), "text")


def sections(spec: ReportSpec, report: Report) -> Iterator[tuple[str, tuple[Column, ...], list[dict]]]:
    """(title, columns, rows) in export order; the totals are the last row of the summary."""
    summary = [*report.rows, total_row(spec, spec.columns, report.totals, _("Total"))]
    yield str(spec.title), spec.columns, summary
    if spec.line_columns:
        columns = (OWNER_COLUMN, *spec.line_columns)
        lines = [{"owner_name": row["owner_name"], **line} for row in report.rows for line in row["lines"]]
        yield str(spec.lines_title), columns, lines
    for key, title, _columns in spec.extra_tables:
        yield str(title), extra_columns(spec, key), report.extra.get(key, [])


def _filename(spec: ReportSpec, report: Report, extension: str) -> str:
    return f"{slugify(spec.slug)}_{report.start:%Y%m%d}-{report.end:%Y%m%d}.{extension}"


def csv_response(spec: ReportSpec, report: Report) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(spec.title), _("From"), report.start.isoformat(), _("To"), report.end.isoformat()])
    for title, columns, rows in sections(spec, report):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow([str(column.label) for column in columns])
        for row in rows:
            writer.writerow(["" if row.get(column.key) is None else plain(row.get(column.key)) for column in columns])
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(spec, report, "csv")}"'
    return response


def _cell(value, kind: str):
    if kind == DATETIME and value is not None:
        return local(value).replace(tzinfo=None)  # Excel has no time zones: company-local wall time
    return value


def xlsx_response(spec: ReportSpec, report: Report) -> HttpResponse:
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for title, columns, rows in sections(spec, report):
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([str(column.label) for column in columns])
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append([_cell(row.get(column.key), column.kind) for column in columns])
            for cell, column in zip(sheet[sheet.max_row], columns, strict=True):
                if column.kind in XLSX_FORMATS:
                    cell.number_format = XLSX_FORMATS[column.kind]
        sheet.freeze_panes = "A2"
    info = workbook.create_sheet(title=_("Period")[:31])
    info.append([str(spec.title)])
    info.append([_("From"), report.start])
    info.append([_("To"), report.end])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(spec, report, "xlsx")}"'
    return response
