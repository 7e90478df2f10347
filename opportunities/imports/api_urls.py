from rest_framework.routers import SimpleRouter

from opportunities.imports.api import ImportJobViewSet

app_name = "imports-api"

router = SimpleRouter()
router.register("", ImportJobViewSet, basename="job")
urlpatterns = router.urls
