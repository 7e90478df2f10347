"""Browser sessions: Django's database sessions read by one plain statement, and their sliding
idle timeout.

Reading the session is the first query of every signed-in request. ``SessionStore`` reads it
as Django's database store does (the row of this key that has not expired, else a new key on the
next save) with a statement of its own instead of an ORM query built and compiled each time:
0.52 to 0.29 ms here. Everything else (saving, creating, deleting, ``clearsessions``) is Django's.
On PostgreSQL the same statement reads its snapshot, ``snapshot``: the key of the pages
``crm.page_cache`` keeps for this session.

The idle timeout:

Django's session ends ``SESSION_COOKIE_AGE`` seconds after it was last *saved*. Saving it on
every request (``SESSION_SAVE_EVERY_REQUEST``) would make that an idle timeout, at the price of a
database write per request. Instead the session remembers when it was last renewed and is saved
again once ``SESSION_IDLE_RENEW_SECONDS`` have passed: a user who keeps working stays signed in,
one who leaves the browser idle for ``SESSION_COOKIE_AGE`` seconds is signed out, and ordinary
requests write nothing.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

RENEWED_AT = "_jihui_renewed_at"


class SessionStore(DatabaseSessionStore):
    """``SESSION_ENGINE = "crm.sessions"``: see the module's docstring."""

    # The database snapshot the session was read in (PostgreSQL's pg_current_snapshot() as
    # text), or None: not read yet, not found, or a database without snapshots.
    snapshot: str | None = None

    def load(self) -> dict:
        data = self._session_data_from_db()
        return {} if data is None else self.decode(data)

    def _session_data_from_db(self) -> str | None:
        """The stored data of this key if it has not expired; if not, forgets the key (as
        Django's ``_get_session_from_db``), so that saving makes a new one."""
        model = self.model
        connection = connections[router.db_for_read(model)]
        quote = connection.ops.quote_name
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        snapshot = ", pg_current_snapshot()::text" if connection.vendor == "postgresql" else ""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('session_data')}{snapshot} FROM {quote(model._meta.db_table)} "  # noqa: S608 (names, quoted)
                f"WHERE {quote('session_key')} = %s AND {quote('expire_date')} > %s",
                [self.session_key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            self.snapshot = None
            return None
        self.snapshot = row[1] if snapshot else None
        return row[0]


def session_mark_renewed(session) -> None:
    """Record that ``session`` was (or is about to be) saved with a fresh expiry."""
    session[RENEWED_AT] = int(time.time())


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only signed-in sessions, and only ones already loaded (the auth middleware did).
        if session is not None and session.accessed and session.get(SESSION_KEY):
            renewed_at = session.get(RENEWED_AT, 0)
            if time.time() - renewed_at >= settings.SESSION_IDLE_RENEW_SECONDS:
                session_mark_renewed(session)  # modified → SessionMiddleware saves it, new expiry
        return response


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """A fresh login saves the session anyway: stamp it then, so the next requests write nothing."""
    if request is not None and hasattr(request, "session"):
        session_mark_renewed(request.session)
