from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from notifications.models import Notification
from notifications.selectors import notification_get_for_user, notifications_for
from notifications.services import notification_mark_read, notifications_mark_all_read
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_get_for_user

PAGE_SIZE = 30


@require_GET
@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/notification_list.html", {"page": page})


@require_POST
@login_required
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read; someone else's is a 404. htmx gets the row and the bell back."""
    try:
        notification = notification_get_for_user(user=request.user, pk=pk)
    except Notification.DoesNotExist as exc:
        raise Http404 from exc
    notification_mark_read(notification=notification, by=request.user)
    if request.htmx:
        return render(request, "notifications/partials/notification_read.html", {"notification": notification})
    return redirect("notifications:list")


@require_POST
@login_required
def notification_read_all(request: HttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=request.user)
    return redirect("notifications:list")


@require_GET
@login_required
def opportunity_open(request: HttpRequest, pk: int) -> HttpResponse:
    """The stable link in e-mails and the bell: the deal's page if the reader may see it."""
    try:
        opportunity = opportunity_get_for_user(user=request.user, pk=pk)
    except Opportunity.DoesNotExist as exc:
        raise Http404 from exc
    for name in ("opportunities:detail", "admin:opportunities_opportunity_change"):
        if name.startswith("admin:") and not request.user.is_staff:
            continue
        try:
            return redirect(reverse(name, args=[opportunity.pk]))
        except NoReverseMatch:
            continue
    return redirect("notifications:list")
