"""Log lines: JSON in production, readable in development, a request id on each, no secrets in any."""

import io
import json
import logging
import time

import pytest
from rest_framework.test import APIClient

from common.logs import JsonFormatter, PlainFormatter, RepeatFilter, redact
from common.request_id import RequestIdFilter, request_id
from customers.api.serializers import RegisterSerializer


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("login failed password=hunter2 for ada", "hunter2"),
        ('{"email": "ada@example.com", "password": "hunter2"}', "hunter2"),
        ("{'email': 'ada@example.com', 'password': 'hunter2'}", "hunter2"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("sent Bearer abc.def-ghi", "abc.def-ghi"),  # no secret's name on the line
        ("seen eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo3fQ.c2lnbmF0dXJl twice", "eyJhbGciOiJIUzI1NiJ9"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjo3fQ.c2lnbmF0dXJl seen", "eyJhbGciOiJIUzI1NiJ9"),
        ("cannot connect to postgres://shop:s3cret@db:5432/shop", "s3cret"),
        ("GET /reset?access_token=abc123&next=/ 200", "abc123"),
        ("<WSGIRequest: GET '/reset/access_token%3Dabc123/'>", "abc123"),
        ("SECRET_KEY=django-insecure-xyz", "django-insecure-xyz"),
    ],
)
def test_secrets_are_scrubbed_from_a_line(line, secret):
    scrubbed = redact(line)

    assert secret not in scrubbed
    assert "[redacted]" in scrubbed


def test_ordinary_lines_are_left_alone():
    line = "GET /api/v1/products/?page=2 200 in 4.1 ms for customer 7"

    assert redact(line) == line


def record(message: str, *args, **extra) -> logging.LogRecord:
    entry = logging.LogRecord("shopkeep.orders", logging.WARNING, __file__, 1, message, args, None)
    entry.__dict__.update(extra)
    RequestIdFilter().filter(entry)
    return entry


def test_json_lines_carry_time_level_logger_request_id_message_and_extras():
    token = request_id.set("req-42")
    try:
        line = JsonFormatter().format(record("Order %s refused", "SK-1", order_id=7))
    finally:
        request_id.reset(token)

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["time"].endswith("+00:00")
    assert (entry["level"], entry["logger"], entry["request_id"]) == ("WARNING", "shopkeep.orders", "req-42")
    assert (entry["message"], entry["order_id"]) == ("Order SK-1 refused", 7)


def test_json_lines_hold_the_exception_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        entry = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, __import__("sys").exc_info())

    line = JsonFormatter().format(entry)

    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exception"]


def test_plain_lines_read_as_text_with_the_request_id():
    token = request_id.set("req-42")
    try:
        line = PlainFormatter().format(record("Order %s refused", "SK-1"))
    finally:
        request_id.reset(token)

    assert line.endswith("WARNING [req-42] shopkeep.orders Order SK-1 refused")


@pytest.fixture
def everything_logged(settings):
    """Capture every log line at DEBUG through the production formatter, as the console handler would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.django_db
def test_no_password_or_token_reaches_the_logs(everything_logged, monkeypatch, customer):
    password = "analytical-engine-1843"
    client = APIClient(raise_request_exception=False)

    registered = client.post(
        "/api/v1/auth/register/",
        {"email": "ada@example.com", "password": password, "first_name": "Ada", "last_name": "Lovelace"},
        format="json",
    )
    tokens = registered.json()["tokens"]
    wrong = client.post("/api/v1/auth/token/", {"email": "ada@example.com", "password": "nope-" + password})
    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = client.get("/api/v1/customers/me/")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}x")  # a tampered token: logged as 401
    tampered = client.get("/api/v1/customers/me/")

    # A careless error message quoting the request body, logged with its traceback as a 500.
    def fail(self, validated_data):
        raise RuntimeError(f"could not register {dict(self.initial_data)}")

    monkeypatch.setattr(RegisterSerializer, "create", fail)
    crashed = APIClient(raise_request_exception=False).post(
        "/api/v1/auth/register/",
        {"email": "bob@example.com", "password": password, "first_name": "Bob", "last_name": "Babbage"},
        format="json",
    )

    logged = everything_logged.getvalue()
    assert [registered.status_code, wrong.status_code, refreshed.status_code, me.status_code] == [201, 401, 200, 200]
    assert (tampered.status_code, crashed.status_code) == (401, 500)
    assert "Internal Server Error: /api/v1/auth/register/" in logged  # the lines were captured
    assert "could not register" in logged
    for secret in (password, tokens["access"], tokens["refresh"], refreshed.json()["access"]):
        assert secret not in logged
    assert all(json.loads(line) for line in logged.splitlines())


# Where a Redis outage is logged: once per request or more, unless repeats are left out.
OUTAGE_LOGGERS = ("django_redis.cache", "common.caching", "common.ratelimit", "billing.breaker")


@pytest.fixture
def fresh_repeat_counts():
    """Forget which kinds of line the configured repeat filters have let through, so this test's first ones pass."""
    for name in OUTAGE_LOGGERS:
        for log_filter in logging.getLogger(name).filters:
            if hasattr(log_filter, "reset"):
                log_filter.reset()


@pytest.mark.django_db
def test_a_redis_outage_logs_each_failure_once_not_per_request(
    settings, redis_down, everything_logged, fresh_repeat_counts, product, customer_client
):
    settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True  # as production sets it
    anonymous = APIClient()

    for _ in range(30):
        assert anonymous.get("/api/v1/products/").status_code == 200  # a cached read: served from the database
        assert customer_client.get("/api/v1/orders/").status_code == 200  # rate-limited, not cached

    lines = [json.loads(line) for line in everything_logged.getvalue().splitlines()]
    outage = [line for line in lines if line["logger"] in OUTAGE_LOGGERS]
    assert 1 <= len(outage) <= 4, [(line["logger"], line["message"]) for line in outage]
    assert len({(line["logger"], line["message"]) for line in outage}) == len(outage)  # one of each kind
    for line in outage:
        assert "Connection refused" in line["exception"]  # the first one still says what failed
    assert {line["logger"] for line in outage} >= {"django_redis.cache", "common.ratelimit"}


def test_repeats_are_left_out_for_an_interval_then_counted_on_the_next_line():
    log_filter = RepeatFilter(interval=0.2)
    logger = logging.getLogger("tests.repeats")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.addFilter(log_filter)
    logger.propagate = False
    try:
        for group in ["anon"] * 5 + ["user"] * 3:
            logger.warning("Rate limit %s not counted.", group)
        logger.error("Another failure.")
        time.sleep(0.25)
        logger.warning("Rate limit %s not counted.", "auth")
        logger.warning("Rate limit %s not counted.", "auth")
    finally:
        logger.removeFilter(log_filter)
        logger.removeHandler(handler)
        logger.propagate = True

    assert stream.getvalue().splitlines() == [
        "Rate limit anon not counted.",
        "Another failure.",
        "Rate limit auth not counted. (7 more like this left out in the last 0.2 s)",
    ]
