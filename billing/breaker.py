"""The circuit breaker around the payment gateway, its state shared by every worker through Redis."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache as memoize

import pybreaker
from django.conf import settings
from django_redis import get_redis_connection
from redis.exceptions import RedisError

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


class SharedBreakerStorage(pybreaker.CircuitRedisStorage):
    """pybreaker's Redis storage on the cache's Redis, able to say when it cannot read the state.

    For the breaker's own calls pybreaker treats an unreachable Redis as closed (payments go
    on); `read_state` raises instead, so health and metrics can say "unknown". The client is
    looked up on each use, so the storage follows the cache's connection (and its settings),
    and building it while Redis is down does not fail.
    """

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        super().__init__(
            pybreaker.STATE_CLOSED, None, namespace=BREAKER_NAMESPACE, fallback_circuit_state=pybreaker.STATE_CLOSED
        )

    @property
    def _redis(self):  # the attribute pybreaker reads: the cache's client, now
        return get_redis_connection(self.alias)

    @_redis.setter
    def _redis(self, client) -> None:
        pass  # pybreaker's __init__ assigns it; the property looks it up instead

    def _initialize_redis_state(self, state: str) -> None:
        try:
            super()._initialize_redis_state(state)
        except RedisError:  # the state keys are created on the first read once Redis is back
            logger.warning("Payment breaker state not initialised: Redis unreachable.")

    def read_state(self) -> str:
        """Return the shared state; raise RedisError when Redis cannot be read, instead of assuming closed."""
        state = self._redis.get(self._namespace("state"))
        return state.decode() if state is not None else self._fallback_circuit_state


@memoize
def breaker_storage() -> pybreaker.CircuitBreakerStorage:
    """Return the breaker's state storage (Redis when REDIS_URL is set), kept so its public `opened_at` can be read."""
    if not settings.REDIS_URL:
        return pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
    return SharedBreakerStorage()


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
        storage = breaker_storage()
        state = storage.read_state() if isinstance(storage, SharedBreakerStorage) else breaker.current_state
        if state != pybreaker.STATE_OPEN:
            return BreakerStatus(state)
        return BreakerStatus(state, _seconds_left(breaker))
    except Exception:  # Redis unreachable: say so rather than fail the page that asked
        logger.warning("Payment breaker state unreadable.", exc_info=True)
        return BreakerStatus("unknown")
