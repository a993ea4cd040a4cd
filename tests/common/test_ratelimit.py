"""SPEC §7 rate limits on every API endpoint: keys, scopes, headers, trusted proxies, failing open."""

from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.checks import run_checks
from django_redis import get_redis_connection
from redis.connection import AbstractConnection
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from catalog.factories import ProductFactory
from common.ratelimit import Limit, WindowCounter, enforce_limits, parse_rate
from conftest import bearer_client
from customers.factories import PASSWORD
from tests.utils import assert_error

PRODUCTS = "/api/v1/products/"
TOKEN = "/api/v1/auth/token/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_ratelimit_clock")]


def remaining(responses) -> list[str]:
    return [response["X-RateLimit-Remaining"] for response in responses]


def test_anonymous_requests_are_limited_per_client_ip(settings):
    settings.RATELIMIT_ANON = "3/m"
    client = APIClient()

    allowed = [client.get(PRODUCTS) for _ in range(3)]
    limited = client.get(PRODUCTS)
    other_ip = client.get(PRODUCTS, REMOTE_ADDR="198.51.100.20")

    assert [response.status_code for response in allowed] == [200, 200, 200]
    assert [response["X-RateLimit-Limit"] for response in allowed] == ["3", "3", "3"]
    assert remaining(allowed) == ["2", "1", "0"]
    assert all(0 <= int(response["X-RateLimit-Reset"]) <= 60 for response in allowed)
    body = assert_error(limited, 429, "rate_limited")
    assert "slow down" in body["detail"]
    assert limited["Retry-After"] == limited["X-RateLimit-Reset"]
    assert (limited["X-RateLimit-Limit"], limited["X-RateLimit-Remaining"]) == ("3", "0")
    assert (other_ip.status_code, other_ip["X-RateLimit-Remaining"]) == (200, "2")


def test_signed_in_requests_are_limited_per_user_not_per_ip(settings, customer, other_customer):
    settings.RATELIMIT_ANON = "1/m"
    settings.RATELIMIT_USER = "2/m"
    mine, theirs = bearer_client(customer.user), bearer_client(other_customer.user)

    first, second, third = (mine.get(PRODUCTS) for _ in range(3))
    other_user = theirs.get(PRODUCTS)  # same IP, another user: a counter of its own
    anonymous = APIClient().get(PRODUCTS)  # same IP, no login: the anonymous counter is untouched

    assert (first.status_code, first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == (200, "2", "1")
    assert second.status_code == 200
    assert_error(third, 429, "rate_limited")
    assert (other_user.status_code, other_user["X-RateLimit-Remaining"]) == (200, "1")
    assert (anonymous.status_code, anonymous["X-RateLimit-Limit"], anonymous["X-RateLimit-Remaining"]) == (
        200,
        "1",
        "0",
    )


def test_cache_hits_count_too(settings, api_client):
    settings.RATELIMIT_ANON = "2/m"

    miss, hit, limited = (api_client.get(PRODUCTS) for _ in range(3))

    assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT")
    assert remaining([miss, hit]) == ["1", "0"]
    assert_error(limited, 429, "rate_limited")


def test_every_answer_of_a_limited_endpoint_carries_the_headers(settings, api_client, customer_client):
    settings.RATELIMIT_ANON = "10/m"
    settings.RATELIMIT_USER = "10/m"

    not_found = api_client.get(f"{PRODUCTS}999999/")
    invalid = api_client.get(PRODUCTS, {"min_price": "cheap"})
    refused = customer_client.post(PRODUCTS, {}, format="json")  # a customer may not write the catalog

    assert not_found.status_code == 404
    assert invalid.status_code == 400
    assert refused.status_code == 403
    assert remaining([not_found, invalid]) == ["9", "8"]
    assert "X-RateLimit-Limit" not in refused  # refused before counting: permissions come first in DRF


def test_sign_in_is_limited_per_ip_whatever_the_outcome(settings, api_client, customer):
    settings.RATELIMIT_AUTH = "2/m"

    wrong = api_client.post(TOKEN, {"email": customer.user.email, "password": "guess"}, format="json")
    right = api_client.post(TOKEN, {"email": customer.user.email, "password": PASSWORD}, format="json")
    limited = api_client.post(TOKEN, {"email": customer.user.email, "password": PASSWORD}, format="json")
    register = api_client.post("/api/v1/auth/register/", {}, format="json")  # same budget: sign-in as a whole

    assert (wrong.status_code, right.status_code) == (401, 200)
    assert (wrong["X-RateLimit-Limit"], right["X-RateLimit-Remaining"]) == ("2", "0")
    assert_error(limited, 429, "rate_limited")
    assert_error(register, 429, "rate_limited")
    assert api_client.post(TOKEN, {}, format="json", REMOTE_ADDR="198.51.100.30").status_code == 400


def test_a_forged_forwarded_for_from_an_untrusted_client_does_not_change_the_key(settings, api_client):
    settings.RATELIMIT_ANON = "2/m"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]  # the test client (127.0.0.1) is not one of them

    answers = [api_client.get(PRODUCTS, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(3)]

    assert [response.status_code for response in answers] == [200, 200, 429]


def test_through_a_trusted_proxy_the_real_client_ip_is_the_key(settings, api_client):
    settings.RATELIMIT_ANON = "2/m"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    def via_proxy(forwarded_for: str):
        return api_client.get(PRODUCTS, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded_for)

    first_client = [via_proxy("198.51.100.7") for _ in range(3)]
    second_client = via_proxy("198.51.100.8")
    # The client wrote the leftmost hop itself; the proxy appended the address it saw.
    forged = via_proxy("203.0.113.1, 198.51.100.7")
    through_two_proxies = via_proxy("198.51.100.8, 10.0.0.9")

    assert [response.status_code for response in first_client] == [200, 200, 429]
    assert (second_client.status_code, second_client["X-RateLimit-Remaining"]) == (200, "1")
    assert forged.status_code == 429
    assert (through_two_proxies.status_code, through_two_proxies["X-RateLimit-Remaining"]) == (200, "0")


@pytest.mark.parametrize(
    "path",
    [
        "/health/live/",
        "/health/ready/",
        "/metrics",
        "/api/schema/",
        "/api/docs/",
        "/api/redoc/",
        f"/{django_settings.DJANGO_ADMIN_URL}login/",
    ],
)
def test_health_metrics_docs_and_admin_are_not_limited(settings, client, path):
    settings.RATELIMIT_ANON = "1/m"

    answers = [client.get(path) for _ in range(3)]

    assert [response.status_code for response in answers] == [200, 200, 200]
    assert all("X-RateLimit-Limit" not in response for response in answers)


def test_requests_go_through_unlimited_when_the_cache_cannot_count(settings, api_client, redis_down):
    settings.RATELIMIT_ANON = "1/m"
    ProductFactory()

    answers = [api_client.get(PRODUCTS) for _ in range(3)]

    assert [response.status_code for response in answers] == [200, 200, 200]
    assert all("X-RateLimit-Limit" not in response for response in answers)


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL; CI runs it against Redis")
def test_counters_live_in_redis_shared_by_every_worker(api_client):
    api_client.get(PRODUCTS)

    keys = get_redis_connection("default").keys("*rl:*")
    assert len(keys) == 1


@pytest.fixture
def redis_round_trips(monkeypatch) -> list[bytes]:
    """Record every message sent to Redis: one per round trip (a pipeline sends its commands as one)."""
    sent = []
    send = AbstractConnection.send_packed_command

    def record(connection, command, check_health=True):
        sent.append(command)
        return send(connection, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", record)
    return sent


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL; CI runs it against Redis")
def test_on_redis_requests_are_counted_in_one_round_trip(customer_client, redis_round_trips):
    response = customer_client.get("/api/v1/orders/")  # not a cached read

    assert response.status_code == 200
    assert len(redis_round_trips) == 1
    assert response["X-RateLimit-Remaining"] == "999"


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL; CI runs it against Redis")
def test_on_redis_a_cache_hit_counts_and_reads_in_one_round_trip(settings, api_client, redis_round_trips):
    settings.RATELIMIT_ANON = "3/m"
    ProductFactory()
    miss = api_client.get(PRODUCTS)
    redis_round_trips.clear()

    hit, limited = api_client.get(PRODUCTS), api_client.get(PRODUCTS)

    assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT")
    assert remaining([miss, hit]) == ["2", "1"]
    assert len(redis_round_trips) == 2  # one per request: counter and entry together
    assert limited.status_code == 200 and limited["X-RateLimit-Remaining"] == "0"
    assert_error(api_client.get(PRODUCTS), 429, "rate_limited")


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL; CI runs it against Redis")
def test_on_redis_a_get_that_never_reaches_the_cache_is_still_limited(settings, api_client):
    """Only list and retrieve count in the cache read; any other GET on a cached viewset counts as usual."""
    settings.RATELIMIT_ANON = "2/m"
    adjust_stock = f"{PRODUCTS}{ProductFactory().pk}/adjust-stock/"  # POST only

    answers = [api_client.get(adjust_stock) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [405, 405, 429]
    assert remaining(answers[:2]) == ["1", "0"]


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL; CI runs it against Redis")
def test_on_redis_an_unreadable_cache_entry_is_a_miss_that_rewrites_it(api_client):
    ProductFactory()
    api_client.get(PRODUCTS)
    redis = get_redis_connection("default")
    [entry_key] = redis.keys("*resp:product:list:*")
    redis.set(entry_key, b"\x80\x05not a pickle")  # what another release might have written

    rebuilt, hit = api_client.get(PRODUCTS), api_client.get(PRODUCTS)

    assert (rebuilt.status_code, rebuilt["X-Cache"], rebuilt["X-RateLimit-Remaining"]) == (200, "MISS", "98")
    assert hit["X-Cache"] == "HIT"


@pytest.fixture
def clock(monkeypatch) -> SimpleNamespace:
    """A rate-limit clock the test moves itself, a second at a time."""
    clock = SimpleNamespace(now=1_800_000_000)
    monkeypatch.setattr("common.ratelimit.time", SimpleNamespace(time=lambda: clock.now + 0.5))
    return clock


def test_a_window_counts_until_its_last_second_and_the_next_one_starts_at_zero(clock):
    limit = Limit("api.anon", "ip:198.51.100.40", "2/m")
    first = WindowCounter.of(limit)
    counted = [first.count()]

    clock.now += first.resets_in - 1  # the window's last second: the same counter
    last = WindowCounter.of(limit)
    counted += [last.count(), last.count()]
    clock.now += 1
    following = WindowCounter.of(limit)

    assert last.key == first.key
    assert [(usage.count, usage.over) for usage in counted] == [(1, False), (2, False), (3, True)]
    assert last.resets_in == 1
    assert following.key != first.key
    assert (following.count().count, following.resets_in) == (1, 60)


def test_each_client_has_windows_of_its_own_keyed_by_their_end(clock):
    counters = [WindowCounter.of(Limit("api.anon", f"ip:198.51.100.{n}", "100/m")) for n in range(20)]

    assert len({counter.resets_in for counter in counters}) > 1  # clients do not all reset on the same second
    assert all(1 <= counter.resets_in <= 60 for counter in counters)
    assert counters[7].key == f"rl:api.anon:ip:198.51.100.7:{clock.now + counters[7].resets_in}"
    assert counters[7].lifetime == 60 + 5


@pytest.mark.parametrize(
    ("rate", "expected"), [("100/m", (100, 60)), ("10/s", (10, 1)), ("5/15m", (5, 900)), ("1000/H", (1000, 3600))]
)
def test_rates_are_a_count_per_period(rate, expected):
    assert parse_rate(rate) == expected


def test_a_malformed_rate_is_refused():
    with pytest.raises(ValueError, match="count/period"):
        parse_rate("100 per minute")


def test_a_malformed_rate_setting_fails_the_system_checks(settings):
    settings.RATELIMIT_ORDERS = "30 a minute"

    errors = [error for error in run_checks() if error.id == "shopkeep.E001"]

    assert [error.msg.split(":")[0] for error in errors] == ["RATELIMIT_ORDERS"]


def test_the_rate_settings_pass_the_system_checks():
    assert [error for error in run_checks() if error.id == "shopkeep.E001"] == []


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL; CI runs it against Redis")
def test_on_redis_the_counter_gets_its_lifetime_when_first_counted():
    counter = WindowCounter.of(Limit("api.anon", "ip:198.51.100.40", "5/m"))
    redis = get_redis_connection("default")

    first, second = counter.count(), counter.count()

    assert (first.count, second.count, second.limit) == (1, 2, 5)
    assert redis.get(cache.make_key(counter.key)) == b"2"
    assert 60 <= redis.ttl(cache.make_key(counter.key)) <= 60 + 5  # the period and a margin
    assert 1 <= second.resets_in <= 60


def test_a_refusal_in_a_windows_last_second_still_says_when_to_retry(clock):
    """DRF sends Retry-After only for a truthy wait: the last second of a window must say 1, not 0."""
    limit = Limit("api.anon", "ip:198.51.100.40", "3/m")
    clock.now += WindowCounter.of(limit).resets_in - 1
    view = SimpleNamespace(headers={})

    with pytest.raises(Throttled) as refused:
        enforce_limits(view, [WindowCounter.of(limit).usage(4)])

    assert refused.value.wait == 1
    assert view.headers == {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}
