from functools import cache

from django.http import HttpRequest

from notifications.selectors import notifications_unread_count


def notifications(request: HttpRequest) -> dict:
    """The bell's unread count: at most one query per request, only if a template shows it
    (templates call a callable on first use), and none for anonymous users."""
    user = getattr(request, "user", None)

    @cache
    def notifications_unread() -> int:
        if user is None or not user.is_authenticated:
            return 0
        return notifications_unread_count(user=user)

    return {"notifications_unread": notifications_unread}
