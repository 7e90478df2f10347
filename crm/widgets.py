"""Form widgets that write their HTML in Python: the same context as Django's widgets (values,
attributes, selected options, option groups) and the same HTML as Django's form templates.

Django renders a widget through its templates, a select through one more template per option;
on the opportunity list, whose filter bar and bulk form hold selects of every owner, team,
stage and lead source, that cost more than the fifty rows of the table. The bulk form uses the
widgets; the filter bar (opportunities/filter_bar.py) writes its fields with ``select_html`` and
``input_html`` directly."""

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: True is a bare attribute, False none."""
    return "".join(
        (
            f" {conditional_escape(name)}"
            if value is True
            else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        )
        for name, value in attrs.items()
        if value is not False
    )


def input_html(*, input_type: str, name: str, value, attrs: dict) -> SafeString:
    """django/forms/widgets/input.html: ``value`` None writes no value attribute."""
    value = "" if value is None else f' value="{conditional_escape(value)}"'
    return mark_safe(  # noqa: S308 (every value is escaped)
        f'<input type="{conditional_escape(input_type)}" name="{conditional_escape(name)}"{value}{_attrs(attrs)}>'
    )


def select_html(*, name: str, attrs: dict, optgroups) -> SafeString:
    """django/forms/widgets/select.html and select_option.html: ``optgroups`` as
    ``Select.optgroups`` makes them, (group name or None, [{"value", "label", "attrs"}], index)."""
    parts = [f'<select name="{conditional_escape(name)}"{_attrs(attrs)}>']
    for group_name, options, _index in optgroups:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        parts.extend(
            f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
            f"{conditional_escape(option['label'])}</option>\n"
            for option in options
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 (every value above is escaped)


class Input:
    """django/forms/widgets/input.html."""

    def _render(self, template_name, context, renderer=None) -> SafeString:
        widget = context["widget"]
        return input_html(input_type=widget["type"], name=widget["name"], value=widget["value"], attrs=widget["attrs"])


class NumberInput(Input, forms.NumberInput):
    pass


class Select(forms.Select):
    """django/forms/widgets/select.html and select_option.html."""

    def _render(self, template_name, context, renderer=None) -> SafeString:
        widget = context["widget"]
        return select_html(name=widget["name"], attrs=widget["attrs"], optgroups=widget["optgroups"])
