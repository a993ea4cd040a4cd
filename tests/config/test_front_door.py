"""The front doors (config/views.py): `/` for people, `GET /api/v1/` for programs, and the API docs pages."""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.staticfiles import finders
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from tests.utils import component_validator, links_in, openapi_schema

pytestmark = pytest.mark.django_db

COLLECTIONS = {
    "addresses", "categories", "credit-notes", "customers", "discount-codes", "invoices", "orders", "products",
}  # fmt: skip


def is_local(url: str) -> bool:
    """Return whether a link stays on this site: a path, or an absolute URL to the test server itself."""
    parts = urlsplit(url)
    return (not parts.scheme and not parts.netloc) or (parts.scheme, parts.netloc) == ("http", "testserver")


# --- GET /api/v1/ ------------------------------------------------------------------------------


def test_the_api_root_lists_every_collection_with_its_absolute_url(api_client):
    response = api_client.get("/api/v1/")

    assert response.status_code == 200
    body = response.json()
    assert set(body["resources"]) == COLLECTIONS
    assert body["resources"]["discount-codes"] == "http://testserver/api/v1/discount-codes/"
    assert body["auth"] == {
        name: f"http://testserver/api/v1/auth/{path}/"
        for name, path in {
            "register": "register",
            "token": "token",
            "token-refresh": "token/refresh",
            "logout": "logout",
            "logout-all": "logout-all",
            "password-reset": "password/reset",
            "password-reset-confirm": "password/reset/confirm",
            "password-change": "password/change",
            "email-verify": "email/verify",
            "email-verify-resend": "email/verify/resend",
        }.items()
    }
    assert body["schema"] == "http://testserver/api/schema/"
    assert body["docs"] == {"redoc": "http://testserver/api/redoc/", "swagger": "http://testserver/api/docs/"}
    assert body["health"] == {"live": "http://testserver/health/live/", "ready": "http://testserver/health/ready/"}


def test_every_link_of_the_api_root_leads_somewhere(api_client, staff_client):
    body = api_client.get("/api/v1/").json()

    for url in [*body["resources"].values(), *body["auth"].values()]:
        resolve(urlsplit(url).path)  # raises Resolver404 for a dead link
    for url in body["resources"].values():
        assert staff_client.get(url).status_code == 200, url
    for url in [body["schema"], *body["docs"].values(), *body["health"].values()]:
        assert api_client.get(url).status_code == 200, url


def test_the_api_root_answers_what_its_schema_documents(api_client):
    schema = openapi_schema()
    operation = schema["paths"]["/api/v1/"]["get"]

    response = api_client.get("/api/v1/")

    component = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    component_validator(schema, component).validate(response.json())
    assert "security" not in operation, "anyone may read it; no credentials are read"
    assert operation["tags"] == ["api"]


def test_the_api_root_ignores_a_bad_token():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert client.get("/api/v1/").status_code == 200


def test_the_api_root_is_rate_limited_like_the_rest_of_the_api(api_client):
    response = api_client.get("/api/v1/")

    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(response.headers)


# --- / -----------------------------------------------------------------------------------------


def test_the_front_page_links_the_docs_the_api_root_the_admin_and_health(client):
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    links = links_in(response.content.decode())
    assert {"/api/redoc/", "/api/docs/", "/api/schema/", "/api/v1/", reverse("admin:index")} <= set(links)
    assert {"/health/live/", "/health/ready/"} <= set(links)
    assert all(is_local(url) for url in links), links
    for url in links:
        assert client.get(url).status_code in (200, 302), url  # the admin redirects to its login


def test_the_front_page_loads_nothing_and_carries_the_page_policy(client):
    response = client.get("/")

    assert "<script" not in response.content.decode()
    assert "<link" not in response.content.decode()
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_the_admins_view_site_link_leads_to_the_front_page(admin_client):
    index = admin_client.get(reverse("admin:index"))

    assert admin.site.site_url == "/"
    assert 'href="/">View site</a>' in index.content.decode()
    assert admin_client.get(admin.site.site_url).status_code == 200


# --- The API docs: everything from this site -----------------------------------------------------


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_make_no_request_to_another_host(client, page):
    response = client.get(page)

    assert response.status_code == 200
    links = links_in(response.content.decode())
    assert links, "the page loads its viewer"
    assert all(is_local(url) for url in links), links
    assert "http://" not in response.content.decode().replace("http://testserver", "")
    assert "https://" not in response.content.decode()
    for url in links:
        if url.startswith("/static/"):
            # Served by whitenoise from the installed drf-spectacular-sidecar, through staticfiles.
            assert finders.find(url.removeprefix("/static/")), url


def test_swagger_ui_asks_no_outside_validator_and_its_script_is_local(client):
    script = next(url for url in links_in(client.get("/api/docs/").content.decode()) if url.startswith("/api/docs/"))

    response = client.get(script)

    assert response.status_code == 200
    assert '"validatorUrl": null' in response.content.decode()


def test_the_schema_names_no_logo_to_fetch(client):
    info = client.get("/api/schema/", {"format": "json"}).json()["info"]

    assert "x-logo" not in info
