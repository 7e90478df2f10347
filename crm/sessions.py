"""The sliding idle timeout of browser sessions.

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
from django.http import HttpRequest, HttpResponse

RENEWED_AT = "_jihui_renewed_at"


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
