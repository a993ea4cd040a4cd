"""Storefront filters are served by indexes on PostgreSQL, not by table scans: search, price ranges."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.api.filters import ProductFilter
from catalog.factories import CategoryFactory, ProductFactory
from catalog.models import Product
from catalog.search import VECTOR_INDEX
from tests.utils import ON_POSTGRESQL

# The indexes and their plans are PostgreSQL's; SQLite has neither pg_trgm nor these plans.
needs_postgresql_plans = pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL query plans; CI runs them")

pytestmark = [needs_postgresql_plans, pytest.mark.django_db]

TRIGRAM_INDEX = "catalog_product_search_trgm"  # migration 0008
WORDS = ["Lamp", "Chair", "Table", "Mug", "Towel", "Candle", "Basket", "Mirror"]


def plans_of_a_page(query: dict) -> list[str]:
    """Return the plans of what a list page runs for `query`: its count, then its rows."""
    filtered = ProductFilter(query, queryset=Product.objects.active()).qs
    with CaptureQueriesContext(connection) as counted:
        filtered.count()
        list(filtered[:20])
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few thousand rows may still favour a scan
        for query in counted.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.fixture(autouse=True)
def products():
    """A few thousand products, analysed: enough for the planner to choose as it would in a shop."""
    category = CategoryFactory(name="Household")
    Product.objects.bulk_create(
        Product(
            name=f"{WORDS[n % len(WORDS)]} {n}",
            slug=f"product-{n}",
            description="Plain and useful.",
            category=category,
            price_min=Decimal(n % 500),
            price_max=Decimal(n % 500 + 5),
        )
        for n in range(3000)
    )
    ProductFactory(name="Steel kettle", description="Boils water.")
    ProductFactory(name="Studio headphones", description="Closed back.")
    with connection.cursor() as cursor:
        # What autovacuum does in a running shop: rows written in bulk wait in the GIN indexes'
        # pending lists, which the planner costs as a scan of their own.
        cursor.execute(f"SELECT gin_clean_pending_list('{VECTOR_INDEX}'), gin_clean_pending_list('{TRIGRAM_INDEX}')")
        cursor.execute("ANALYZE catalog_product")


def test_a_search_reads_the_search_vector_index_never_the_whole_table():
    for plan in plans_of_a_page({"search": "steel kettle"}):
        assert VECTOR_INDEX in plan, plan
        assert "Seq Scan on catalog_product" not in plan, plan


def test_a_search_with_few_matches_finds_names_through_the_trigram_index():
    for plan in plans_of_a_page({"search": "hedphones"}):
        assert VECTOR_INDEX in plan, plan
        assert TRIGRAM_INDEX in plan, plan
        assert "Seq Scan on catalog_product" not in plan, plan


def test_a_price_range_count_reads_an_active_price_index():
    count_plan, _page_plan = plans_of_a_page({"min_price": "10", "max_price": "200"})

    assert "product_active_price" in count_plan, count_plan
    assert "Seq Scan on catalog_product" not in count_plan, count_plan
