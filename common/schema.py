"""OpenAPI: document the error contract, anonymous access, tags and response headers in one place.

The rules here are derived from each view (its permissions, authenticators, filters,
paginator, throttles, cache and route), so a new view is documented truthfully, and tagged
with its resource, without an `extend_schema` of its own.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiFilterExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import filters, serializers
from rest_framework.request import Request
from rest_framework.viewsets import ViewSetMixin

from common.caching import CACHE_STATUS_HEADER, CachedReadMixin
from common.health import LIVE_PATH, READY_PATH
from common.ratelimit import RateLimitThrottle

# A validation error's messages, as common.errors sends them: per field, a list of
# messages, or (nested serializers, list items, dict values) the same shape again.
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": (
        "Messages per field (`non_field_errors` for the request as a whole). A nested object "
        "answers the same shape; a list of objects answers one entry per item (`{}` for a valid one); "
        "a list's or a dict's entry is keyed by its index or key."
    ),
    "additionalProperties": {
        "oneOf": [
            {
                "type": "array",
                "items": {"oneOf": [{"type": "string"}, {"$ref": "#/components/schemas/FieldErrors"}]},
            },
            {"$ref": "#/components/schemas/FieldErrors"},
        ]
    },
}


class FieldErrorsField(serializers.DictField):
    """The `errors` member of a validation error body; documented by `FieldErrorsFieldExtension`."""


class FieldErrorsFieldExtension(OpenApiSerializerFieldExtension):
    """Document `FieldErrorsField` as the recursive `FieldErrors` component."""

    target_class = FieldErrorsField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="FieldErrors", type=ResolvedComponent.SCHEMA, object="FieldErrors", schema=FIELD_ERRORS_SCHEMA
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class ErrorSerializer(serializers.Serializer):
    """Every error body: `detail` and `code`; a domain error adds its facts as further members."""

    detail = serializers.CharField(help_text="A sentence for humans.")
    code = serializers.CharField(help_text="A stable machine word, e.g. `not_found` or `conflict`.")


class ValidationErrorSerializer(ErrorSerializer):
    """A 400: `validation_error` with `errors`, or `parse_error` (a body that is not valid JSON) without."""

    errors = FieldErrorsField(
        required=False,
        help_text="Sent with `validation_error`; absent on `parse_error`.",
    )


class ConflictErrorSerializer(ErrorSerializer):
    blocked_by = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="On a refused delete: how many rows of each kind still point at the object.",
    )


def error_response(serializer, description: str, code: str, detail: str, **extra) -> OpenApiResponse:
    return OpenApiResponse(
        response=serializer,
        description=description,
        examples=[OpenApiExample(code, value={"detail": detail, "code": code, **extra}, response_only=True)],
    )


VALIDATION_ERROR = OpenApiResponse(
    response=ValidationErrorSerializer,
    description="The request, its body or its query parameters are invalid.",
    examples=[
        OpenApiExample(
            "validation_error",
            value={
                "detail": "price: Ensure this value is greater than or equal to 0.",
                "code": "validation_error",
                "errors": {"price": ["Ensure this value is greater than or equal to 0."]},
            },
            response_only=True,
        ),
        OpenApiExample(
            "parse_error",
            value={"detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)", "code": "parse_error"},
            response_only=True,
        ),
    ],
)
NOT_AUTHENTICATED = error_response(
    ErrorSerializer,
    "No valid credentials were sent (or a bearer token was sent that is invalid or expired).",
    "not_authenticated",
    "Authentication credentials were not provided.",
)
PERMISSION_DENIED = error_response(
    ErrorSerializer,
    "The user lacks the permission for this action.",
    "permission_denied",
    "You do not have permission to perform this action.",
)
NOT_FOUND = error_response(
    ErrorSerializer, "No such object (or not yours).", "not_found", "No Product matches the given query."
)
INVALID_PAGE = error_response(
    ErrorSerializer, "`page` is past the last page (or not a page number).", "not_found", "Invalid page."
)
NOT_FOUND_OR_INVALID_PAGE = OpenApiResponse(
    response=ErrorSerializer,
    description="No such parent object (or not yours), or `page` is past the last page.",
    examples=[
        *NOT_FOUND.examples,
        OpenApiExample("invalid_page", value=INVALID_PAGE.examples[0].value, response_only=True),
    ],
)
CONFLICT = error_response(
    ConflictErrorSerializer,
    "The object is still in use and cannot be deleted.",
    "conflict",
    "Cannot delete: still referenced by 3 products.",
    blocked_by={"products": 3},
)
RATE_LIMITED = error_response(
    ErrorSerializer,
    "Too many requests; retry after `Retry-After` seconds.",
    "rate_limited",
    "Too many requests; slow down and retry later.",
)

NOT_MODIFIED = OpenApiResponse(
    description="Not modified: the `If-None-Match` header names the current `ETag`; no body.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` of the copy the client holds; while it is current the answer is `304` with no body.",
)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def header(schema: dict, description: str, *, required: bool = False) -> dict:
    """Return an OpenAPI header object."""
    return {"schema": schema, "description": description, **({"required": True} if required else {})}


# The response headers common/ and the views send, each documented where it is sent (see
# AutoSchema.response_headers); tests/common/test_schema_headers.py checks each against real answers.
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": header(
        {"type": "integer"},
        "Requests allowed per window by the tightest rate limit this request counts against. "
        "Absent only while the counters cannot count (the limits then let requests through).",
    ),
    "X-RateLimit-Remaining": header({"type": "integer"}, "Requests left in that window."),
    "X-RateLimit-Reset": header({"type": "integer"}, "Seconds until that window ends and the count starts again."),
}
HEADERS = {
    "Location": header({"type": "string", "format": "uri"}, "The absolute URL of the object created.", required=True),
    "Idempotent-Replayed": header(
        {"type": "string", "enum": ["true"]},
        "Sent (`true`) when the `Idempotency-Key` named an order placed before: this is that order, "
        "nothing was created.",
    ),
    **RATE_LIMIT_HEADERS,
    "Retry-After": header({"type": "integer"}, "Seconds to wait before trying again.", required=True),
    "ETag": header(
        {"type": "string"},
        "The entity tag of this answer: on every public read and its 304 (staff reads bypass the cache and "
        "carry none). Send it back in `If-None-Match` to get a `304` while it holds.",
    ),
    CACHE_STATUS_HEADER: header(
        {"type": "string", "enum": ["HIT", "MISS", "BYPASS"]},
        "Whether the answer came from the response cache (`BYPASS`: staff and the browsable API are not cached).",
        required=True,
    ),
}
ROOT_TAG = "api"


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the error responses, headers and tag each kind of operation has.

    Operations may still declare their own (e.g. a 409 with domain facts) with `extend_schema`;
    those win over these defaults.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status_code, response in self.default_responses().items():
            if status_code not in responses:
                responses[status_code] = self._get_response_for_code(response, status_code, direction=direction)
        for status_code, response in responses.items():
            headers = self.response_headers(str(status_code))
            if headers:
                response["headers"] = {**headers, **response.get("headers", {})}
        return responses

    def default_responses(self) -> dict[str, OpenApiResponse]:
        """Return the answers this kind of operation can give besides its own: a 304, then the errors."""
        responses = {"304": NOT_MODIFIED} if self.is_cached_read() else {}
        return {**responses, **self.default_error_responses()}

    def default_error_responses(self) -> dict[str, OpenApiResponse]:
        errors = {}
        if self.method in WRITE_METHODS - {"DELETE"} or self.get_filter_backends():
            errors["400"] = VALIDATION_ERROR
        # Any view with authenticators refuses a bad or expired token, even on a public read.
        if self.method in WRITE_METHODS or self.view.get_authenticators() or not self.allows_anonymous():
            errors["401"] = NOT_AUTHENTICATED
        if not self.allows_anonymous():
            errors["403"] = PERMISSION_DENIED
        if "{" in self.path:
            errors["404"] = NOT_FOUND_OR_INVALID_PAGE if self.is_paginated() else NOT_FOUND
        elif self.is_paginated():
            errors["404"] = INVALID_PAGE
        if self.method == "DELETE":
            errors["409"] = CONFLICT
        if self.view.get_throttles():
            errors["429"] = RATE_LIMITED
        return errors

    def response_headers(self, status_code: str) -> dict[str, dict]:
        """Return the headers this operation answers `status_code` with, as common/ and the views send them.

        A header an operation documents itself (`OpenApiParameter(response=...)`) wins.

        - `Location` on a create's 201 or 202 (common.views.CreatedLocationMixin, or the view itself);
        - `Idempotent-Replayed` on the successes of an operation that takes an `Idempotency-Key`;
        - `ETag` and `X-Cache` on a cached read's 200 and 304 (common.caching);
        - `X-RateLimit-*` on every answer of a rate-limited operation given after its limits
          counted the request (see `counted_before`), and `Retry-After` on every 429
          (common.ratelimit, DRF's exception handler).
        """
        names = []
        if status_code in ("201", "202") and self._is_create_operation():
            names.append("Location")
        if status_code.startswith("2") and self.takes_idempotency_key():
            names.append("Idempotent-Replayed")
        if status_code in ("200", "304") and self.is_cached_read():
            names += ["ETag", CACHE_STATUS_HEADER]
        if self.is_rate_limited() and self.counted_before(status_code):
            names += list(RATE_LIMIT_HEADERS)
        if status_code == "429":
            names.append("Retry-After")
        return {name: self.header_ref(name) for name in names}

    def header_ref(self, name: str) -> dict:
        """Return a reference to the header's component (components/headers), registering it once."""
        component = ResolvedComponent(name=name, type=ResolvedComponent.HEADER, object=name, schema=HEADERS[name])
        self.registry.register_on_missing(component)
        return component.ref

    def get_override_parameters(self):
        """Add `If-None-Match` to the reads answered from the response cache."""
        parameters = super().get_override_parameters()
        return [*parameters, IF_NONE_MATCH] if self.is_cached_read() else parameters

    def get_tags(self) -> list[str]:
        """Tag the operation with its resource; SPECTACULAR_SETTINGS["TAGS"] describes each tag.

        A viewset's resource is the last segment of its route, without an extra action's own
        segments: /products/{product_pk}/reviews/ is "reviews", /orders/{id}/cancel/ is
        "orders". Any other view's is its first segment (/auth/token/refresh/ is "auth"), and
        the API root's is "api".
        """
        segments = self._tokenize_path()
        if not isinstance(self.view, ViewSetMixin):
            return segments[:1] or [ROOT_TAG]
        handler = getattr(self.view, self.view.action or "", None)
        if hasattr(handler, "mapping"):  # an @action: its url_path follows the resource's route
            own = [part for part in handler.url_path.strip("/").split("/") if "(" not in part]
            if own and segments[-len(own) :] == own:
                segments = segments[: -len(own)]
        return segments[-1:] or [ROOT_TAG]

    def map_parsers(self) -> list[str]:
        """Document JSON request bodies only, where the view reads JSON.

        The form and multipart parsers are there for the browsable API; clients send JSON,
        and a body documented under three media types gives generated clients three
        identical parameters.
        """
        media_types = super().map_parsers()
        return ["application/json"] if "application/json" in media_types else media_types

    def is_cached_read(self) -> bool:
        """Return whether this operation is answered from the response cache (with an ETag)."""
        return (
            self.method == "GET"
            and isinstance(self.view, CachedReadMixin)
            and getattr(self.view, "action", None) in self.view.cached_actions
        )

    def counted_before(self, status_code: str) -> bool:
        """Return whether every answer with this status comes after the rate limits counted the request.

        DRF authenticates, then checks permissions, then throttles: a 401 of a view that
        reads credentials, and a 403, may be answered before the count. A view that reads
        none answers its 401 itself (a wrong password), after it.
        """
        if status_code == "403":
            return False
        return status_code != "401" or not self.view.get_authenticators()

    def is_rate_limited(self) -> bool:
        return any(isinstance(throttle, RateLimitThrottle) for throttle in self.view.get_throttles())

    def takes_idempotency_key(self) -> bool:
        return any(
            isinstance(parameter, OpenApiParameter)
            and parameter.location == OpenApiParameter.HEADER
            and parameter.name == "Idempotency-Key"
            for parameter in self.get_override_parameters()
        )

    def get_auth(self):
        """Add the empty requirement (`{}`: no credentials) to every operation anyone may call.

        An operation that reads no credentials at all (registration, the token endpoints, the
        API root) gets no `security`, the spec's other way of saying none is needed, which
        client generators understand: they then accept an unauthenticated client for it.
        """
        auths = super().get_auth()
        if {} not in auths and self.allows_anonymous():
            auths.append({})
        return auths if any(auths) else []

    def allows_anonymous(self) -> bool:
        """Return whether the view's permissions let an anonymous caller through for this method."""
        http_request = HttpRequest()
        http_request.method = self.method
        request = Request(http_request)
        request.user = AnonymousUser()
        request.auth = None
        return all(permission.has_permission(request, self.view) for permission in self.view.get_permissions())

    def is_paginated(self) -> bool:
        return self._is_list_view() and self._get_paginator() is not None

    def _get_filter_parameters(self):
        """Document `search` only where the view has `search_fields`; elsewhere SearchFilter ignores it."""
        parameters = []
        for backend in self.get_filter_backends():
            search_fields = getattr(self.view, "search_fields", None)
            if issubclass(backend, filters.SearchFilter) and not search_fields:
                continue
            extension = OpenApiFilterExtension.get_match(backend())
            if extension:
                backend_parameters = extension.get_schema_operation_parameters(self)
            else:
                backend_parameters = backend().get_schema_operation_parameters(self.view)
            for parameter in backend_parameters:
                if issubclass(backend, filters.SearchFilter):
                    words = ", ".join(f"`{field.lstrip('^=@$')}`" for field in search_fields)
                    parameter = {**parameter, "description": f"Words to find in {words}."}
                parameters.append(parameter)
        return parameters


class LazyJWTScheme(SimpleJWTScheme):
    """Document our lazy JWT authentication as the bearer scheme it is."""

    target_class = "common.authentication.LazyJWTAuthentication"
    name = "jwtAuth"


# The health probes are answered by common.health's middleware, before URL routing, so the
# generator cannot see them; `add_health_paths` documents them.
HEALTH_CHECK_SCHEMA = {
    "type": "object",
    "description": "One dependency's verdict, with what else it reports (an error class, a latency, a state).",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "skipped", "degraded", "down"]},
        "latency_ms": {"type": "number", "description": "How long the platform's own checks took."},
        "error": {"type": "string", "description": "The class of the error that failed the check."},
    },
    "required": ["status"],
    "additionalProperties": True,
}
READINESS_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {
            "type": "string",
            "enum": ["ok", "degraded", "down"],
            "description": "`degraded`: only Redis, the broker or a registered check is down; `down`: the database is.",
        },
        "checks": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/HealthCheck"}},
    },
    "required": ["status", "checks"],
}
LIVENESS_SCHEMA = {
    "type": "object",
    "properties": {"status": {"type": "string", "enum": ["ok"]}},
    "required": ["status"],
}


def json_response(description: str, component: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def add_health_paths(result: dict, generator, request, public) -> dict:
    """Document GET /health/live/ and /health/ready/ (a drf-spectacular postprocessing hook)."""
    result["components"].setdefault("schemas", {}).update(
        {"HealthCheck": HEALTH_CHECK_SCHEMA, "Liveness": LIVENESS_SCHEMA, "Readiness": READINESS_SCHEMA}
    )
    probe = {"tags": ["health"]}  # no `security`: the probes read no credentials
    result["paths"][LIVE_PATH] = {
        "get": {
            **probe,
            "operationId": "health_live_retrieve",
            "summary": "Liveness: the process answers",
            "description": "Checks nothing else: restarting the web container cannot fix a database outage.",
            "responses": {"200": json_response("The process is up.", "Liveness")},
        }
    }
    result["paths"][READY_PATH] = {
        "get": {
            **probe,
            "operationId": "health_ready_retrieve",
            "summary": "Readiness: the database, the cache, the broker and each registered check",
            "description": "Not rate limited, answered before host checks; never cached (`Cache-Control: no-store`).",
            "responses": {
                "200": json_response(
                    "Ready: `ok`, or `degraded` while only Redis, the broker or a check is down.", "Readiness"
                ),
                "503": json_response(
                    "Not ready: the database is down; take this instance out of rotation.", "Readiness"
                ),
            },
        }
    }
    return result


def drop_unused_tags(result: dict, generator, request, public) -> dict:
    """Keep only the described tags some operation uses (a drf-spectacular postprocessing hook).

    SPECTACULAR_SETTINGS["TAGS"] may describe a resource before its endpoints land.
    """
    used = {
        tag
        for item in result["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for tag in operation.get("tags", [])
    }
    if "tags" in result:
        result["tags"] = [tag for tag in result["tags"] if tag["name"] in used]
    return result
