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


# Move opened_at only forward: a worker whose clock runs behind must not reopen the wait.
SET_IF_LATER = (
    "local c = redis.call('GET', KEYS[1]) "
    "if not c or tonumber(ARGV[1]) > tonumber(c) then redis.call('SET', KEYS[1], ARGV[1]) end"
)


class SharedBreakerStorage(pybreaker.CircuitBreakerStorage):
    """The breaker's state in the cache's Redis, shared by every worker: pybreaker's public storage interface.

    For the breaker's own calls an unreachable Redis reads as closed, with no failures
    counted (payments go on; the gateway's own errors still trip nothing they should not);
    `read_state` raises instead, so health and metrics can say "unknown". The client is the
    cache's, looked up on each use, so building the storage while Redis is down does not fail.
    """

    def __init__(self, alias: str = "default") -> None:
        super().__init__("redis")
        self.alias = alias

    def read_state(self) -> str:
        """Return the shared state; raise RedisError when Redis cannot be read, instead of assuming closed."""
        state = self._client().get(self._key("state"))
        return state.decode() if state is not None else pybreaker.STATE_CLOSED

    @property
    def state(self) -> str:
        return self._quietly(self.read_state, default=pybreaker.STATE_CLOSED)

    @state.setter
    def state(self, state: str) -> None:
        self._quietly(lambda: self._client().set(self._key("state"), state))

    def increment_counter(self) -> None:
        self._quietly(lambda: self._client().incr(self._key("fail_counter")))

    def reset_counter(self) -> None:
        self._quietly(lambda: self._client().set(self._key("fail_counter"), 0))

    def increment_success_counter(self) -> None:
        self._quietly(lambda: self._client().incr(self._key("success_counter")))

    def reset_success_counter(self) -> None:
        self._quietly(lambda: self._client().set(self._key("success_counter"), 0))

    @property
    def counter(self) -> int:
        return self._quietly(lambda: int(self._client().get(self._key("fail_counter")) or 0), default=0)

    @property
    def success_counter(self) -> int:
        return self._quietly(lambda: int(self._client().get(self._key("success_counter")) or 0), default=0)

    @property
    def opened_at(self) -> datetime | None:
        stamp = self._quietly(lambda: self._client().get(self._key("opened_at")))
        return datetime.fromtimestamp(int(stamp), UTC) if stamp else None

    @opened_at.setter
    def opened_at(self, now: datetime) -> None:
        self._quietly(lambda: self._client().eval(SET_IF_LATER, 1, self._key("opened_at"), int(now.timestamp())))

    def _client(self):
        return get_redis_connection(self.alias)

    def _key(self, name: str) -> str:
        return f"{BREAKER_NAMESPACE}:{name}"

    def _quietly(self, read, default=None):
        """Run a Redis call; when Redis fails, log it (once per interval) and return `default`."""
        try:
            return read()
        except RedisError:
            logger.warning("Payment breaker state not shared: Redis unreachable.", exc_info=True)
            return default


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
