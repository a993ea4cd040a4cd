"""Catalog request bodies: values past what the columns hold are a 400 naming the field, never a 500."""

import pytest

from catalog.factories import ReviewFactory
from catalog.models import Review, Variant
from tests.utils import assert_error, assert_validation_error, stock_of

pytestmark = pytest.mark.django_db

PRODUCTS_URL = "/api/v1/products/"
LONGEST_COMMENT = 5000


def adjust_stock_url(product) -> str:
    return f"{PRODUCTS_URL}{product.pk}/adjust-stock/"


class TestStockAdjustment:
    @pytest.mark.parametrize("delta", [2**31, -(2**31), 2**63, 10**100])
    def test_a_delta_past_the_stock_column_is_a_validation_error(self, staff_client, product, delta):
        response = staff_client.post(adjust_stock_url(product), {"delta": delta}, format="json")

        assert_validation_error(response, "delta")
        assert stock_of(product) == 10

    def test_a_delta_that_would_pass_the_most_stock_a_product_holds_is_a_409(self, staff_client, product):
        response = staff_client.post(adjust_stock_url(product), {"delta": Variant.MAX_STOCK}, format="json")

        body = assert_error(response, 409, "stock_limit_exceeded")
        variant = product.variants.get()
        assert body["lines"] == [
            {"variant": variant.pk, "product": product.pk, "sku": variant.sku, "requested": Variant.MAX_STOCK}
        ]
        assert stock_of(product) == 10

    def test_a_zero_delta_is_still_refused(self, staff_client, product):
        response = staff_client.post(adjust_stock_url(product), {"delta": 0}, format="json")

        body = assert_validation_error(response, "delta")
        assert body["errors"]["delta"] == ["A stock adjustment must add or remove at least one unit."]

    def test_the_largest_delta_the_column_holds_is_taken(self, staff_client, product):
        response = staff_client.post(adjust_stock_url(product), {"delta": 2**31 - 1 - 10}, format="json")

        assert response.status_code == 200, response.content
        assert stock_of(product) == 2**31 - 1


class TestReviewComment:
    def test_a_comment_past_the_limit_is_a_validation_error(self, customer_client, product):
        response = customer_client.post(
            f"{PRODUCTS_URL}{product.pk}/reviews/",
            {"rating": 5, "comment": "x" * (LONGEST_COMMENT + 1)},
            format="json",
        )

        assert_validation_error(response, "comment")
        assert not Review.objects.exists()

    def test_an_edit_past_the_limit_is_a_validation_error(self, customer_client, customer, product):
        review = ReviewFactory(product=product, customer=customer, comment="Fine.")

        response = customer_client.patch(
            f"/api/v1/reviews/{review.pk}/", {"comment": "x" * (LONGEST_COMMENT + 1)}, format="json"
        )

        assert_validation_error(response, "comment")
        assert Review.objects.get(pk=review.pk).comment == "Fine."

    def test_a_comment_of_the_limit_is_taken(self, customer_client, product):
        response = customer_client.post(
            f"{PRODUCTS_URL}{product.pk}/reviews/", {"rating": 5, "comment": "x" * LONGEST_COMMENT}, format="json"
        )

        assert response.status_code == 201, response.content
        assert len(Review.objects.get().comment) == LONGEST_COMMENT

    def test_the_schema_states_the_limit(self, api_client):
        components = api_client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]

        assert components["ReviewRequest"]["properties"]["comment"]["maxLength"] == LONGEST_COMMENT
