from unittest import mock

import django_filters
import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog.factories import ProductFactory
from catalog.models import Product
from common.filters import RequestedFiltersBackend
from orders.api.filters import OrderFilter

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def test_lists_default_to_the_model_ordering_then_id(api_client):
    for name in ["Pear", "Apple", "Apple", "Mango"]:
        ProductFactory(name=name)

    rows = api_client.get("/api/v1/products/").json()["results"]

    assert [row["name"] for row in rows] == ["Apple", "Apple", "Mango", "Pear"]
    assert rows[0]["id"] < rows[1]["id"]


def test_equal_sort_keys_page_without_repeats_or_gaps(api_client):
    created = {ProductFactory(price="10.00").pk for _ in range(7)}

    seen = []
    for page in (1, 2, 3):
        response = api_client.get(f"/api/v1/products/?ordering=-price&page_size=3&page={page}")
        seen += [row["id"] for row in response.json()["results"]]

    assert seen == sorted(created)


class PriceRangeFilter(django_filters.FilterSet):
    price = django_filters.RangeFilter(field_name="price_min")

    class Meta:
        model = Product
        fields = ["price"]


class PriceRangeView:
    filterset_class = PriceRangeFilter


def filtered(query: str) -> list[str]:
    request = Request(APIRequestFactory().get(f"/api/v1/products/{query}"))
    return sorted(
        RequestedFiltersBackend()
        .filter_queryset(request, Product.objects.all(), PriceRangeView())
        .values_list("name", flat=True)
    )


def test_the_filter_set_runs_for_a_parameter_named_after_one_of_its_filters():
    ProductFactory(name="Cheap", price="2.00")
    ProductFactory(name="Dear", price="20.00")

    assert filtered("") == ["Cheap", "Dear"]
    assert filtered("?ordering=name&page=2") == ["Cheap", "Dear"]
    assert filtered("?price_min=10") == ["Dear"]  # a range filter's parameter carries a suffix
    assert filtered("?price_max=10") == ["Cheap"]


def test_a_list_without_filter_parameters_builds_no_filter_set(customer_client, customer):
    with mock.patch.object(OrderFilter, "is_valid", side_effect=AssertionError("filter set built")) as validated:
        unfiltered = customer_client.get("/api/v1/orders/", {"page_size": 10, "ordering": "-total"})
        with pytest.raises(AssertionError, match="filter set built"):
            customer_client.get("/api/v1/orders/", {"status": "pending"})

    assert unfiltered.status_code == 200
    assert validated.call_count == 1
