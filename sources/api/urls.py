from rest_framework.routers import SimpleRouter

from sources.api import views

router = SimpleRouter()
router.register("sources", views.LeadSourceViewSet, basename="source")

urlpatterns = router.urls
