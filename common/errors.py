"""The one error contract: every error body has `detail` and `code` (SPEC §5).

Domain rules raise `DomainError` subclasses from managers and model methods; the API's
exception handler below turns those, DRF's errors and Django's own exceptions into
the same JSON body. Validation errors add `errors: {field: [messages]}`.
"""

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A broken business rule, with a stable `code`, an HTTP status and the facts a client needs."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request breaks a business rule."
    default_code = "domain_error"

    def __init__(
        self, detail: str | None = None, *, code: str | None = None, headers: dict | None = None, **facts: Any
    ) -> None:
        self.detail = detail or self.default_detail
        self.code = code or self.default_code
        self.headers = headers or {}
        self.facts = facts
        super().__init__(self.detail)

    def as_body(self) -> dict[str, Any]:
        """Return the JSON error body: detail, code, then the facts."""
        return {"detail": self.detail, "code": self.code, **self.facts}


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


# DRF's own codes, renamed where the spec names them differently.
CODE_ALIASES = {"throttled": "rate_limited", "invalid": "validation_error"}

# Bodies for the requests refused before or around a view, and for a database out of reach.
BAD_REQUEST = {"detail": "The request is malformed or was refused (an unknown Host, for one).", "code": "bad_request"}
REQUEST_TOO_LARGE = {"detail": "The request body is larger than this server accepts.", "code": "request_too_large"}
SERVICE_UNAVAILABLE = {
    "detail": "The service is unavailable for a moment; try again shortly.",
    "code": "service_unavailable",
}
RETRY_AFTER_SECONDS = 5  # long enough for a database failover or restart to begin answering
UNREACHABLE_DATABASE = (OperationalError, InterfaceError)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Render any expected exception as `{detail, code[, errors][, facts]}`."""
    if isinstance(exc, DomainError):
        set_rollback()
        return Response(exc.as_body(), status=exc.status_code, headers=exc.headers)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        set_rollback()
        return Response(deletion_refused_body(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, UNREACHABLE_DATABASE):
        logger.error("Database unavailable, answered 503: %s", exc, exc_info=exc)
        return Response(SERVICE_UNAVAILABLE, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=retry_later())
    if isinstance(exc, SuspiciousOperation):  # raised while reading the body, inside the view
        logging.getLogger(f"django.security.{exc.__class__.__name__}").error("%s", exc)
        if isinstance(exc, RequestDataTooBig):
            return Response(REQUEST_TOO_LARGE, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        return Response(BAD_REQUEST, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # A uniqueness race the serializer could not see: the row it collided with won.
        logger.warning("Integrity error answered as 409: %s", exc)
        set_rollback()
        return Response(
            {"detail": "The change conflicts with existing data; reload and try again.", "code": "conflict"},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an expected error: let Django log it and answer 500
    response.data = error_body(exc)
    return response


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """Return the spec's error body for a DRF exception."""
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return {"detail": first_message(errors), "code": "validation_error", "errors": errors}
    detail = exc.detail
    if isinstance(detail, dict) and "detail" in detail:  # simplejwt nests its own body
        detail = detail["detail"]
    code = detail.code if isinstance(detail, exceptions.ErrorDetail) else exc.default_code
    return {"detail": str(detail), "code": CODE_ALIASES.get(code, code)}


def first_message(errors: dict) -> str:
    """Return a one-sentence summary of validation errors for `detail`."""
    field, messages = next(iter(errors.items()))
    while isinstance(messages, (list, dict)) and messages:
        messages = next(iter(messages.values())) if isinstance(messages, dict) else messages[0]
    if field == "non_field_errors":
        return str(messages)
    return f"{field}: {messages}"


def deletion_refused_body(exc: ProtectedError | RestrictedError) -> dict[str, Any]:
    """Explain which rows still point at the object that could not be deleted."""
    blockers = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for obj in blockers:
        label = str(obj._meta.verbose_name_plural)
        counts[label] = counts.get(label, 0) + 1
        names[label] = str(obj._meta.verbose_name)
    reasons = ", ".join(f"{n} {label if n > 1 else names[label]}" for label, n in sorted(counts.items()))
    return {
        "detail": f"Cannot delete: still referenced by {reasons}.",
        "code": "conflict",
        "blocked_by": counts,
    }


API_PREFIX = "/api/"
NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def page_not_found(request, exception=None):
    """Answer unknown API URLs with the JSON error body; leave other pages to Django."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(NOT_FOUND, status=404)
    return defaults.page_not_found(request, exception)


class ApiNotFoundMiddleware:
    """Answer a 404 under /api/ with the JSON error body in every settings mode.

    With DEBUG off, Django answers an unknown URL through `handler404` (`page_not_found`
    above). With DEBUG on it shows its HTML technical page instead, which no API client can
    read; this replaces it. DRF's own answers (JSON, or the browsable API's page) and
    CommonMiddleware's redirect to the URL with a slash go through untouched, so this sits
    outside CommonMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and request.path.startswith(API_PREFIX)
            and not isinstance(response, (Response, JsonResponse))
        ):
            return JsonResponse(NOT_FOUND, status=404)
        return response


def bad_request(request, exception=None):
    """Answer an API request Django refused (a body over the limit, a bad Host) with the JSON error body."""
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(REQUEST_TOO_LARGE, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return JsonResponse(BAD_REQUEST, status=status.HTTP_400_BAD_REQUEST)


def server_error(request):
    """Answer an unexpected API failure with the JSON error body, never a stack trace.

    Django calls this inside its own `except` block, so the exception is at hand: a
    database out of reach is a 503 the client may retry, not a 500.
    """
    if request.path.startswith(API_PREFIX):
        if isinstance(sys.exc_info()[1], UNREACHABLE_DATABASE):
            return JsonResponse(SERVICE_UNAVAILABLE, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=retry_later())
        return JsonResponse({"detail": "A server error occurred.", "code": "server_error"}, status=500)
    return defaults.server_error(request)


def retry_later() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}
