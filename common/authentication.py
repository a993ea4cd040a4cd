"""JWT bearer authentication that defers the user lookup until a view needs the user."""

from django.utils.functional import SimpleLazyObject
from rest_framework_simplejwt.authentication import JWTAuthentication


class LazyJWTAuthentication(JWTAuthentication):
    """Check the token now, load its user only when first used.

    Cached catalog reads (and rate-limit keys) need only the token's claims, so a cache
    hit by a signed-in customer runs no SQL. A token whose user is gone or inactive still
    fails, as a 401, as soon as anything looks at the user.
    """

    def get_user(self, validated_token):
        load = super().get_user
        return SimpleLazyObject(lambda: load(validated_token))


def is_staff_request(request) -> bool:
    """Return whether the caller is staff, from the token's claim when there is a token (no query)."""
    token = request.auth
    if token is not None and hasattr(token, "get"):
        return bool(token.get("is_staff", False))
    return request.user.is_staff
