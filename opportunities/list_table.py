"""The opportunity list's table, written in one pass over the page's rows: the sort links of its
headers and the HTML of its rows (the cells of OPPORTUNITY_COLUMNS, in that order).

Through the template language a row cost about a millisecond — seventeen cells of lookups,
filters and an include, fifty times a page — more than the page's queries. The HTML here is the
one the template wrote, with the same escaping, formats and translations."""

import functools
from collections.abc import Callable, Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.http import QueryDict
from django.template.defaultfilters import floatformat
from django.utils import timezone
from django.utils.formats import get_format, localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.escaping import escape_text
from crm.templatetags.jihui import money
from crm.url_patterns import url_for_pk
from opportunities.exports import Column
from opportunities.models import Opportunity
from opportunities.selectors import row_owner_name, row_staleness

_CELL = "\n      "  # the template's indentation, kept
CENT = Decimal("0.01")


def opportunity_list_headers(columns: Iterable[Column], *, query: QueryDict, sort: str, list_url: str) -> SafeString:
    """The ``<th>`` of each column; a sortable one links to the list sorted on it (ascending, or
    descending when it is sorted ascending already; back to the first page; filters kept, as
    ``{% querystring %}`` writes them), and the current sort is marked with its direction."""
    e = escape_text
    params = query.copy()
    params.pop("page", None)
    cells = []
    for column in columns:
        numeric = ' class="num"' if column.numeric else ""
        if not column.sort:
            cells.append(f'\n      <th{numeric} scope="col">{e(column.label)}</th>\n    ')
            continue
        order = {column.sort: "ascending", f"-{column.sort}": "descending"}.get(sort, "")
        params["sort"] = f"-{column.sort}" if sort == column.sort else column.sort
        link = e(f"?{params.urlencode()}")
        marked = f' class="sorted" aria-sort="{order}"' if order else ""
        arrow = {"ascending": " ↑", "descending": " ↓"}.get(order, "")
        cells.append(
            f'\n      <th{numeric} scope="col">\n        <a href="{link}" hx-get="{e(list_url)}{link}"{marked}>'
            f"{e(column.label)}{arrow}</a>\n      </th>\n    "
        )
    return mark_safe("".join(cells))  # noqa: S308 (every value above is escaped)


def amount_formatter() -> Callable[[Decimal], str]:
    """``floatformat(amount, "2g")`` in the active language, for many amounts: two decimals,
    grouped. Django's number formatting was a third of a page of rows; where the language's
    separators allow, Python's own formatting writes the same text (rounded half up, as
    floatformat, and never "-0.00")."""
    decimal_sep, thousand_sep, grouping = (
        get_format("DECIMAL_SEPARATOR"),
        get_format("THOUSAND_SEPARATOR"),
        get_format("NUMBER_GROUPING"),
    )
    if thousand_sep and grouping != 3:  # a grouping Python does not write (e.g. (3, 2, 0))
        return lambda amount: floatformat(amount, "2g")
    spec = ",.2f" if thousand_sep else ".2f"

    def formatted(amount: Decimal) -> str:
        rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        text = format(abs(rounded) if rounded == 0 else rounded, spec)
        return text.replace(",", "\0").replace(".", decimal_sep).replace("\0", thousand_sep)

    return formatted


def opportunity_list_rows(deals: Iterable[dict], *, selectable: bool, today: date) -> list[SafeString]:
    """One ``<tr>`` per deal, read by ``opportunity_list_values`` (``LIST_ROW_FIELDS``);
    ``selectable`` adds the bulk form's checkbox. Overdue and stale as of ``today``."""
    e = escape_text
    detail_url = url_for_pk("opportunities:detail")
    customer_url = url_for_pk("customers:detail")
    # Translated outside the f-strings: makemessages (xgettext) does not read their expressions.
    overdue, stale, pool = e(_("Overdue")), e(_("Stale")), e(_("Unassigned"))
    overdue = f'<span class="badge overdue">{overdue}</span> '
    stale = f'<span class="badge stale">{stale}</span> '
    pool = f'<span class="badge pool">{pool}</span>'
    select = _("Select %(title)s")
    statuses = {value: e(label) for value, label in Opportunity.Status.choices}  # get_status_display, once
    dash = '<span class="muted">—</span>'
    is_stale = row_staleness(today=today)
    amount_text = amount_formatter()
    # Probabilities and difficulties take a few values on a page: each localized once, one
    # cache per column (1 == Decimal("1.00"), but they are written "1" and "1.00").
    probability_text = functools.cache(lambda value: e(localize(value)))
    difficulty_text = functools.cache(lambda value: e(localize(value)))
    rows = []
    for deal in deals:
        pk = str(deal["pk"])  # an id, not a number to read: never grouped
        title = e(deal["title"])
        status = e(deal["status"])
        is_open = deal["status"] == Opportunity.Status.OPEN
        link = f'<a href="{e(detail_url(deal["pk"]))}">{title}</a>' if detail_url else f"<strong>{title}</strong>"
        flags = (
            (overdue if is_open and deal["expected_close_date"] < today else "")
            + (stale if is_stale(deal) else "")
            + (pool if not deal["owner_id"] and is_open else "")
        )
        last_activity = deal["last_activity_at"] and f"{timezone.localtime(deal['last_activity_at']):%Y-%m-%d %H:%M}"
        owner = row_owner_name(deal)
        amount = deal["amount"]
        cells = [
            f'<td class="title-cell wrap">{link}</td>',
            f'<td class="wrap"><a href="{e(customer_url(deal["customer_id"]))}">{e(deal["customer__name"])}</a></td>',
            f"<td>{e(deal['stage__name'])}</td>",
            f'<td><span class="badge status-{status}">{statuses.get(deal["status"], status)}</span></td>',
            f"<td>{flags}</td>",
            f"<td>{e(owner) if owner else dash}</td>",
            f'<td class="num">{e(money(deal["amount_base"]))}</td>',
            f"<td>{deal['expected_close_date'].isoformat() if deal['expected_close_date'] else '—'}</td>",
            f'<td class="num">{probability_text(deal["probability"])}%</td>',
            f'<td class="num">{difficulty_text(deal["difficulty"])}</td>',
            f"<td>{e(last_activity) if last_activity else dash}</td>",
            f'<td class="num">{e(amount_text(amount)) if amount is not None else "—"}</td>',
            f"<td>{e(deal['currency'])}</td>",
            f"<td>{e((deal['contact__name'] if deal['contact_id'] else '') or '—')}</td>",
            f"<td>{e(deal['pipeline_name'])}</td>",
            f"<td>{e(deal['team_name'])}</td>",
            f"<td>{e(deal['source_name'])}</td>",
        ]
        if selectable:
            cells.insert(
                0,
                f'<td class="select"><input type="checkbox" name="ids" value="{pk}" '
                f'aria-label="{select % {"title": title}}"></td>',
            )
        # Every value is escaped, or HTML of ours.
        rows.append(mark_safe(f'<tr data-id="{pk}">{_CELL}{_CELL.join(cells)}\n    </tr>'))  # noqa: S308
    return rows
