from django.urls import path

from reports.api.views import VIEWS

app_name = "reports_api"

urlpatterns = [path(f"{slug}/", view.as_view(), name=slug) for slug, view in VIEWS.items()]
