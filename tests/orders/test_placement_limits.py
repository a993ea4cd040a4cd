"""Placing orders at the edges of the money columns: a clean 4xx or a correct order, never a 500 or a partial write."""

import random
from decimal import Decimal

import pytest

from catalog.factories import ProductFactory
from catalog.models import Product
from orders.exceptions import InvalidOrder
from orders.factories import DiscountCodeFactory
from orders.managers import Line
from orders.models import DiscountCode, Order, OrderItem
from tests.utils import assert_error, assert_validation_error, stock_of

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
TOP_PRICE = Decimal("9999999999.99")  # the largest amount a MoneyField holds: 12 digits, 2 after the point
MAX_QUANTITY = 1000  # the most the API takes on one line


def body(*lines, discount_code: str | None = None) -> dict:
    return {
        "items": [{"product": product.pk, "quantity": quantity} for product, quantity in lines],
        "delivery_method": "pickup",
        "payment_method": "card",
        **({"discount_code": discount_code} if discount_code else {}),
    }


def nothing_written(*products: Product, stock: int) -> bool:
    return not Order.objects.exists() and not OrderItem.objects.exists() and all(stock_of(p) == stock for p in products)


class TestTotalsThatOverflowTheMoneyColumn:
    def test_place_refuses_a_subtotal_past_the_column_before_writing(self, customer):
        dear = ProductFactory(price=TOP_PRICE, stock=5)

        with pytest.raises(InvalidOrder) as refused:
            Order.objects.place(
                customer=customer,
                lines=[Line(product=dear.pk, quantity=2)],
                delivery_method="pickup",
                payment_method="card",
            )

        assert "items" in refused.value.facts["errors"]
        assert "9999999999.99" in refused.value.detail
        assert nothing_written(dear, stock=5)

    def test_place_refuses_when_only_the_sum_of_lines_passes_the_column(self, customer):
        half = ProductFactory(price=Decimal("5000000000.00"), stock=5)
        other = ProductFactory(price=Decimal("5000000000.00"), stock=5)

        with pytest.raises(InvalidOrder):
            Order.objects.place(
                customer=customer,
                lines=[Line(product=half.pk, quantity=1), Line(product=other.pk, quantity=1)],
                delivery_method="pickup",
                payment_method="card",
            )

        assert nothing_written(half, other, stock=5)

    def test_place_takes_a_total_of_exactly_the_columns_largest_amount(self, customer):
        dear = ProductFactory(price=TOP_PRICE, stock=5)

        order, _ = Order.objects.place(
            customer=customer,
            lines=[Line(product=dear.pk, quantity=1)],
            delivery_method="pickup",
            payment_method="card",
        )

        order.refresh_from_db()
        assert (order.subtotal, order.total) == (TOP_PRICE, TOP_PRICE)

    def test_through_the_api_an_overflowing_order_is_a_validation_error(self, customer_client):
        dear = ProductFactory(price=TOP_PRICE, stock=5)

        response = customer_client.post(ORDERS, body((dear, 2)), format="json")

        assert_validation_error(response, "items")
        assert nothing_written(dear, stock=5)


class TestLineFields:
    def test_a_negative_unit_price_is_a_validation_error_naming_the_field(self, customer_client, product):
        request = body((product, 1))
        request["items"][0]["unit_price"] = "-1.00"

        response = customer_client.post(ORDERS, request, format="json")

        error = assert_validation_error(response, "items")
        assert error["errors"]["items"]["0"]["unit_price"] == ["Ensure this value is greater than or equal to 0."]
        assert nothing_written(product, stock=10)

    def test_an_order_without_items_is_a_validation_error(self, customer_client):
        response = customer_client.post(ORDERS, body(), format="json")

        assert_validation_error(response, "items")
        assert not Order.objects.exists()

    def test_the_schema_states_how_many_items_an_order_takes(self, api_client):
        components = api_client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]

        items = components["PlaceOrderRequest"]["properties"]["items"]
        assert (items["minItems"], items["maxItems"]) == (1, 100)


# --- Extreme but valid orders: each ends in a clean 4xx or an order whose totals add up ------------


def extreme_cases(count: int, seed: int = 13) -> list[tuple]:
    """Return `count` seeded-random orders: (prices, quantities, discount kind and value or None)."""
    rng = random.Random(seed)
    prices = [Decimal("0.00"), Decimal("0.01"), Decimal("0.99"), TOP_PRICE, TOP_PRICE / 2, Decimal("9999999.99")]
    quantities = [1, 2, 999, MAX_QUANTITY]
    discounts = [
        None,
        ("percent", Decimal("0.01")),
        ("percent", Decimal("33.33")),
        ("percent", Decimal("100.00")),
        ("fixed", Decimal("0.01")),
        ("fixed", TOP_PRICE),
    ]
    cases = []
    for _ in range(count):
        lines = rng.randint(1, 3)
        cases.append(
            (
                [rng.choice(prices).quantize(Decimal("0.01")) for _ in range(lines)],
                [rng.choice(quantities) for _ in range(lines)],
                rng.choice(discounts),
            )
        )
    return cases


@pytest.mark.parametrize(("prices", "quantities", "discount"), extreme_cases(24))
def test_an_extreme_order_is_refused_cleanly_or_adds_up(customer_client, prices, quantities, discount):
    products = [ProductFactory(price=price, stock=MAX_QUANTITY) for price in prices]
    code = DiscountCodeFactory(kind=discount[0], value=discount[1]) if discount else None

    response = customer_client.post(
        ORDERS, body(*zip(products, quantities, strict=True), discount_code=code and code.code), format="json"
    )

    subtotal = sum((price * quantity for price, quantity in zip(prices, quantities, strict=True)), Decimal("0"))
    if subtotal > TOP_PRICE:
        assert_error(response, 400, "validation_error")
        assert nothing_written(*products, stock=MAX_QUANTITY)
        assert code is None or DiscountCode.objects.get(pk=code.pk).times_used == 0
        return
    assert response.status_code == 202, response.content
    order = Order.objects.get()
    assert order.subtotal == subtotal
    assert order.discount == (code.discount_for(subtotal) if code else Decimal("0.00"))
    assert Decimal("0") <= order.total == order.subtotal - order.discount <= order.subtotal
    assert sum(item.line_total for item in order.items.all()) == order.subtotal
    assert [stock_of(p) for p in products] == [MAX_QUANTITY - q for q in quantities]
