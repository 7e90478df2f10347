"""The opportunity page's timeline as HTML: the sentences and the markup of each event.

Put together here, in Python, rather than in a template: an event is a few strings in fixed
markup, and Django's template engine costs ~500 function calls per event for it (half the page's
time with 50 events); an f-string with each value escaped does it for a tenth of that. The
sentences are the catalogue's own msgids, so the translations are the ones the template used.
"""

from django.core.exceptions import FieldDoesNotExist
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, normalize_newlines
from django.utils.translation import gettext as _

from crm.escaping import escape_text as _e
from opportunities.models import Opportunity
from opportunities.templatetags.opportunity_display import status_label


def timeline_for_page(events: list[dict]) -> list[dict]:
    """Each event of ``opportunity_timeline_page`` with its ``html`` (an ``<li>``)."""
    for event in events:
        event["html"] = mark_safe(_event_html(event))  # noqa: S308 (every value escaped by _e)
    return events


def _event_html(event: dict) -> str:
    kind = event["type"]
    what, note, lines = _event_words(event)
    if kind == "field_changed":
        field = event["field"]
        what = _("%(field)s changed") % {"field": _field_label(field)}
        old = _field_value(event["old_value"], event["old_name"])
        new = _field_value(event["new_value"], event["new_name"])
        extra = f'<p class="event-body"><span class="old">{_e(old)}</span> → <span class="new">{_e(new)}</span></p>'
    elif kind == "activity":
        extra = _activity_html(event)
    else:
        extra = ""
    local = timezone.localtime(event["at"])
    by = event["by"] or _("System")
    note_html = f' <span class="muted small">{_e(note)}</span>' if note else ""
    lines_html = "".join(f'<p class="event-body{css}">{_e(text)}</p>' for css, text in lines)
    return (
        f'<li class="event event-{kind}"><div class="event-head"><span class="event-what">{_e(what)}{note_html}</span> '
        f'<span class="event-meta"><time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M}</time> · {_e(by)}</span>'
        f"</div>{lines_html}{extra}</li>"
    )


def _activity_html(event: dict) -> str:
    parts = []
    if event["body"]:
        body = _e(normalize_newlines(event["body"])).replace("\n", "<br>")
        parts.append(f'<div class="event-body">{body}</div>')
    if event["tracking_number"]:
        carrier = f"{_e(event['carrier'])} · " if event["carrier"] else ""
        courier = _e(_("Courier"))  # outside the f-string, where makemessages finds it
        parts.append(
            f'<p class="event-body courier"><span class="label">{courier}</span> {carrier}'
            f'<span class="tracking">{_e(event["tracking_number"])}</span></p>'
        )
    if event["attachments"]:
        files = []
        for file in event["attachments"]:
            link = _e(reverse("opportunities:attachment_download", args=[file["pk"]]))
            if file["is_image"]:
                files.append(
                    f'<li><a class="thumb" href="{link}" target="_blank" rel="noopener"><img src="{link}" '
                    f'alt="{_e(file["original_name"])}" loading="lazy" width="96" height="96"></a></li>'
                )
            else:
                files.append(
                    f'<li><a class="file-link" href="{link}">{_e(file["original_name"])}</a> '
                    f'<span class="muted small">{_e(filesizeformat(file["size"]))}</span></li>'
                )
        parts.append(f'<ul class="files">{"".join(files)}</ul>')
    return "".join(parts)


def _event_words(event: dict) -> tuple[str, str, list[tuple[str, str]]]:
    """(what happened, a note beside it, the lines below it as (extra CSS class, text))."""
    kind = event["type"]
    quiet = " muted small"
    lines: list[tuple[str, str]] = []
    if kind == "created":
        if event["probability"] is not None:
            lines.append((quiet, _("Probability %(p)s%%") % {"p": event["probability"]}))
        if event["stage_name"]:
            return _("Created in “%(stage)s”") % {"stage": event["stage_name"]}, "", lines
        return _("Created"), "", lines
    if kind == "assigned":
        if event["from_team_name"]:
            names = {"old": event["from_team_name"], "new": event["to_team_name"]}
            lines.append((quiet, _("Team %(old)s → %(new)s") % names))
        if event["reason"]:
            lines.append(("", event["reason"]))
        if event["from_owner"]:
            owners = {"old": event["from_owner"], "new": _owner(event["to_owner"])}
            return _("Handed over from %(old)s to %(new)s") % owners, "", lines
        if event["to_owner"]:
            return _("Assigned to %(new)s") % {"new": event["to_owner"]}, "", lines
        return _("Returned to the team's unassigned pool"), "", lines
    if kind == "stage_changed":
        before = event["probability_before"]
        odds = {"old": "—" if before is None else before, "new": event["probability_after"]}
        lines.append((quiet, _("Probability %(old)s%% → %(new)s%%") % odds))
        if event["note"]:
            lines.append(("", event["note"]))
        stages = {"old": event["from_stage_name"] or "", "new": event["to_stage_name"]}
        return _("Moved from “%(old)s” to “%(new)s”") % stages, "", lines
    if kind == "activity":
        return event["kind_label"], _("in “%(stage)s”") % {"stage": event["stage_name"]}, lines
    if kind == "field_changed":
        return "", "", lines
    if event["reason"]:
        lines.append(("", event["reason"]))
    if kind == "close_date_changed":
        old, new = event["old_date"], event["new_date"]
        dates = {"old": old.isoformat() if old else "", "new": new.isoformat()}
        if event["is_push"]:
            return _("Close date pushed from %(old)s to %(new)s") % dates, "", lines
        if old:
            return _("Close date moved from %(old)s to %(new)s") % dates, "", lines
        return _("Close date set to %(new)s") % dates, "", lines
    if kind == "won":
        if event["owner"]:
            lines.append((quiet, _("Credited to %(name)s") % {"name": event["owner"]}))
        return _("Won"), "", lines
    if kind == "lost":
        reason = event["lost_reason_name"]
        lost = _("Lost")  # outside the f-string, where makemessages finds it
        return (f"{lost}: {reason}" if reason else lost), "", lines
    if kind == "expired":
        return _("Expired: the expected close date passed"), "", lines
    return _("Reopened (was %(status)s)") % {"status": status_label(event["from_status"])}, "", lines


def _owner(name: str | None) -> str:
    """A new owner's name; nobody is the team's unassigned pool (as the person filter says)."""
    return name or _("Unassigned")


def _field_label(name: str) -> str:
    try:
        return capfirst(Opportunity._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed from the model keeps its raw name
        return name


def _field_value(value: str, named: str | None) -> str:
    """An old or new value as text; a foreign key's id as the name the selector joined in
    (``named``, None for other fields, or when the row is gone)."""
    if value in ("true", "false"):
        return _("Yes") if value == "true" else _("No")
    return (named or value) if value else "—"
