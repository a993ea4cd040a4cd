"""The front doors: `/`, a page for people, and `GET /api/v1/`, a map of the API for programs."""

from collections.abc import Iterable, Iterator

from django.conf import settings
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from django.views.generic import TemplateView
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from common.health import LIVE_PATH, READY_PATH

API_ROOT = "api-root"
AUTH_PREFIX = "auth-"


class DocsLinksSerializer(serializers.Serializer):
    redoc = serializers.URLField(help_text="The API reference (ReDoc).")
    swagger = serializers.URLField(help_text="The API reference to try requests in (Swagger UI).")


class HealthLinksSerializer(serializers.Serializer):
    live = serializers.URLField(help_text="Liveness: the process answers.")
    ready = serializers.URLField(help_text="Readiness: the database, cache and broker answer.")


class ApiRootSerializer(serializers.Serializer):
    resources = serializers.DictField(
        child=serializers.URLField(), help_text="Each collection of the API by name, with its absolute URL."
    )
    auth = serializers.DictField(
        child=serializers.URLField(), help_text="Registration and the token endpoints by name, with their URLs."
    )
    schema = serializers.URLField(help_text="The OpenAPI 3 schema (YAML; `?format=json` for JSON).")
    docs = DocsLinksSerializer()
    health = HealthLinksSerializer()


def route_names(patterns: Iterable) -> Iterator[str]:
    """Yield the name of every route in `patterns`, those of included URLconfs too."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from route_names(entry.url_patterns)
        elif entry.name:
            yield entry.name


def api_paths() -> tuple[dict[str, str], dict[str, str]]:
    """Return the API's collections and its auth endpoints (name -> path), read from the URLconf.

    A collection is a router's list route (`<basename>-list`) that takes no argument: one
    nested under a parent object (a product's reviews, an order's payments) is reached
    through its parent. A resource added to any app's router appears here by itself.
    """
    root = reverse(API_ROOT)
    resources, auth = {}, {}
    for name in sorted(set(route_names(get_resolver().url_patterns))):
        if not (name.endswith("-list") or name.startswith(AUTH_PREFIX)):
            continue
        try:
            path = reverse(name)
        except NoReverseMatch:  # it needs a parent's id
            continue
        if not path.startswith(root) or path == root:
            continue
        if name.startswith(AUTH_PREFIX):
            auth[name.removeprefix(AUTH_PREFIX)] = path
        else:
            resources[path.removeprefix(root).strip("/")] = path
    return dict(sorted(resources.items())), auth


class ApiRootView(APIView):
    """The API's front door: every collection by name with its URL, and links to the schema, docs and health."""

    # Anyone may read the map, and a stale or bad token must not hide it: no credentials are read.
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="root_retrieve",
        responses=ApiRootSerializer,
        examples=[
            OpenApiExample(
                "api_root",
                response_only=True,
                value={
                    "resources": {
                        "categories": "https://shop.example.com/api/v1/categories/",
                        "products": "https://shop.example.com/api/v1/products/",
                        "orders": "https://shop.example.com/api/v1/orders/",
                    },
                    "auth": {
                        "register": "https://shop.example.com/api/v1/auth/register/",
                        "token": "https://shop.example.com/api/v1/auth/token/",
                        "token-refresh": "https://shop.example.com/api/v1/auth/token/refresh/",
                    },
                    "schema": "https://shop.example.com/api/schema/",
                    "docs": {
                        "redoc": "https://shop.example.com/api/redoc/",
                        "swagger": "https://shop.example.com/api/docs/",
                    },
                    "health": {
                        "live": "https://shop.example.com/health/live/",
                        "ready": "https://shop.example.com/health/ready/",
                    },
                },
            )
        ],
    )
    def get(self, request):
        """List every collection of the API with its absolute URL, and link the schema, the docs and health."""
        url = request.build_absolute_uri
        resources, auth = api_paths()
        return Response(
            {
                "resources": {name: url(path) for name, path in resources.items()},
                "auth": {name: url(path) for name, path in auth.items()},
                "schema": url(reverse("schema")),
                "docs": {"redoc": url(reverse("redoc")), "swagger": url(reverse("swagger-ui"))},
                "health": {"live": url(LIVE_PATH), "ready": url(READY_PATH)},
            }
        )


class HomeView(TemplateView):
    """The page at `/` (the admin's "View site"): links to the API docs, the API root, the admin and health."""

    template_name = "home.html"

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "shop_name": settings.SHOP_NAME,
            "live_path": LIVE_PATH,
            "ready_path": READY_PATH,
        }
