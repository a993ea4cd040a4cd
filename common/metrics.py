"""Prometheus metrics (SPEC §10): what is measured, and the middleware that serves /metrics.

Requests and cache lookups (and, in the apps, counters such as orders.metrics) are counted by the
web process that sees them. What is settled elsewhere (payments, in Celery workers, which
Prometheus does not scrape) is read at scrape time by collectors that apps add with `register_collector`.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR (set in config/gunicorn.conf.py) makes every worker
write its samples to files there, and a scrape answered by any worker sums them all.
"""

import hmac
import os
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from common.proxies import in_networks, parse_networks

METRICS_PATHS = frozenset({"/metrics", "/metrics/"})
HEALTH_PREFIX = "/health/"
# Any other method is labelled "other": a client must not be able to invent label values.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
FORBIDDEN = {"detail": "Metrics need an allowed client address or the metrics token.", "code": "permission_denied"}

HTTP_REQUESTS = Counter(
    "shopkeep_http_requests_total",
    "HTTP requests answered, by URL pattern name (unresolved when none matched), method and status.",
    ["view", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "shopkeep_http_request_duration_seconds",
    "Time from this middleware to the response, by URL pattern name and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
CACHE_REQUESTS = Counter(
    "shopkeep_cache_requests_total",
    "Catalog reads by cache outcome (hit, miss, bypass), by viewset basename.",
    ["namespace", "result"],
)


# Scrape-time collectors of the apps above the platform, in registration order.
REGISTERED_COLLECTORS: list[Collector] = []


def register_collector(collector: Collector) -> None:
    """Report `collector` on every scrape: of this process's registry, or of every worker's files under gunicorn.

    Registering the same collector again (a second `ready()`) changes nothing; another
    collector reporting a name already reported is refused, as prometheus_client does.
    """
    if collector in REGISTERED_COLLECTORS:
        return
    REGISTRY.register(collector)
    REGISTERED_COLLECTORS.append(collector)


def scrape_registry() -> CollectorRegistry:
    """Return what /metrics reports: every worker's files under gunicorn, else this process."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in REGISTERED_COLLECTORS:
        registry.register(collector)
    return registry


class PrometheusMiddleware:
    """Answer GET /metrics before any other middleware looks at the Host header; time every other request.

    Prometheus scrapes by pod IP, which ALLOWED_HOSTS rightly refuses, so the scrape is
    answered here and guarded by client address or bearer token instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.networks = parse_networks("METRICS_ALLOWED_IPS", settings.METRICS_ALLOWED_IPS)
        self.token = settings.METRICS_TOKEN.encode()

    def __call__(self, request):
        if request.path in METRICS_PATHS and request.method in ("GET", "HEAD"):
            return self.metrics(request)
        if request.path in METRICS_PATHS or request.path.startswith(HEALTH_PREFIX):
            return self.get_response(request)

        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        view = match.view_name if match is not None else "unresolved"
        method = request.method if request.method in KNOWN_METHODS else "other"
        HTTP_REQUESTS.labels(view, method, str(response.status_code)).inc()
        HTTP_REQUEST_DURATION.labels(view, method).observe(elapsed)
        return response

    def metrics(self, request) -> HttpResponse:
        """Serve the exposition to an allowed client; refuse anyone else with 403."""
        if not self.allows(request):
            return JsonResponse(FORBIDDEN, status=403)
        return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)

    def allows(self, request) -> bool:
        """Return whether the client's address is allowed or it sent the metrics token."""
        if in_networks(request.META.get("REMOTE_ADDR", ""), self.networks):
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if not self.token or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode(), self.token)
