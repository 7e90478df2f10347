from django import template

from reports.formatting import shown

register = template.Library()


@register.filter
def cell(row: dict, column) -> str:
    """A row's value for ``column``, formatted for the page by the column's kind."""
    return shown(row.get(column.key), column.kind)


@register.filter
def kind_class(column) -> str:
    return "num" if column.kind not in ("text", "datetime", "date") else ""
