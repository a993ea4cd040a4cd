"""Request bodies: JSON nested beyond reason is a 400 parse_error, never a RecursionError (a 500)."""

import io

import pytest
from rest_framework.exceptions import ParseError

from common.parsers import MAX_JSON_DEPTH, JSONParser
from orders.models import Order
from tests.utils import assert_error

pytestmark = pytest.mark.django_db

DEEP = "[" * 1000 + "]" * 1000


def nested(depth: int) -> str:
    """Return a JSON document `depth` levels deep, arrays and objects in turn."""
    body = "1"
    for level in range(depth):
        body = f"[{body}]" if level % 2 else f'{{"k": {body}}}'
    return body


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/auth/register/", "/api/v1/auth/token/refresh/"])
def test_deeply_nested_json_to_the_anonymous_endpoints_is_a_parse_error(api_client, path):
    response = api_client.generic("POST", path, DEEP, content_type="application/json")

    body = assert_error(response, 400, "parse_error")
    assert "nested" in body["detail"]


def test_deeply_nested_json_order_is_a_parse_error_and_writes_nothing(customer_client):
    response = customer_client.generic("POST", "/api/v1/orders/", DEEP, content_type="application/json")

    assert_error(response, 400, "parse_error")
    assert not Order.objects.exists()


def test_nesting_up_to_the_limit_parses():
    parsed = JSONParser().parse(_stream(nested(MAX_JSON_DEPTH)))

    assert parsed is not None


def test_nesting_past_the_limit_is_refused_without_recursing():
    with pytest.raises(ParseError, match="nested"):
        JSONParser().parse(_stream(nested(MAX_JSON_DEPTH + 1)))


def test_brackets_inside_strings_do_not_count_as_nesting():
    document = '{"comment": "' + "[{" * 5000 + '", "escaped": "\\"[[["}'

    assert JSONParser().parse(_stream(document)) == {"comment": "[{" * 5000, "escaped": '"[[['}


def test_an_unterminated_string_of_escapes_is_scanned_in_linear_time():
    # A backtracking string pattern would retry from each quote: minutes, not milliseconds.
    with pytest.raises(ParseError):
        JSONParser().parse(_stream('["' + '\\"' * 200_000))


def test_malformed_json_is_still_a_parse_error():
    with pytest.raises(ParseError):
        JSONParser().parse(_stream('{"items": ['))


def _stream(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())
