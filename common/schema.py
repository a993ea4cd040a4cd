"""OpenAPI: document the error contract on every operation, in one place."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from common.permissions import StaffModelPermissionsOrReadOnly


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence for humans.")
    code = serializers.CharField(help_text="A stable machine word, e.g. `not_found` or `conflict`.")


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field; `non_field_errors` for the request as a whole.",
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


VALIDATION_ERROR = error_response(
    ValidationErrorSerializer,
    "The request or its query parameters are invalid.",
    "validation_error",
    "price: Ensure this value is greater than or equal to 0.",
    errors={"price": ["Ensure this value is greater than or equal to 0."]},
)
NOT_AUTHENTICATED = error_response(
    ErrorSerializer,
    "No valid credentials were sent.",
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
        if self.method in WRITE_METHODS or not self._is_public():
            errors["401"] = NOT_AUTHENTICATED
            errors["403"] = PERMISSION_DENIED
        if "{" in self.path:
            errors["404"] = NOT_FOUND
        if self.method == "DELETE":
            errors["409"] = CONFLICT
        if self.view.get_throttles():
            errors["429"] = RATE_LIMITED
        return errors

    def _is_public(self) -> bool:
        """Return whether anyone may call this operation (reads of the catalog, say)."""
        public = (AllowAny, StaffModelPermissionsOrReadOnly)
        return all(isinstance(permission, public) for permission in self.view.get_permissions())


class LazyJWTScheme(SimpleJWTScheme):
    """Document our lazy JWT authentication as the bearer scheme it is."""

    target_class = "common.authentication.LazyJWTAuthentication"
    name = "jwtAuth"
