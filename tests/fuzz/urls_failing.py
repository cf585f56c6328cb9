"""The portal's URLs plus one view that fails, to see the 500 page and the API's 500 answer as a visitor would."""
from django.urls import path

from portal.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def fail(request):
    raise RuntimeError("a failure inside a view")


urlpatterns = [path("fail/", fail), path("api/fail", fail), *urlpatterns]
