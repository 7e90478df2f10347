from django.urls import path

from reports import views
from reports.catalog import REPORTS

app_name = "reports"

urlpatterns = [path("", views.report_index, name="index")]
for _slug in REPORTS:
    urlpatterns += [
        path(f"{_slug}/", views.report_page, {"slug": _slug}, name=_slug),
        path(f"{_slug}/export.<str:fmt>", views.report_export, {"slug": _slug}, name=f"{_slug}_export"),
    ]
