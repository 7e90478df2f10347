from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.dates import company_today
from opportunities.models import Opportunity
from opportunities.selectors import opportunities_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    today = company_today()
    counts = opportunities_visible_to(user=request.user).aggregate(
        open=Count("pk", filter=Q(status=Opportunity.Status.OPEN)),
        overdue=Count("pk", filter=Q(status=Opportunity.Status.OPEN, expected_close_date__lt=today)),
        won=Count("pk", filter=Q(status=Opportunity.Status.WON)),
        expired=Count("pk", filter=Q(status=Opportunity.Status.EXPIRED)),
    )
    return render(request, "crm/home.html", {"counts": counts, "today": today})


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
