"""The cached catalog (SPEC §6): rendered bytes, exact invalidation, ETags, outages."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import override_settings

from catalog.api.serializers import CategorySerializer, ProductSerializer
from catalog.factories import ExtraFactory, ProductFactory
from catalog.models import Category, Product, Variant
from common.caching import version_key
from tests.utils import UNREACHABLE_REDIS_CACHE

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


def detail(product) -> str:
    return f"{PRODUCTS}{product.pk}/"


def get(client, url, **headers):
    return client.get(url, headers=headers)


def warm(client, *urls):
    """Read each URL until it is cached, and check that it is."""
    for url in urls:
        get(client, url)
        assert get(client, url)["X-Cache"] == "HIT", url


class TestHits:
    @pytest.mark.parametrize("url", [PRODUCTS, CATEGORIES, "product-detail", "category-detail"])
    def test_a_hit_runs_no_sql_and_no_serializer(self, api_client, product, django_assert_num_queries, url):
        url = {"product-detail": detail(product), "category-detail": f"{CATEGORIES}{product.category_id}/"}.get(
            url, url
        )
        miss = get(api_client, url)
        assert miss["X-Cache"] == "MISS"

        with (
            django_assert_num_queries(0),
            mock.patch.object(ProductSerializer, "to_representation", side_effect=AssertionError),
            mock.patch.object(CategorySerializer, "to_representation", side_effect=AssertionError),
        ):
            hit = get(api_client, url)

        assert hit.status_code == 200
        assert hit["X-Cache"] == "HIT"
        assert hit.content == miss.content
        assert hit["Content-Type"] == "application/json"
        assert hit["ETag"] == miss["ETag"]

    def test_a_cold_cache_stamps_its_scopes_and_caches_at_once(self, api_client, product):
        assert get(api_client, PRODUCTS)["X-Cache"] == "MISS"
        assert cache.get(version_key("catalog:products")) is not None
        assert get(api_client, PRODUCTS)["X-Cache"] == "HIT"

    def test_query_strings_are_cached_apart_whatever_their_order(self, api_client, product):
        ProductFactory(price=5, category=product.category)
        warm(api_client, f"{PRODUCTS}?ordering=price&page_size=1")

        assert get(api_client, f"{PRODUCTS}?page_size=1&ordering=price")["X-Cache"] == "HIT"
        other = get(api_client, f"{PRODUCTS}?ordering=-price&page_size=1")
        assert other["X-Cache"] == "MISS"
        assert other.json()["results"][0]["id"] == product.pk or other.json()["results"][0]["price"] != "5.00"

    def test_staff_and_the_browsable_api_bypass_the_cache(self, api_client, staff_client, product):
        warm(api_client, PRODUCTS)
        hidden = ProductFactory(is_active=False, category=product.category)

        staff = staff_client.get(PRODUCTS)
        browsable = api_client.get(PRODUCTS, HTTP_ACCEPT="text/html")

        assert staff["X-Cache"] == browsable["X-Cache"] == "BYPASS"
        assert hidden.pk in [row["id"] for row in staff.json()["results"]]

    def test_errors_are_not_cached(self, api_client):
        assert get(api_client, f"{PRODUCTS}424242/").status_code == 404
        assert get(api_client, f"{PRODUCTS}424242/").status_code == 404
        assert not [key for key in _cache_keys() if key.startswith("resp:")]


class TestConditionalRequests:
    def test_matching_if_none_match_answers_304_without_a_body(self, api_client, product):
        etag = get(api_client, detail(product))["ETag"]
        assert etag.startswith('"') and etag.endswith('"')

        for _ in range(2):  # once on a miss, once on a hit
            response = get(api_client, detail(product), If_None_Match=etag)
            assert response.status_code == 304
            assert response.content == b""
            assert response["ETag"] == etag

    def test_weak_and_listed_etags_match_and_stale_ones_do_not(self, api_client, product):
        etag = get(api_client, PRODUCTS)["ETag"]
        assert get(api_client, PRODUCTS, If_None_Match=f'"other", W/{etag}').status_code == 304
        assert get(api_client, PRODUCTS, If_None_Match="*").status_code == 304
        assert get(api_client, PRODUCTS, If_None_Match='"stale"').status_code == 200

    def test_etag_changes_when_the_content_does(self, api_client, product, django_capture_on_commit_callbacks):
        before = get(api_client, detail(product))["ETag"]
        with django_capture_on_commit_callbacks(execute=True):
            Product.objects.filter(pk=product.pk).update(name="Floor lamp")
        after = get(api_client, detail(product))
        assert after["ETag"] != before
        assert after.json()["name"] == "Floor lamp"


class TestInvalidation:
    def test_saving_a_product_invalidates_its_detail_and_the_lists(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        warm(api_client, PRODUCTS, detail(product))
        with django_capture_on_commit_callbacks(execute=True):
            product.name = "Reading lamp"
            product.save()

        listed = get(api_client, PRODUCTS)
        shown = get(api_client, detail(product))
        assert (listed["X-Cache"], shown["X-Cache"]) == ("MISS", "MISS")
        assert listed.json()["results"][0]["name"] == shown.json()["name"] == "Reading lamp"

    def test_writes_through_the_api_invalidate(
        self, api_client, staff_client, product, django_capture_on_commit_callbacks
    ):
        warm(api_client, PRODUCTS, detail(product))
        with django_capture_on_commit_callbacks(execute=True):
            assert staff_client.patch(detail(product), {"price": "19.99"}, format="json").status_code == 200

        assert get(api_client, detail(product)).json()["price"] == "19.99"
        assert get(api_client, PRODUCTS).json()["results"][0]["price"] == "19.99"

    def test_saving_one_product_keeps_other_details_cached(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        other = ProductFactory(category=product.category)
        warm(api_client, detail(other))
        with django_capture_on_commit_callbacks(execute=True):
            product.save()
        assert get(api_client, detail(other))["X-Cache"] == "HIT"

    def test_deleting_a_product_invalidates_the_lists(self, api_client, product, django_capture_on_commit_callbacks):
        warm(api_client, PRODUCTS)
        with django_capture_on_commit_callbacks(execute=True):
            product.delete()
        assert get(api_client, PRODUCTS).json()["count"] == 0

    def test_a_stock_change_refreshes_the_detail_but_not_the_lists(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        warm(api_client, PRODUCTS, detail(product))
        with django_capture_on_commit_callbacks(execute=True):
            Variant.objects.reserve({product.variants.get().pk: 3})

        shown = get(api_client, detail(product))
        assert (shown["X-Cache"], shown.json()["stock"]) == ("MISS", 7)
        listed = get(api_client, PRODUCTS)
        assert (listed["X-Cache"], listed.json()["results"][0]["stock"]) == ("HIT", 10)  # may lag, by design

    def test_selling_out_invalidates_the_lists(self, api_client, product, django_capture_on_commit_callbacks):
        warm(api_client, PRODUCTS, f"{PRODUCTS}?in_stock=true")
        with django_capture_on_commit_callbacks(execute=True):
            Variant.objects.reserve({product.variants.get().pk: 10})

        assert get(api_client, PRODUCTS).json()["results"][0]["in_stock"] is False
        assert get(api_client, f"{PRODUCTS}?in_stock=true").json()["count"] == 0

    def test_coming_back_into_stock_invalidates_the_lists(self, api_client, django_capture_on_commit_callbacks):
        sold_out = ProductFactory(stock=0)
        warm(api_client, f"{PRODUCTS}?in_stock=true")
        with django_capture_on_commit_callbacks(execute=True):
            Variant.objects.release({sold_out.variants.get().pk: 2})
        assert get(api_client, f"{PRODUCTS}?in_stock=true").json()["count"] == 1

    def test_restocking_a_product_that_was_in_stock_keeps_the_lists(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        warm(api_client, PRODUCTS)
        with django_capture_on_commit_callbacks(execute=True):
            Variant.objects.release({product.variants.get().pk: 2})
        assert get(api_client, PRODUCTS)["X-Cache"] == "HIT"

    def test_selling_out_one_size_of_several_keeps_the_lists(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        product.add_option("Size", ["S", "M"])  # the teapot's variant (10 units) is S
        medium = product.add_variant(sku="TEA-POT-M", price=Decimal("21.00"), stock=1, options={"Size": "M"})
        warm(api_client, PRODUCTS, detail(product))
        with django_capture_on_commit_callbacks(execute=True):
            Variant.objects.reserve({medium.pk: 1})

        assert get(api_client, PRODUCTS)["X-Cache"] == "HIT"
        shown = get(api_client, detail(product))
        assert shown["X-Cache"] == "MISS"
        assert [variant["in_stock"] for variant in shown.json()["variants"]] == [True, False]

    def test_selling_out_the_last_size_in_stock_invalidates_the_lists(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        product.add_option("Size", ["S", "M"])
        medium = product.add_variant(sku="TEA-POT-M", price=Decimal("21.00"), stock=1, options={"Size": "M"})
        Variant.objects.reserve({product.variants.get(sku="TEA-POT").pk: 10})
        warm(api_client, f"{PRODUCTS}?in_stock=true")
        with django_capture_on_commit_callbacks(execute=True):
            Variant.objects.reserve({medium.pk: 1})

        assert get(api_client, f"{PRODUCTS}?in_stock=true").json()["count"] == 0

    def test_a_variant_price_change_refreshes_the_lists_and_the_detail(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        warm(api_client, PRODUCTS, detail(product))
        variant = product.variants.get()
        with django_capture_on_commit_callbacks(execute=True):
            variant.price = Decimal("24.00")
            variant.save()

        assert get(api_client, PRODUCTS).json()["results"][0]["price_min"] == "24.00"
        assert get(api_client, detail(product)).json()["price"] == "24.00"

    def test_a_new_extra_refreshes_the_detail_but_not_the_lists(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        warm(api_client, PRODUCTS, detail(product))
        with django_capture_on_commit_callbacks(execute=True):
            ExtraFactory(product=product, name="Cosy")

        assert get(api_client, PRODUCTS)["X-Cache"] == "HIT"
        assert [extra["name"] for extra in get(api_client, detail(product)).json()["extras"]] == ["Cosy"]

    def test_bulk_queryset_writes_invalidate(self, api_client, product, django_capture_on_commit_callbacks):
        warm(api_client, PRODUCTS, detail(product))
        with django_capture_on_commit_callbacks(execute=True):
            assert Product.objects.filter(pk=product.pk).set_active(False) == 1

        assert get(api_client, PRODUCTS).json()["count"] == 0
        assert get(api_client, detail(product)).status_code == 404

    def test_bulk_create_invalidates_the_lists(self, api_client, product, django_capture_on_commit_callbacks):
        warm(api_client, PRODUCTS)
        with django_capture_on_commit_callbacks(execute=True):
            Product.objects.bulk_create([ProductFactory.build(category=product.category)])
        assert get(api_client, PRODUCTS).json()["count"] == 2

    def test_a_category_change_invalidates_categories_and_products(
        self, api_client, product, django_capture_on_commit_callbacks
    ):
        warm(api_client, CATEGORIES, PRODUCTS, detail(product))
        with django_capture_on_commit_callbacks(execute=True):
            Category.objects.filter(pk=product.category_id).update(name="Lamps")

        assert get(api_client, CATEGORIES).json()["results"][0]["name"] == "Lamps"
        assert get(api_client, PRODUCTS).json()["results"][0]["category_name"] == "Lamps"
        assert get(api_client, detail(product)).json()["category_name"] == "Lamps"

    def test_product_writes_keep_the_category_cache(self, api_client, product, django_capture_on_commit_callbacks):
        warm(api_client, CATEGORIES)
        with django_capture_on_commit_callbacks(execute=True):
            product.save()
        assert get(api_client, CATEGORIES)["X-Cache"] == "HIT"

    def test_stamps_move_only_when_the_transaction_commits(self, product, django_capture_on_commit_callbacks):
        key = version_key("catalog:products")
        with django_capture_on_commit_callbacks(execute=True):
            product.save()
            assert cache.get(key) is None  # not yet: a reader could still cache the old rows
        assert cache.get(key) is not None

    def test_a_rolled_back_write_moves_no_stamp(self, product, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            product.save()
        assert len(callbacks) == 1  # would run on commit; a rollback drops it
        assert cache.get(version_key("catalog:products")) is None


class TestSettings:
    def test_ttls_come_from_settings(self, api_client, product, settings):
        settings.CATALOG_CACHE_TTL_PRODUCTS = 0  # Django: expire at once
        for _ in range(3):
            assert get(api_client, PRODUCTS)["X-Cache"] == "MISS"
        warm(api_client, CATEGORIES)  # categories keep their own TTL


class TestCacheOutage:
    @pytest.mark.parametrize("ignore_exceptions", [True, False], ids=["redis-ignoring", "redis-raising"])
    def test_reads_and_writes_work_with_redis_down(
        self, api_client, staff_client, product, ignore_exceptions, django_capture_on_commit_callbacks
    ):
        down = {
            **UNREACHABLE_REDIS_CACHE,
            "OPTIONS": {**UNREACHABLE_REDIS_CACHE["OPTIONS"], "IGNORE_EXCEPTIONS": ignore_exceptions},
        }
        with override_settings(CACHES={"default": down}):
            for _ in range(2):
                listed = get(api_client, PRODUCTS)
                assert (listed.status_code, listed["X-Cache"]) == (200, "MISS")
                assert listed.json()["results"][0]["name"] == product.name
            assert get(api_client, detail(product)).status_code == 200
            with django_capture_on_commit_callbacks(execute=True):
                response = staff_client.patch(detail(product), {"name": "Lamp"}, format="json")
            assert response.status_code == 200


def _cache_keys() -> list[str]:
    """List the keys in the test cache, locmem or Redis."""
    if hasattr(cache, "_cache"):
        return [key.split(":", 2)[-1] for key in cache._cache]
    return [key.decode().split(":", 2)[-1] for key in cache.client.get_client().keys("*")]
