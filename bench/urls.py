"""The site's URLs plus ``bench/trivial/``, the ceiling of the throughput benchmark.

Used only by ``bench/settings.py``: the trivial view is never part of the production URLs.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from crm.urls import handler404  # noqa: F401  (the same 404 handler as the site's)
from crm.urls import urlpatterns as crm_urlpatterns


def trivial(request: HttpRequest) -> HttpResponse:
    """The least a request can cost here: the full middleware stack, then no database, no
    session (nothing reads it, so the session middleware never loads it) and no template."""
    return HttpResponse("ok")


urlpatterns = [
    *crm_urlpatterns,
    path("bench/trivial/", trivial, name="bench_trivial"),
]
