"""The circuit breaker around the payment gateway, its state shared by every worker through Redis."""

import logging
from datetime import UTC, datetime
from functools import cache as memoize

import pybreaker
from django.conf import settings

from billing.gateway import GatewayUnavailable

logger = logging.getLogger(__name__)

BREAKER_NAMESPACE = "shopkeep:payment-gateway"


@memoize
def get_breaker() -> pybreaker.CircuitBreaker:
    """Return this process's breaker: Redis-backed when REDIS_URL is set, in memory otherwise.

    Only outages count as failures; a declined card is an answer, not a fault.
    """
    return pybreaker.CircuitBreaker(
        fail_max=settings.PAYMENT_BREAKER_FAIL_MAX,
        reset_timeout=settings.PAYMENT_BREAKER_RESET_SECONDS,
        state_storage=_storage(),
        exclude=[lambda error: not isinstance(error, GatewayUnavailable)],
        # Let the outage that trips the breaker through as itself: it was a real attempt.
        throw_new_error_on_trip=False,
        name="payment-gateway",
    )


def _storage() -> pybreaker.CircuitBreakerStorage:
    if not settings.REDIS_URL:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    from django_redis import get_redis_connection

    return pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED,
        get_redis_connection("default"),
        namespace=BREAKER_NAMESPACE,
        fallback_circuit_state=pybreaker.STATE_CLOSED,
    )


def seconds_until_half_open(breaker: pybreaker.CircuitBreaker) -> float:
    """Return how long until an open breaker lets a trial call through (0 when not open)."""
    storage = breaker._state_storage  # pybreaker offers no public read of opened_at
    if breaker.current_state != pybreaker.STATE_OPEN or storage.opened_at is None:
        return 0.0
    opened_at = storage.opened_at
    if opened_at.tzinfo is None:
        opened_at = opened_at.replace(tzinfo=UTC)
    elapsed = (datetime.now(UTC) - opened_at).total_seconds()
    return max(0.0, breaker.reset_timeout - elapsed)


def breaker_state() -> str:
    """Return the gateway breaker's state ("closed", "open", "half-open"), or "unknown" if unreadable.

    For health, metrics and the admin dashboard, which must answer even while Redis is down.
    """
    try:
        return get_breaker().current_state
    except Exception:  # Redis unreachable: say so rather than fail the page that asked
        logger.warning("Payment breaker state unreadable.", exc_info=True)
        return "unknown"
