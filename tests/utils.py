"""Helpers shared by the tests: the error-body checks, admin and list URLs and rows, racing real threads,
the OpenAPI schema, the links of a page, image uploads and free ports."""

import io
import mimetypes
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from html.parser import HTMLParser

import jsonschema
import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum
from django.db.utils import load_backend
from django.test import override_settings
from django.urls import reverse
from django_redis import get_redis_connection
from drf_spectacular.generators import SchemaGenerator
from PIL import Image

from billing.breaker import BREAKER_NAMESPACE, breaker_storage, get_breaker
from catalog.factories import ProductFactory
from catalog.models import Variant

UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: Redis is down
# The production cache settings (errors ignored, short timeouts) pointed at that address.
UNREACHABLE_REDIS_CACHE = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": UNREACHABLE_REDIS_URL,
    "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
}

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

requires_postgresql = pytest.mark.skipif(
    not ON_POSTGRESQL,
    reason="races need PostgreSQL row locks and concurrent connections; SQLite serialises writers",
)


def assert_error(response, status_code: int, code: str) -> dict:
    """Check the spec's error body: `detail` for humans and a stable `code`; return the body."""
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def assert_validation_error(response, *fields: str) -> dict:
    """Check a 400 validation_error naming messages for each of `fields`; return the body."""
    body = assert_error(response, 400, "validation_error")
    assert set(fields) <= set(body["errors"]), body
    for field in fields:
        assert body["errors"][field]
        assert all(isinstance(message, str) for message in body["errors"][field])
    return body


def result_ids(response) -> list[int]:
    """Return the ids of a paginated API list, in order; the response must be a 200."""
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def listed(response) -> list:
    """Return the rows an admin changelist shows."""
    return list(response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    """Return the texts of the messages the admin showed with the response."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def race(calls: list[Callable]) -> list:
    """Run every call in its own thread, all released at the same instant; return their results.

    Each thread has its own database connection, closed when its call ends.
    """
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        try:
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def race_n(workers: int, act: Callable[[int], object]) -> list:
    """Race `act(0)` ... `act(workers - 1)`, as `race` does."""
    return race([lambda i=i: act(i) for i in range(workers)])


def reset_breaker() -> None:
    """Forget this process's payment breaker and, on Redis, the state every worker shares."""
    get_breaker.cache_clear()
    breaker_storage.cache_clear()
    if settings.REDIS_URL:
        redis = get_redis_connection("default")
        for key in redis.scan_iter(match=f"{BREAKER_NAMESPACE}:*"):
            redis.delete(key)


@contextmanager
def breaker_redis_down() -> Iterator[None]:
    """Point the cache and the payment breaker (built afresh) at a Redis that does not answer; undo it after."""
    with override_settings(CACHES={"default": UNREACHABLE_REDIS_CACHE}, REDIS_URL=UNREACHABLE_REDIS_URL):
        get_breaker.cache_clear()
        breaker_storage.cache_clear()
        try:
            yield
        finally:
            get_breaker.cache_clear()
            breaker_storage.cache_clear()


def stock_of(item) -> int:
    """Return a variant's stock as the database holds it now, or a product's (its variants' together)."""
    if isinstance(item, Variant):
        return Variant.objects.values_list("stock", flat=True).get(pk=item.pk)
    return Variant.objects.filter(product=item).aggregate(units=Sum("stock"))["units"] or 0


def latest_migrations() -> list[tuple[str, str]]:
    """Return every app's last migration."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def migrate_to(targets):
    """Migrate the test database to `targets` and return the historical apps there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def unreachable_database():
    """Return a real connection, like the default one, to a database that cannot be reached; close it after use."""
    dead = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        dead.update(HOST="127.0.0.1", PORT=1)
    else:
        dead.update(NAME="/nonexistent/directory/db.sqlite3")
    return load_backend(dead["ENGINE"]).DatabaseWrapper(dead, alias="unreachable")


HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def openapi_schema() -> dict:
    """Return the OpenAPI schema as `manage.py spectacular` (and /api/schema/) generates it."""
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict) -> Iterator[tuple[str, str, dict]]:
    """Yield (path, method, operation) for every operation of the schema."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def component_validator(schema: dict, name: str) -> jsonschema.Draft4Validator:
    """Return a validator for one component that resolves the `#/components/...` references."""
    document = {**schema["components"]["schemas"][name], "components": schema["components"]}
    return jsonschema.Draft4Validator(document)


def documented_headers(schema: dict, response: dict) -> dict[str, dict]:
    """Return a documented response's headers by name, each resolved from components/headers."""
    headers = {}
    for name, header in response.get("headers", {}).items():
        if "$ref" in header:
            header = schema["components"]["headers"][header["$ref"].rsplit("/", 1)[-1]]
        headers[name] = header
    return headers


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def links_in(html: str) -> list[str]:
    """Return every `src` and `href` of a page, in order."""
    parser = _Links()
    parser.feed(html)
    return parser.urls


def image_bytes(size: tuple[int, int] = (1200, 800), image_format: str = "PNG", mode: str = "RGB") -> bytes:
    """Return a real image drawn by Pillow, in `image_format`."""
    buffer = io.BytesIO()
    Image.new(mode, size, color="teal").save(buffer, image_format)
    return buffer.getvalue()


def image_upload(name: str = "picture.png", content: bytes | None = None, content_type: str | None = None):
    """Return an upload as a browser sends it (typed by its name): a 1200 x 800 PNG unless `content` says otherwise."""
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return SimpleUploadedFile(name, image_bytes() if content is None else content, content_type=content_type)


def free_port() -> int:
    """Return a TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def product_with_options(name: str, variants: list[tuple], *, options: dict | None = None, **fields):
    """Return a product with these options ({"Size": ["S", "M"]}) and variants, each
    (sku, price, stock, {"Size": "M"}), through the real write paths (add_option, add_variant)."""
    product = ProductFactory(name=name, variants=0, **fields)
    for option, values in (options or {}).items():
        product.add_option(option, values)
    for sku, price, stock, chosen in variants:
        product.add_variant(sku=sku, price=Decimal(price), stock=stock, options=chosen)
    return product
