"""Form widgets that write their HTML in Python: the same context as Django's widgets (values,
attributes, selected options, option groups) and the same HTML as Django's form templates.

Django renders a widget through its templates, a select through one more template per option;
on the opportunity list, whose filter bar and bulk form hold selects of every owner, team,
stage and lead source, that cost more than the fifty rows of the table."""

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


class Input:
    """django/forms/widgets/input.html."""

    def _render(self, template_name, context, renderer=None) -> SafeString:
        widget = context["widget"]
        value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
        return mark_safe(  # noqa: S308 (every value above is escaped)
            f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
            f"{value}{_attrs(widget['attrs'])}>"
        )


class DateInput(Input, forms.DateInput):
    pass


class NumberInput(Input, forms.NumberInput):
    pass


class Select(forms.Select):
    """django/forms/widgets/select.html and select_option.html."""

    def _render(self, template_name, context, renderer=None) -> SafeString:
        widget = context["widget"]
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
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
