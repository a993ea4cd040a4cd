"""JWT bearer authentication that defers the user lookup until a view needs the user."""

from django.contrib.auth import get_user_model
from django.utils.functional import SimpleLazyObject
from rest_framework_simplejwt.authentication import JWTAuthentication


class LazyJWTAuthentication(JWTAuthentication):
    """Check the token now, load its user only when first used.

    Cached catalog reads (and rate-limit keys) need only the token's claims, so a cache
    hit by a signed-in customer runs no SQL. A token whose user is gone or inactive still
    fails, as a 401, as soon as anything looks at the user.

    Only JSON is answered lazily. Any other renderer (the browsable API) reads the user
    while rendering, after the view's exception handling, where a failure would be a 500:
    there the user is loaded now, so a gone user is the 401 of authentication.

    The user comes with its `user_related` rows (a customer's profile) in the same query:
    placing an order needs both, and a second query cost as much as the join.
    """

    user_related = ("customer",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWith(get_user_model(), self.user_related)

    def authenticate(self, request):
        self.load_now = getattr(getattr(request, "accepted_renderer", None), "format", None) != "json"
        return super().authenticate(request)

    def get_user(self, validated_token):
        load = super().get_user
        if self.load_now:
            return load(validated_token)
        return SimpleLazyObject(lambda: load(validated_token))


class _UsersWith:
    """The user model as simplejwt's `get_user` uses it (`.objects.get`, `.DoesNotExist`), joining `related`."""

    def __init__(self, model, related: tuple[str, ...]) -> None:
        self.DoesNotExist = model.DoesNotExist
        self.objects = model._default_manager.select_related(*related)


def is_staff_request(request) -> bool:
    """Return whether the caller is staff, from the token's claim when there is a token (no query)."""
    token = request.auth
    if token is not None and hasattr(token, "get"):
        return bool(token.get("is_staff", False))
    return request.user.is_staff
