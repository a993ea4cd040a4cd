"""OpenAPI: document the error contract and anonymous access on every operation, in one place.

The rules here are derived from each view (its permissions, authenticators, filters and
paginator), so a new view is documented truthfully without an `extend_schema` of its own.
"""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiFilterExtension, OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import filters, serializers
from rest_framework.request import Request

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

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus the error responses each kind of operation can give.

    Operations may still declare their own (e.g. a 409 with domain facts) with `extend_schema`;
    those win over these defaults.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status_code, response in self.default_error_responses().items():
            if status_code not in responses:
                responses[status_code] = self._get_response_for_code(response, status_code, direction=direction)
        return responses

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

    def get_auth(self):
        """Add the empty requirement (`{}`: no credentials) to every operation anyone may call."""
        auths = super().get_auth()
        if {} not in auths and self.allows_anonymous():
            auths.append({})
        return auths

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
