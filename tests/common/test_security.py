"""Content-Security-Policy and Permissions-Policy on the HTML pages (common/security.py), and what those pages load."""

import base64
import hashlib
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from orders.factories import OrderFactory

pytestmark = pytest.mark.django_db


class Loads(HTMLParser):
    """Collect what a page would run or fetch: scripts, stylesheets, inline code and handlers."""

    def __init__(self):
        super().__init__()
        self.script_sources, self.stylesheets, self.inline_scripts, self.handlers = [], [], [], []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [value for name, value in attrs.items() if name.startswith("on")]
        if tag == "script":
            if attrs.get("src"):
                self.script_sources.append(attrs["src"])
            elif attrs.get("type", "text/javascript") in ("text/javascript", "module", "application/javascript"):
                self._in_inline_script = True
                self.inline_scripts.append("")
        if tag == "link" and "stylesheet" in attrs.get("rel", ""):
            self.stylesheets.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script:
            self.inline_scripts[-1] += data


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def sha256(code: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"


def assert_page_works_under_its_policy(response):
    assert response.status_code == 200, response.content[:300]
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert "camera=()" in response["Permissions-Policy"]
    loads = Loads()
    loads.feed(response.content.decode())
    # Everything is served from this site (no CDN): relative URLs only.
    for url in loads.script_sources + loads.stylesheets:
        assert url.startswith("/") and not url.startswith("//"), url
    assert [code for code in loads.inline_scripts if code.strip()] == [], "inline scripts are blocked"
    for handler in loads.handlers:
        assert "'unsafe-hashes'" in policy["script-src"] and sha256(handler) in policy["script-src"], handler
    return policy, loads


def test_the_admin_login_and_index_carry_the_policies(client, admin_client):
    assert_page_works_under_its_policy(client.get(reverse("admin:login")))
    assert_page_works_under_its_policy(admin_client.get(reverse("admin:index")))


def test_swagger_ui_loads_only_local_files_and_its_script_from_this_site(client):
    response = client.get("/api/docs/")

    _, loads = assert_page_works_under_its_policy(response)
    assert any("swagger-ui-bundle.js" in url for url in loads.script_sources)
    init = next(url for url in loads.script_sources if url.startswith("/api/docs/"))
    assert client.get(init)["Content-Type"].startswith("application/javascript")


def test_redoc_loads_only_local_files_and_may_start_its_worker_from_a_blob(client):
    response = client.get("/api/redoc/")

    policy, loads = assert_page_works_under_its_policy(response)
    assert any("redoc.standalone.js" in url for url in loads.script_sources)
    assert "blob:" in policy["worker-src"]
    assert "fonts.googleapis.com" not in response.content.decode()


def test_the_invoice_print_page_carries_the_policies_and_its_print_button_may_run(customer, customer_client, product):
    order = OrderFactory(customer=customer, lines=[(product, 1)])

    response = customer_client.get(f"/api/v1/invoices/{order.invoice.pk}/print/")

    _, loads = assert_page_works_under_its_policy(response)
    assert loads.handlers == ["window.print()"]


def test_json_answers_carry_no_page_policy(client):
    response = client.get("/api/v1/products/")

    assert "Content-Security-Policy" not in response
