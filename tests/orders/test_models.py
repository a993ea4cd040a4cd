"""Orders at the model layer (SPEC §4): the status machine, placing, cancelling, constraints, verified purchases."""

import re
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from catalog.exceptions import InsufficientStock
from catalog.factories import ProductFactory
from catalog.models import Product, Review, Variant
from customers.factories import AddressFactory, CustomerFactory
from customers.models import Customer
from orders.exceptions import IdempotencyKeyReused, InvalidOrder, InvalidTransition, PriceChanged
from orders.factories import OrderFactory
from orders.managers import Line
from orders.models import Order, OrderItem, OrderStatusEvent, new_order_number
from orders.signals import order_placed, order_status_changed
from orders.status import Status
from tests.utils import stock_of

pytestmark = pytest.mark.django_db

CARD, CASH = "card", "cash"
HOME, PICKUP, DRIVE_THRU = "home_delivery", "pickup", "drive_thru"
PAYMENT_METHODS = [CARD, CASH]
DELIVERY_METHODS = [HOME, PICKUP, DRIVE_THRU]
STATUSES = [status.value for status in Status]
RELEASED = {Status.CANCELLED, Status.PAYMENT_FAILED}  # statuses whose orders no longer hold stock
NUMBER = re.compile(r"^SK-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")  # Crockford base32: no I, L, O, U


def expected_next(status: str, payment: str, delivery: str) -> set[str]:
    """Return the statuses SPEC §4's table allows after `status`, written out independently of TRANSITIONS.

    Issue 14 adds payment_processing -> cancelled (staff only: the customer's cancel is narrower).
    """
    if status == Status.PENDING:
        return {Status.PAYMENT_PROCESSING if payment == CARD else Status.CONFIRMED, Status.CANCELLED}
    if status == Status.PAYMENT_PROCESSING:
        return {Status.CONFIRMED, Status.PAYMENT_FAILED, Status.CANCELLED}
    if status == Status.CONFIRMED:
        return {Status.IN_PROGRESS, Status.CANCELLED}
    if status == Status.IN_PROGRESS:
        return {Status.SHIPPED if delivery == HOME else Status.DELIVERED, Status.CANCELLED}
    if status == Status.SHIPPED:
        return {Status.DELIVERED}
    return set()


def transition_cases(allowed: bool) -> list:
    return [
        pytest.param(start, to, payment, delivery, id=f"{start}->{to}-{payment}-{delivery}")
        for start in STATUSES
        for to in STATUSES
        for payment in PAYMENT_METHODS
        for delivery in DELIVERY_METHODS
        if (to in expected_next(start, payment, delivery)) == allowed
    ]


def order_in(status: str, *, customer=None, product=None, payment=CARD, delivery=PICKUP) -> Order:
    """Return an order of 3 units set straight to `status` (test setup; the app never does this)."""
    customer = customer or CustomerFactory()
    product = product or ProductFactory(stock=10)
    address = AddressFactory(customer=customer) if delivery == HOME else None
    order = OrderFactory(
        customer=customer, lines=[(product, 3)], delivery_method=delivery, address=address, payment_method=payment
    )
    Order.objects.filter(pk=order.pk).update(status=status, holds_stock=status not in RELEASED)
    order.refresh_from_db()
    return order


def events_of(order) -> list[tuple]:
    return list(order.events.values_list("from_status", "to_status", "actor", "note"))


def nothing_placed() -> bool:
    return not (Order.objects.exists() or OrderItem.objects.exists() or OrderStatusEvent.objects.exists())


@pytest.fixture
def status_changes():
    """Record every order_status_changed sent during the test, with the order's status at that moment."""
    sent = []

    def record(sender, **kwargs):
        sent.append({"sender": sender, "status_then": kwargs["order"].status, **kwargs})

    order_status_changed.connect(record, dispatch_uid="tests.orders.status_changes")
    yield sent
    order_status_changed.disconnect(dispatch_uid="tests.orders.status_changes")


@pytest.fixture
def placements():
    """Record every order_placed sent during the test."""
    sent = []

    def record(sender, **kwargs):
        sent.append(kwargs)

    order_placed.connect(record, dispatch_uid="tests.orders.placements")
    yield sent
    order_placed.disconnect(dispatch_uid="tests.orders.placements")


@pytest.fixture
def address(customer):
    return AddressFactory(
        customer=customer, label="Home", line1="1 Main St", line2="Flat 2", city="Springfield", postal_code="12345"
    )


# --- The status machine ----------------------------------------------------------------------


class TestStatusMachine:
    @pytest.mark.parametrize("status", STATUSES)
    @pytest.mark.parametrize("payment", PAYMENT_METHODS)
    @pytest.mark.parametrize("delivery", DELIVERY_METHODS)
    def test_allowed_transitions_lists_exactly_the_tables_next_statuses(self, status, payment, delivery):
        order = order_in(status, payment=payment, delivery=delivery)

        allowed = order.allowed_transitions()

        assert len(allowed) == len(set(allowed))
        assert set(allowed) == expected_next(status, payment, delivery)

    @pytest.mark.parametrize(("start", "to", "payment", "delivery"), transition_cases(allowed=True))
    def test_transition_to_moves_the_order_when_the_table_allows_it(
        self, start, to, payment, delivery, staff_user, status_changes
    ):
        product = ProductFactory(stock=10)
        order = order_in(start, product=product, payment=payment, delivery=delivery)
        events_before = order.events.count()
        status_changes.clear()  # a cash order's own confirmation at placement

        order.transition_to(to, actor=staff_user, note="Moved by hand.")

        assert order.status == to
        assert Order.objects.get(pk=order.pk).status == to
        assert stock_of(product) == (10 if to in RELEASED else 7)
        assert Order.objects.get(pk=order.pk).holds_stock is (to not in RELEASED)
        assert order.events.count() == events_before + 1
        event = order.events.last()
        assert (event.from_status, event.to_status, event.note) == (start, to, "Moved by hand.")
        assert event.actor == staff_user
        assert len(status_changes) == 1
        sent = status_changes[0]
        assert sent["sender"] is Order
        assert sent["order"].pk == order.pk
        assert sent["status_then"] == to
        assert sent["previous"] == start
        assert sent["actor"] == staff_user

    @pytest.mark.parametrize(("start", "to", "payment", "delivery"), transition_cases(allowed=False))
    def test_transition_to_refuses_every_change_the_table_does_not_list(
        self, start, to, payment, delivery, staff_user, status_changes
    ):
        product = ProductFactory(stock=10)
        order = order_in(start, product=product, payment=payment, delivery=delivery)
        events_before = events_of(order)
        status_changes.clear()  # a cash order's own confirmation at placement

        with pytest.raises(InvalidTransition) as refused:
            order.transition_to(to, actor=staff_user)

        error = refused.value
        assert error.status_code == 409
        assert error.code == "invalid_transition"
        assert sorted(error.facts["allowed"]) == sorted(expected_next(start, payment, delivery))
        assert (error.facts["status"], error.facts["requested"]) == (start, to)
        assert order.status == start
        assert Order.objects.get(pk=order.pk).status == start
        assert events_of(order) == events_before
        assert stock_of(product) == 7
        assert status_changes == []

    def test_a_final_order_says_so_in_the_refusal(self):
        order = order_in(Status.DELIVERED)

        with pytest.raises(InvalidTransition, match="final") as refused:
            order.transition_to(Status.CANCELLED)

        assert refused.value.facts["allowed"] == []

    def test_a_transition_without_an_actor_is_recorded_as_the_system(self, status_changes):
        order = order_in(Status.PENDING)

        order.transition_to(Status.PAYMENT_PROCESSING)

        event = order.events.last()
        assert (event.actor, event.actor_name, event.note) == (None, "system", "")
        assert [(sent["previous"], sent["actor"]) for sent in status_changes] == [(Status.PENDING, None)]

    def test_the_event_names_the_acting_user(self, customer):
        order = order_in(Status.PENDING, customer=customer)

        order.cancel(actor=customer.user, note="Changed my mind.")

        event = order.events.last()
        assert (event.actor_name, event.note) == (customer.user.get_username(), "Changed my mind.")

    def test_a_stale_copy_sees_the_current_status(self):
        order = order_in(Status.PENDING)
        stale = Order.objects.get(pk=order.pk)
        order.transition_to(Status.PAYMENT_PROCESSING)

        with pytest.raises(InvalidTransition):
            stale.transition_to(Status.PAYMENT_PROCESSING)

        assert list(order.events.values_list("to_status", flat=True)) == [Status.PENDING, Status.PAYMENT_PROCESSING]


# --- Stock coming back ------------------------------------------------------------------------


class TestStockRelease:
    @pytest.mark.parametrize(
        ("path", "payment"),
        [
            ([Status.CANCELLED], CARD),
            ([Status.CANCELLED], CASH),
            ([Status.IN_PROGRESS, Status.CANCELLED], CASH),
            ([Status.PAYMENT_PROCESSING, Status.PAYMENT_FAILED], CARD),
        ],
        ids=["pending-cancelled", "confirmed-cancelled", "in-progress-cancelled", "payment-failed"],
    )
    def test_cancelled_and_payment_failed_give_every_line_back(self, customer, staff_user, path, payment):
        teapot, cups = ProductFactory(stock=10), ProductFactory(stock=20)
        order = OrderFactory(customer=customer, lines=[(teapot, 3), (cups, 6)], payment_method=payment)
        assert (stock_of(teapot), stock_of(cups)) == (7, 14)

        for status in path:
            order.transition_to(status, actor=staff_user)

        assert (stock_of(teapot), stock_of(cups)) == (10, 20)
        assert order.holds_stock is False
        assert Order.objects.get(pk=order.pk).holds_stock is False

    def test_cancelling_twice_releases_once(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], payment_method=CARD)
        order.cancel(actor=customer.user)

        with pytest.raises(InvalidTransition):
            order.cancel(actor=customer.user)
        with pytest.raises(InvalidTransition):
            Order.objects.get(pk=order.pk).cancel(actor=None)

        assert stock_of(product) == 10
        assert order.events.filter(to_status=Status.CANCELLED).count() == 1

    @pytest.mark.parametrize(
        ("payment", "delivery", "path"),
        [
            (CARD, HOME, [Status.PAYMENT_PROCESSING, Status.CONFIRMED, Status.IN_PROGRESS, Status.SHIPPED]),
            (CARD, PICKUP, [Status.PAYMENT_PROCESSING, Status.CONFIRMED, Status.IN_PROGRESS, Status.DELIVERED]),
            (CASH, DRIVE_THRU, [Status.IN_PROGRESS, Status.DELIVERED]),
        ],
    )
    def test_other_transitions_leave_stock_alone(self, customer, product, payment, delivery, path):
        address = AddressFactory(customer=customer) if delivery == HOME else None
        order = OrderFactory(
            customer=customer, lines=[(product, 3)], delivery_method=delivery, address=address, payment_method=payment
        )

        for status in path:
            order.transition_to(status)
            assert stock_of(product) == 7, status
            assert Order.objects.get(pk=order.pk).holds_stock is True
        if delivery == HOME:
            order.transition_to(Status.DELIVERED)
            assert stock_of(product) == 7


class TestCancel:
    @pytest.mark.parametrize("status", [Status.PENDING, Status.CONFIRMED])
    def test_a_customer_cancels_while_pending_or_confirmed(self, customer, product, status):
        order = order_in(status, customer=customer, product=product)

        order.cancel(actor=customer.user, note="No longer needed.")

        assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
        assert events_of(order)[-1] == (status, Status.CANCELLED, customer.user.pk, "No longer needed.")
        assert stock_of(product) == 10

    def test_a_customer_cannot_cancel_once_in_progress(self, customer, product):
        order = order_in(Status.IN_PROGRESS, customer=customer, product=product)

        with pytest.raises(InvalidTransition) as refused:
            order.cancel(actor=customer.user)

        assert refused.value.code == "invalid_transition"
        assert Order.objects.get(pk=order.pk).status == Status.IN_PROGRESS
        assert stock_of(product) == 7

    def test_the_refusal_to_a_customer_does_not_list_cancelled_as_allowed(self, customer):
        # The error lists the changes the caller may make (SPEC §4). Listing cancelled to a
        # customer ("... cannot become Cancelled: it can move to Delivered or Cancelled only.")
        # would contradict itself and invite the same refused request again.
        order = order_in(Status.IN_PROGRESS, customer=customer, delivery=PICKUP)

        with pytest.raises(InvalidTransition) as refused:
            order.cancel(actor=customer.user)

        assert Status.CANCELLED not in refused.value.facts["allowed"]

    def test_staff_cancel_in_progress(self, staff_user, product):
        order = order_in(Status.IN_PROGRESS, product=product)

        order.cancel(actor=staff_user)

        assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
        assert stock_of(product) == 10

    @pytest.mark.parametrize("who", ["customer", "staff"])
    def test_nobody_cancels_a_shipped_order(self, customer, staff_user, product, who):
        order = order_in(Status.SHIPPED, customer=customer, product=product, delivery=HOME)

        with pytest.raises(InvalidTransition):
            order.cancel(actor=customer.user if who == "customer" else staff_user)

        assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
        assert stock_of(product) == 7


# --- Placing ----------------------------------------------------------------------------------


class TestPlace:
    def test_totals_are_exact_decimals_from_the_current_prices(self, customer, product):
        spoons = ProductFactory(price=Decimal("0.10"), stock=10)

        order = OrderFactory(customer=customer, lines=[(product, 3), (spoons, 7)], payment_method=CARD)

        order.refresh_from_db()
        assert (order.subtotal, order.discount, order.total) == (Decimal("60.67"), Decimal("0.00"), Decimal("60.67"))
        assert list(order.items.values_list("product", "quantity", "unit_price", "line_total")) == [
            (product.pk, 3, Decimal("19.99"), Decimal("59.97")),
            (spoons.pk, 7, Decimal("0.10"), Decimal("0.70")),
        ]
        assert (stock_of(product), stock_of(spoons)) == (7, 3)

    def test_lines_keep_the_products_name_sku_and_price_as_they_were(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], payment_method=CARD)

        Product.objects.filter(pk=product.pk).update(name="Kettle")
        Variant.objects.filter(product=product).update(sku="KET-001", price=Decimal("25.00"))

        item = OrderItem.objects.get(order=order)
        assert (item.product_name, item.sku, item.unit_price, item.line_total) == (
            "Teapot",
            "TEA-POT",
            Decimal("19.99"),
            Decimal("59.97"),
        )
        assert Order.objects.get(pk=order.pk).total == Decimal("59.97")

    def test_home_delivery_keeps_a_copy_of_the_address(self, customer, product, address):
        order = OrderFactory(
            customer=customer, lines=[(product, 1)], delivery_method=HOME, address=address, payment_method=CARD
        )

        address.line1 = "99 Elsewhere Rd"
        address.city = "Shelbyville"
        address.save()

        assert Order.objects.get(pk=order.pk).shipping_address == {
            "label": "Home",
            "line1": "1 Main St",
            "line2": "Flat 2",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        }

    def test_the_first_event_is_the_placement_by_the_actor(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD, actor=customer.user)

        assert events_of(order) == [("", Status.PENDING, customer.user.pk, "Order placed.")]

    def test_a_card_order_stays_pending_and_is_announced_once(self, customer, product, placements, status_changes):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD, actor=customer.user)

        assert Order.objects.get(pk=order.pk).status == Status.PENDING
        assert [sent["order"].pk for sent in placements] == [order.pk]
        assert status_changes == []

    def test_a_cash_order_is_confirmed_at_once_by_the_system(self, customer, product, status_changes):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CASH, actor=customer.user)

        assert order.status == Status.CONFIRMED
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED
        assert [(start, to, actor) for start, to, actor, _note in events_of(order)] == [
            ("", Status.PENDING, customer.user.pk),
            (Status.PENDING, Status.CONFIRMED, None),
        ]
        assert [(sent["previous"], sent["actor"]) for sent in status_changes] == [(Status.PENDING, None)]

    def test_insufficient_stock_names_every_short_line_and_leaves_nothing(self, customer):
        # Ids in this order, so the first line's stock is taken before the refusal and must come back.
        plenty, short, also_plenty, also_short = (ProductFactory(stock=stock) for stock in (10, 1, 10, 0))

        with pytest.raises(InsufficientStock) as refused:
            OrderFactory(
                customer=customer,
                lines=[(plenty, 2), (short, 3), (also_plenty, 2), (also_short, 1)],
                payment_method=CARD,
            )

        assert refused.value.status_code == 409
        assert refused.value.code == "insufficient_stock"
        assert refused.value.facts["lines"] == [
            {"variant": variant.pk, "product": variant.product_id, "sku": variant.sku, **counts}
            for variant, counts in (
                (short.variants.get(), {"requested": 3, "available": 1}),
                (also_short.variants.get(), {"requested": 1, "available": 0}),
            )
        ]
        assert nothing_placed()
        assert [stock_of(p) for p in (plenty, short, also_plenty, also_short)] == [10, 1, 10, 0]

    def test_a_changed_price_lists_the_changed_lines_and_leaves_nothing(self, customer, product):
        lamp = ProductFactory(price=Decimal("12.50"), stock=5)

        with pytest.raises(PriceChanged) as refused:
            OrderFactory(
                customer=customer,
                lines=[
                    Line(product=product.pk, quantity=1, unit_price=Decimal("19.99")),
                    Line(product=lamp.pk, quantity=1, unit_price=Decimal("9.99")),
                ],
                payment_method=CARD,
            )

        assert refused.value.status_code == 409
        assert refused.value.code == "price_changed"
        lamp_variant = lamp.variants.get()
        assert refused.value.facts["prices"] == [
            {
                "variant": lamp_variant.pk,
                "product": lamp.pk,
                "sku": lamp_variant.sku,
                "seen": "9.99",
                "current": "12.50",
            }
        ]
        assert nothing_placed()
        assert (stock_of(product), stock_of(lamp)) == (10, 5)

    def test_the_price_the_client_saw_is_accepted_when_it_is_still_the_price(self, customer, product):
        order = OrderFactory(
            customer=customer,
            lines=[Line(product=product.pk, quantity=2, unit_price=Decimal("19.99"))],
            payment_method=CARD,
        )

        assert order.total == Decimal("39.98")

    @pytest.mark.parametrize("problem", ["unknown", "inactive", "repeated", "empty", "zero quantity"])
    def test_invalid_lines_are_a_validation_error_on_items_and_leave_nothing(self, customer, product, problem):
        lines = {
            "unknown": [Line(product=product.pk, quantity=1), Line(product=product.pk + 1000, quantity=1)],
            "inactive": [Line(product=ProductFactory(is_active=False, stock=5).pk, quantity=1)],
            "repeated": [Line(product=product.pk, quantity=1), Line(product=product.pk, quantity=2)],
            "empty": [],
            "zero quantity": [Line(product=product.pk, quantity=0)],
        }[problem]

        with pytest.raises(InvalidOrder) as refused:
            OrderFactory(customer=customer, lines=lines, payment_method=CARD)

        assert refused.value.status_code == 400
        assert refused.value.code == "validation_error"
        assert refused.value.facts["errors"]["items"]
        assert nothing_placed()
        assert stock_of(product) == 10

    def test_home_delivery_needs_an_address(self, customer, product):
        with pytest.raises(InvalidOrder) as refused:
            OrderFactory(
                customer=customer, lines=[(product, 1)], delivery_method=HOME, address=None, payment_method=CARD
            )

        assert refused.value.code == "validation_error"
        assert refused.value.facts["errors"]["shipping_address"]
        assert nothing_placed()
        assert stock_of(product) == 10

    def test_home_delivery_refuses_another_customers_address(self, customer, other_customer, product):
        theirs = AddressFactory(customer=other_customer)

        with pytest.raises(InvalidOrder) as refused:
            OrderFactory(
                customer=customer, lines=[(product, 1)], delivery_method=HOME, address=theirs, payment_method=CARD
            )

        assert refused.value.facts["errors"]["shipping_address"]
        assert nothing_placed()

    @pytest.mark.parametrize("delivery", [PICKUP, DRIVE_THRU])
    def test_collection_needs_no_address_and_stores_none(self, customer, product, address, delivery):
        without = OrderFactory(
            customer=customer, lines=[(product, 1)], delivery_method=delivery, address=None, payment_method=CARD
        )
        given_anyway = OrderFactory(
            customer=customer, lines=[(product, 1)], delivery_method=delivery, address=address, payment_method=CARD
        )

        assert Order.objects.get(pk=without.pk).shipping_address is None
        assert Order.objects.get(pk=given_anyway.pk).shipping_address is None

    def test_the_same_key_and_request_returns_the_first_order(self, customer, product):
        first, created = Order.objects.place(
            customer=customer,
            lines=[Line(product=product.pk, quantity=2)],
            delivery_method=PICKUP,
            payment_method=CARD,
            idempotency_key="key-1",
            request_fingerprint="abc",
        )
        again, created_again = Order.objects.place(
            customer=customer,
            lines=[Line(product=product.pk, quantity=2)],
            delivery_method=PICKUP,
            payment_method=CARD,
            idempotency_key="key-1",
            request_fingerprint="abc",
        )

        assert (created, created_again) == (True, False)
        assert again.pk == first.pk
        assert Order.objects.count() == 1
        assert stock_of(product) == 8

    def test_the_same_key_with_another_request_is_refused(self, customer, product):
        OrderFactory(
            customer=customer,
            lines=[(product, 2)],
            payment_method=CARD,
            idempotency_key="key-1",
            request_fingerprint="abc",
        )

        with pytest.raises(IdempotencyKeyReused) as refused:
            OrderFactory(
                customer=customer,
                lines=[(product, 3)],
                payment_method=CARD,
                idempotency_key="key-1",
                request_fingerprint="def",
            )

        assert refused.value.status_code == 422
        assert refused.value.code == "idempotency_key_reused"
        assert Order.objects.count() == 1
        assert stock_of(product) == 8

    def test_the_same_key_for_another_customer_is_a_new_order(self, customer, other_customer, product):
        mine = OrderFactory(
            customer=customer,
            lines=[(product, 2)],
            payment_method=CARD,
            idempotency_key="key-1",
            request_fingerprint="abc",
        )

        theirs, created = Order.objects.place(
            customer=other_customer,
            lines=[Line(product=product.pk, quantity=2)],
            delivery_method=PICKUP,
            payment_method=CARD,
            idempotency_key="key-1",
            request_fingerprint="abc",
        )

        assert created is True
        assert theirs.pk != mine.pk
        assert theirs.customer == other_customer
        assert stock_of(product) == 6

    def test_order_numbers_are_unique_and_human_friendly(self, customer):
        product = ProductFactory(stock=100)

        numbers = [OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD).number for _ in range(20)]

        assert len(set(numbers)) == 20
        assert all(NUMBER.match(number) for number in numbers), numbers
        generated = {new_order_number() for _ in range(2000)}
        assert len(generated) == 2000
        assert all(NUMBER.match(number) for number in generated)


# --- What the database holds ------------------------------------------------------------------


class TestConstraints:
    @pytest.mark.parametrize("quantity", [0, -1])
    def test_the_database_refuses_a_line_without_units(self, customer, product, quantity):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)
        other = ProductFactory()

        with pytest.raises(IntegrityError), transaction.atomic():
            OrderItem.objects.create(
                order=order,
                product=other,
                product_name="x",
                sku="x",
                quantity=quantity,
                unit_price=Decimal("1.00"),
                line_total=Decimal("0.00"),
            )
        assert order.items.count() == 1

    def test_the_database_refuses_a_negative_unit_price(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)

        with pytest.raises(IntegrityError), transaction.atomic():
            OrderItem.objects.filter(order=order).update(unit_price=Decimal("-0.01"))
        assert order.items.get().unit_price == Decimal("19.99")

    @pytest.mark.parametrize("field", ["subtotal", "discount", "total"])
    def test_the_database_refuses_negative_order_money(self, customer, product, field):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)

        with pytest.raises(IntegrityError), transaction.atomic():
            Order.objects.filter(pk=order.pk).update(**{field: Decimal("-1.00")})
        assert getattr(Order.objects.get(pk=order.pk), field) >= 0

    def test_a_product_in_an_order_cannot_be_deleted(self, customer, product):
        OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)

        with pytest.raises(ProtectedError), transaction.atomic():
            product.delete()
        assert Product.objects.filter(pk=product.pk).exists()

    def test_a_customer_with_orders_cannot_be_deleted(self, customer, product):
        OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)

        with pytest.raises(ProtectedError), transaction.atomic():
            customer.delete()
        with pytest.raises(ProtectedError), transaction.atomic():
            customer.close_account()
        assert Customer.objects.filter(pk=customer.pk).exists()

    def test_staff_deleting_a_customer_with_orders_through_the_api_is_a_conflict(self, staff_client, customer, product):
        OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)
        OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)

        response = staff_client.delete(f"/api/v1/customers/{customer.pk}/")

        assert response.status_code == 409, response.content
        body = response.json()
        assert body["code"] == "conflict"
        assert body["detail"]
        assert body["blocked_by"] == {"orders": 2}
        assert Customer.objects.filter(pk=customer.pk).exists()
        assert Order.objects.filter(customer=customer).count() == 2


# --- Verified purchases -----------------------------------------------------------------------


class TestVerifiedPurchase:
    def test_a_review_after_a_confirmed_cash_order_is_verified(self, customer, product):
        OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CASH)

        review = Review.objects.post(product=product, customer=customer, rating=5)

        review.refresh_from_db()
        assert review.verified_purchase is True

    def test_a_review_while_the_card_order_is_pending_is_not_verified(self, customer, product):
        OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)

        review = Review.objects.post(product=product, customer=customer, rating=5)

        review.refresh_from_db()
        assert review.verified_purchase is False

    def test_confirming_a_card_order_verifies_the_customers_existing_review(self, customer, other_customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method=CARD)
        mine = Review.objects.post(product=product, customer=customer, rating=5)
        theirs = Review.objects.post(product=product, customer=other_customer, rating=2)
        unbought = Review.objects.post(product=ProductFactory(), customer=customer, rating=3)

        order.transition_to(Status.PAYMENT_PROCESSING)
        mine.refresh_from_db()
        assert mine.verified_purchase is False
        order.transition_to(Status.CONFIRMED)

        for review in (mine, theirs, unbought):
            review.refresh_from_db()
        assert (mine.verified_purchase, theirs.verified_purchase, unbought.verified_purchase) == (True, False, False)
