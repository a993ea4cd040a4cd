import pytest

from catalog.factories import ProductFactory

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
