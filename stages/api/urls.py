from rest_framework.routers import SimpleRouter

from stages.api import views

router = SimpleRouter()
router.register("pipelines", views.PipelineViewSet, basename="pipeline")

urlpatterns = router.urls
