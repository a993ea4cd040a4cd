"""Discount codes moving from billing to orders (orders/0003-0004, billing/0002) keep every row and grant."""

from decimal import Decimal

import pytest
from django.utils import timezone

from tests.utils import latest_migrations, migrate_to

BEFORE_THE_MOVE = {"orders": "0002_order_discount_code_alter_order_holds_stock", "billing": "0001_initial"}


@pytest.fixture
def back_before_the_move():
    """Start from every app's latest schema but orders' and billing's before the move; end fully migrated."""
    yield migrate_to([(app, BEFORE_THE_MOVE.get(app, name)) for app, name in latest_migrations()])
    migrate_to(latest_migrations())


@pytest.mark.django_db(transaction=True)
def test_moving_discount_codes_keeps_codes_orders_and_staff_grants(back_before_the_move):
    old = back_before_the_move
    code = old.get_model("billing", "DiscountCode").objects.create(
        code="SPRING5", kind="fixed", value=Decimal("5.00"), times_used=1, valid_from=timezone.now()
    )
    user = old.get_model("auth", "User").objects.create(username="c@example.com", email="c@example.com")
    customer = old.get_model("customers", "Customer").objects.create(
        user=user, email="c@example.com", first_name="C", last_name="D"
    )
    order = old.get_model("orders", "Order").objects.create(
        number="SK-AAAAA-BBBBB",
        customer=customer,
        delivery_method="pickup",
        payment_method="cash",
        subtotal=Decimal("20.00"),
        discount=Decimal("5.00"),
        total=Decimal("15.00"),
        discount_code=code,
    )
    content_types = old.get_model("contenttypes", "ContentType").objects
    content_types.filter(app_label="orders", model="discountcode").delete()  # before the move only billing's existed
    content_type, _ = content_types.get_or_create(app_label="billing", model="discountcode")
    grant, _ = old.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="change_discountcode", defaults={"name": "Can change discount code"}
    )
    staff = old.get_model("auth", "User").objects.create(username="staff", is_staff=True)
    staff.user_permissions.add(grant)

    new = migrate_to(latest_migrations())

    moved = new.get_model("orders", "DiscountCode").objects.get(pk=code.pk)
    assert (moved.code, moved.value, moved.times_used) == ("SPRING5", Decimal("5.00"), 1)
    assert new.get_model("orders", "Order").objects.get(pk=order.pk).discount_code_id == code.pk
    assert new.get_model("orders", "DiscountCode")._meta.db_table == "orders_discountcode"
    ContentType = new.get_model("contenttypes", "ContentType")
    assert ContentType.objects.get(pk=content_type.pk).app_label == "orders"
    assert not ContentType.objects.filter(app_label="billing", model="discountcode").exists()
    staff_grants = new.get_model("auth", "User").objects.get(pk=staff.pk).user_permissions
    assert list(staff_grants.values_list("content_type__app_label", "codename")) == [("orders", "change_discountcode")]
