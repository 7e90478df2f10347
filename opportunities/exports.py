"""The columns of the opportunity list, and its CSV and XLSX exports.

The page and both files show the same columns, in this order, for the same rows (the list's
filters, search and sort; every page of it). The files are written row by row while the rows
are read in chunks, so a large export takes constant memory and a constant number of queries.
"""

import csv
import dataclasses
import datetime
import tempfile
from collections.abc import Iterable, Iterator

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.dates import company_zone
from opportunities.models import Opportunity

CHUNK_SIZE = 2000
# A cell starting with one of these is a formula to Excel: exported text never is one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str
    sort: str | None = None  # the list's ?sort= key, if it can be sorted on
    numeric: bool = False


OPPORTUNITY_COLUMNS = (
    Column("title", gettext_lazy("Title"), "title"),
    Column("customer", gettext_lazy("Customer"), "customer"),
    Column("stage", gettext_lazy("Stage"), "stage"),
    Column("status", gettext_lazy("Status"), "status"),
    Column("flags", gettext_lazy("Flags")),
    Column("owner", gettext_lazy("Owner"), "owner"),
    Column("amount_base", gettext_lazy("Amount (CNY)"), "amount", numeric=True),
    Column("expected_close_date", gettext_lazy("Expected close date"), "close"),
    Column("probability", gettext_lazy("Probability (%)"), "probability", numeric=True),
    Column("difficulty", gettext_lazy("Difficulty"), "difficulty", numeric=True),
    Column("last_activity_at", gettext_lazy("Last activity"), "activity"),
    Column("amount", gettext_lazy("Amount"), numeric=True),
    Column("currency", gettext_lazy("Currency")),
    Column("contact", gettext_lazy("Contact")),
    Column("pipeline", gettext_lazy("Pipeline")),
    Column("team", gettext_lazy("Team"), "team"),
    Column("source", gettext_lazy("Lead source"), "source"),
)


def opportunity_flags(opportunity: Opportunity) -> list[str]:
    """The marks the list shows next to the status (from the listing's annotations)."""
    flags = []
    if getattr(opportunity, "is_overdue", False):
        flags.append(_("Overdue"))
    if getattr(opportunity, "is_stale", False):
        flags.append(_("Stale"))
    if opportunity.owner_id is None and opportunity.status == Opportunity.Status.OPEN:
        flags.append(_("Unassigned"))
    return flags


def _person(user) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    """A moment as a naive company-local time (spreadsheets have no time zones)."""
    return timezone.localtime(moment, company_zone()).replace(tzinfo=None, microsecond=0) if moment else None


def opportunity_row(opportunity: Opportunity) -> list:
    """One row of typed values (numbers, dates, text), in OPPORTUNITY_COLUMNS order."""
    return [
        opportunity.title,
        opportunity.customer.name,
        opportunity.stage.name,
        opportunity.get_status_display(),
        ", ".join(opportunity_flags(opportunity)),
        _person(opportunity.owner),
        opportunity.amount_base,
        opportunity.expected_close_date,
        opportunity.probability,
        opportunity.difficulty,
        _local(opportunity.last_activity_at),
        opportunity.amount,
        opportunity.currency,
        opportunity.contact.name if opportunity.contact_id else "",
        opportunity.pipeline.name,
        opportunity.team.name,
        opportunity.source.name,
    ]


def _rows(queryset) -> Iterator[list]:
    # iterator() reads in chunks (a server-side cursor on PostgreSQL): one query, bounded memory.
    for opportunity in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield opportunity_row(opportunity)


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return _safe_text(value)
    return str(value)


class _Echo:
    """A file-like object whose write() returns the line csv.writer produced."""

    def write(self, value: str) -> str:
        return value


def opportunity_csv_lines(queryset) -> Iterable[str]:
    """UTF-8 with a byte-order mark, so Excel (also a Chinese Excel) opens it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(column.label) for column in OPPORTUNITY_COLUMNS])
    for row in _rows(queryset):
        yield writer.writerow([_csv_value(value) for value in row])


def opportunity_xlsx_file(queryset):
    """A temporary file holding the workbook, written in openpyxl's write-only mode (rows go
    to disk as they come), positioned at its start."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Opportunities"))[:31])
    widths = [36, 28, 14, 9, 16, 12, 14, 13, 10, 10, 17, 12, 9, 18, 14, 14, 22]
    for index, width in enumerate(widths):
        sheet.column_dimensions[_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in OPPORTUNITY_COLUMNS:
        cell = WriteOnlyCell(sheet, value=str(column.label))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in _rows(queryset):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(value, datetime.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    workbook.save(output)
    output.seek(0)
    return output


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def opportunity_export_filename(extension: str) -> str:
    from crm.dates import company_today

    return f"opportunities-{company_today():%Y%m%d}.{extension}"
