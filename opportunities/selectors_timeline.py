# ruff: noqa: S608  (the SQL is built from table names and constants; every value is a parameter)
"""An opportunity's timeline: the whole history for the API, a page at a time for the opportunity page.

One UNION ALL over the history tables (``_timeline_sql``) serves both. ``opportunity_timeline``
reads it whole and gives the API every event as model instances; ``opportunity_timeline_page``
reads it keyset-paged and gives the page (views_detail.py) the newest ``TIMELINE_PAGE_SIZE``
events as plain names, loading earlier ones on demand, so the page's cost does not grow with
the history.
"""

import datetime
import functools
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm import prepared
from opportunities.models import Activity, Attachment, LostReason, Opportunity
from opportunities.selectors import TIMELINE_EVENT_TYPES
from stages.models import Stage
from teams.models import Team, User

# The opportunity page shows the newest events a page at a time ("Show earlier events").
TIMELINE_PAGE_SIZE = 50


@dataclass(frozen=True)
class TimelineCursor:
    """Where a page of the timeline ends: the last event's moment, its place among events of the
    same moment (``TIMELINE_EVENT_TYPES``) and its row id. ``<microseconds since 1970>.<order>.<id>``."""

    at: datetime.datetime
    order: int
    pk: int

    def encode(self) -> str:
        delta = self.at - _EPOCH
        micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{micros}.{self.order}.{self.pk}"

    @classmethod
    def decode(cls, raw: str) -> "TimelineCursor":
        """The inverse of ``encode``; anything else raises ValueError."""
        micros, order, pk = (int(part) for part in raw.split("."))
        try:
            return cls(at=_EPOCH + datetime.timedelta(microseconds=micros), order=order, pk=pk)
        except OverflowError as exc:  # a moment no history has
            raise ValueError(raw) from exc


@dataclass
class TimelinePage:
    events: list[dict]  # newest first
    total: int  # events in the whole history
    earlier: TimelineCursor | None  # where the next (older) page starts; None: this page is the oldest


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_ORDER = {name: position for position, name in enumerate(TIMELINE_EVENT_TYPES)}
_UNION_COLUMNS = (
    "t_type t_pk t_at t_order t_by t_user1 t_user2 t_id1 t_id2 t_name1 t_name2 t_kind1 t_kind2 "
    "t_text1 t_text2 t_text3 t_text4 t_date1 t_date2 t_num1 t_num2 t_moment"
).split()
# Each branch of the UNION ALL says what it puts in which column; the events are read back from
# them by opportunity_timeline (the API) and _timeline_event (the page).
_PEOPLE = ("by", "user1", "user2")
# … and per row: the number of rows, whether "created" is among them, each person's names.
_COLUMNS = [
    *_UNION_COLUMNS,
    "t_total",
    "t_has_created",
    *(f"t_{who}_{part}" for who in _PEOPLE for part in ("username", "first_name", "last_name")),
]


def _timeline_sql(*, keyset: bool, whole: bool) -> str:
    """The timeline's rows, newest first: one UNION ALL over the history tables with the names
    of the stages, teams, lost reasons and people they refer to joined in; each row also carries
    the number of rows and whether the create service's stage row ("created") is among them.

    The page (``whole=False``) reads one page of events, keyset-paged when ``keyset``; the whole
    history (``whole=True``, for the API) is every row, with the deal's attachments as rows of
    their own ("attachment", after the events of their moment). Plain SQL: built once, portable
    (PostgreSQL and SQLite), and far cheaper to build than the same statement through the ORM.
    NULLs are typed because PostgreSQL resolves a UNION's column types part by part."""
    from customers.models import Contact, Customer
    from opportunities.models import Assignment, CloseDateChange, FieldChange, StageChange, StatusChange
    from sources.models import LeadSource
    from teams.models import Team, User

    big, text, day = "CAST(NULL AS BIGINT)", "CAST(NULL AS TEXT)", "CAST(NULL AS DATE)"
    small, moment = "CAST(NULL AS INTEGER)", "CAST(NULL AS TIMESTAMP WITH TIME ZONE)"
    # History rows keep foreign keys as ids, as text ("" for none); the page shows their names.
    named = {"customer": Customer, "contact": Contact, "source": LeadSource}

    def name_behind(column: str) -> str:
        cases = " ".join(
            f"WHEN '{field}' THEN (SELECT n.name FROM {model._meta.db_table} n "
            f"WHERE n.id = CAST(NULLIF(fc.{column}, '') AS BIGINT))"
            for field, model in named.items()
        )
        return f"CASE fc.field {cases} ELSE {text} END"

    status_order = " ".join(f"WHEN '{status}' THEN {_ORDER[status]}" for status in ("won", "lost", "expired"))
    stages = Stage._meta.db_table
    parts = [
        f"""SELECT CASE WHEN sc.from_stage_id IS NULL THEN 'created' ELSE 'stage_changed' END, sc.id, sc.at,
                CASE WHEN sc.from_stage_id IS NULL THEN {_ORDER["created"]} ELSE {_ORDER["stage_changed"]} END,
                sc.by_id, {big}, {big}, sc.from_stage_id, sc.to_stage_id, fs.name, ts.name, fs.kind, ts.kind,
                sc.note, {text}, {text}, {text}, {day}, {day}, sc.probability_before, sc.probability_after, {moment}
            FROM {StageChange._meta.db_table} sc
            LEFT JOIN {stages} fs ON fs.id = sc.from_stage_id
            JOIN {stages} ts ON ts.id = sc.to_stage_id
            WHERE sc.opportunity_id = %(deal)s""",
        f"""SELECT 'assigned', a.id, a.at, {_ORDER["assigned"]}, a.by_id, a.from_owner_id, a.to_owner_id,
                a.from_team_id, a.to_team_id, ft.name, tt.name, {text}, {text}, a.reason, {text}, {text}, {text},
                {day}, {day}, {small}, {small}, {moment}
            FROM {Assignment._meta.db_table} a
            LEFT JOIN {Team._meta.db_table} ft ON ft.id = a.from_team_id
            JOIN {Team._meta.db_table} tt ON tt.id = a.to_team_id
            WHERE a.opportunity_id = %(deal)s""",
        f"""SELECT 'close_date_changed', cd.id, cd.at, {_ORDER["close_date_changed"]}, cd.by_id, {big}, {big},
                {big}, {big}, {text}, {text}, {text}, {text}, cd.reason, {text}, {text}, {text},
                cd.old_date, cd.new_date, {small}, {small}, {moment}
            FROM {CloseDateChange._meta.db_table} cd WHERE cd.opportunity_id = %(deal)s""",
        f"""SELECT 'field_changed', fc.id, fc.at, {_ORDER["field_changed"]}, fc.by_id, {big}, {big}, {big}, {big},
                {name_behind("old_value")}, {name_behind("new_value")}, {text}, {text},
                fc.field, fc.old_value, fc.new_value, {text}, {day}, {day}, {small}, {small}, {moment}
            FROM {FieldChange._meta.db_table} fc WHERE fc.opportunity_id = %(deal)s""",
        f"""SELECT CASE WHEN st.to_status = 'open' THEN 'reopened' ELSE st.to_status END, st.id, st.at,
                CASE st.to_status {status_order} ELSE {_ORDER["reopened"]} END, st.by_id, {big}, st.owner_id,
                st.lost_reason_id, {big}, lr.name, {text}, {text}, {text}, st.reason, st.from_status, {text}, {text},
                {day}, {day}, {small}, {small}, {moment}
            FROM {StatusChange._meta.db_table} st
            LEFT JOIN {LostReason._meta.db_table} lr ON lr.id = st.lost_reason_id
            WHERE st.opportunity_id = %(deal)s""",
        f"""SELECT 'activity', ac.id, ac.occurred_at, {_ORDER["activity"]}, ac.author_id, {big}, {big},
                ac.stage_id, {big}, s.name, {text}, s.kind, {text}, ac.body, ac.kind, ac.tracking_number, ac.carrier,
                {day}, {day}, {small}, {small}, ac.created_at
            FROM {Activity._meta.db_table} ac JOIN {stages} s ON s.id = ac.stage_id
            WHERE ac.opportunity_id = %(deal)s""",
    ]
    if whole:
        parts.append(
            f"""SELECT 'attachment', f.id, f.created_at, {len(_ORDER)}, f.uploaded_by_id, {big}, {big},
                f.stage_id, f.activity_id, {text}, {text}, {text}, {text},
                f.original_name, f.content_type, f.file, f.stored_name, {day}, {day}, f.size, {small}, {moment}
            FROM {Attachment._meta.db_table} f WHERE f.opportunity_id = %(deal)s"""
        )
    union = "\n UNION ALL ".join(parts)
    where = (
        "WHERE page.t_at < %(at)s OR (page.t_at = %(at)s AND page.t_order < %(order)s) "
        "OR (page.t_at = %(at)s AND page.t_order = %(order)s AND page.t_pk < %(pk)s)"
        if keyset
        else ""
    )
    people = ", ".join(f"{alias}.username, {alias}.first_name, {alias}.last_name" for alias in ("b", "u1", "u2"))
    users = User._meta.db_table
    # A CTE's column list names the UNION's columns (PostgreSQL and SQLite alike).
    return f"""
        WITH t({", ".join(_UNION_COLUMNS)}) AS ({union})
        SELECT page.*, {people}
        FROM (
            SELECT t.*, COUNT(*) OVER () AS t_total,
                   MAX(CASE WHEN t.t_type = 'created' THEN 1 ELSE 0 END) OVER () AS t_has_created
            FROM t
        ) page
        LEFT JOIN {users} b ON b.id = page.t_by
        LEFT JOIN {users} u1 ON u1.id = page.t_user1
        LEFT JOIN {users} u2 ON u2.id = page.t_user2
        {where}
        ORDER BY page.t_at DESC, page.t_order DESC, page.t_pk DESC
        {"" if whole else "LIMIT %(limit)s"}"""


@functools.cache
def _cached_timeline_sql(*, keyset: bool, whole: bool) -> str:
    return _timeline_sql(keyset=keyset, whole=whole)


def _timeline_rows(
    *, opportunity: Opportunity, before: TimelineCursor | None = None, limit: int | None = None
) -> list[dict]:
    """The rows of ``_timeline_sql``, newest first, as dicts with their moments and days parsed:
    ``limit`` of them before ``before`` (the page), or with no limit every one (the API)."""
    params = {"deal": opportunity.pk, "limit": limit}
    if before is not None:
        params.update(at=connection.ops.adapt_datetimefield_value(before.at), order=before.order, pk=before.pk)
    with connection.cursor() as cursor:
        # Prepared once per connection: planning the UNION ALL took longer than running it.
        prepared.execute(cursor, _cached_timeline_sql(keyset=before is not None, whole=limit is None), params)
        rows = [dict(zip(_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["t_at"] = _moment(row["t_at"])
        if row["t_moment"] is not None:
            row["t_moment"] = _moment(row["t_moment"])
        row["t_date1"], row["t_date2"] = _day(row["t_date1"]), _day(row["t_date2"])
    return rows


def _moment(value) -> datetime.datetime:
    """A timestamp as PostgreSQL gives it (aware) or SQLite does (UTC, as text or naive)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    return value


def _day(value) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def opportunity_timeline(*, opportunity: Opportunity) -> list[dict]:
    """Everything that happened to one (already visibility-checked) deal, oldest first, for the
    API's history.

    Merges assignments, stage changes, close-date changes, field edits, status changes
    (won / lost / expired / reopened) and activities with their attachments, plus a
    ``created`` event. Each event is a dict ``{"type", "at", "by", …details}`` whose values are
    model instances (users, teams, stages, lost reasons, activities with their attachments).
    One query, however long the history: the page's UNION ALL read whole (``_timeline_sql``), the
    deal's attachments among its rows. ``opportunity.created_by`` is read for the ``created``
    event: load it with the deal (``select_related``) to save a query.
    """
    people: dict[int, User] = {}
    teams: dict[int, Team] = {}
    stages: dict[int, Stage] = {}

    def person(row: dict, who: str) -> User | None:
        pk = row[f"t_{who}"]
        if pk is not None and pk not in people:
            people[pk] = User(
                pk=pk,
                username=row[f"t_{who}_username"],
                first_name=row[f"t_{who}_first_name"],
                last_name=row[f"t_{who}_last_name"],
            )
        return people.get(pk)

    def team(row: dict, which: int) -> Team | None:
        pk = row[f"t_id{which}"]
        if pk is not None and pk not in teams:
            teams[pk] = Team(pk=pk, name=row[f"t_name{which}"])
        return teams.get(pk)

    def stage(row: dict, which: int) -> Stage | None:
        pk = row[f"t_id{which}"]
        if pk is not None and pk not in stages:
            stages[pk] = Stage(pk=pk, name=row[f"t_name{which}"], kind=row[f"t_kind{which}"])
        return stages.get(pk)

    rows = _timeline_rows(opportunity=opportunity)[::-1]  # oldest first
    files: dict[int, list[Attachment]] = {}
    for row in rows:
        if row["t_type"] == "attachment":
            files.setdefault(row["t_id2"], []).append(
                Attachment(
                    pk=row["t_pk"],
                    activity_id=row["t_id2"],
                    opportunity_id=opportunity.pk,
                    stage_id=row["t_id1"],
                    file=row["t_text3"],
                    stored_name=row["t_text4"],
                    original_name=row["t_text1"],
                    content_type=row["t_text2"],
                    size=row["t_num1"],
                    uploaded_by_id=row["t_by"],
                    created_at=row["t_at"],
                )
            )

    events: list[dict] = []
    initial_stage = None
    for row in rows:
        kind = row["t_type"]
        event = {"type": kind, "at": row["t_at"], "by": person(row, "by")}
        if kind == "attachment":
            continue
        if kind == "created" and initial_stage is None:
            initial_stage = row  # written by the create service: part of the "created" event
        elif kind in ("created", "stage_changed"):  # a second row from no stage is a move
            event.update(
                type="stage_changed",
                from_stage=stage(row, 1),
                to_stage=stage(row, 2),
                probability_before=row["t_num1"],
                probability_after=row["t_num2"],
                note=row["t_text1"],
            )
            events.append(event)
        elif kind == "assigned":
            event.update(
                from_owner=person(row, "user1"),
                to_owner=person(row, "user2"),
                from_team=team(row, 1),
                to_team=team(row, 2),
                reason=row["t_text1"],
            )
            events.append(event)
        elif kind == "close_date_changed":
            old, new = row["t_date1"], row["t_date2"]
            event.update(old_date=old, new_date=new, is_push=old is not None and new > old, reason=row["t_text1"])
            events.append(event)
        elif kind == "field_changed":
            event.update(field=row["t_text1"], old_value=row["t_text2"], new_value=row["t_text3"])
            events.append(event)
        elif kind == "activity":
            activity = Activity(
                pk=row["t_pk"],
                opportunity_id=opportunity.pk,
                stage_id=row["t_id1"],
                kind=row["t_text2"],
                body=row["t_text1"],
                carrier=row["t_text4"],
                tracking_number=row["t_text3"],
                occurred_at=row["t_at"],
                author_id=row["t_by"],
                created_at=row["t_moment"],
            )
            activity.stage = stage(row, 1)
            activity.author = event["by"]
            attachments = Attachment.objects.none()  # as prefetch_related("attachments") leaves them
            attachments._result_cache, attachments._prefetch_done = files.get(activity.pk, []), True
            activity._prefetched_objects_cache = {"attachments": attachments}
            events.append({**event, "activity": activity})
        else:  # won, lost, expired, reopened
            lost_reason = None
            if row["t_id1"] is not None:
                lost_reason = LostReason(pk=row["t_id1"], name=row["t_name1"])
            event.update(
                from_status=row["t_text2"], reason=row["t_text1"], lost_reason=lost_reason, owner=person(row, "user2")
            )
            events.append(event)
    # The create service stamps its history rows a moment before the row's own created_at.
    created_at = min(opportunity.created_at, initial_stage["t_at"]) if initial_stage else opportunity.created_at
    events.append(
        {
            "type": "created",
            "at": created_at,
            "by": opportunity.created_by,
            "stage": stage(initial_stage, 2) if initial_stage else None,
            "probability": initial_stage["t_num2"] if initial_stage else None,
        }
    )
    events.sort(key=lambda event: (event["at"], _ORDER[event["type"]]))
    return events


def opportunity_timeline_page(
    *, opportunity: Opportunity, before: TimelineCursor | None = None, size: int = TIMELINE_PAGE_SIZE
) -> TimelinePage:
    """One page of the timeline of one (already visibility-checked) deal, newest first: the
    ``size`` events before ``before`` (the newest when None), in the order of
    ``opportunity_timeline``, with the same keys but plain values: names, not instances.

    Two queries whatever the history's length: the page's rows with the number of events and
    the names they show (``_timeline_sql``, keyset-paged), and the page's files. People are names
    (``by``, owners), None for nobody: the system, or the team's unassigned pool. An activity's
    ``attachments`` are dicts: ``pk``, ``original_name``, ``size``, ``is_image``.
    """
    rows = _timeline_rows(opportunity=opportunity, before=before, limit=size + 1)
    has_created_row = bool(rows and rows[0]["t_has_created"])
    # A deal made without the create service's stage row still starts with "created".
    total = rows[0]["t_total"] + (0 if has_created_row else 1) if rows else 0

    more = len(rows) > size
    rows = rows[:size]
    if not more and not has_created_row and (rows or before is None):
        rows.append({**dict.fromkeys(_COLUMNS), "t_type": "created", "t_at": opportunity.created_at})
        total = total or 1
    files: dict[int, list[dict]] = {}
    if rows:
        # The files of the activities in the page's span of time: a range rather than a list of
        # ids, so a page without activities costs the same one query.
        moments = [row["t_at"] for row in rows]
        found = (
            Attachment.objects.filter(
                opportunity=opportunity, activity__occurred_at__range=(min(moments), max(moments))
            )
            .order_by("created_at", "pk")
            .values_list("pk", "activity_id", "original_name", "content_type", "size")
        )
        for pk, activity_id, name, content_type, size in found:
            is_image = content_type.startswith("image/")  # Attachment.is_image
            files.setdefault(activity_id, []).append(
                {"pk": pk, "original_name": name, "size": size, "is_image": is_image}
            )
    events = [_timeline_event(row, opportunity=opportunity, files=files) for row in rows]
    return TimelinePage(
        events=events,
        total=total,
        earlier=TimelineCursor(at=rows[-1]["t_at"], order=rows[-1]["t_order"], pk=rows[-1]["t_pk"]) if more else None,
    )


def _timeline_event(row: dict, *, opportunity: Opportunity, files: dict) -> dict:
    """A row of the UNION ALL as the event the page shows (the keys of ``opportunity_timeline``,
    with names in place of stage, team and lost-reason instances)."""
    kind = row["t_type"]
    event = {"type": kind, "at": row["t_at"], "by": _name(row, "by")}
    if kind == "created":
        # The create service stamps its history rows a moment before the row's own created_at.
        event.update(
            at=min(opportunity.created_at, row["t_at"]),
            # The create service writes its stage row as the deal's creator; a deal made some
            # other way (no such row) names its creator itself.
            by=event["by"] if row["t_pk"] else _person_name(opportunity.created_by),
            stage_name=row["t_name2"],
            probability=row["t_num2"],
        )
    elif kind == "stage_changed":
        event.update(
            from_stage_name=row["t_name1"],
            to_stage_name=row["t_name2"],
            probability_before=row["t_num1"],
            probability_after=row["t_num2"],
            note=row["t_text1"],
        )
    elif kind == "assigned":
        event.update(
            from_owner=_name(row, "user1"),
            to_owner=_name(row, "user2"),
            from_team_name=row["t_name1"] if row["t_id1"] != row["t_id2"] else None,
            to_team_name=row["t_name2"],
            reason=row["t_text1"],
        )
    elif kind == "close_date_changed":
        old, new = row["t_date1"], row["t_date2"]
        event.update(old_date=old, new_date=new, is_push=old is not None and new > old, reason=row["t_text1"])
    elif kind == "field_changed":
        event.update(
            field=row["t_text1"],
            old_value=row["t_text2"],
            new_value=row["t_text3"],
            old_name=row["t_name1"],
            new_name=row["t_name2"],
        )
    elif kind == "activity":
        event.update(
            kind=row["t_text2"],
            kind_label=Activity.Kind(row["t_text2"]).label
            if row["t_text2"] in Activity.Kind.values
            else row["t_text2"],
            stage_name=row["t_name1"],
            body=row["t_text1"],
            tracking_number=row["t_text3"],
            carrier=row["t_text4"],
            attachments=files.get(row["t_pk"], []),
        )
    else:  # won, lost, expired, reopened
        event.update(
            from_status=row["t_text2"],
            reason=row["t_text1"],
            lost_reason_name=row["t_name1"],
            owner=_name(row, "user2"),
        )
    return event


def _person_name(user) -> str | None:
    return (user.get_full_name() or user.username) if user is not None else None


def _name(row: dict, who: str) -> str | None:
    """A person of a row (``who``: by, user1, user2) as ``_person_name`` names a user."""
    if row[f"t_{who}"] is None:
        return None
    full = f"{row[f't_{who}_first_name']} {row[f't_{who}_last_name']}".strip()  # User.get_full_name
    return full or row[f"t_{who}_username"]
