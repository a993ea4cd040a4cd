"""The order factories reach each status through the real rules: history, stock and code uses as placing gives."""

from itertools import pairwise

import pytest

from catalog.factories import ProductFactory
from orders.exceptions import InvalidTransition
from orders.factories import DiscountCodeFactory, OrderFactory
from orders.models import DiscountCode
from orders.status import DeliveryMethod, Status
from tests.utils import stock_of

pytestmark = pytest.mark.django_db

HOME, PICKUP = DeliveryMethod.HOME_DELIVERY, DeliveryMethod.PICKUP


def history(order) -> list[tuple[str, str]]:
    return list(order.events.values_list("from_status", "to_status"))


def test_a_discount_code_is_usable_and_unused():
    code = DiscountCodeFactory()

    assert DiscountCode.objects.usable().filter(pk=code.pk).exists()
    assert code.times_used == 0


def test_a_cash_order_is_placed_and_confirmed_at_once_taking_its_stock():
    product = ProductFactory(stock=10)

    order = OrderFactory(lines=[(product, 3)])

    assert order.status == Status.CONFIRMED
    assert history(order) == [("", Status.PENDING), (Status.PENDING, Status.CONFIRMED)]
    assert stock_of(product) == 7
    assert order.invoice.total == order.total


@pytest.mark.parametrize(
    ("delivery", "status", "steps"),
    [
        (PICKUP, Status.IN_PROGRESS, [Status.IN_PROGRESS]),
        (PICKUP, Status.DELIVERED, [Status.IN_PROGRESS, Status.DELIVERED]),
        (HOME, Status.SHIPPED, [Status.IN_PROGRESS, Status.SHIPPED]),
        (HOME, Status.DELIVERED, [Status.IN_PROGRESS, Status.SHIPPED, Status.DELIVERED]),
    ],
)
def test_an_order_walks_the_status_machine_to_its_status_keeping_its_stock(staff_user, delivery, status, steps):
    product = ProductFactory(stock=10)

    order = OrderFactory(lines=[(product, 2)], delivery_method=delivery, status=status, moved_by=staff_user)

    assert order.status == status
    walked = [Status.PENDING, Status.CONFIRMED, *steps]
    assert history(order) == [("", Status.PENDING), *pairwise(walked)]
    assert list(order.events.filter(to_status__in=steps).values_list("actor", flat=True)) == [staff_user.pk] * len(
        steps
    )
    assert stock_of(product) == 8
    assert (order.shipping_address is not None) == (delivery == HOME)


@pytest.mark.parametrize("cancelled_from", [Status.CONFIRMED, Status.IN_PROGRESS])
def test_a_cancelled_order_gives_back_its_stock_and_code_use(cancelled_from):
    product, code = ProductFactory(stock=10), DiscountCodeFactory(max_uses=5)

    order = OrderFactory(
        lines=[(product, 4)], discount_code=code, status=Status.CANCELLED, cancelled_from=cancelled_from
    )

    assert order.status == Status.CANCELLED
    assert history(order)[-1] == (cancelled_from, Status.CANCELLED)
    assert not order.holds_stock
    assert stock_of(product) == 10
    code.refresh_from_db()
    assert code.times_used == 0
    assert order.discount > 0


def test_a_customer_cancels_with_a_customers_rights(customer):
    order = OrderFactory(customer=customer, status=Status.CANCELLED, cancelled_by=customer.user)

    assert order.events.get(to_status=Status.CANCELLED).actor == customer.user
    with pytest.raises(InvalidTransition):
        OrderFactory(
            customer=customer, status=Status.CANCELLED, cancelled_from=Status.IN_PROGRESS, cancelled_by=customer.user
        )


def test_a_card_order_waits_pending_and_past_that_needs_billing():
    assert OrderFactory(payment_method="card").status == Status.PENDING
    with pytest.raises(ValueError, match="CardOrderFactory"):
        OrderFactory(payment_method="card", status=Status.CONFIRMED)


@pytest.mark.parametrize(("delivery", "status"), [(PICKUP, Status.PENDING), (PICKUP, Status.SHIPPED)])
def test_a_status_the_order_can_never_reach_is_refused(delivery, status):
    with pytest.raises(ValueError, match="never reaches"):
        OrderFactory(delivery_method=delivery, status=status)
