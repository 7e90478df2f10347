from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from crm.dashboard_html import dashboard_deal_lists, dashboard_stage_bars
from opportunities.selectors import opportunity_incentive_month_to_date
from opportunities.selectors_dashboard import opportunity_dashboard
from teams.selectors import team_members_with_deal_counts, teams_managed_by, user_is_manager


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: a rep's own deals; a manager's teams (plus a line per rep); an admin's all."""
    is_manager = user_is_manager(user=request.user)
    dashboard = opportunity_dashboard(user=request.user)
    context = {
        "dashboard": dashboard,
        "deal_lists": dashboard_deal_lists(dashboard),
        "stage_bars": dashboard_stage_bars(dashboard["pipelines"], list_url=reverse("opportunities:list")),
        "incentive": opportunity_incentive_month_to_date(user=request.user),
        "is_manager": is_manager,
        "reps": list(team_members_with_deal_counts(teams=teams_managed_by(user=request.user))) if is_manager else [],
    }
    return render(request, "crm/home.html", context)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def login_locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page django-axes answers with once a user name is locked out, on our login page and
    the admin's (settings.AXES_LOCKOUT_CALLABLE). The API's token endpoint refuses a locked-out
    login like a wrong password (400), since it answers through DRF, not this page."""
    from django.conf import settings

    minutes = settings.AXES_COOLOFF_MINUTES
    message = ngettext(
        "Too many failed logins for this user name. For your security, logging in is blocked for "
        "%(minutes)d minute. Try again later, or ask an administrator to unlock the account.",
        "Too many failed logins for this user name. For your security, logging in is blocked for "
        "%(minutes)d minutes. Try again later, or ask an administrator to unlock the account.",
        minutes,
    ) % {"minutes": minutes}
    return render(request, "registration/locked_out.html", {"message": message, "minutes": minutes}, status=429)
