"""Public reads served as ready-rendered bytes from the cache (SPEC §6).

Each cached response is stored with the version stamps of the *scopes* it was built
from (for example "all categories" or "product 7"). A write bumps the stamp of the
scopes it touched, so every entry built under the old stamp stops matching: exact,
cheap invalidation with no key scans. A hit is one cache round trip (one MGET of the
entry and its stamps, pipelined on Redis with the rate-limit counters) and touches
neither the database nor a serializer.

A cache outage never fails a request: every cache call here degrades to a miss.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache, caches
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags
from django_redis import get_redis_connection

from common import ratelimit
from common.authentication import is_staff_request
from common.metrics import CACHE_REQUESTS

logger = logging.getLogger(__name__)

CACHE_STATUS_HEADER = "X-Cache"


def version_key(scope: str) -> str:
    return f"ver:{scope}"


def bump_versions(scopes: Iterable[str]) -> None:
    """Invalidate every entry built under these scopes once the current transaction commits.

    Bumping after commit matters: a reader that took the new stamp before the commit
    could otherwise cache the old rows under it.
    """
    stamps = {version_key(scope): uuid.uuid4().hex for scope in scopes}
    if stamps:
        transaction.on_commit(lambda: _quietly(cache.set_many, stamps, timeout=None))


def stamp_first(stamp_key: str) -> str | None:
    """Give a scope its first stamp (or read the one a concurrent reader just gave it).

    Entries are never stored under a missing stamp, so an evicted stamp cannot revive them.
    """
    stamp = uuid.uuid4().hex
    if _quietly(cache.add, stamp_key, stamp, timeout=None):
        return stamp
    return _quietly(cache.get, stamp_key)


@dataclass(frozen=True)
class CachedResponse:
    """A rendered 200 response and the version stamps it was built under."""

    stamps: tuple[str, ...]
    etag: str
    content_type: str
    body: bytes

    def to_response(self, request, cache_status: str) -> HttpResponse:
        """Answer with the bytes, or with 304 when the client already holds them."""
        if etag_matches(request.headers.get("If-None-Match", ""), self.etag):
            response = HttpResponseNotModified()
        else:
            response = HttpResponse(self.body, content_type=self.content_type)
        response["ETag"] = self.etag
        response[CACHE_STATUS_HEADER] = cache_status
        return response


class CachedReadMixin:
    """Serve `list` and `retrieve` to the public from the cache.

    Requests with the staff claim (who may see inactive rows: `shows_inactive`) and
    non-JSON renderers (the browsable API) bypass it.
    Subclasses name the scopes a response depends on and the setting holding its TTL.
    """

    cache_ttl_setting: str
    cached_actions: tuple[str, ...] = ("list", "retrieve")  # the actions answered through `cached`
    counts_with_read = False  # this request's rate limits are counted by `cached` (see check_throttles)

    def cache_scopes(self) -> list[str]:
        raise NotImplementedError

    def list(self, request, *args, **kwargs):
        return self.cached(super().list, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self.cached(super().retrieve, request, *args, **kwargs)

    def cached(self, respond: Callable, request, *args, **kwargs):
        if not self.is_cacheable(request):
            CACHE_REQUESTS.labels(self.basename, "bypass").inc()
            response = respond(request, *args, **kwargs)
            response[CACHE_STATUS_HEADER] = "BYPASS"
            return response

        key = self.response_cache_key(request)
        stamp_keys = [version_key(scope) for scope in self.cache_scopes()]
        if self.counts_with_read:
            usages, found = count_and_get_many(request, self, [key, *stamp_keys])
            ratelimit.enforce_limits(self, usages)
        else:
            found = _quietly(cache.get_many, [key, *stamp_keys], default={})
        stamps = tuple(found.get(stamp_key) for stamp_key in stamp_keys)
        entry = found.get(key)
        if isinstance(entry, CachedResponse) and entry.stamps == stamps:
            CACHE_REQUESTS.labels(self.basename, "hit").inc()
            return entry.to_response(request, "HIT")
        CACHE_REQUESTS.labels(self.basename, "miss").inc()

        # Stamps are read before the rows: a write committing meanwhile bumps them past this entry.
        stamps = tuple(stamp or stamp_first(stamp_key) for stamp_key, stamp in zip(stamp_keys, stamps, strict=True))
        response = respond(request, *args, **kwargs)
        if response.status_code != 200:
            return response
        entry = self.rendered_entry(response, stamps)
        if None not in stamps:
            _quietly(cache.set, key, entry, timeout=getattr(settings, self.cache_ttl_setting))
        return entry.to_response(request, "MISS")

    def check_throttles(self, request):
        """On Redis, a cacheable read counts its rate limits in its cache read's round trip.

        DRF throttles before the handler runs; `cached` counts instead, before it answers.
        Only for the project's own throttle, whose counters it knows how to pipeline.
        """
        self.counts_with_read = (
            self.action in self.cached_actions  # the handlers that reach `cached`
            and self.is_cacheable(request)
            and ratelimit.counts_in_redis()
            and list(self.throttle_classes) == [ratelimit.RateLimitThrottle]
        )
        if not self.counts_with_read:
            super().check_throttles(request)

    def shows_inactive(self, request, model) -> bool:
        """Return whether this request sees `model`'s inactive rows: staff who may view them.

        The token's staff claim only chooses the path. Without it the request is on the
        public (cached) path and sees what the public sees, whoever the user is now, so
        nothing private can be cached. With it, the real user decides: still staff, and
        holding the model's `view` or `change` permission, as the admin asks; a deleted or
        deactivated user fails here as a 401.
        """
        if not is_staff_request(request):
            return False
        user = request.user
        opts = model._meta
        return bool(
            user.is_staff
            and (
                user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
                or user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
            )
        )

    def is_cacheable(self, request) -> bool:
        return (
            request.method in ("GET", "HEAD")
            and request.accepted_renderer.format == "json"
            and not is_staff_request(request)
        )

    def response_cache_key(self, request) -> str:
        """Key a response by host, path and the sorted query (links in pages carry the host)."""
        query = urlencode(sorted(self.cache_key_params(request)), doseq=True)
        url = f"{request.build_absolute_uri(request.path)}?{query}"
        return f"resp:{self.basename}:{self.action}:{hashlib.sha1(url.encode()).hexdigest()}"

    def cache_key_params(self, request) -> Iterable[tuple[str, Sequence[str]]]:
        """The query parameters the answer depends on: all of them, unless a view knows better."""
        return list(request.query_params.lists())

    def rendered_entry(self, response, stamps: tuple) -> CachedResponse:
        """Render the DRF response to bytes, the way `finalize_response` would."""
        response.accepted_renderer = self.request.accepted_renderer
        response.accepted_media_type = self.request.accepted_media_type
        response.renderer_context = self.get_renderer_context()
        response.render()
        body = response.content
        return CachedResponse(
            stamps=stamps,
            etag=f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"',
            content_type=response["Content-Type"],
            body=body,
        )


def count_and_get_many(request, view, keys: list[str]) -> tuple[list[ratelimit.Usage | None], dict]:
    """Count the request's rate limits and read `keys` from the cache, in one Redis round trip.

    Return the limits' usages (for `ratelimit.enforce_limits`) and the keys found. Every
    limit counts the request, even past one that refuses it (DRF's path stops at the first;
    catalog reads have one limit). On a Redis failure nothing is counted (the limits fail
    open) and nothing is found; an entry that cannot be decoded is a miss, which rewrites it.
    """
    counters = ratelimit.window_counters(request, view)
    client = caches["default"].client  # django-redis: its key prefix and serializer
    try:
        pipeline = get_redis_connection("default").pipeline(transaction=False)
        for counter in counters:
            pipeline.eval(*counter.script_args())
        pipeline.mget([client.make_key(key) for key in keys])
        *counted, values = pipeline.execute()
    except Exception:  # any Redis failure: count nothing, find nothing
        logger.warning("Cache unavailable: rate limits not counted, serving from the database.", exc_info=True)
        return [None] * len(counters), {}
    usages = [counter.usage(n) for counter, n in zip(counters, counted, strict=True)]
    try:
        found = {key: client.decode(value) for key, value in zip(keys, values, strict=True) if value is not None}
    except Exception:  # an entry this code cannot read (say, written by another release)
        logger.warning("Unreadable cache entry; serving from the database.", exc_info=True)
        found = {}
    return usages, found


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Return whether an If-None-Match header names this ETag (weak comparison)."""
    if not if_none_match:
        return False
    candidates = parse_etags(if_none_match)
    return "*" in candidates or etag.removeprefix("W/") in (c.removeprefix("W/") for c in candidates)


def _quietly(call: Callable, *args, default=None, **kwargs):
    """Run a cache call; on any cache failure log it and return `default`."""
    try:
        return call(*args, **kwargs)
    except Exception:  # any backend error must degrade to a miss
        logger.warning("Cache unavailable during %s; serving from the database.", call.__name__, exc_info=True)
        return default
