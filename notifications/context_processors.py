from functools import cache

from django.http import HttpRequest

from notifications.selectors import notifications_unread_count


def notifications(request: HttpRequest) -> dict:
    """The bell's unread count: at most one query per request, only if a template shows it
    (templates call a callable on first use), and none for anonymous users.

    A GET, which changes nothing, shows the count the user was loaded with
    (``teams.backends.UserBackend``): no query at all. Any other request may have just marked
    notifications read, so it counts again."""
    user = getattr(request, "user", None)

    @cache
    def notifications_unread() -> int:
        if user is None or not user.is_authenticated:
            return 0
        loaded = getattr(user, "unread_notifications", None)
        if loaded is not None and request.method in ("GET", "HEAD"):
            return loaded
        return notifications_unread_count(user=user)

    return {"notifications_unread": notifications_unread}
