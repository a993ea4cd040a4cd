"""Liveness, answered before host validation so probes can call the app by IP address."""

from django.http import JsonResponse

LIVE_PATH = "/health/live/"


class LivenessMiddleware:
    """Answer GET /health/live/ before any other middleware looks at the Host header.

    A container health check calls http://127.0.0.1:8000/, which production ALLOWED_HOSTS
    rightly refuse; liveness says only that the process answers, so it needs no host.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == LIVE_PATH and request.method in ("GET", "HEAD"):
            return JsonResponse({"status": "ok"})
        return self.get_response(request)
