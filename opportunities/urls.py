from django.urls import include, path

from opportunities import views

app_name = "opportunities"

urlpatterns = [
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment_download"),
    path("imports/", include("opportunities.imports.urls")),
]
