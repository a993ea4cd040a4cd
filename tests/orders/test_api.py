"""Orders through the REST API (SPEC §5, §7): placing, errors, idempotency, visibility, changes, limits, schema."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.factories import ProductFactory
from conftest import bearer_client
from customers.factories import AddressFactory
from orders.factories import OrderFactory
from orders.models import DiscountCode, Order, OrderStatusEvent
from orders.status import Status
from tests.utils import assert_error, assert_validation_error, result_ids, stock_of

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
NUMBER = re.compile(r"^SK-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")


def order_url(order) -> str:
    return f"{ORDERS}{getattr(order, 'pk', order)}/"


def history_url(order) -> str:
    return f"{order_url(order)}history/"


def cancel_url(order) -> str:
    return f"{order_url(order)}cancel/"


def transition_url(order) -> str:
    return f"{order_url(order)}transition/"


def payload(*lines, payment: str = "card", delivery: str = "pickup", **extra) -> dict:
    """Return an order request body for `(product, quantity)` pairs."""
    return {
        "items": [{"product": product.pk, "quantity": quantity} for product, quantity in lines],
        "delivery_method": delivery,
        "payment_method": payment,
        **extra,
    }


@pytest.fixture
def address(customer):
    return AddressFactory(
        customer=customer, label="Home", line1="1 Main St", line2="", city="Springfield", postal_code="12345"
    )


# --- Placing an order ------------------------------------------------------------------------


class TestPlace:
    def test_a_card_order_is_accepted_pending_with_its_location(self, customer_client, customer, product):
        response = customer_client.post(ORDERS, payload((product, 3), payment="card"), format="json")

        assert response.status_code == 202, response.content
        body = response.json()
        order = Order.objects.get()
        assert body["id"] == order.pk
        assert body["status"] == "pending"
        assert response["Location"] == f"http://testserver{order_url(order)}"
        assert "Idempotent-Replayed" not in response
        assert order.customer == customer
        assert stock_of(product) == 7

    def test_a_cash_order_is_created_confirmed(self, customer_client, product):
        response = customer_client.post(ORDERS, payload((product, 1), payment="cash"), format="json")

        assert response.status_code == 201, response.content
        assert response.json()["status"] == "confirmed"
        assert Order.objects.get().status == Status.CONFIRMED

    @pytest.mark.parametrize("payment", ["cash", "card"])
    def test_the_answer_is_the_order_as_stored(self, customer_client, product, address, payment):
        """The new order is answered from memory, not read back: it must match a later read."""
        DiscountCode.objects.create(code="TENOFF", kind=DiscountCode.Kind.PERCENT, value=Decimal("10"))
        spoons = ProductFactory(name="Spoon", sku="SPN-1", price=Decimal("0.10"), stock=10)
        body = payload(
            (product, 3),
            (spoons, 7),
            payment=payment,
            delivery="home_delivery",
            shipping_address=address.pk,
            discount_code="tenoff",
        )

        placed = customer_client.post(ORDERS, body, format="json")
        stored = customer_client.get(placed["Location"])

        assert placed.status_code in (201, 202), placed.content
        assert placed.json() == stored.json()

    def test_the_body_has_the_lines_the_money_the_history_and_the_address_copy(
        self, customer_client, customer, product, address
    ):
        spoons = ProductFactory(name="Spoon", sku="SPN-1", price=Decimal("0.10"), stock=10)

        response = customer_client.post(
            ORDERS,
            payload((product, 3), (spoons, 7), delivery="home_delivery", shipping_address=address.pk),
            format="json",
        )

        assert response.status_code == 202, response.content
        body = response.json()
        order = Order.objects.get()
        assert NUMBER.match(body["number"])
        assert body["number"] == order.number
        assert body["customer"] == customer.pk
        assert (body["delivery_method"], body["payment_method"]) == ("home_delivery", "card")
        teapot_line, spoon_line = order.items.order_by("pk").values_list("pk", flat=True)
        assert body["items"] == [
            {
                "id": teapot_line,  # what a refund names
                "variant": product.variants.get().pk,
                "product": product.pk,
                "product_name": "Teapot",
                "sku": "TEA-POT",
                "options": [],
                "extras": [],
                "quantity": 3,
                "quantity_returned": 0,
                "unit_price": "19.99",
                "line_total": "59.97",
            },
            {
                "id": spoon_line,
                "variant": spoons.variants.get().pk,
                "product": spoons.pk,
                "product_name": "Spoon",
                "sku": "SPN-1",
                "options": [],
                "extras": [],
                "quantity": 7,
                "quantity_returned": 0,
                "unit_price": "0.10",
                "line_total": "0.70",
            },
        ]
        assert (body["subtotal"], body["discount"], body["total"]) == ("60.67", "0.00", "60.67")
        assert body["history"] == f"http://testserver{history_url(order)}"
        assert body["shipping_address"] == {
            "label": "Home",
            "line1": "1 Main St",
            "line2": "",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        }
        assert sorted(body["allowed_transitions"]) == ["cancelled", "payment_processing"]
        assert {"created_at", "updated_at"} <= set(body)

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            (lambda body: body.pop("items"), "items"),
            (lambda body: body["items"][0].update(quantity=0), "items"),
            (lambda body: body.update(delivery_method="by_drone"), "delivery_method"),
            (lambda body: body.update(payment_method="cheque"), "payment_method"),
            (lambda body: body.update(delivery_method="home_delivery"), "shipping_address"),
        ],
        ids=["missing-items", "quantity-0", "unknown-delivery-method", "unknown-payment-method", "home-no-address"],
    )
    def test_a_malformed_order_is_a_validation_error_keyed_by_field(self, customer_client, product, change, field):
        body = payload((product, 1))
        change(body)

        response = customer_client.post(ORDERS, body, format="json")

        assert_validation_error(response, field)
        assert not Order.objects.exists()
        assert stock_of(product) == 10

    def test_insufficient_stock_names_every_short_line(self, customer_client):
        plenty, short, also_short = ProductFactory(stock=10), ProductFactory(stock=2), ProductFactory(stock=0)

        response = customer_client.post(ORDERS, payload((plenty, 1), (short, 3), (also_short, 1)), format="json")

        body = assert_error(response, 409, "insufficient_stock")
        assert body["lines"] == [
            {"variant": variant.pk, "product": variant.product_id, "sku": variant.sku, **counts}
            for variant, counts in (
                (short.variants.get(), {"requested": 3, "available": 2}),
                (also_short.variants.get(), {"requested": 1, "available": 0}),
            )
        ]
        assert not Order.objects.exists()
        assert not OrderStatusEvent.objects.exists()
        assert [stock_of(p) for p in (plenty, short, also_short)] == [10, 2, 0]

    def test_a_changed_price_is_a_conflict_with_the_current_prices(self, customer_client, product):
        body = payload((product, 1))
        body["items"][0]["unit_price"] = "17.50"

        response = customer_client.post(ORDERS, body, format="json")

        error = assert_error(response, 409, "price_changed")
        variant = product.variants.get()
        assert error["prices"] == [
            {"variant": variant.pk, "product": product.pk, "sku": "TEA-POT", "seen": "17.50", "current": "19.99"}
        ]
        assert not Order.objects.exists()
        assert stock_of(product) == 10

    def test_the_price_the_customer_saw_is_accepted_while_it_holds(self, customer_client, product):
        body = payload((product, 1))
        body["items"][0]["unit_price"] = "19.99"

        response = customer_client.post(ORDERS, body, format="json")

        assert response.status_code == 202, response.content

    def test_anonymous_cannot_order(self, api_client, product):
        response = api_client.post(ORDERS, payload((product, 1)), format="json")

        assert_error(response, 401, "not_authenticated")
        assert not Order.objects.exists()

    def test_staff_order_for_a_named_customer_and_are_the_recorded_actor(self, staff_client, customer, product):
        response = staff_client.post(ORDERS, payload((product, 1), customer=customer.pk), format="json")

        assert response.status_code == 202, response.content
        order = Order.objects.get()
        assert order.customer == customer
        history = staff_client.get(history_url(order)).json()
        assert [(event["to_status"], event["actor"]) for event in history] == [("pending", "staff")]

    def test_staff_without_a_customer_profile_must_name_the_customer(self, staff_client, product):
        response = staff_client.post(ORDERS, payload((product, 1)), format="json")

        assert_validation_error(response, "customer")
        assert not Order.objects.exists()

    def test_staff_naming_an_unknown_customer_is_a_validation_error(self, staff_client, product):
        response = staff_client.post(ORDERS, payload((product, 1), customer=999999), format="json")

        assert_validation_error(response, "customer")

    def test_a_customer_cannot_order_for_another_customer(self, customer_client, other_customer, product):
        response = customer_client.post(ORDERS, payload((product, 1), customer=other_customer.pk), format="json")

        assert_validation_error(response, "customer")
        assert not Order.objects.exists()
        assert stock_of(product) == 10

    def test_a_customer_may_name_themselves(self, customer_client, customer, product):
        response = customer_client.post(ORDERS, payload((product, 1), customer=customer.pk), format="json")

        assert response.status_code == 202, response.content
        assert Order.objects.get().customer == customer

    @pytest.mark.parametrize("client_name", ["customer_client", "staff_client"])
    def test_an_unknown_order_is_not_found(self, request, client_name):
        client = request.getfixturevalue(client_name)

        assert_error(client.get(order_url(999999)), 404, "not_found")
        assert_error(client.get(history_url(999999)), 404, "not_found")

    @pytest.mark.parametrize("method", ["put", "patch", "delete"])
    def test_an_order_cannot_be_replaced_edited_or_deleted(
        self, customer_client, staff_client, customer, product, method
    ):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="card")

        for client in (customer_client, staff_client):
            response = getattr(client, method)(order_url(order), {"status": "delivered"}, format="json")
            assert_error(response, 405, "method_not_allowed")

        assert Order.objects.get(pk=order.pk).status == Status.PENDING


# --- Idempotency-Key -------------------------------------------------------------------------


class TestIdempotency:
    def test_a_replay_returns_the_same_order_with_the_same_status_code(self, customer_client, product):
        body = payload((product, 2), payment="card")
        first = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
        order = Order.objects.get()
        order.transition_to(Status.PAYMENT_PROCESSING)  # the payment moved on meanwhile

        replay = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

        assert (first.status_code, replay.status_code) == (202, 202)
        assert "Idempotent-Replayed" not in first
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"] == order.pk
        assert replay.json()["status"] == "payment_processing"
        assert replay["Location"] == first["Location"]
        assert Order.objects.count() == 1
        assert stock_of(product) == 8

    def test_a_cash_replay_answers_201_again(self, customer_client, product):
        body = payload((product, 2), payment="cash")

        first = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
        replay = customer_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

        assert (first.status_code, replay.status_code) == (201, 201)
        assert replay["Idempotent-Replayed"] == "true"
        assert Order.objects.count() == 1
        assert stock_of(product) == 8

    def test_the_same_key_with_another_body_is_refused(self, customer_client, product):
        customer_client.post(ORDERS, payload((product, 2)), format="json", HTTP_IDEMPOTENCY_KEY="order-1")

        response = customer_client.post(ORDERS, payload((product, 3)), format="json", HTTP_IDEMPOTENCY_KEY="order-1")

        assert_error(response, 422, "idempotency_key_reused")
        assert Order.objects.count() == 1
        assert stock_of(product) == 8

    def test_without_a_key_each_post_is_a_new_order(self, customer_client, product):
        first = customer_client.post(ORDERS, payload((product, 2)), format="json")
        second = customer_client.post(ORDERS, payload((product, 2)), format="json")

        assert (first.status_code, second.status_code) == (202, 202)
        assert first.json()["id"] != second.json()["id"]
        assert Order.objects.count() == 2
        assert stock_of(product) == 6

    def test_the_same_key_from_two_customers_makes_two_orders(self, customer_client, other_customer_client, product):
        mine = customer_client.post(ORDERS, payload((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="order-1")
        theirs = other_customer_client.post(
            ORDERS, payload((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="order-1"
        )

        assert (mine.status_code, theirs.status_code) == (202, 202)
        assert "Idempotent-Replayed" not in theirs
        assert Order.objects.count() == 2

    def test_a_key_longer_than_255_characters_is_a_validation_error(self, customer_client, product):
        response = customer_client.post(ORDERS, payload((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)

        assert_validation_error(response, "Idempotency-Key")
        assert not Order.objects.exists()
        assert stock_of(product) == 10

    def test_a_key_of_255_characters_is_accepted(self, customer_client, product):
        response = customer_client.post(ORDERS, payload((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="k" * 255)

        assert response.status_code == 202, response.content
        assert Order.objects.get().idempotency_key == "k" * 255


# --- Who sees what ---------------------------------------------------------------------------


class TestVisibility:
    def test_a_customer_lists_and_reads_only_their_own_orders(self, customer_client, customer, other_customer, product):
        mine = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="card")
        OrderFactory(customer=other_customer, lines=[(product, 1)], payment_method="card")

        response = customer_client.get(ORDERS)

        assert response.status_code == 200
        assert result_ids(response) == [mine.pk]
        assert response.json()["count"] == 1
        assert customer_client.get(order_url(mine)).json()["id"] == mine.pk

    def test_another_customers_order_is_not_found(self, customer_client, other_customer, product):
        theirs = OrderFactory(customer=other_customer, lines=[(product, 1)], payment_method="card")

        assert_error(customer_client.get(order_url(theirs)), 404, "not_found")
        assert_error(customer_client.get(history_url(theirs)), 404, "not_found")
        assert_error(customer_client.post(cancel_url(theirs), {}, format="json"), 404, "not_found")
        assert Order.objects.get(pk=theirs.pk).status == Status.PENDING
        assert stock_of(product) == 9

    def test_staff_list_every_order(self, staff_client, customer, other_customer, product):
        orders = [
            OrderFactory(customer=customer, lines=[(product, 1)], payment_method="card"),
            OrderFactory(customer=other_customer, lines=[(product, 1)], payment_method="card"),
        ]

        response = staff_client.get(ORDERS)

        assert response.status_code == 200
        assert sorted(result_ids(response)) == sorted(order.pk for order in orders)

    def test_staff_without_the_view_permission_cannot_list(self, staff_without_permissions, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="card")
        client = bearer_client(staff_without_permissions)

        assert_error(client.get(ORDERS), 403, "permission_denied")
        assert_error(client.get(order_url(order)), 403, "permission_denied")

    def test_filter_by_status_customer_and_delivery_method(self, staff_client, customer, other_customer, product):
        pending = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="card")
        confirmed = OrderFactory(
            customer=customer, lines=[(product, 1)], delivery_method="drive_thru", payment_method="cash"
        )
        theirs = OrderFactory(
            customer=other_customer,
            lines=[(product, 1)],
            delivery_method="home_delivery",
            payment_method="card",
        )

        def ids(**params):
            response = staff_client.get(ORDERS, params)
            assert response.status_code == 200, response.content
            return sorted(result_ids(response))

        assert ids(status="pending") == sorted([pending.pk, theirs.pk])
        assert ids(status="confirmed") == [confirmed.pk]
        assert ids(customer=customer.pk) == sorted([pending.pk, confirmed.pk])
        assert ids(customer=other_customer.pk) == [theirs.pk]
        assert ids(delivery_method="home_delivery") == [theirs.pk]
        assert ids(delivery_method="drive_thru", customer=customer.pk) == [confirmed.pk]

    def test_a_customer_filters_their_own_orders_by_status(self, customer_client, customer, other_customer, product):
        mine = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="cash")
        OrderFactory(customer=other_customer, lines=[(product, 1)], payment_method="cash")

        response = customer_client.get(ORDERS, {"status": "confirmed"})

        assert result_ids(response) == [mine.pk]

    def test_filter_by_creation_time(self, staff_client, customer, product):
        january, february, march = (
            OrderFactory(customer=customer, lines=[(product, 1)], payment_method="card") for _ in range(3)
        )
        for order, month in ((january, 1), (february, 2), (march, 3)):
            Order.objects.filter(pk=order.pk).update(created_at=datetime(2026, month, 1, 12, tzinfo=UTC))

        def ids(**params):
            response = staff_client.get(ORDERS, params)
            assert response.status_code == 200, response.content
            return sorted(result_ids(response))

        assert ids(created_after="2026-01-15T00:00:00Z") == sorted([february.pk, march.pk])
        assert ids(created_before="2026-02-15T00:00:00Z") == sorted([january.pk, february.pk])
        assert ids(created_after="2026-01-15T00:00:00Z", created_before="2026-02-15T00:00:00Z") == [february.pk]
        assert ids(created_after="2026-02-01T12:00:00+00:00") == sorted([february.pk, march.pk])

    def test_a_malformed_creation_time_is_a_validation_error(self, staff_client):
        assert_validation_error(staff_client.get(ORDERS, {"created_after": "last tuesday"}), "created_after")

    def test_ordering_by_creation_time_and_total(self, staff_client, customer):
        cheap, dear, middling = (ProductFactory(price=Decimal(price), stock=5) for price in ("1.00", "50.00", "20.00"))
        orders = [
            OrderFactory(customer=customer, lines=[(item, 1)], payment_method="card")
            for item in (cheap, dear, middling)
        ]
        for day, order in enumerate(orders, start=1):
            Order.objects.filter(pk=order.pk).update(created_at=datetime(2026, 1, day, tzinfo=UTC))
        first, second, third = (order.pk for order in orders)

        assert result_ids(staff_client.get(ORDERS)) == [third, second, first]  # newest first by default
        assert result_ids(staff_client.get(ORDERS, {"ordering": "created_at"})) == [first, second, third]
        assert result_ids(staff_client.get(ORDERS, {"ordering": "-created_at"})) == [third, second, first]
        assert result_ids(staff_client.get(ORDERS, {"ordering": "total"})) == [first, third, second]
        assert result_ids(staff_client.get(ORDERS, {"ordering": "-total"})) == [second, third, first]


# --- Cancel and transition -------------------------------------------------------------------


class TestChanges:
    def test_the_owner_cancels_and_the_stock_comes_back(self, customer_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], payment_method="card")

        response = customer_client.post(cancel_url(order), {"note": "Ordered by mistake."}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "cancelled"
        assert response.json()["allowed_transitions"] == []
        assert stock_of(product) == 10
        last = customer_client.get(history_url(order)).json()[-1]
        assert (last["from_status"], last["to_status"], last["actor"], last["note"]) == (
            "pending",
            "cancelled",
            customer.user.get_username(),
            "Ordered by mistake.",
        )

    def test_the_owner_cancels_a_confirmed_order_without_a_note(self, customer_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], payment_method="cash")

        response = customer_client.post(cancel_url(order))

        assert response.status_code == 200, response.content
        assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
        assert stock_of(product) == 10

    def test_the_owner_cannot_cancel_once_in_progress(self, customer_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], status=Status.IN_PROGRESS)

        response = customer_client.post(cancel_url(order), {}, format="json")

        body = assert_error(response, 409, "invalid_transition")
        assert body["allowed"] == [Status.DELIVERED]  # codes for clients; the sentence uses labels
        assert body["detail"] == "An order that is In progress cannot become Cancelled: it can move to Delivered only."
        assert Order.objects.get(pk=order.pk).status == Status.IN_PROGRESS
        assert stock_of(product) == 7

    def test_cancelling_twice_is_a_conflict_and_releases_once(self, customer_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], payment_method="card")
        customer_client.post(cancel_url(order), {}, format="json")

        response = customer_client.post(cancel_url(order), {}, format="json")

        body = assert_error(response, 409, "invalid_transition")
        assert body["allowed"] == []
        assert body["detail"] == "An order that is Cancelled cannot become Cancelled: it is final."
        assert stock_of(product) == 10

    def test_staff_cancel_an_order_in_progress(self, staff_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], status=Status.IN_PROGRESS)

        response = staff_client.post(cancel_url(order), {"note": "Out of packaging."}, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "cancelled"
        assert stock_of(product) == 10

    def test_staff_without_the_change_permission_cannot_cancel(self, staff_without_permissions, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 3)], payment_method="card")

        response = bearer_client(staff_without_permissions).post(cancel_url(order), {}, format="json")

        assert_error(response, 403, "permission_denied")
        assert Order.objects.get(pk=order.pk).status == Status.PENDING

    def test_staff_move_an_order_along_and_are_the_recorded_actor(self, staff_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="cash")

        change = {"status": "in_progress", "note": "Packing."}

        response = staff_client.post(transition_url(order), change, format="json")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "in_progress"
        assert sorted(response.json()["allowed_transitions"]) == ["cancelled", "delivered"]
        event = order.events.last()
        assert (event.to_status, event.actor.get_username(), event.note) == ("in_progress", "staff", "Packing.")

    def test_a_customer_cannot_move_their_own_order(self, customer_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="cash")

        response = customer_client.post(transition_url(order), {"status": "in_progress"}, format="json")

        assert_error(response, 403, "permission_denied")
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED

    def test_staff_without_the_change_permission_cannot_move_an_order(
        self, staff_without_permissions, customer, product
    ):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="cash")

        response = bearer_client(staff_without_permissions).post(
            transition_url(order), {"status": "in_progress"}, format="json"
        )

        assert_error(response, 403, "permission_denied")
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED

    def test_a_forbidden_status_is_refused_with_the_allowed_ones(self, staff_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="cash")

        response = staff_client.post(transition_url(order), {"status": "shipped"}, format="json")

        body = assert_error(response, 409, "invalid_transition")
        assert sorted(body["allowed"]) == ["cancelled", "in_progress"]
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED
        assert order.events.count() == 2

    @pytest.mark.parametrize("body", [{"status": "teleported"}, {}], ids=["unknown", "missing"])
    def test_an_unknown_status_is_a_validation_error(self, staff_client, customer, product, body):
        order = OrderFactory(customer=customer, lines=[(product, 1)], payment_method="cash")

        response = staff_client.post(transition_url(order), body, format="json")

        assert_validation_error(response, "status")
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED


# --- History ---------------------------------------------------------------------------------


class TestHistory:
    def test_history_lists_events_oldest_first_with_the_actor(self, customer_client, staff_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)], actor=customer.user)
        staff_client.post(transition_url(order), {"status": "in_progress", "note": "Packing."}, format="json")

        response = customer_client.get(history_url(order))

        assert response.status_code == 200
        events = response.json()
        assert [(e["from_status"], e["to_status"], e["actor"], e["note"]) for e in events] == [
            ("", "pending", customer.user.get_username(), "Order placed."),
            ("pending", "confirmed", "system", "Cash order: confirmed at once."),
            ("confirmed", "in_progress", "staff", "Packing."),
        ]
        assert all(event["created_at"] for event in events)
        assert staff_client.get(history_url(order)).json() == events


# --- Rate limit ------------------------------------------------------------------------------


class TestRateLimit:
    def test_the_fourth_order_in_a_minute_is_rate_limited(
        self, settings, frozen_ratelimit_clock, customer_client, other_customer_client
    ):
        settings.RATELIMIT_ORDERS = "3/m"
        product = ProductFactory(stock=100)

        allowed = [customer_client.post(ORDERS, payload((product, 1)), format="json") for _ in range(3)]
        limited = customer_client.post(ORDERS, payload((product, 1)), format="json")
        someone_else = other_customer_client.post(ORDERS, payload((product, 1)), format="json")

        assert [response.status_code for response in allowed] == [202, 202, 202]
        assert [response["X-RateLimit-Limit"] for response in allowed] == ["3", "3", "3"]
        assert [response["X-RateLimit-Remaining"] for response in allowed] == ["2", "1", "0"]
        assert all(0 <= int(response["X-RateLimit-Reset"]) <= 60 for response in allowed)
        assert_error(limited, 429, "rate_limited")
        assert 0 <= int(limited["Retry-After"]) <= 60
        assert limited["X-RateLimit-Limit"] == "3"
        assert limited["X-RateLimit-Remaining"] == "0"
        assert limited["X-RateLimit-Reset"] == limited["Retry-After"]
        assert someone_else.status_code == 202
        assert someone_else["X-RateLimit-Remaining"] == "2"
        assert Order.objects.count() == 4
        assert stock_of(product) == 96

    def test_past_the_order_limit_a_replay_still_gets_its_order_back(
        self, settings, frozen_ratelimit_clock, customer_client
    ):
        settings.RATELIMIT_ORDERS = "1/m"
        product = ProductFactory(stock=100)
        first = customer_client.post(ORDERS, payload((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="first")

        another = customer_client.post(ORDERS, payload((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="second")
        replay = customer_client.post(ORDERS, payload((product, 1)), format="json", HTTP_IDEMPOTENCY_KEY="first")

        assert first.status_code == 202
        assert_error(another, 429, "rate_limited")
        assert replay.status_code == 202, replay.content
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
        assert Order.objects.count() == 1


# --- Query counts ----------------------------------------------------------------------------


def orders_with_three_lines(customer, count: int) -> list[Order]:
    products = ProductFactory.create_batch(3, stock=100)
    return [
        OrderFactory(customer=customer, lines=((item, 1) for item in products), payment_method="card")
        for _ in range(count)
    ]


PLACING = [
    "the token's user, its customer profile joined",
    "the Idempotency-Key among the customer's orders (the rate limit's question; placing reuses the answer)",
    "the variants ordered, with their products (no variant has options: no option values read)",
    "BEGIN (a SAVEPOINT inside a test's transaction)",
    "INSERT the order",
    "INSERT its lines",
    "UPDATE both variants' stock in one statement (rows locked in id order), returning what is left",
]
CONFIRMING = [
    "INSERT the payment (billing, on order_placed)",
    "UPDATE the order's status to confirmed",
    "UPDATE the customer's reviews of these products to verified purchases",
    "INSERT both history events, placed and confirmed",
    "take the year's next invoice number (an upsert)",
    "INSERT the invoice",
]


@pytest.mark.parametrize("payment", ["cash", "card"])
def test_placing_an_order_runs_a_fixed_number_of_queries(customer_client, payment, django_assert_num_queries):
    first, second = ProductFactory(stock=10), ProductFactory(stock=10)
    if payment == "cash":
        expected = [*PLACING, *CONFIRMING, "COMMIT (RELEASE SAVEPOINT)"]
    else:
        expected = [*PLACING, "INSERT the history event", "INSERT the payment", "COMMIT (RELEASE SAVEPOINT)"]
    # Nothing is read back for the answer: placing keeps the lines it inserted (Order.loaded_items).

    with django_assert_num_queries(len(expected)):
        response = customer_client.post(
            ORDERS, payload((first, 1), (second, 2), payment=payment), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )

    assert response.status_code == (201 if payment == "cash" else 202)
    assert response.json() == customer_client.get(order_url(response.json()["id"])).json()


@pytest.mark.parametrize("count", [2, 25])
def test_a_customers_order_list_runs_a_fixed_number_of_queries(
    customer_client, customer, other_customer, django_assert_num_queries, count
):
    orders_with_three_lines(customer, count)
    orders_with_three_lines(other_customer, 2)

    # 1. the user of the bearer token; 2. the page of orders; 3. the items of every order on the
    # page (one prefetch). No COUNT(*): the first page is not full, so it holds them all.
    with django_assert_num_queries(3):
        response = customer_client.get(ORDERS, {"page_size": 100})

    assert response.json()["count"] == count
    assert all(len(order["items"]) == 3 for order in response.json()["results"])


def test_a_full_first_page_of_a_customers_orders_also_counts_them(
    customer_client, customer, other_customer, django_assert_num_queries
):
    orders_with_three_lines(customer, 12)
    orders_with_three_lines(other_customer, 2)

    # 1. the user of the bearer token; 2. the page of orders; 3. their items; 4. COUNT(*) of their
    # orders: a full page cannot tell how many follow.
    with django_assert_num_queries(4):
        response = customer_client.get(ORDERS, {"page_size": 5})

    assert response.json()["count"] == 12
    assert response.json()["next"].endswith("page=2&page_size=5")
    assert len(response.json()["results"]) == 5


@pytest.mark.parametrize("count", [2, 25])
def test_the_staff_order_list_runs_a_fixed_number_of_queries(
    staff_client, customer, other_customer, django_assert_num_queries, count
):
    orders_with_three_lines(customer, count)
    orders_with_three_lines(other_customer, 2)

    # 1. the user's permissions; 2. their groups' permissions; 3. the page of orders; 4. the items
    # of every order on the page (one prefetch). No COUNT(*): the first page holds them all.
    with django_assert_num_queries(4):
        response = staff_client.get(ORDERS, {"page_size": 100})

    assert response.json()["count"] == count + 2
    assert all(len(order["items"]) == 3 for order in response.json()["results"])


@pytest.mark.parametrize("lines", [1, 3])
def test_a_customers_order_detail_runs_a_fixed_number_of_queries(
    customer_client, customer, django_assert_num_queries, lines
):
    products = ProductFactory.create_batch(lines, stock=10)
    order = OrderFactory(customer=customer, lines=((item, 1) for item in products), payment_method="card")

    # 1. the user of the bearer token; 2. the order; 3. its items.
    with django_assert_num_queries(3):
        response = customer_client.get(order_url(order))

    assert len(response.json()["items"]) == lines


@pytest.mark.parametrize("lines", [1, 3])
def test_the_staff_order_detail_runs_a_fixed_number_of_queries(
    staff_client, customer, django_assert_num_queries, lines
):
    products = ProductFactory.create_batch(lines, stock=10)
    order = OrderFactory(customer=customer, lines=((item, 1) for item in products), payment_method="card")

    # 1. the user's permissions; 2. their groups' permissions; 3. the order; 4. its items.
    with django_assert_num_queries(4):
        response = staff_client.get(order_url(order))

    assert len(response.json()["items"]) == lines


# --- OpenAPI schema --------------------------------------------------------------------------


def test_the_schema_documents_placing_an_order(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    post = response.json()["paths"]["/api/v1/orders/"]["post"]

    headers = {parameter["name"] for parameter in post["parameters"] if parameter["in"] == "header"}
    assert "Idempotency-Key" in headers
    assert {"201", "202", "409", "422", "429"} <= set(post["responses"])


def test_the_schema_documents_the_order_actions(api_client):
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert {"409"} <= set(paths["/api/v1/orders/{id}/cancel/"]["post"]["responses"])
    assert {"409"} <= set(paths["/api/v1/orders/{id}/transition/"]["post"]["responses"])
    assert "get" in paths["/api/v1/orders/{id}/history/"]
    filters = {parameter["name"] for parameter in paths["/api/v1/orders/"]["get"]["parameters"]}
    assert {"status", "customer", "delivery_method", "created_after", "created_before", "ordering"} <= filters
