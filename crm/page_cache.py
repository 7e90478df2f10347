"""Whole signed-in pages kept in memory, keyed by the database snapshot they were read in.

A page such as the opportunity list is a function of what the database holds, the request
(path and query string, language, host, htmx headers), the signed-in session and the company's
date. PostgreSQL names what the database holds: ``pg_current_snapshot()`` lists the
transactions visible to a statement, and two statements with the same snapshot see exactly the
same rows in every table. The session is read with its snapshot in one statement
(``crm.sessions.SessionStore``), so a page rendered for a session at snapshot S can be sent
again to the same session at snapshot S: nothing it shows can have changed. Any committed write
anywhere — a deal, a user, the session itself, a notification — gives later requests another
snapshot, so a page is never served after a change it does not show. The page's own queries run
after its key's snapshot was taken, so a kept page can only be newer than its key, never older.

What is not in the database is in the key: the full path, the active language, the host and
scheme, every ``HX-*`` header, the session's key and the company's date (the only clock the
cached pages read: staleness and overdue are by company day). A page is kept only when it was
a plain 200 to a GET outside any transaction, with no message to show or queued, no cookie set
by the view and no change to the session. Its CSRF token is replaced by this request's on the
way out, so the forms it holds work for whoever gets it.

A hit skips the view, its queries and the signed-in user's load: the user, like everything
else, is what the session and the snapshot say. Each process keeps its own pages, least
recently used first out, within ``JIHUI_PAGE_CACHE_BYTES`` (0 turns the cache off). Only
PostgreSQL has snapshots; elsewhere nothing is kept.

Writes are frequent in a working company (a renewed session is one), so most requests still
render; what the cache saves is repeated loads of a page while nothing changed.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from crm.dates import company_today

_TOKEN = "_page_csrf_token"  # noqa: S105 (an attribute name)


def page_csrf_token(request: HttpRequest) -> str:
    """The CSRF token of this request: one masked token for the whole page (Django masks it
    anew at each ``get_token``), so that a kept page's token can be found and replaced."""
    token = getattr(request, _TOKEN, None)
    if token is None:
        token = get_token(request)
        setattr(request, _TOKEN, token)
    return token


def csrf(request: HttpRequest) -> dict:
    """Context processor in place of Django's built-in ``csrf`` one (which it overrides, coming
    after it): the same lazy token, through ``page_csrf_token``."""
    return {"csrf_token": SimpleLazyObject(lambda: page_csrf_token(request))}


@dataclass(frozen=True, slots=True)
class _Page:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    token: bytes | None

    @property
    def size(self) -> int:
        return len(self.body) + 512

    def response(self, request: HttpRequest) -> HttpResponse:
        body = self.body
        if self.token is not None:
            body = body.replace(self.token, page_csrf_token(request).encode())
        response = HttpResponse(body, status=self.status)
        for name, value in self.headers:
            response.headers[name] = value
        return response


class _Pages:
    """A byte-bounded LRU of pages, safe for a threaded server."""

    def __init__(self) -> None:
        self._pages: OrderedDict[tuple, _Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> _Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
            else:
                self.hits += 1
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: _Page, *, limit: int) -> None:
        if page.size > limit:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > limit:
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= evicted.size

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._pages)


pages = _Pages()


def _pending_messages(request: HttpRequest) -> int:
    storage = getattr(request, "_messages", None)
    return 0 if storage is None else len(storage)


def _page_key(request: HttpRequest) -> tuple | None:
    """What the page is a function of, or None when it must be rendered and not kept."""
    if request.method != "GET" or connection.in_atomic_block:
        return None
    session = getattr(request, "session", None)
    if session is None or not session.get(SESSION_KEY):  # loads the session and its snapshot
        return None
    snapshot = getattr(session, "snapshot", None)
    if snapshot is None or _pending_messages(request):
        return None
    htmx = tuple(sorted((name, value) for name, value in request.META.items() if name.startswith("HTTP_HX_")))
    return (
        request.get_full_path(),
        translation.get_language(),
        request.scheme,
        request.META.get("HTTP_HOST", ""),
        htmx,
        session.session_key,
        snapshot,
        company_today(),
    )


def _keepable(request: HttpRequest, response: HttpResponse) -> _Page | None:
    if (
        response.status_code != 200
        or response.streaming
        or response.cookies
        or request.session.modified
        or _pending_messages(request)
    ):
        return None
    token = getattr(request, _TOKEN, None)
    return _Page(
        status=response.status_code,
        headers=tuple(response.headers.items()),
        body=response.content,
        token=None if token is None else token.encode(),
    )


def page_cached(view):
    """Keep ``view``'s pages as the module's docstring says. Put it outside ``login_required``:
    a hit needs no user, and a page is kept only for a session that was signed in."""

    @wraps(view)
    def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        limit = settings.JIHUI_PAGE_CACHE_BYTES
        key = _page_key(request) if limit > 0 else None
        if key is None:
            return view(request, *args, **kwargs)
        page = pages.get(key)
        if page is not None:
            return page.response(request)
        response = view(request, *args, **kwargs)
        kept = _keepable(request, response)
        if kept is not None:
            pages.put(key, kept, limit=limit)
        return response

    return cached_view
