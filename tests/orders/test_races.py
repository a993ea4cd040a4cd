"""Orders under concurrency, on PostgreSQL: real threads, real connections, the real API.

Stock lives on variants: the races buy variants of one product (a shirt in three sizes),
so they also prove that variants of one product never share or lose a unit.
"""

import random
from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum

from catalog.factories import ProductFactory
from conftest import bearer_client
from customers.factories import CustomerFactory
from orders.models import Order
from orders.status import Status
from tests.utils import race, requires_postgresql, stock_of

pytestmark = [requires_postgresql, pytest.mark.django_db(transaction=True)]

ORDERS = "/api/v1/orders/"


def cash_order(*lines) -> dict:
    return {
        "items": [{"variant": variant.pk, "quantity": quantity} for variant, quantity in lines],
        "delivery_method": "pickup",
        "payment_method": "cash",
    }


def shirt_sizes(*stock: int) -> list:
    """Return the variants of a shirt in sizes S, M, L..., with these units each."""
    shirt = ProductFactory(name="Shirt", variants=0)
    shirt.add_option("Size", ["S", "M", "L", "XL"][: len(stock)])
    return [
        shirt.add_variant(sku=f"SHIRT-{size}", price=Decimal("20.00"), stock=units, options={"Size": size})
        for size, units in zip(["S", "M", "L", "XL"], stock, strict=False)
    ]


def test_fifty_buyers_for_ten_units_of_one_variant_sell_exactly_ten():
    small, medium, large = shirt_sizes(5, 10, 5)
    buyers = [bearer_client(CustomerFactory().user) for _ in range(50)]

    responses = race(
        [lambda client=client: client.post(ORDERS, cash_order((medium, 1)), format="json") for client in buyers]
    )

    codes = Counter(response.status_code for response in responses)
    assert codes == {201: 10, 409: 40}
    refusals = [response.json() for response in responses if response.status_code == 409]
    assert all(body["code"] == "insufficient_stock" for body in refusals)
    short = {"variant": medium.pk, "product": medium.product_id, "sku": "SHIRT-M", "requested": 1, "available": 0}
    assert all(body["lines"] == [short] for body in refusals)
    assert (stock_of(small), stock_of(medium), stock_of(large)) == (5, 0, 5)
    assert Order.objects.count() == 10
    assert Order.objects.aggregate(sold=Sum("items__quantity"))["sold"] == 10


def test_orders_over_the_same_variants_in_opposite_orders_neither_deadlock_nor_lose_updates():
    first, second, third = shirt_sizes(100, 100, 100)
    buyers = [bearer_client(CustomerFactory().user) for _ in range(24)]
    baskets = [
        cash_order((first, 1), (second, 2), (third, 3)),
        cash_order((third, 3), (second, 2), (first, 1)),
        cash_order((second, 2), (third, 3), (first, 1)),
    ]

    responses = race(
        [
            lambda client=client, basket=baskets[i % 3]: client.post(ORDERS, basket, format="json")
            for i, client in enumerate(buyers)
        ]
    )

    assert [response.status_code for response in responses] == [201] * 24
    assert (stock_of(first), stock_of(second), stock_of(third)) == (100 - 24, 100 - 48, 100 - 72)


def test_racing_requests_with_one_idempotency_key_create_one_order():
    (product,) = shirt_sizes(50)
    customer = CustomerFactory()
    clients = [bearer_client(customer.user) for _ in range(10)]

    responses = race(
        [
            lambda client=client: client.post(
                ORDERS, cash_order((product, 2)), format="json", HTTP_IDEMPOTENCY_KEY="checkout-7f3a"
            )
            for client in clients
        ]
    )

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert sum(response.headers.get("Idempotent-Replayed") == "true" for response in responses) == 9
    assert Order.objects.filter(customer=customer).count() == 1
    assert stock_of(product) == 48


def test_racing_cancellations_release_stock_once():
    (product,) = shirt_sizes(10)
    customer = CustomerFactory()
    placed = bearer_client(customer.user).post(ORDERS, cash_order((product, 4)), format="json")
    assert placed.status_code == 201
    clients = [bearer_client(customer.user) for _ in range(10)]

    responses = race(
        [lambda client=client: client.post(f"{ORDERS}{placed.json()['id']}/cancel/") for client in clients]
    )

    assert Counter(response.status_code for response in responses) == {200: 1, 409: 9}
    assert all(r.json()["code"] == "invalid_transition" for r in responses if r.status_code == 409)
    assert stock_of(product) == 10
    assert Order.objects.get().events.filter(to_status=Status.CANCELLED).count() == 1


def test_stock_is_conserved_through_a_random_mix_of_placements_and_cancellations():
    """For every variant: initial stock = stock now + units in orders that still hold stock."""
    rng = random.Random(20261122)
    products = [*shirt_sizes(*[rng.randint(3, 12) for _ in range(4)]), ProductFactory(stock=9).variants.get()]
    initial = {product.pk: product.stock for product in products}
    customers = [CustomerFactory() for _ in range(8)]

    def shopper(customer, seed):
        choose = random.Random(seed)
        client = bearer_client(customer.user)
        for _ in range(6):
            mine = list(Order.objects.filter(customer=customer, status=Status.CONFIRMED).values_list("pk", flat=True))
            if mine and choose.random() < 0.35:
                client.post(f"{ORDERS}{choose.choice(mine)}/cancel/")
            else:
                basket = choose.sample(products, choose.randint(1, 3))
                client.post(ORDERS, cash_order(*[(product, choose.randint(1, 3)) for product in basket]), format="json")
        return True

    assert all(race([lambda c=c, i=i: shopper(c, i) for i, c in enumerate(customers)]))

    held = Counter()
    for product_id, quantity in Order.objects.filter(holds_stock=True).values_list("items__variant", "items__quantity"):
        held[product_id] += quantity
    for product in products:
        assert initial[product.pk] == stock_of(product) + held[product.pk], product
        assert stock_of(product) >= 0
    assert Order.objects.filter(status=Status.CANCELLED, holds_stock=True).count() == 0
    assert Order.objects.filter(status=Status.CANCELLED).exists()  # the mix really cancelled something
