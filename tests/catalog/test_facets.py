"""GET /products/facets/ (SPEC §5): counts that agree with the list, a fixed number of queries, cached as lists."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from catalog.factories import CategoryFactory, ProductFactory
from catalog.models import OptionValue, Product, Variant
from tests.utils import openapi_schema, product_with_options

pytestmark = pytest.mark.django_db

PRODUCTS_URL = "/api/v1/products/"
FACETS_URL = "/api/v1/products/facets/"


@pytest.fixture
def shop():
    """Kitchen > Teapots, Clothing > Archive (inactive); clothes in sizes and colours; one hidden product."""
    kitchen = CategoryFactory(name="Kitchen")
    teapots = CategoryFactory(name="Teapots", parent=kitchen)
    clothing = CategoryFactory(name="Clothing")
    archive = CategoryFactory(name="Archive", parent=clothing, is_active=False)
    ProductFactory(name="Green tea pot", category=teapots, price=Decimal("30.00"), stock=5, description="Tea.")
    ProductFactory(name="Iron kettle", category=kitchen, price=Decimal("80.00"), stock=0, description="For tea.")
    sizes = {"Size": ["S", "M", "L"], "Colour": ["Navy", "Red"]}
    product_with_options(
        "Shirt",
        [
            ("SH-M-NAVY", "20.00", 3, {"Size": "M", "Colour": "Navy"}),
            ("SH-L-NAVY", "25.00", 0, {"Size": "L", "Colour": "Navy"}),
            ("SH-M-RED", "22.00", 1, {"Size": "M", "Colour": "Red"}),
        ],
        options=sizes,
        category=clothing,
    )
    product_with_options("Socks", [("SO-M", "5.00", 0, {"Size": "M"})], options={"Size": ["M"]}, category=clothing)
    product_with_options("Old hat", [("HAT-L", "600.00", 2, {"Size": "L"})], options={"Size": ["L"]}, category=archive)
    ProductFactory(name="Hidden tea", category=kitchen, price=Decimal("10.00"), stock=1, is_active=False)
    return {"kitchen": kitchen, "teapots": teapots, "clothing": clothing, "archive": archive}


def listed(client, query: dict) -> int:
    response = client.get(PRODUCTS_URL, query)
    assert response.status_code == 200, response.content
    return response.json()["count"]


class TestCounts:
    def test_the_storefront_facets(self, api_client, shop):
        body = api_client.get(FACETS_URL).json()

        assert (body["count"], body["in_stock"]) == (5, 3)
        # Archive is inactive: its hat counts in Clothing only. Parents come before their sub-categories.
        assert [(row["name"], row["count"]) for row in body["categories"]] == [
            ("Clothing", 3),
            ("Kitchen", 2),
            ("Teapots", 1),
        ]
        assert body["price_bands"] == [
            {"min": "0.00", "max": "24.99", "count": 2},
            {"min": "25.00", "max": "49.99", "count": 2},
            {"min": "50.00", "max": "99.99", "count": 1},
            {"min": "100.00", "max": "249.99", "count": 0},
            {"min": "250.00", "max": "499.99", "count": 0},
            {"min": "500.00", "max": None, "count": 1},
        ]
        # An in-stock active variant with the value: socks (M, none left) and the navy L shirt count nowhere.
        assert body["options"] == {
            "Colour": [{"value": "Navy", "count": 1}, {"value": "Red", "count": 1}],
            "Size": [{"value": "L", "count": 1}, {"value": "M", "count": 1}],  # both first of some product's
        }

    @pytest.mark.parametrize(
        "query",
        [
            {},
            {"in_stock": "true"},
            {"in_stock": "false"},
            {"search": "tea"},
            {"option": "Size:M"},
            {"category_slug": "clothing"},
            {"max_price": "40"},
            {"category": "kitchen", "in_stock": "true"},
        ],
        ids=lambda query: "&".join(f"{key}={value}" for key, value in query.items()) or "unfiltered",
    )
    def test_every_count_is_what_the_list_shows_with_that_facet_chosen(self, api_client, shop, query):
        if "category" in query:
            query = {**query, "category": shop[query["category"]].pk}
        body = api_client.get(FACETS_URL, query).json()

        assert body["count"] == listed(api_client, query)
        if "in_stock" not in query:
            assert body["in_stock"] == listed(api_client, {**query, "in_stock": "true"})
        for row in body["categories"]:
            if "category" not in query and "category_slug" not in query:
                assert row["count"] == listed(api_client, {**query, "category": row["id"]}), row
        for band in body["price_bands"]:
            if "min_price" not in query and "max_price" not in query:
                bounds = {"min_price": band["min"], **({"max_price": band["max"]} if band["max"] else {})}
                assert band["count"] == listed(api_client, {**query, **bounds}), band
        for name, values in body["options"].items():
            for row in values:
                if "option" not in query:
                    chosen = {**query, "option": f"{name}:{row['value']}", "in_stock": "true"}
                    assert row["count"] == listed(api_client, chosen), (name, row)

    def test_staff_facets_count_inactive_products_too(self, staff_client, shop):
        body = staff_client.get(FACETS_URL).json()

        assert body["count"] == Product.objects.count() == 6

    def test_a_bad_filter_is_a_validation_error(self, api_client):
        response = api_client.get(FACETS_URL, {"min_price": "ten"})

        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"

    def test_an_empty_catalog(self, api_client):
        body = api_client.get(FACETS_URL).json()

        assert (body["count"], body["in_stock"], body["categories"], body["options"]) == (0, 0, [], {})
        assert all(band["count"] == 0 for band in body["price_bands"])

    def test_the_bands_come_from_settings(self, api_client, shop, settings):
        settings.CATALOG_PRICE_BANDS = [("0.00", "50.00"), ("50.01", None)]

        bands = api_client.get(FACETS_URL).json()["price_bands"]

        assert bands == [{"min": "0.00", "max": "50.00", "count": 3}, {"min": "50.01", "max": None, "count": 2}]


class TestQueries:
    def test_facets_run_a_fixed_number_of_queries(self, api_client, shop, django_assert_num_queries):
        def facets_of(query, queries=4):
            cache.clear()
            # 1 count and price bands per own category; 2 in stock; 3 the category tree; 4 option values;
            # a `category` filter reads the category's subtree first.
            with django_assert_num_queries(queries):
                assert api_client.get(FACETS_URL, query).status_code == 200

        facets_of({})
        facets_of({"category": shop["kitchen"].pk}, queries=5)
        garden = CategoryFactory(name="Garden", parent=shop["kitchen"])
        for number in range(6):
            sizes = [(f"PL-{number}-{size}", "12.00", 4, {"Size": size, "Pot": "Clay"}) for size in ("S", "M")]
            product_with_options(
                f"Plant {number}", sizes, options={"Size": ["S", "M"], "Pot": ["Clay"]}, category=garden
            )
        facets_of({})
        facets_of({"category": shop["kitchen"].pk}, queries=5)
        facets_of({"search": "plant", "option": "Size:M", "in_stock": "true", "min_price": "1"})


class TestCache:
    def test_a_second_read_is_a_hit_without_sql(self, api_client, shop, django_assert_num_queries):
        miss = api_client.get(FACETS_URL, {"in_stock": "true"})
        with django_assert_num_queries(0):
            hit = api_client.get(FACETS_URL, {"in_stock": "true"})

        assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT")
        assert hit.content == miss.content
        assert hit["ETag"] == miss["ETag"]
        assert api_client.get(FACETS_URL, headers={"If-None-Match": miss["ETag"]}).status_code == 200  # other key
        assert (
            api_client.get(FACETS_URL, {"in_stock": "true"}, headers={"If-None-Match": miss["ETag"]}).status_code == 304
        )

    def test_facets_are_keyed_by_their_filters_only(self, api_client, shop):
        api_client.get(FACETS_URL, {"in_stock": "true", "page_size": 10})

        for other in ({"page_size": 50}, {"page": 3, "ordering": "-price"}, {"utm_source": "mail"}):
            assert api_client.get(FACETS_URL, {"in_stock": "true", **other})["X-Cache"] == "HIT", other
        assert api_client.get(FACETS_URL, {"in_stock": "false"})["X-Cache"] == "MISS"
        assert api_client.get(FACETS_URL, {"in_stock": "true", "min_price": 1})["X-Cache"] == "MISS"

    def test_the_list_and_its_facets_are_cached_apart(self, api_client, shop):
        api_client.get(PRODUCTS_URL)

        assert api_client.get(FACETS_URL)["X-Cache"] == "MISS"

    @pytest.mark.parametrize(
        "write",
        [
            "rename a product",
            "change a variant's price",
            "rename an option value",
            "rename a category",
            "sell out a product",
        ],
    )
    def test_catalog_writes_invalidate_the_facets(self, api_client, shop, django_capture_on_commit_callbacks, write):
        api_client.get(FACETS_URL)
        assert api_client.get(FACETS_URL)["X-Cache"] == "HIT"

        with django_capture_on_commit_callbacks(execute=True):
            if write == "rename a product":
                Product.objects.get(name="Socks").save()
            elif write == "change a variant's price":
                Variant.objects.filter(sku="SO-M").update(price=Decimal("7.00"))
            elif write == "rename an option value":
                navy = OptionValue.objects.get(option__product__name="Shirt", value="Navy")
                navy.value = "Indigo"
                navy.save()
            elif write == "rename a category":
                shop["teapots"].name = "Tea things"
                shop["teapots"].save()
            else:
                Variant.objects.reserve({Variant.objects.get(sku="HAT-L").pk: 2})

        assert api_client.get(FACETS_URL)["X-Cache"] == "MISS"

    def test_a_stock_move_that_keeps_a_product_in_stock_keeps_the_facets(
        self, api_client, shop, django_capture_on_commit_callbacks
    ):
        api_client.get(FACETS_URL)
        with django_capture_on_commit_callbacks(execute=True):
            Variant.objects.reserve({Variant.objects.get(sku="SH-M-NAVY").pk: 1})

        assert api_client.get(FACETS_URL)["X-Cache"] == "HIT"  # lists and facets may lag by the TTL (SPEC §6)

    def test_staff_bypass_the_cache(self, staff_client, shop):
        assert staff_client.get(FACETS_URL)["X-Cache"] == "BYPASS"


def test_the_schema_documents_the_facets_with_the_list_filters_and_the_cache_headers():
    operation = openapi_schema()["paths"]["/api/v1/products/facets/"]["get"]

    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"search", "option", "category", "min_price", "in_stock", "If-None-Match"} <= names
    ok = operation["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Facets"}
    assert {"ETag", "X-Cache"} <= set(ok["headers"])
    assert "304" in operation["responses"]
