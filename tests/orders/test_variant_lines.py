"""Ordering variants and extras: what a line names, what it costs, and what it keeps of the sale."""

from decimal import Decimal

import pytest

from billing.models import Refund
from catalog.factories import ExtraFactory, ProductFactory
from catalog.models import Extra, Variant
from orders.factories import OrderFactory
from orders.managers import Line
from orders.models import Order, OrderItem
from orders.status import Status
from tests.utils import assert_error, assert_validation_error, stock_of

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.fixture
def pizza():
    """A pizza in two sizes (10.00 and 14.00, 5 each) with cheese (+1.50, up to 3) and olives (+0.80, once)."""
    pizza = ProductFactory(name="Margherita", variants=0)
    pizza.add_option("Size", ["Small", "Large"])
    pizza.add_variant(sku="PIZ-S", price=Decimal("10.00"), stock=5, options={"Size": "Small"})
    pizza.add_variant(sku="PIZ-L", price=Decimal("14.00"), stock=5, options={"Size": "Large"})
    ExtraFactory(product=pizza, name="Extra cheese", price=Decimal("1.50"), max_per_line=3, position=1)
    ExtraFactory(product=pizza, name="Olives", price=Decimal("0.80"), max_per_line=1, position=2)
    return pizza


def variant(sku: str) -> Variant:
    return Variant.objects.get(sku=sku)


def extra(name: str) -> Extra:
    return Extra.objects.get(name=name)


def order(*items, payment: str = "cash") -> dict:
    return {"items": list(items), "delivery_method": "pickup", "payment_method": payment}


def test_a_line_with_extras_costs_the_variant_plus_its_extras_and_keeps_a_snapshot(customer_client, pizza):
    cheese, olives = extra("Extra cheese"), extra("Olives")
    line = {"variant": variant("PIZ-L").pk, "quantity": 2, "extras": [cheese.pk, cheese.pk, olives.pk]}

    response = customer_client.post(ORDERS, order({**line, "unit_price": "17.80"}), format="json")

    assert response.status_code == 201, response.content
    (item,) = response.json()["items"]
    assert (item["sku"], item["unit_price"], item["line_total"]) == ("PIZ-L", "17.80", "35.60")
    assert item["options"] == [{"option": "Size", "value": "Large"}]
    assert item["extras"] == [
        {"id": cheese.pk, "name": "Extra cheese", "price": "1.50", "quantity": 2},
        {"id": olives.pk, "name": "Olives", "price": "0.80", "quantity": 1},
    ]
    assert response.json()["total"] == "35.60"
    assert (stock_of(variant("PIZ-L")), stock_of(variant("PIZ-S"))) == (3, 5)

    # The snapshot holds after the catalog changes.
    Extra.objects.filter(pk=cheese.pk).update(name="Cheese", price=Decimal("2.00"))
    saved = OrderItem.objects.get()
    assert saved.extras[0] == {"id": cheese.pk, "name": "Extra cheese", "price": "1.50", "quantity": 2}
    assert str(saved) == "2 x Margherita (Size Large) + 2 x Extra cheese + Olives"


def test_the_price_check_covers_the_extras(customer_client, pizza):
    line = {"variant": variant("PIZ-S").pk, "quantity": 1, "extras": [extra("Olives").pk], "unit_price": "10.00"}

    body = assert_error(customer_client.post(ORDERS, order(line), format="json"), 409, "price_changed")

    assert body["prices"] == [
        {"variant": variant("PIZ-S").pk, "product": pizza.pk, "sku": "PIZ-S", "seen": "10.00", "current": "10.80"}
    ]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("extras", "message"),
    [
        (lambda: [extra("Olives").pk] * 2, "Olives can be added at most 1 times"),
        (lambda: [ExtraFactory(name="Gravy").pk], "is not offered with Margherita"),
        (lambda: [ExtraFactory(product=extra("Olives").product, name="Off", is_active=False).pk], "is not offered"),
    ],
    ids=["too many", "another product's", "inactive"],
)
def test_extras_are_checked_against_the_product(customer_client, pizza, extras, message):
    line = {"variant": variant("PIZ-S").pk, "quantity": 1, "extras": extras()}

    body = assert_validation_error(customer_client.post(ORDERS, order(line), format="json"), "items")

    assert message in " ".join(body["errors"]["items"])
    assert stock_of(variant("PIZ-S")) == 5


def test_one_variant_on_two_lines_with_other_extras_takes_stock_once_for_both(customer_client, pizza):
    small = variant("PIZ-S").pk
    plain = {"variant": small, "quantity": 2}
    cheesy = {"variant": small, "quantity": 3, "extras": [extra("Extra cheese").pk]}

    placed = customer_client.post(ORDERS, order(plain, cheesy), format="json")
    too_many = customer_client.post(ORDERS, order(plain, plain), format="json")
    short = customer_client.post(ORDERS, order(plain, cheesy), format="json")

    assert placed.status_code == 201, placed.content
    assert [item["unit_price"] for item in placed.json()["items"]] == ["10.00", "11.50"]
    assert "appears on two lines" in " ".join(assert_validation_error(too_many, "items")["errors"]["items"])
    assert assert_error(short, 409, "insufficient_stock")["lines"][0]["requested"] == 5
    assert stock_of(variant("PIZ-S")) == 0


def test_a_product_with_several_variants_needs_the_variant_named(customer_client, pizza):
    response = customer_client.post(ORDERS, order({"product": pizza.pk, "quantity": 1}), format="json")

    assert "comes in 2 variants" in assert_validation_error(response, "items")["errors"]["items"][0]


def test_a_line_names_a_variant_or_a_product_not_both(customer_client, pizza):
    both = {"variant": variant("PIZ-S").pk, "product": pizza.pk, "quantity": 1}

    assert_validation_error(customer_client.post(ORDERS, order(both), format="json"), "items")
    assert_validation_error(customer_client.post(ORDERS, order({"quantity": 1}), format="json"), "items")


def test_an_inactive_variant_cannot_be_ordered(customer_client, pizza):
    Variant.objects.filter(sku="PIZ-L").update(is_active=False)

    response = customer_client.post(ORDERS, order({"variant": variant("PIZ-L").pk, "quantity": 1}), format="json")

    assert "is not available" in assert_validation_error(response, "items")["errors"]["items"][0]


def test_cancelling_gives_back_the_stock_of_each_variant(customer_client, pizza):
    lines = [
        {"variant": variant("PIZ-S").pk, "quantity": 2},
        {"variant": variant("PIZ-S").pk, "quantity": 1, "extras": [extra("Olives").pk]},
        {"variant": variant("PIZ-L").pk, "quantity": 4},
    ]
    placed = customer_client.post(ORDERS, order(*lines), format="json").json()

    cancelled = customer_client.post(f"{ORDERS}{placed['id']}/cancel/", {}, format="json")

    assert cancelled.status_code == 200, cancelled.content
    assert (stock_of(variant("PIZ-S")), stock_of(variant("PIZ-L"))) == (5, 5)


def test_a_refund_pays_back_what_the_extras_cost_and_restocks_the_variant(staff_client, pizza):
    line = Line(variant=variant("PIZ-L").pk, quantity=2, extras=(extra("Extra cheese").pk,))
    delivered = OrderFactory(lines=[line], status=Status.DELIVERED)  # cash, collected on delivery

    refund = staff_client.post(
        f"{ORDERS}{delivered.pk}/refunds/",
        {"lines": [{"item": delivered.items.get().pk, "quantity": 1}], "restock": True},
        format="json",
    )

    assert refund.status_code == 201, refund.content
    assert Refund.objects.get().amount == Decimal("15.50")
    assert stock_of(variant("PIZ-L")) == 4
