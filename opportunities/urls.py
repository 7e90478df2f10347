from django.urls import include, path

from opportunities import views

app_name = "opportunities"

urlpatterns = [
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment_download"),
    # The list, its exports and bulk actions, and the quick create form (views.py).
    path("", views.opportunity_list, name="list"),
    path("export.<str:fmt>", views.opportunity_export, name="export"),
    path("bulk/", views.opportunity_bulk, name="bulk"),
    path("new/", views.opportunity_new, name="create"),
    path("new/stages/", views.stage_options, name="stage_options"),
    path("imports/", include("opportunities.imports.urls")),
]
