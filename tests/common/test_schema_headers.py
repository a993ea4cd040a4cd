"""The response headers the schema documents are the ones the API sends (common/schema.py, response_headers).

Each documented header has recipes here that make real requests and check the answer
carries it; the operations documenting a header are compared with the recipes' table, so a
header documented somewhere new, or no longer sent, fails a test instead of drifting.
"""

import re
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from catalog.factories import CategoryFactory, ProductFactory
from common.schema import RATE_LIMIT_HEADERS
from customers.factories import PASSWORD
from orders.factories import OrderFactory
from orders.status import Status
from tests.utils import assert_error, documented_headers, image_upload, openapi_schema, operations

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_ratelimit_clock")]

ORDERS = "/api/v1/orders/"


@pytest.fixture(scope="module")
def schema() -> dict:
    return openapi_schema()


def documenting(schema: dict, header: str) -> set[tuple[str, str]]:
    """Return the (path, method) of every operation that documents `header` on some answer."""
    return {
        (path, method)
        for path, method, operation in operations(schema)
        if any(header in documented_headers(schema, answer) for answer in operation["responses"].values())
    }


def headers_documented_on(schema: dict, path: str, method: str, status_code: int) -> dict[str, dict]:
    answers = schema["paths"][path][method]["responses"]
    assert str(status_code) in answers, f"{method.upper()} {path} answered an undocumented {status_code}"
    return documented_headers(schema, answers[str(status_code)])


def assert_sends_what_is_documented(schema: dict, path: str, method: str, response) -> None:
    """Check the answer's status is documented and it carries each header documented on it.

    The rate-limit headers are documented as optional only because a cache outage drops
    them (the limits fail open); with a working cache they must be there.
    """
    documented = headers_documented_on(schema, path, method, response.status_code)
    for name, header in documented.items():
        if header.get("required") or name in RATE_LIMIT_HEADERS:
            assert name in response, f"{method.upper()} {path} {response.status_code} documents {name}, sent none"


# --- Location on every create ----------------------------------------------------------------


def add_option(fixture):
    client = fixture("staff_client")
    body = {"name": "Size", "values": ["S", "M"]}
    return client.post(f"/api/v1/products/{fixture('product').pk}/options/", body, format="json"), client


def add_variant(fixture):
    client = fixture("staff_client")
    product = fixture("product")
    product.add_option("Size", ["S", "M"])  # the teapot's own variant takes S
    body = {"sku": "TEA-POT-M", "price": "21.00", "stock": 4, "options": {"Size": "M"}}
    return client.post(f"/api/v1/products/{product.pk}/variants/", body, format="json"), client


def add_extra(fixture):
    client = fixture("staff_client")
    body = {"name": "Gift wrap", "price": "2.50", "max_per_line": 1}
    return client.post(f"/api/v1/products/{fixture('product').pk}/extras/", body, format="json"), client


def order_body(product, payment: str) -> dict:
    return {"items": [{"product": product.pk, "quantity": 1}], "delivery_method": "pickup", "payment_method": payment}


def create_category(fixture):
    client = fixture("staff_client")
    return client.post("/api/v1/categories/", {"name": "Lamps", "slug": "lamps"}, format="json"), client


def create_product(fixture):
    client = fixture("staff_client")
    body = {"sku": "LAMP-1", "name": "Desk lamp", "slug": "desk-lamp", "category": CategoryFactory().pk}
    return client.post("/api/v1/products/", {**body, "price": "39.00", "stock": 3}, format="json"), client


def create_review(fixture):
    client = fixture("customer_client")
    product = fixture("product")
    return client.post(f"/api/v1/products/{product.pk}/reviews/", {"rating": 4}, format="json"), client


def add_image(fixture):
    client = fixture("staff_client")
    body = {"image": image_upload(), "alt_text": "The teapot from the side"}
    return client.post(f"/api/v1/products/{fixture('product').pk}/images/", body, format="multipart"), client


def create_customer(fixture):
    client = fixture("staff_client")
    body = {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"}
    return client.post("/api/v1/customers/", body, format="json"), client


def create_address(fixture):
    client = fixture("customer_client")
    body = {"label": "Home", "line1": "12 Analytical Row", "city": "London", "postal_code": "N1", "country": "GB"}
    return client.post("/api/v1/addresses/", body, format="json"), client


def register(fixture):
    body = {"email": "ada@example.com", "password": "analytical-engine-1843", "first_name": "Ada", "last_name": "L"}
    response = APIClient().post("/api/v1/auth/register/", body, format="json")
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['tokens']['access']}")
    return response, reader


def create_discount_code(fixture):
    client = fixture("staff_client")
    body = {"code": "SPRING20", "kind": "percent", "value": "20"}
    return client.post("/api/v1/discount-codes/", body, format="json"), client


def place_cash_order(fixture):
    client = fixture("customer_client")
    return client.post(ORDERS, order_body(fixture("product"), "cash"), format="json"), client


def place_card_order(fixture):
    client = fixture("customer_client")
    return client.post(ORDERS, order_body(fixture("product"), "card"), format="json"), client


def refund_an_order(fixture):
    client = fixture("staff_client")
    order = OrderFactory(lines=[(fixture("product"), 1)], status=Status.DELIVERED)
    return client.post(f"/api/v1/orders/{order.pk}/refunds/", {}, format="json"), client


CREATES = {
    ("/api/v1/categories/", "post"): [create_category],
    ("/api/v1/products/", "post"): [create_product],
    ("/api/v1/products/{product_pk}/reviews/", "post"): [create_review],
    ("/api/v1/products/{product_pk}/images/", "post"): [add_image],
    ("/api/v1/products/{product_pk}/options/", "post"): [add_option],
    ("/api/v1/products/{product_pk}/variants/", "post"): [add_variant],
    ("/api/v1/products/{product_pk}/extras/", "post"): [add_extra],
    ("/api/v1/customers/", "post"): [create_customer],
    ("/api/v1/addresses/", "post"): [create_address],
    ("/api/v1/auth/register/", "post"): [register],
    ("/api/v1/discount-codes/", "post"): [create_discount_code],
    (ORDERS, "post"): [place_cash_order, place_card_order],
    ("/api/v1/orders/{id}/refunds/", "post"): [refund_an_order],
}


def test_location_is_documented_on_exactly_the_creates_checked_here(schema):
    assert documenting(schema, "Location") == set(CREATES)


@pytest.mark.parametrize(
    ("path", "method", "create"),
    [(path, method, create) for (path, method), creates in CREATES.items() for create in creates],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_create_answers_location_pointing_at_what_it_created(request, schema, path, method, create):
    response, reader = create(request.getfixturevalue)

    assert response.status_code in (201, 202), response.content
    assert "Location" in headers_documented_on(schema, path, method, response.status_code)
    assert_sends_what_is_documented(schema, path, method, response)
    location = response["Location"]
    assert urlsplit(location)[:2] == ("http", "testserver")
    body = response.json()
    created = body["customer"] if "tokens" in body else body  # registration answers the customer and tokens
    shown = reader.get(location)
    assert shown.status_code == 200, shown.content
    assert shown.json()["id"] == created["id"]


# --- Idempotent-Replayed on a replayed order ---------------------------------------------------


def test_idempotent_replayed_is_documented_on_order_placement_and_refunds_only(schema):
    assert documenting(schema, "Idempotent-Replayed") == {(ORDERS, "post"), ("/api/v1/orders/{id}/refunds/", "post")}


@pytest.mark.parametrize(("payment", "status_code"), [("card", 202), ("cash", 201)])
def test_a_replayed_order_says_so_as_documented(schema, customer_client, product, payment, status_code):
    body = order_body(product, payment)

    first = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="replay-me")
    replay = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="replay-me")

    assert (first.status_code, replay.status_code) == (status_code, status_code)
    assert "Idempotent-Replayed" not in first
    assert replay["Idempotent-Replayed"] == "true"
    documented = headers_documented_on(schema, ORDERS, "post", status_code)
    assert documented["Idempotent-Replayed"]["schema"]["enum"] == ["true"]
    assert_sends_what_is_documented(schema, ORDERS, "post", replay)


def test_a_replayed_refund_says_so_as_documented(schema, staff_client, product):
    order = OrderFactory(lines=[(product, 1)], status=Status.DELIVERED)
    url = f"/api/v1/orders/{order.pk}/refunds/"

    staff_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="refund-once")
    replay = staff_client.post(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="refund-once")

    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert_sends_what_is_documented(schema, "/api/v1/orders/{id}/refunds/", "post", replay)


# --- ETag, X-Cache and 304 on cached reads ----------------------------------------------------


CACHED_READS = {
    ("/api/v1/categories/", "get"): lambda: "/api/v1/categories/",
    ("/api/v1/categories/{id}/", "get"): lambda: f"/api/v1/categories/{CategoryFactory().pk}/",
    ("/api/v1/products/", "get"): lambda: "/api/v1/products/",
    ("/api/v1/products/{id}/", "get"): lambda: f"/api/v1/products/{ProductFactory().pk}/",
    ("/api/v1/products/facets/", "get"): lambda: "/api/v1/products/facets/",
}


def test_etag_and_304_are_documented_on_exactly_the_cached_reads(schema):
    assert documenting(schema, "ETag") == set(CACHED_READS)
    not_modified = {(path, method) for path, method, operation in operations(schema) if "304" in operation["responses"]}
    assert not_modified == set(CACHED_READS)
    for path, method in CACHED_READS:
        parameters = schema["paths"][path][method]["parameters"]
        assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in parameters), path


@pytest.mark.parametrize(("path", "method"), list(CACHED_READS))
def test_a_cached_read_sends_its_etag_and_answers_304_when_it_matches(schema, api_client, path, method):
    url = CACHED_READS[path, method]()

    fresh = api_client.get(url)
    again = api_client.get(url, HTTP_IF_NONE_MATCH=fresh["ETag"])

    assert (fresh.status_code, again.status_code) == (200, 304)
    assert again["ETag"] == fresh["ETag"]
    assert (fresh["X-Cache"], again["X-Cache"]) == ("MISS", "HIT")
    assert again.content == b""
    for response in (fresh, again):
        assert {"ETag", "X-Cache"} <= set(headers_documented_on(schema, path, method, response.status_code))
        assert_sends_what_is_documented(schema, path, method, response)


# --- Rate limits: X-RateLimit-* on every counted answer, Retry-After on 429 --------------------


def test_every_api_operation_documents_its_rate_limit_and_the_429(schema):
    for path, method, operation in operations(schema):
        answers = operation["responses"]
        if not path.startswith("/api/"):
            assert "429" not in answers, path  # the health probes are never limited
            continue
        limited = documented_headers(schema, answers["429"])
        assert {"Retry-After", *RATE_LIMIT_HEADERS} <= set(limited), (method, path)
        assert limited["Retry-After"]["required"] is True
        for status_code, answer in answers.items():
            if status_code.startswith("2"):
                assert set(RATE_LIMIT_HEADERS) <= set(documented_headers(schema, answer)), (method, path)


@pytest.mark.parametrize("caller", ["anonymous", "staff"])
def test_every_read_sends_the_headers_its_schema_documents(schema, request, caller):
    """Call every GET of the schema (ids that match nothing: 404s are answers too) and check each answer."""
    client = APIClient() if caller == "anonymous" else request.getfixturevalue("staff_client")
    failures = []
    for path, method, _ in operations(schema):
        if method != "get":
            continue
        response = client.get(re.sub(r"\{\w+\}", "999999", path))
        try:
            assert_sends_what_is_documented(schema, path, method, response)
        except AssertionError as failure:
            failures.append(str(failure))

    assert failures == []


def place_one(client, product):
    return client.post(ORDERS, order_body(product, "card"), format="json")


RATE_LIMITED = [
    # (setting, path, method, who, request); each request is made twice against a limit of 1.
    ("RATELIMIT_ANON", "/api/v1/", "get", "anonymous", lambda client, product: client.get("/api/v1/")),
    (
        "RATELIMIT_ANON",
        "/api/v1/products/",
        "get",
        "anonymous",
        lambda client, product: client.get("/api/v1/products/"),
    ),
    ("RATELIMIT_USER", ORDERS, "get", "customer", lambda client, product: client.get(ORDERS)),
    (
        "RATELIMIT_AUTH",
        "/api/v1/auth/token/",
        "post",
        "anonymous",
        lambda client, product: client.post("/api/v1/auth/token/", {"email": "x@example.com", "password": PASSWORD}),
    ),
    ("RATELIMIT_ORDERS", ORDERS, "post", "customer", place_one),
]


@pytest.mark.parametrize(
    ("setting", "path", "method", "who", "call"),
    RATE_LIMITED,
    ids=["anonymous", "anonymous-cached", "user", "auth", "orders"],
)
def test_past_each_kind_of_limit_the_429_carries_what_is_documented(
    schema, settings, customer_client, product, setting, path, method, who, call
):
    setattr(settings, setting, "1/m")
    client = customer_client if who == "customer" else APIClient()

    counted = call(client, product)
    refused = call(client, product)

    assert_sends_what_is_documented(schema, path, method, counted)
    assert counted["X-RateLimit-Remaining"] == "0"
    assert_error(refused, 429, "rate_limited")
    assert_sends_what_is_documented(schema, path, method, refused)
    assert int(refused["Retry-After"]) >= 1
    assert (refused["X-RateLimit-Limit"], refused["X-RateLimit-Remaining"]) == ("1", "0")


def test_a_wrong_password_is_counted_and_its_401_documents_the_limit(schema, api_client, customer):
    response = api_client.post("/api/v1/auth/token/", {"email": customer.user.email, "password": "guess"})

    assert response.status_code == 401
    assert set(RATE_LIMIT_HEADERS) <= set(headers_documented_on(schema, "/api/v1/auth/token/", "post", 401))
    assert_sends_what_is_documented(schema, "/api/v1/auth/token/", "post", response)
