"""GET /metrics (SPEC §5, §10): what is counted, what the scrape reports, who may read it, and gunicorn's sum."""

import logging
import os
import subprocess
import sys
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.parser import text_string_to_metric_families

from billing.breaker import get_breaker
from billing.models import Payment
from billing.monitoring import BILLING_COLLECTOR
from catalog.factories import ProductFactory
from common import metrics
from common.metrics import PrometheusMiddleware, register_collector
from orders.models import Order
from tests.utils import assert_error, breaker_redis_down, reset_breaker

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
ORDERS = "/api/v1/orders/"


def sample(name: str, **labels: str) -> float:
    """Return a sample of this process's registry; 0 for a labelled series not yet created.

    Counters are process-wide, so tests compare values before and after.
    """
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_counted() -> float:
    """Return the sum of shopkeep_http_requests_total over every label set."""
    families = (family for family in REGISTRY.collect() if family.name == "shopkeep_http_requests")
    return sum(s.value for family in families for s in family.samples if s.name == "shopkeep_http_requests_total")


def scraped(response) -> dict[tuple, float]:
    """Parse a /metrics answer into {(name, sorted label pairs): value}."""
    text = response.content.decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def series(samples: dict[tuple, float], name: str, label: str) -> dict[str, float]:
    """Return one metric's samples keyed by the value of its single label."""
    return {dict(labels)[label]: value for (sample_name, labels), value in samples.items() if sample_name == name}


@pytest.fixture
def fresh_breaker():
    reset_breaker()
    yield get_breaker()
    reset_breaker()


# --- Requests -------------------------------------------------------------------------------


def test_a_product_list_request_is_counted_under_its_view_with_its_status_and_timed(api_client):
    labels = {"view": "product-list", "method": "GET"}
    counted = sample("shopkeep_http_requests_total", **labels, status="200")
    timed = sample("shopkeep_http_request_duration_seconds_count", **labels)
    under_5s = sample("shopkeep_http_request_duration_seconds_bucket", **labels, le="5.0")

    assert api_client.get(PRODUCTS).status_code == 200

    assert sample("shopkeep_http_requests_total", **labels, status="200") == counted + 1
    assert sample("shopkeep_http_request_duration_seconds_count", **labels) == timed + 1
    assert sample("shopkeep_http_request_duration_seconds_bucket", **labels, le="5.0") == under_5s + 1


def test_a_missing_product_counts_under_the_detail_view_with_404(api_client):
    before = sample("shopkeep_http_requests_total", view="product-detail", method="GET", status="404")

    assert api_client.get(f"{PRODUCTS}999999/").status_code == 404

    assert sample("shopkeep_http_requests_total", view="product-detail", method="GET", status="404") == before + 1


def test_an_unknown_url_counts_as_unresolved_not_under_its_path(api_client):
    before = sample("shopkeep_http_requests_total", view="unresolved", method="GET", status="404")

    assert api_client.get("/api/v1/no-such-thing/abc123/").status_code == 404

    assert sample("shopkeep_http_requests_total", view="unresolved", method="GET", status="404") == before + 1


def test_an_invented_method_is_labelled_other(client):
    before = sample("shopkeep_http_requests_total", view="unresolved", method="other", status="404")

    client.generic("BREW", "/api/v1/no-such-thing/")

    assert sample("shopkeep_http_requests_total", view="unresolved", method="other", status="404") == before + 1


def test_metrics_and_health_requests_are_not_counted(client):
    before = requests_counted()

    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics/").status_code == 200
    assert client.get("/health/live/").status_code == 200

    assert requests_counted() == before


# --- Orders and cache ---------------------------------------------------------------------------


def test_a_placed_order_counts_once_after_commit_and_a_replay_does_not(
    customer_client, django_capture_on_commit_callbacks
):
    product = ProductFactory(price=Decimal("4.00"), stock=10)
    body = {"items": [{"product": product.pk, "quantity": 1}], "delivery_method": "pickup", "payment_method": "cash"}
    before = sample("shopkeep_orders_placed_total", payment_method="cash")

    with django_capture_on_commit_callbacks() as callbacks:
        first = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="metrics-1")
    assert first.status_code == 201, first.content
    assert sample("shopkeep_orders_placed_total", payment_method="cash") == before  # nothing before the commit
    for callback in callbacks:
        callback()
    assert sample("shopkeep_orders_placed_total", payment_method="cash") == before + 1

    with django_capture_on_commit_callbacks(execute=True):
        replay = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="metrics-1")
    assert replay["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert sample("shopkeep_orders_placed_total", payment_method="cash") == before + 1


def test_a_cache_miss_then_hit_count_under_the_viewset_basename(api_client, staff_client):
    miss = sample("shopkeep_cache_requests_total", namespace="product", result="miss")
    hit = sample("shopkeep_cache_requests_total", namespace="product", result="hit")
    bypass = sample("shopkeep_cache_requests_total", namespace="product", result="bypass")

    assert api_client.get(PRODUCTS)["X-Cache"] == "MISS"
    assert api_client.get(PRODUCTS)["X-Cache"] == "HIT"
    assert staff_client.get(PRODUCTS)["X-Cache"] == "BYPASS"

    assert sample("shopkeep_cache_requests_total", namespace="product", result="miss") == miss + 1
    assert sample("shopkeep_cache_requests_total", namespace="product", result="hit") == hit + 1
    assert sample("shopkeep_cache_requests_total", namespace="product", result="bypass") == bypass + 1


# --- Payments and breaker, read at scrape time ------------------------------------------------


def test_payments_are_reported_by_status_with_zero_for_absent_ones(client, customer_client):
    product = ProductFactory(price=Decimal("4.00"), stock=10)
    body = {"items": [{"product": product.pk, "quantity": 1}], "delivery_method": "pickup", "payment_method": "card"}
    for _ in range(3):  # each card order opens a pending payment
        assert customer_client.post(ORDERS, body, format="json").status_code == 202
    first, *others = Payment.objects.order_by("pk")
    Payment.objects.filter(pk=first.pk).update(status=Payment.Status.SUCCEEDED)
    Payment.objects.filter(pk__in=[p.pk for p in others]).update(status=Payment.Status.FAILED)
    cash = {**body, "payment_method": "cash"}
    assert customer_client.post(ORDERS, cash, format="json").status_code == 201  # cash to collect: not counted

    payments = series(scraped(client.get("/metrics")), "shopkeep_payments", "status")

    assert payments == {
        "pending": 0, "processing": 0, "succeeded": 1, "failed": 2, "cancelled": 0, "partially_refunded": 0,
        "refunded": 0,
    }  # fmt: skip


def test_the_payments_family_takes_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):  # payments grouped by status; the breaker reads Redis or memory
        list(BILLING_COLLECTOR.collect())


def test_the_breaker_state_is_one_for_its_current_state_only(client, fresh_breaker):
    closed = series(scraped(client.get("/metrics")), "shopkeep_payment_breaker_state", "state")
    fresh_breaker.open()
    opened = series(scraped(client.get("/metrics")), "shopkeep_payment_breaker_state", "state")

    assert closed == {"closed": 1, "open": 0, "half-open": 0, "unknown": 0}
    assert opened == {"closed": 0, "open": 1, "half-open": 0, "unknown": 0}


def test_with_redis_down_the_breaker_state_is_unknown_not_closed(client, fresh_breaker):
    with breaker_redis_down():
        response = client.get("/metrics")

    assert response.status_code == 200
    states = series(scraped(response), "shopkeep_payment_breaker_state", "state")
    assert states == {"closed": 0, "open": 0, "half-open": 0, "unknown": 1}


def test_a_database_outage_leaves_out_payments_but_still_answers(client, monkeypatch, caplog):
    def database_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(Payment.objects, "order_by", database_down)

    with caplog.at_level(logging.WARNING, logger="billing.monitoring"):
        response = client.get("/metrics")

    samples = scraped(response)
    assert response.status_code == 200
    assert not series(samples, "shopkeep_payments", "status")
    assert series(samples, "shopkeep_payment_breaker_state", "state")
    assert "database is unavailable" in caplog.text


# --- Collectors registered by the apps -----------------------------------------------------------


class QueueCollector:
    """A scrape-time collector as an app above the platform would register."""

    def describe(self):
        return [GaugeMetricFamily("shopkeep_test_queue_depth", "Jobs waiting.")]

    def collect(self):
        yield GaugeMetricFamily("shopkeep_test_queue_depth", "Jobs waiting.", value=7)


@pytest.fixture
def queue_collector(monkeypatch):
    """Register a collector for one test; the apps' registrations are back afterwards."""
    monkeypatch.setattr(metrics, "REGISTERED_COLLECTORS", list(metrics.REGISTERED_COLLECTORS))
    collector = QueueCollector()
    yield collector
    if collector in metrics.REGISTERED_COLLECTORS:
        REGISTRY.unregister(collector)


def test_a_registered_collector_is_scraped_once_in_either_mode(client, monkeypatch, tmp_path, queue_collector):
    register_collector(queue_collector)
    register_collector(queue_collector)  # a second ready(): no duplicate, no error

    single = scraped(client.get("/metrics"))
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    summed = scraped(client.get("/metrics"))

    assert single[("shopkeep_test_queue_depth", ())] == 7
    assert summed[("shopkeep_test_queue_depth", ())] == 7
    assert metrics.REGISTERED_COLLECTORS.count(queue_collector) == 1


def test_a_second_collector_reporting_a_taken_name_is_refused(queue_collector):
    register_collector(queue_collector)

    with pytest.raises(ValueError, match="shopkeep_test_queue_depth"):
        register_collector(QueueCollector())


# --- Who may read /metrics ----------------------------------------------------------------------


def test_a_local_client_reads_prometheus_text(client):
    response = client.get("/metrics")  # the test client's REMOTE_ADDR is 127.0.0.1

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE shopkeep_http_requests_total counter" in response.content.decode()


def test_another_address_is_refused_with_the_error_body(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")

    assert_error(response, 403, "permission_denied")


def test_an_allowed_network_is_let_in_also_as_an_ipv4_mapped_address(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "2001:db8::/32"]

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="2001:db8::7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_the_right_token_lets_any_address_in_and_a_wrong_one_does_not(client, settings):
    settings.METRICS_TOKEN = "scrape-token-123"

    right = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-token-123")
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-token-124")
    not_bearer = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Basic scrape-token-123")

    assert right.status_code == 200
    assert_error(wrong, 403, "permission_denied")
    assert_error(not_bearer, 403, "permission_denied")


def test_with_no_token_configured_an_empty_bearer_is_refused(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer ")

    assert_error(response, 403, "permission_denied")


def test_metrics_answer_whatever_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]

    metrics = client.get("/metrics", HTTP_HOST="10.0.0.7:8000")
    other = client.get(PRODUCTS, HTTP_HOST="10.0.0.7:8000")

    assert metrics.status_code == 200
    assert other.status_code == 400  # every other path still validates the host


def test_a_bad_allowed_address_fails_at_startup(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.0.0.300"]

    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_IPS"):
        PrometheusMiddleware(lambda request: None)


# --- gunicorn: one scrape sums every worker -------------------------------------------------------

WORKER = """
import sys
from common.metrics import HTTP_REQUEST_DURATION
from orders.metrics import ORDERS_PLACED
ORDERS_PLACED.labels("card").inc()
if sys.argv[1] == "second":
    ORDERS_PLACED.labels("cash").inc()
HTTP_REQUEST_DURATION.labels("product-list", "GET").observe(0.02)
"""


def test_in_multiprocess_mode_a_scrape_sums_every_process(client, monkeypatch, tmp_path):
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for name in ("first", "second"):  # two "workers", each gone before the scrape
        subprocess.run(
            [sys.executable, "-c", WORKER, name], cwd=django_settings.BASE_DIR, env=environment, check=True, timeout=60
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    samples = scraped(client.get("/metrics"))

    assert series(samples, "shopkeep_orders_placed_total", "payment_method") == {"card": 2, "cash": 1}
    duration = ("shopkeep_http_request_duration_seconds_count", (("method", "GET"), ("view", "product-list")))
    assert samples[duration] == 2
    assert series(samples, "shopkeep_payments", "status")  # the scrape-time collector is still there
