"""Products becoming variants (catalog/0006-0008, orders/0008-0009) keep every SKU, price, stock and sale."""

from decimal import Decimal

import pytest

from tests.utils import latest_migrations, migrate_to

BEFORE_VARIANTS = {"catalog": "0005_productimage", "orders": "0007_status_labels_in_sentence_case"}


@pytest.fixture
def back_before_variants():
    """Start from every app's latest schema but the catalog's and orders' before variants; end fully migrated."""
    yield migrate_to([(app, BEFORE_VARIANTS.get(app, name)) for app, name in latest_migrations()])
    migrate_to(latest_migrations())


@pytest.mark.django_db(transaction=True)
def test_each_product_becomes_one_variant_and_its_order_lines_point_at_it(back_before_variants):
    old = back_before_variants
    category = old.get_model("catalog", "Category").objects.create(name="Tea", slug="tea")
    products = old.get_model("catalog", "Product").objects
    teapot = products.create(sku="TEA-POT", name="Teapot", slug="teapot", category=category, price="19.99", stock=7)
    cup = products.create(sku="CUP-1", name="Cup", slug="cup", category=category, price="4.50", stock=0)
    user = old.get_model("auth", "User").objects.create(username="c@example.com", email="c@example.com")
    customer = old.get_model("customers", "Customer").objects.create(
        user=user, email="c@example.com", first_name="C", last_name="D"
    )
    order = old.get_model("orders", "Order").objects.create(
        number="SK-AAAAA-BBBBB",
        customer=customer,
        delivery_method="pickup",
        payment_method="cash",
        subtotal=Decimal("44.48"),
        total=Decimal("44.48"),
    )
    items = old.get_model("orders", "OrderItem").objects
    for product, quantity, price in ((teapot, 2, "19.99"), (cup, 1, "4.50")):
        items.create(
            order=order,
            product=product,
            product_name=product.name,
            sku=product.sku,
            quantity=quantity,
            unit_price=price,
            line_total=Decimal(price) * quantity,
        )

    new = migrate_to(latest_migrations())

    variants = new.get_model("catalog", "Variant").objects
    assert sorted(variants.values_list("product_id", "sku", "price", "stock", "is_active", "combination")) == [
        (teapot.pk, "TEA-POT", Decimal("19.99"), 7, True, ""),
        (cup.pk, "CUP-1", Decimal("4.50"), 0, True, ""),
    ]
    ranges = new.get_model("catalog", "Product").objects.values_list("pk", "price_min", "price_max")
    assert sorted(ranges) == [
        (teapot.pk, Decimal("19.99"), Decimal("19.99")),
        (cup.pk, Decimal("4.50"), Decimal("4.50")),
    ]
    lines = new.get_model("orders", "OrderItem").objects.order_by("pk")
    assert [(line.variant.sku, line.product_id, line.options, line.extras) for line in lines] == [
        ("TEA-POT", teapot.pk, [], []),
        ("CUP-1", cup.pk, [], []),
    ]
