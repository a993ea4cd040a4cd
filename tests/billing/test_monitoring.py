"""What billing reports to health and metrics: its registrations, and one reading of the gateway breaker."""

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.test import override_settings

from billing import breaker, monitoring
from billing.breaker import BreakerStatus, breaker_status, breaker_storage, get_breaker, seconds_until_half_open
from common import health, metrics
from tests.utils import UNREACHABLE_REDIS_CACHE, breaker_redis_down, reset_breaker


@pytest.fixture(autouse=True)
def fresh_breaker(settings):
    settings.PAYMENT_BREAKER_RESET_SECONDS = 60
    reset_breaker()
    yield
    reset_breaker()


def test_billing_registers_its_check_and_collector_once_even_if_ready_runs_again():
    apps.get_app_config("billing").ready()

    assert health.REGISTERED_CHECKS["payment_gateway"] is monitoring.check_payment_gateway
    assert metrics.REGISTERED_COLLECTORS.count(monitoring.BILLING_COLLECTOR) == 1


def test_a_closed_breaker_has_nothing_to_wait_for():
    assert breaker_status() == BreakerStatus("closed")


def test_an_open_breaker_counts_down_from_when_its_storage_says_it_opened():
    # Opened 20 s ago by another worker: the state every worker shares says so.
    breaker_storage().opened_at = datetime.now(UTC) - timedelta(seconds=20)
    breaker_storage().state = "open"

    status = breaker_status()

    assert status.state == "open"
    assert 39 <= status.retry_in_seconds <= 40  # on Redis, opened_at is kept in whole seconds
    assert seconds_until_half_open(get_breaker()) == pytest.approx(status.retry_in_seconds, abs=1)
    assert monitoring.check_payment_gateway() == {
        "status": "degraded",
        "breaker": "open",
        "retry_in_seconds": round(status.retry_in_seconds),
    }


def test_an_unreadable_breaker_is_unknown_not_an_error(monkeypatch, caplog):
    def redis_refuses():
        raise ConnectionError("Redis refused the connection")

    with monkeypatch.context() as patch:
        patch.setattr(breaker, "get_breaker", redis_refuses)
        status, check = breaker_status(), monitoring.check_payment_gateway()

    assert status == BreakerStatus("unknown")
    assert check == {"status": "degraded", "breaker": "unknown"}
    assert "unreadable" in caplog.text


def test_a_breaker_built_while_redis_is_down_is_unknown_and_still_lets_payments_through():
    with breaker_redis_down():
        status, check = breaker_status(), monitoring.check_payment_gateway()
        state_for_calls = get_breaker().current_state  # the worker's breaker is there, and closed

    assert status == BreakerStatus("unknown")
    assert check == {"status": "degraded", "breaker": "unknown"}
    assert state_for_calls == "closed"


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs a Redis that is up first")
def test_a_breaker_whose_redis_went_down_is_unknown_not_closed():
    get_breaker().open()
    assert breaker_status().state == "open"

    with override_settings(CACHES={"default": UNREACHABLE_REDIS_CACHE}):  # Redis goes down
        status = breaker_status()

    assert status == BreakerStatus("unknown")
    assert breaker_status().state == "open"  # and back: the shared state was kept
