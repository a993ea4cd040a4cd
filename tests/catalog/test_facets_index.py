"""Facets count from a narrow index on PostgreSQL, never from the products' wide rows."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.api.filters import ProductFilter
from catalog.factories import CategoryFactory
from catalog.models import Product
from tests.utils import ON_POSTGRESQL

# VACUUM (which fills the visibility map an index-only scan relies on, as autovacuum does in a
# running shop) cannot run inside the transaction an ordinary test is wrapped in.
pytestmark = [
    pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL query plans; CI runs them"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def categories():
    """Two categories of 1,500 products each, vacuumed and analysed."""
    shelves = [CategoryFactory(name="Lamps"), CategoryFactory(name="Chairs")]
    Product.objects.bulk_create(
        Product(
            name=f"Product {n}",
            slug=f"product-{n}",
            description="Plain and useful. " * 20,
            category=shelves[n % 2],
            price_min=Decimal(n % 500),
            price_max=Decimal(n % 500 + 5),
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE catalog_product")
    return shelves


def plans_of_the_facets(query: dict) -> list[str]:
    """Return the plans of the statements GET /products/facets/ runs for `query`."""
    filtered = ProductFilter(query, queryset=Product.objects.active()).qs
    with CaptureQueriesContext(connection) as counted:
        filtered.facets()
    plans = []
    with connection.cursor() as cursor:
        for statement in counted.captured_queries:
            cursor.execute(f"EXPLAIN {statement['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize("filtered_by", ["nothing", "price range", "category"])
def test_facets_count_categories_and_bands_from_the_facets_index_alone(filtered_by, categories):
    query = {
        "nothing": {},
        "price range": {"min_price": "10", "max_price": "200"},
        "category": {"category": str(categories[0].pk)},
    }[filtered_by]

    by_category, in_stock, *_rest = plans_of_the_facets(query)

    assert "Index Only Scan using product_active_facets_idx" in by_category, by_category
    assert "Seq Scan on catalog_product" not in in_stock, in_stock
