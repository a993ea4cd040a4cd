"""Requests Django refuses before or around the API (too big, a bad Host, no database): the JSON error body."""

import json

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from catalog.api.views import ProductViewSet
from common.errors import bad_request, exception_handler, server_error
from orders.models import Order
from tests.utils import assert_error, unreachable_database

pytestmark = pytest.mark.django_db

CONTEXT = {"view": None, "args": (), "kwargs": {}, "request": None}


@pytest.fixture
def small_uploads(settings):
    settings.DEBUG = False
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000


@pytest.fixture
def database_error():
    """Return the OperationalError a real connection to an unreachable database raises."""
    dead = unreachable_database()
    try:
        dead.ensure_connection()
    except OperationalError as exc:
        return exc
    finally:
        dead.close()
    pytest.fail("the unreachable database answered")


class TestTooLarge:
    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("application/json", json.dumps({"email": "a@example.com", "password": "x" * 2000})),
            ("application/x-www-form-urlencoded", "email=a%40example.com&password=" + "x" * 2000),
        ],
        ids=["json", "form"],
    )
    def test_a_body_past_the_upload_limit_is_413_request_too_large(self, api_client, small_uploads, content_type, body):
        response = api_client.generic("POST", "/api/v1/auth/token/", body, content_type=content_type)

        assert_error(response, 413, "request_too_large")
        assert response["Content-Type"] == "application/json"

    def test_a_too_large_order_writes_nothing(self, customer_client, small_uploads, product):
        items = [{"product": product.pk, "quantity": 1}] * 50
        body = json.dumps({"items": items, "delivery_method": "pickup", "payment_method": "card"})

        response = customer_client.generic("POST", "/api/v1/orders/", body, content_type="application/json")

        assert_error(response, 413, "request_too_large")
        assert not Order.objects.exists()


class TestBadHost:
    def test_an_api_request_for_another_host_is_the_json_error_body(self, client, settings):
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = ["shop.example.com"]

        response = client.get("/api/v1/products/", HTTP_HOST="evil.example.com")

        body = assert_error(response, 400, "bad_request")
        assert response["Content-Type"] == "application/json"
        assert "evil.example.com" not in body["detail"]

    def test_other_pages_keep_djangos_page(self, client, settings):
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = ["shop.example.com"]

        response = client.get("/admin/", HTTP_HOST="evil.example.com")

        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")

    def test_the_handler_answers_json_under_the_api_only(self):
        api = bad_request(RequestFactory().get("/api/v1/products/"), Exception("Invalid HTTP_HOST header"))
        page = bad_request(RequestFactory().get("/admin/"), Exception("Invalid HTTP_HOST header"))

        assert (api.status_code, json.loads(api.content)["code"]) == (400, "bad_request")
        assert (page.status_code, page["Content-Type"].startswith("text/html")) == (400, True)


class TestDatabaseDown:
    def test_the_exception_handler_answers_503_with_retry_after(self, database_error):
        response = exception_handler(database_error, CONTEXT)

        assert response.status_code == 503
        assert response.data == {
            "detail": "The service is unavailable for a moment; try again shortly.",
            "code": "service_unavailable",
        }
        assert int(response["Retry-After"]) > 0

    def test_an_api_request_while_the_database_is_down_is_503(self, api_client, monkeypatch, database_error):
        def unreachable(self):
            raise database_error

        monkeypatch.setattr(ProductViewSet, "get_queryset", unreachable)

        response = api_client.get("/api/v1/products/")

        assert_error(response, 503, "service_unavailable")
        assert int(response["Retry-After"]) > 0

    def test_a_failure_outside_drf_while_the_database_is_down_is_503_too(self, database_error):
        try:
            raise database_error
        except OperationalError:  # Django calls handler500 inside its own except block
            response = server_error(RequestFactory().get("/api/v1/products/"))

        assert response.status_code == 503
        assert json.loads(response.content)["code"] == "service_unavailable"
        assert int(response["Retry-After"]) > 0

    def test_other_failures_stay_500(self):
        try:
            raise ValueError("boom")
        except ValueError:
            response = server_error(RequestFactory().get("/api/v1/products/"))

        assert response.status_code == 500


class TestUnknownApiPath:
    """An unknown URL under /api/ answers the JSON error body, whether DEBUG is on or off."""

    @pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
    @pytest.mark.parametrize(
        "path", ["/api/nothing/", "/api/v1/nothing/", "/api/v2/products/", "/api/v1/products/x/y/"]
    )
    def test_is_the_json_404(self, client, settings, debug, path):
        settings.DEBUG = debug

        response = client.get(path, HTTP_ACCEPT="text/html")

        assert_error(response, 404, "not_found")
        assert response["Content-Type"] == "application/json"

    @pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
    def test_other_unknown_pages_keep_djangos_page(self, client, settings, debug):
        settings.DEBUG = debug

        response = client.get("/nothing-here/")

        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")

    @pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
    def test_a_missing_slash_still_redirects(self, client, settings, debug):
        settings.DEBUG = debug

        response = client.get("/api/v1/products")

        assert (response.status_code, response["Location"]) == (301, "/api/v1/products/")

    def test_the_browsable_api_keeps_its_own_404_page_with_debug_on(self, client, settings):
        settings.DEBUG = True

        response = client.get("/api/v1/products/999999/", HTTP_ACCEPT="text/html")

        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert b"Shopkeep API" in response.content
