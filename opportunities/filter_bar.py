"""The opportunity list's filter bar, written in Python from the FilterSet's input and errors.

The FilterSet (the API's own) still parses and validates the query string; this writes its
fields as the list shows them: selects of what the user may filter on, date pickers, amounts,
each with its label and the FilterSet's errors. Building a Django form for it (fields copied,
widgets made, choices normalised, each field rendered through BoundField) cost more than the
page's fifty rows; the HTML is the one that form wrote, with the same escaping and selection."""

from collections.abc import Iterable

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.escaping import escape_text
from crm.widgets import input_html, select_html
from opportunities.models import Opportunity

# The fields in the FilterSet's order, each with its kind. The customer filter has none: a
# customer's deals are reached from the customer's page, and the URL keeps working.
SELECT, DATE, AMOUNT = "select", "date", "amount"
FILTER_BAR_FIELDS = (
    ("owner", SELECT),
    ("unassigned", SELECT),
    ("team", SELECT),
    ("pipeline", SELECT),
    ("stage", SELECT),
    ("source", SELECT),
    ("status", SELECT),
    ("expected_close_date_after", DATE),
    ("expected_close_date_before", DATE),
    ("amount_min", AMOUNT),
    ("amount_max", AMOUNT),
    ("stale", SELECT),
)
AMOUNT_ATTRS = {"min": 0, "step": "any", "inputmode": "decimal"}


def _labels() -> dict[str, str]:
    return {
        "owner": _("Owner"),
        "unassigned": _("Assigned"),
        "team": _("Team"),
        "pipeline": _("Pipeline"),
        "stage": _("Stage"),
        "source": _("Lead source"),
        "status": _("Status"),
        "expected_close_date_after": _("Close date from"),
        "expected_close_date_before": _("Close date to"),
        "amount_min": _("Amount (CNY) from"),
        "amount_max": _("Amount (CNY) to"),
        "stale": _("Stale"),
    }


def filters_open(filterset) -> bool:
    """The filters are shown open when one is set or refused."""
    data = filterset.form.data
    return bool(filterset.form.errors) or any(data.get(name) for name, _kind in FILTER_BAR_FIELDS)


def _optgroups(choices: Iterable, selected: str) -> list:
    """``Select.optgroups`` of ``choices`` (value, label) or (group, [(value, label)…]) with the
    option whose value is ``selected`` marked (the first such, as a single select does)."""
    groups, found = [], False
    for index, (value, label) in enumerate(choices):
        if isinstance(label, list | tuple):
            group, members = value, label
        else:
            group, members = None, [(value, label)]
        options = []
        for option_value, option_label in members:
            option_value = "" if option_value is None else str(option_value)
            is_selected = not found and option_value == selected
            found = found or is_selected
            options.append(
                {"value": option_value, "label": option_label, "attrs": {"selected": True} if is_selected else {}}
            )
        groups.append((group, options, index))
    return groups


def opportunity_filter_bar(
    filterset,
    *,
    stages: Iterable[tuple],
    sources: Iterable[tuple],
    teams: Iterable[tuple],
    people: Iterable[tuple] | None,
) -> SafeString:
    """The filter fields of the list (``FILTER_BAR_FIELDS``), each with the value asked for and
    the FilterSet's errors. Choices: ``stages`` (id, name, pipeline id, pipeline name) in the
    pipelines' order, ``sources`` and ``teams`` (id, name); ``people`` (id, label) lists the
    owners a manager may filter on — None leaves the owner filter out (a rep's list)."""
    any_choice = [("", _("Any"))]
    pipelines: dict[int, str] = {}
    by_pipeline: dict[int, list] = {}
    for pk, name, pipeline_id, pipeline_name in stages:
        pipelines.setdefault(pipeline_id, pipeline_name)
        by_pipeline.setdefault(pipeline_id, []).append((pk, name))
    yes_no = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]
    choices = {
        "owner": None if people is None else any_choice + list(people),
        "unassigned": [("", _("Anyone")), ("true", _("Unassigned pool")), ("false", _("Has an owner"))],
        "team": any_choice + list(teams),
        "pipeline": any_choice + list(pipelines.items()),
        "stage": any_choice + [(pipelines[pipeline_id], members) for pipeline_id, members in by_pipeline.items()],
        "source": any_choice + list(sources),
        "status": any_choice + list(Opportunity.Status.choices),
        "stale": yes_no,
    }
    labels = _labels()
    data, errors = filterset.form.data, filterset.form.errors
    e = escape_text
    parts = []
    for name, kind in FILTER_BAR_FIELDS:
        if kind == SELECT and choices[name] is None:
            continue
        field_id = f"id_{name}"
        value = data.get(name)
        field_errors = errors.get(name, [])
        attrs = dict(AMOUNT_ATTRS) if kind == AMOUNT else {}
        if field_errors:
            attrs |= {"aria-invalid": "true", "aria-describedby": f"{field_id}_error"}
        attrs["id"] = field_id
        if kind == SELECT:
            widget = select_html(
                name=name, attrs=attrs, optgroups=_optgroups(choices[name], "" if value is None else str(value))
            )
        else:
            widget = input_html(
                input_type="date" if kind == DATE else "number",
                name=name,
                value=None if value in ("", None) else value,
                attrs=attrs,
            )
        messages = "".join(f'<p class="field-error" id="{field_id}_error">{e(error)}</p>' for error in field_errors)
        parts.append(
            f'\n      <div class="field{" has-error" if field_errors else ""}">'
            f'\n        <label for="{field_id}">{e(labels[name])}</label>'
            f"\n        {widget}\n        {messages}\n      </div>"
        )
    return mark_safe("".join(parts) + "\n")  # noqa: S308 (every value above is escaped)
