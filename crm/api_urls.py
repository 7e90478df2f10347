"""The REST API under /api/: each app's api/urls.py, token auth, the OpenAPI schema and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

app_name = "api"

urlpatterns = [
    path("", include("teams.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("stages.api.urls")),
    path("", include("sources.api.urls")),
    path("", include("opportunities.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
