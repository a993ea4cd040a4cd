"""Security middleware Django lacks: a proxy header believed only from a proxy, and HTML page policies."""

from common.proxies import is_trusted_proxy

FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"


class TrustedForwardedProtoMiddleware:
    """Drop X-Forwarded-Proto unless the peer is one of TRUSTED_PROXIES.

    SECURE_PROXY_SSL_HEADER makes Django believe that header; from anyone else it would let
    a plain-HTTP client pass as HTTPS (no redirect, secure cookies over plain HTTP). Runs
    before SecurityMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if FORWARDED_PROTO in request.META and not is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
            del request.META[FORWARDED_PROTO]
        return self.get_response(request)
