"""Helpers for admin tests: post a change form back the way a browser would."""

from django.forms import BaseFormSet, MultiWidget


def _text(value) -> str:
    return str(value.pk) if hasattr(value, "pk") else str(value)


def _field_data(form, data: dict) -> None:
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        widget = bound.field.widget
        if isinstance(widget, MultiWidget):
            parts = value if isinstance(value, list | tuple) else widget.decompress(value)
            for index, part in enumerate(parts):
                if part is not None:
                    data[f"{bound.html_name}_{index}"] = _text(part)
        elif value is True:
            data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = [_text(item) for item in value]
        else:
            data[bound.html_name] = _text(value)


def formset_data(formset: BaseFormSet, data: dict) -> None:
    _field_data(formset.management_form, data)
    for form in formset.forms:
        _field_data(form, data)


def change_form_data(response) -> dict:
    """The POST data of an admin add/change page as rendered (main form and every inline)."""
    data: dict = {}
    _field_data(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        formset_data(inline.formset, data)
    return data
