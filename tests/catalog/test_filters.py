"""Catalog list filters: out-of-range values are a 400 naming the parameter, never a database error."""

from decimal import Decimal

import pytest

from catalog.factories import ProductFactory
from tests.utils import assert_validation_error, openapi_schema, product_with_options, result_ids

pytestmark = pytest.mark.django_db

PRODUCTS_URL = "/api/v1/products/"


@pytest.mark.parametrize("parameter", ["min_price", "max_price"])
@pytest.mark.parametrize(
    "value",
    ["1e-200000", "-1e200000", "1e12", "10000000000.00", "0.001", "NaN", "Infinity", "ten"],
    ids=["tiny-exponent", "huge-exponent", "1e12", "13-digits", "3-places", "nan", "infinity", "word"],
)
def test_a_price_bound_that_is_no_amount_of_money_is_a_validation_error(api_client, parameter, value):
    response = api_client.get(PRODUCTS_URL, {parameter: value})

    assert_validation_error(response, parameter)


def test_price_bounds_take_any_amount_the_price_column_holds(api_client):
    cheap, dear = ProductFactory(price=Decimal("0.00")), ProductFactory(price=Decimal("9999999999.99"))

    everything = api_client.get(PRODUCTS_URL, {"min_price": "0", "max_price": "9999999999.99"})
    only_dear = api_client.get(PRODUCTS_URL, {"min_price": "9999999999.99"})
    negative_floor = api_client.get(PRODUCTS_URL, {"min_price": "-9999999999.99", "max_price": "0.5"})

    assert sorted(result_ids(everything)) == sorted([cheap.pk, dear.pk])
    assert result_ids(only_dear) == [dear.pk]
    assert result_ids(negative_floor) == [cheap.pk]


@pytest.mark.parametrize(
    "value",
    ["Size", "Size:", ":M", " : ", "50%#", "%s%d"],
    ids=["no-colon", "no-value", "no-name", "blank", "percent", "format"],  # make fuzz found the percent signs
)
def test_an_option_that_is_not_name_colon_value_is_a_validation_error(api_client, value):
    response = api_client.get(PRODUCTS_URL, {"option": ["Size:M", value]})

    assert_validation_error(response, "option")


def test_an_option_value_may_hold_a_colon_and_spaces_around_are_ignored(api_client):
    product = product_with_options("Clock", [("CLK-1", "30.00", 1, {"Ratio": "16:9"})], options={"Ratio": ["16:9"]})

    assert result_ids(api_client.get(PRODUCTS_URL, {"option": " Ratio : 16:9 "})) == [product.pk]


def test_the_list_documents_its_search_and_option_filters():
    parameters = {
        parameter["name"]: parameter
        for parameter in openapi_schema()["paths"]["/api/v1/products/"]["get"]["parameters"]
    }

    assert "websearch" not in parameters["search"]["description"]  # written for people
    assert "web search syntax" in parameters["search"]["description"]
    assert parameters["option"]["schema"]["type"] == "array"
    assert "Size:M" in parameters["option"]["description"]
