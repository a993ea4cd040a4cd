"""The circuit breaker around the payment gateway, its state shared by every worker through Redis."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache as memoize

import pybreaker
from django.conf import settings
from django_redis import get_redis_connection

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
        state_storage=breaker_storage(),
        exclude=[lambda error: not isinstance(error, GatewayUnavailable)],
        # Let the outage that trips the breaker through as itself: it was a real attempt.
        throw_new_error_on_trip=False,
        name="payment-gateway",
    )


@memoize
def breaker_storage() -> pybreaker.CircuitBreakerStorage:
    """Return the breaker's state storage (Redis when REDIS_URL is set), kept so its public `opened_at` can be read."""
    if not settings.REDIS_URL:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    return pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED,
        get_redis_connection("default"),
        namespace=BREAKER_NAMESPACE,
        fallback_circuit_state=pybreaker.STATE_CLOSED,
    )


def seconds_until_half_open(breaker: pybreaker.CircuitBreaker) -> float:
    """Return how long until the open breaker (`get_breaker()`'s) lets a trial call through; 0 when not open."""
    if breaker.current_state != pybreaker.STATE_OPEN:
        return 0.0
    return _seconds_left(breaker)


def _seconds_left(breaker: pybreaker.CircuitBreaker) -> float:
    """Return what is left of an open breaker's reset timeout, without reading its state again."""
    opened_at = breaker_storage().opened_at
    if opened_at is None:
        return 0.0
    elapsed = (datetime.now(UTC) - opened_at).total_seconds()
    return max(0.0, breaker.reset_timeout - elapsed)


@dataclass(frozen=True)
class BreakerStatus:
    """The breaker's state ("closed", "open", "half-open" or "unknown") and, when open, the wait for a trial call."""

    state: str
    retry_in_seconds: float | None = None


def breaker_status() -> BreakerStatus:
    """Read the gateway breaker for health, metrics and the admin dashboard; "unknown" if unreadable.

    These must answer even while Redis is down, so a failed read is reported, not raised.
    """
    try:
        breaker = get_breaker()
        state = breaker.current_state
        if state != pybreaker.STATE_OPEN:
            return BreakerStatus(state)
        return BreakerStatus(state, _seconds_left(breaker))
    except Exception:  # Redis unreachable: say so rather than fail the page that asked
        logger.warning("Payment breaker state unreadable.", exc_info=True)
        return BreakerStatus("unknown")
