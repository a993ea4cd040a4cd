"""Storefront filters are served by indexes on PostgreSQL, not by table scans: search, price ranges."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.filters import SearchFilter
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from catalog.api.filters import ProductFilter
from catalog.api.views import ProductViewSet
from catalog.models import Product
from tests.utils import ON_POSTGRESQL

# The indexes and their plans are PostgreSQL's; SQLite has neither pg_trgm nor these plans.
needs_postgresql_plans = pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL query plans; CI runs them")


@needs_postgresql_plans
@pytest.mark.django_db
def test_the_search_query_can_use_the_trigram_index():
    request = Request(APIRequestFactory().get("/api/v1/products/", {"search": "steel"}))
    searched = SearchFilter().filter_queryset(request, Product.objects.all(), ProductViewSet())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of test rows would favour a scan
        plan = searched.order_by().explain()  # as the page count runs it

    assert "catalog_product_search_trgm" in plan


@needs_postgresql_plans
@pytest.mark.django_db
def test_a_price_range_count_reads_only_the_active_price_index():
    request = Request(APIRequestFactory().get("/api/v1/products/", {"min_price": "10", "max_price": "200"}))
    filtered = ProductFilter(request.query_params, queryset=Product.objects.active(), request=request).qs
    with CaptureQueriesContext(connection) as counted:
        filtered.count()  # the page count's own query
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of test rows would favour a scan
        cursor.execute(f"EXPLAIN {counted.captured_queries[0]['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index Only Scan using product_active_price_idx" in plan
