"""Security middleware Django lacks: a proxy header believed only from a proxy, and HTML page policies."""

from django.conf import settings

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


class PagePolicyMiddleware:
    """Add Content-Security-Policy and Permissions-Policy to HTML responses (the admin, API docs, invoices).

    The policies are settings (CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY); a response
    that already names its own keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            if settings.CONTENT_SECURITY_POLICY:
                response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
            if settings.PERMISSIONS_POLICY:
                response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response
