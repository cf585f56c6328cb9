"""A URLconf with one API view that replaces the default throttles: the system check must name it."""
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView


class Unthrottled(APIView):
    throttle_classes = [ScopedRateThrottle]

    def get(self, request):
        return Response({})


urlpatterns = [path("api/unthrottled", Unthrottled.as_view()), path("", include("portal.urls"))]
