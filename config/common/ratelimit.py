"""Rate limits on top of django-ratelimit's counters (kept in the cache, so shared by all workers)."""

import logging

from django_ratelimit.core import get_usage
from rest_framework import status

from config.common.errors import DomainError

logger = logging.getLogger(__name__)


class RateLimited(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many requests; slow down and retry later."
    default_code = "rate_limited"


def enforce_rate(request, *, group: str, key: str, rate: str) -> dict[str, str]:
    """Count this request against `rate` for `key`; raise RateLimited past it.

    Return the X-RateLimit-* headers for the response. If the cache cannot count (Redis
    down), the request goes through: a limit is never worth an outage.
    """
    try:
        usage = get_usage(request, group=group, key=lambda _group, _request: key, rate=rate, increment=True)
    except Exception:  # any cache failure: fail open
        logger.warning("Rate limit %s not counted: cache unavailable.", group, exc_info=True)
        return {}
    if not usage:  # RATELIMIT_FAIL_OPEN: the cache could not count
        return {}
    headers = {
        "X-RateLimit-Limit": str(usage["limit"]),
        "X-RateLimit-Remaining": str(max(0, usage["limit"] - usage["count"])),
        "X-RateLimit-Reset": str(usage["time_left"]),
    }
    if usage["should_limit"]:
        raise RateLimited(headers={**headers, "Retry-After": str(usage["time_left"])})
    return headers
