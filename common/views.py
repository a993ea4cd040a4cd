"""View plumbing every app's API shares."""

import hashlib
import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.reverse import reverse


def idempotency_key_parameter(what: str) -> OpenApiParameter:
    """Document the `Idempotency-Key` header of a POST that creates `what` (an order, a refund)."""
    return OpenApiParameter(
        "Idempotency-Key",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description=f"Any unique string (e.g. a UUID). Repeating the request with it returns the same {what} "
        "(`Idempotent-Replayed: true`); reusing it with another body answers 422 idempotency_key_reused.",
    )


def idempotency_key(request) -> str | None:
    """Return the request's `Idempotency-Key` header, or None; refuse one longer than 255 characters (400)."""
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key and len(key) > 255:
        raise serializers.ValidationError({"Idempotency-Key": ["At most 255 characters."]})
    return key


def fingerprint(data) -> str:
    """Return a stable hash of a request body, to tell a replay from a different request."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class CreatedLocationMixin:
    """Answer a create's 201 with `Location`: the absolute URL of the object created.

    That is its `<basename>-detail` route, or `created_route` where the object is read
    under another resource (a product's review lives at /reviews/{id}/). The schema
    documents `Location` on every create (common.schema.AutoSchema.response_headers).
    """

    created_route: str | None = None

    def get_success_headers(self, data) -> dict[str, str]:
        route = self.created_route or f"{self.basename}-detail"
        return {"Location": reverse(route, args=[data["id"]], request=self.request)}
