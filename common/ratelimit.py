"""SPEC §7 rate limits: django-ratelimit's counters (in the cache, shared by every worker) as a DRF throttle."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django_ratelimit import core as ratelimit
from django_ratelimit.core import get_usage
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from common.proxies import client_ip

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """One counter: `rate` requests per period for whoever `key` names, counted under `group`."""

    group: str
    key: str
    rate: str


def caller_key(request) -> str | None:
    """Return "user:<id>" for a signed-in caller, None for an anonymous one.

    A bearer token's claim names the user without loading it, so a cached read by a
    signed-in customer still runs no SQL.
    """
    token = request.auth
    if token is not None and hasattr(token, "get"):
        return f"user:{token.get(jwt_settings.USER_ID_CLAIM)}"
    if request.user.is_authenticated:  # session: the user is already loaded
        return f"user:{request.user.pk}"
    return None


def limits_for(request, view) -> list[Limit]:
    """Return the limits this request counts against: anonymous-or-user, plus the view's scope.

    A view opts in to a stricter scope with `throttle_scope` ("auth": per client IP,
    "orders": per customer), the way DRF's ScopedRateThrottle reads it.
    """
    user = caller_key(request)
    ip = f"ip:{client_ip(request)}"
    limits = [
        Limit("api.user", user, settings.RATELIMIT_USER) if user else Limit("api.anon", ip, settings.RATELIMIT_ANON)
    ]
    scope = getattr(view, "throttle_scope", None)
    if scope == "auth":
        limits.append(Limit("api.auth", ip, settings.RATELIMIT_AUTH))
    elif scope == "orders":
        limits.append(Limit("api.orders", user or ip, settings.RATELIMIT_ORDERS))
    elif scope is not None:
        raise ValueError(f"Unknown throttle_scope {scope!r} on {type(view).__name__}.")
    return limits


class RateLimitThrottle(BaseThrottle):
    """Count every API request; refuse with 429 `rate_limited` past any of its limits.

    The figures of the tightest limit go out as X-RateLimit-* headers on the response
    (through the view's `headers`, which DRF adds to every response it finalizes). When
    the cache cannot count (Redis down) the request goes through: a limit is never worth
    an outage.
    """

    def allow_request(self, request, view) -> bool:
        usages = []
        for limit in limits_for(request, view):
            usages.append(count(request, limit))
            if usages[-1] is not None and usages[-1]["should_limit"]:
                break  # refused already: the other counters need not count it
        return enforce_limits(view, usages)


def redis_counters(request, view) -> list["RedisCounter"]:
    """Return the counters of the request's limits, for a caller that counts them in its own Redis pipeline."""
    return [RedisCounter.of(limit) for limit in limits_for(request, view)]


def enforce_limits(view, usages: list[dict | None]) -> bool:
    """Put the tightest counted limit's figures on the view's headers; raise Throttled past it."""
    counted = [usage for usage in usages if usage is not None]
    if not counted:
        return True
    over = [usage for usage in counted if usage["should_limit"]]
    tightest = over[0] if over else min(counted, key=remaining)
    # A window ending this very second says 0; say 1, or DRF would drop Retry-After (it sends a truthy wait only).
    reset = max(1, tightest["time_left"])
    view.headers.update(
        {
            "X-RateLimit-Limit": str(tightest["limit"]),
            "X-RateLimit-Remaining": str(remaining(tightest)),
            "X-RateLimit-Reset": str(reset),
        }
    )
    if tightest["should_limit"]:
        # The exception handler answers 429 `rate_limited` with Retry-After.
        raise Throttled(wait=reset, detail="Too many requests; slow down and retry later.")
    return True


def remaining(usage: dict) -> int:
    return max(0, usage["limit"] - usage["count"])


def counts_in_redis() -> bool:
    """Return whether the counters live in Redis (django-redis), where one script call counts."""
    return isinstance(caches["default"], RedisCache)  # the alias, not the `cache` proxy


def count(request, limit: Limit) -> dict | None:
    """Add this request to the limit's counter; return django-ratelimit's usage, or None if not counted."""
    try:
        if counts_in_redis():
            return count_in_redis(limit)
        return get_usage(
            request, group=limit.group, key=lambda _group, _request: limit.key, rate=limit.rate, increment=True
        )
    except Exception:  # any cache failure: fail open
        logger.warning("Rate limit %s not counted: cache unavailable.", limit.group, exc_info=True)
        return None


def count_in_redis(limit: Limit) -> dict:
    """Count as django-ratelimit's `get_usage` does, in one Redis round trip instead of two."""
    counter = RedisCounter.of(limit)
    return counter.usage(get_redis_connection("default").eval(*counter.script_args()))


# Add one to a window's counter and, when the counter is new, give it its lifetime.
COUNT_SCRIPT = (
    "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
)


@dataclass(frozen=True)
class RedisCounter:
    """django-ratelimit's fixed-window counter for one limit, counted by one script call.

    Same key, window and lifetime as its `get_usage` (its helpers compute them; the
    version is pinned), but one round trip instead of `cache.add` then `cache.incr`.
    """

    key: str
    allowed: int
    lifetime: int
    window: int

    @classmethod
    def of(cls, limit: Limit) -> "RedisCounter":
        """Return the counter of `limit` in the current window."""
        allowed, period = ratelimit._split_rate(limit.rate)
        window = ratelimit._get_window(limit.key, period)
        key = cache.make_key(ratelimit._make_cache_key(limit.group, window, limit.rate, limit.key, ratelimit.ALL))
        return cls(key=key, allowed=allowed, lifetime=period + ratelimit.EXPIRATION_FUDGE, window=window)

    def script_args(self) -> tuple:
        """Return the arguments of the EVAL that counts one request."""
        return COUNT_SCRIPT, 1, self.key, self.lifetime

    def usage(self, counted: int) -> dict:
        """Return the usage dict `get_usage` would, for `counted` requests in the window."""
        return {
            "count": counted,
            "limit": self.allowed,
            "should_limit": counted > self.allowed,
            "time_left": self.window - int(ratelimit.time.time()),
        }
