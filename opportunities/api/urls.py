from django.urls import path
from rest_framework.routers import SimpleRouter

from opportunities.api import views

router = SimpleRouter()
router.register("opportunities", views.OpportunityViewSet, basename="opportunity")
router.register("lost-reasons", views.LostReasonViewSet, basename="lost-reason")

urlpatterns = [
    *router.urls,
    path("opportunities/<int:pk>/history/", views.OpportunityHistoryView.as_view(), name="opportunity-history"),
    path(
        "opportunities/<int:pk>/activities/", views.OpportunityActivityListView.as_view(), name="opportunity-activities"
    ),
    path("attachments/<int:pk>/download/", views.AttachmentDownloadView.as_view(), name="attachment-download"),
]
