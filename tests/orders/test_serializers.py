"""Order request bodies: values the database constraints would refuse are a 400 naming the field, not a 409."""

import pytest

from orders.factories import DiscountCodeFactory
from orders.models import DiscountCode
from tests.utils import assert_validation_error

pytestmark = pytest.mark.django_db


def code_url(code) -> str:
    return f"/api/v1/discount-codes/{code.pk}/"


class TestDiscountCodeUses:
    def test_max_uses_below_the_uses_so_far_is_a_validation_error(self, staff_client):
        code = DiscountCodeFactory(max_uses=10)
        DiscountCode.objects.filter(pk=code.pk).update(times_used=5)

        response = staff_client.patch(code_url(code), {"max_uses": 4}, format="json")

        body = assert_validation_error(response, "max_uses")
        assert "5" in body["errors"]["max_uses"][0]
        assert DiscountCode.objects.get(pk=code.pk).max_uses == 10

    @pytest.mark.parametrize("max_uses", [5, 6, None])
    def test_max_uses_down_to_the_uses_so_far_or_unlimited_is_taken(self, staff_client, max_uses):
        code = DiscountCodeFactory(max_uses=10)
        DiscountCode.objects.filter(pk=code.pk).update(times_used=5)

        response = staff_client.patch(code_url(code), {"max_uses": max_uses}, format="json")

        assert response.status_code == 200, response.content
        assert DiscountCode.objects.get(pk=code.pk).max_uses == max_uses
