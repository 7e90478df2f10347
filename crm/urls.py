from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from crm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("opportunities/", include("opportunities.urls")),
    path("api/reports/", include("reports.api.urls")),
    path("api/imports/", include("opportunities.imports.api_urls")),
    path("api/", include("crm.api_urls")),
    path("notifications/", include("notifications.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "crm.api_errors.not_found"

admin.site.site_header = "Jihui 机会 CRM"
admin.site.site_title = _("Jihui CRM")
