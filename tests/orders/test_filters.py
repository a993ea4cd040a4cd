"""Order list filters: a time the database cannot hold is a 400 naming the parameter, never a 500."""

from datetime import UTC, datetime

import pytest

from orders.factories import OrderFactory
from orders.models import Order
from tests.utils import assert_validation_error, result_ids

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.mark.parametrize("parameter", ["created_after", "created_before"])
@pytest.mark.parametrize(
    "value",
    [
        "2026-01-01T00:00:00+16:00",
        "2026-01-01T00:00:00-23:59",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "2026-13-01T00:00:00Z",
        "yesterday",
    ],
    ids=["offset-plus-16", "offset-minus-23-59", "before-year-1", "after-year-9999", "month-13", "word"],
)
def test_a_time_that_is_out_of_range_is_a_validation_error(staff_client, parameter, value):
    response = staff_client.get(ORDERS, {parameter: value})

    assert_validation_error(response, parameter)


@pytest.mark.parametrize("offset", ["+14:00", "-12:00", "+05:30", "Z"])
def test_times_with_any_real_world_offset_filter(staff_client, customer, offset):
    order = OrderFactory(customer=customer)
    Order.objects.filter(pk=order.pk).update(created_at=datetime(2026, 1, 2, 12, tzinfo=UTC))

    after = staff_client.get(ORDERS, {"created_after": f"2026-01-01T00:00:00{offset}"})
    before = staff_client.get(ORDERS, {"created_before": f"2026-01-01T00:00:00{offset}"})

    assert result_ids(after) == [order.pk]
    assert result_ids(before) == []
