"""SPEC §7 rate limits: fixed-window counters in the cache (shared by every worker) as a DRF throttle.

Each limit counts requests in windows of its period. On django-redis a count is one script
call (INCR, and EXPIRE when the counter is new): one round trip, which a cached read also
pipelines with its cache read. On any other cache (the embedded local-memory default) it
is `add` then `incr`.
"""

import logging
import re
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.cache import cache, caches
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
    "orders": per customer), the way DRF's ScopedRateThrottle reads it, and may add its own
    limits with a `get_rate_limits(request)` method.
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
    # A view may add limits keyed on what the request names (the email asking for reset links).
    get_rate_limits = getattr(view, "get_rate_limits", None)
    if get_rate_limits is not None:
        limits.extend(get_rate_limits(request))
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
        for counter in window_counters(request, view):
            usages.append(counter.count())
            if usages[-1] is not None and usages[-1].over:
                break  # refused already: the other counters need not count it
        return enforce_limits(view, usages)


def window_counters(request, view) -> list["WindowCounter"]:
    """Return the counters of the request's limits in their current windows."""
    return [WindowCounter.of(limit) for limit in limits_for(request, view)]


def enforce_limits(view, usages: list["Usage | None"]) -> bool:
    """Put the tightest counted limit's figures on the view's headers; raise Throttled past it."""
    counted = [usage for usage in usages if usage is not None]
    if not counted:
        return True
    over = [usage for usage in counted if usage.over]
    tightest = over[0] if over else min(counted, key=lambda usage: usage.remaining)
    view.headers.update(
        {
            "X-RateLimit-Limit": str(tightest.limit),
            "X-RateLimit-Remaining": str(tightest.remaining),
            "X-RateLimit-Reset": str(tightest.resets_in),
        }
    )
    if tightest.over:
        # The exception handler answers 429 `rate_limited` with Retry-After.
        raise Throttled(wait=tightest.resets_in, detail="Too many requests; slow down and retry later.")
    return True


def counts_in_redis() -> bool:
    """Return whether the counters live in Redis (django-redis), where one script call counts."""
    return isinstance(caches["default"], RedisCache)  # the alias, not the `cache` proxy


@dataclass(frozen=True)
class Usage:
    """A limit's count in its current window, and the seconds until that window ends (at least 1)."""

    count: int
    limit: int
    resets_in: int

    @property
    def over(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


RATE = re.compile(r"(?P<allowed>\d+)/(?P<multiple>\d*)(?P<unit>[smhd])", re.IGNORECASE)
SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A counter outlives its window by this much, so a worker whose clock runs a little
# behind still finds it.
LIFETIME_MARGIN = 5

# Add one to a window's counter and, when the counter is new, give it its lifetime.
COUNT_SCRIPT = (
    "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n"
)


RATE_SETTINGS = (
    "RATELIMIT_ANON",
    "RATELIMIT_USER",
    "RATELIMIT_AUTH",
    "RATELIMIT_ORDERS",
    "RATELIMIT_PASSWORD_RESET_EMAIL",
    "RATELIMIT_ADMIN_LOGIN",
    "RATELIMIT_ADMIN_LOGIN_USERNAME",
)


def check_rate_settings(app_configs=None, **kwargs) -> list[checks.Error]:
    """Refuse a malformed rate setting at startup (a system check), instead of on every request."""
    errors = []
    for name in RATE_SETTINGS:
        try:
            parse_rate(getattr(settings, name))
        except ValueError as malformed:
            errors.append(checks.Error(f"{name}: {malformed}", id="shopkeep.E001"))
    return errors


def parse_rate(rate: str) -> tuple[int, int]:
    """Return (requests allowed, period in seconds) of a rate such as "100/m" or "10/5m"."""
    match = RATE.fullmatch(rate)
    if match is None:
        raise ValueError(f"Rate {rate!r} is not count/period, the period one of s, m, h, d with an optional multiple.")
    return int(match["allowed"]), SECONDS[match["unit"].lower()] * int(match["multiple"] or 1)


@dataclass(frozen=True)
class WindowCounter:
    """One limit's counter in the window holding this second: its cache key, lifetime and seconds left.

    Each key's windows are offset by a checksum of the key (the same in every process,
    unlike `hash`), so that clients' windows do not all end on the same second.
    """

    group: str
    key: str
    allowed: int
    lifetime: int
    resets_in: int

    @classmethod
    def of(cls, limit: Limit) -> "WindowCounter":
        """Return the counter of `limit` in the current window."""
        allowed, period = parse_rate(limit.rate)
        now = int(time.time())
        offset = zlib.crc32(f"{limit.group}:{limit.key}".encode()) % period
        resets_at = now - (now - offset) % period + period  # the next window's first second
        return cls(
            group=limit.group,
            key=f"rl:{limit.group}:{limit.key}:{resets_at}",
            allowed=allowed,
            lifetime=period + LIFETIME_MARGIN,
            resets_in=resets_at - now,
        )

    def count(self) -> Usage | None:
        """Add this request to the counter; return the usage, or None when the cache cannot count (fail open)."""
        try:
            if counts_in_redis():
                return self.usage(get_redis_connection("default").eval(*self.script_args()))
            # The counter outlives its window, so it cannot expire between these two calls.
            cache.add(self.key, 0, timeout=self.lifetime)
            return self.usage(cache.incr(self.key))
        except Exception:  # any cache failure: fail open
            logger.warning("Rate limit %s not counted: cache unavailable.", self.group, exc_info=True)
            return None

    def script_args(self) -> tuple:
        """Return the arguments of the EVAL that counts one request on django-redis."""
        return COUNT_SCRIPT, 1, cache.make_key(self.key), self.lifetime

    def usage(self, counted: int) -> Usage:
        """Return the usage after `counted` requests in the window."""
        return Usage(count=counted, limit=self.allowed, resets_in=self.resets_in)
