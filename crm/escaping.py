"""Escaping for HTML written in Python rather than by the template engine (the opportunity
list's rows, the board's cards, the timeline's events)."""

import html


def escape_text(value) -> str:
    """``value`` as text, escaped for HTML text and attributes (&, <, >, " and ') exactly as the
    templates' autoescape writes it. ``django.utils.html.escape`` does the same behind a check
    for lazy translations on every call, a thousand calls on a page of fifty rows; give this one
    text, numbers or dates, never HTML (it would be escaped again)."""
    return html.escape(str(value))
