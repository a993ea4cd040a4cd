"""OPTIONS on every API path answers for every role, never a 500 (make fuzz found two that did)."""

import re

import pytest

from tests.utils import openapi_schema

pytestmark = pytest.mark.django_db


def every_path() -> list[str]:
    """Every path of the schema, its ids filled in (an id that does not exist is fine: OPTIONS reads no row)."""
    return sorted(re.sub(r"\{[^}]+\}", "1", path) for path in openapi_schema()["paths"])


@pytest.mark.parametrize("role", ["api_client", "customer_client", "staff_client"])
def test_options_answers_every_path_without_a_server_error(request, role):
    client = request.getfixturevalue(role)

    answers = {path: client.options(path).status_code for path in every_path()}

    assert {path: code for path, code in answers.items() if code >= 500} == {}
    assert answers["/api/v1/auth/logout-all/"] == (401 if role == "api_client" else 200)


def test_a_body_less_post_is_described_without_actions(customer_client):
    body = customer_client.options("/api/v1/auth/logout-all/").json()

    assert body["name"] and "actions" not in body
