"""Liveness and readiness probes (SPEC §5), answered before host validation.

Orchestrators call the app by IP address (http://10.0.3.7:8000/health/ready/), which
production ALLOWED_HOSTS rightly refuse, so these two paths are answered by the first
middleware, ahead of host checks, sessions and rate limits.

- live: the process answers. Nothing else is checked: restarting the web container
  cannot fix a database outage.
- ready: the dependencies, each with its own verdict. The database is essential (503
  "down": take this instance out of rotation); Redis, the broker and every check an app
  registers (billing's payment gateway) are not (200 "degraded": reads fall back to the
  database, counters fail open, payments wait), so an outage of theirs must not empty
  the load balancer.
"""

import time
import uuid
from collections.abc import Callable

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse

LIVE_PATH = "/health/live/"
READY_PATH = "/health/ready/"

# Checks of the apps above the platform, reported after its own, in registration order.
REGISTERED_CHECKS: dict[str, Callable[[], dict]] = {}


class HealthCheckMiddleware:
    """Answer GET /health/live/ and /health/ready/ before any other middleware runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path == LIVE_PATH:
                return JsonResponse({"status": "ok"})
            if request.path == READY_PATH:
                return readiness()
        return self.get_response(request)


def readiness() -> JsonResponse:
    """Check every dependency; answer 200 ok, 200 degraded, or 503 down when the database is."""
    checks = {name: timed(check) for name, check in PLATFORM_CHECKS.items()}
    checks.update((name, guarded(check)) for name, check in REGISTERED_CHECKS.items())
    if checks["database"]["status"] != "ok":
        overall, status_code = "down", 503
    elif all(check["status"] in ("ok", "skipped") for check in checks.values()):
        overall, status_code = "ok", 200
    else:
        overall, status_code = "degraded", 200
    response = JsonResponse({"status": overall, "checks": checks}, status=status_code)
    response["Cache-Control"] = "no-store"
    return response


def register_check(name: str, check: Callable[[], dict]) -> None:
    """Report `check` under `name` in every readiness answer; for apps the platform may not import.

    The check returns a dict with a "status" ("ok", "skipped", "degraded" or "down") and
    anything else worth reporting, which is answered as it is, with no latency added;
    short of the database, no check makes the answer 503. Registering the same check
    again (a second `ready()`) changes nothing.
    """
    if name in PLATFORM_CHECKS or REGISTERED_CHECKS.get(name, check) is not check:
        raise ValueError(f"Another health check is already registered as {name!r}.")
    REGISTERED_CHECKS[name] = check


def timed(check: Callable[[], dict]) -> dict:
    """Run a check as `guarded` does, and add its latency."""
    started = time.perf_counter()
    result = guarded(check)
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def guarded(check: Callable[[], dict]) -> dict:
    """Run a check; turn any exception into "down" naming the error class."""
    try:
        return check()
    except Exception as error:  # noqa: BLE001 - a probe reports any failure in its answer
        return {"status": "down", "error": type(error).__name__}


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok"}


def check_cache() -> dict:
    """Write and read back a value: django-redis swallows outages, so only a round trip tells."""
    value = uuid.uuid4().hex
    cache.set("health:probe", value, timeout=10)
    if cache.get("health:probe") != value:
        return {"status": "down", "error": "CacheUnavailable"}
    return {"status": "ok"}


def check_broker() -> dict:
    """Open a connection to the project's Celery broker (the current app, which config/celery.py sets up)."""
    app = current_app
    if app.conf.task_always_eager:
        return {"status": "skipped", "detail": "Eager mode: tasks run in the web process."}
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.HEALTH_BROKER_TIMEOUT)
    return {"status": "ok"}


# The platform's own checks, timed, ahead of the registered ones.
PLATFORM_CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}
