"""Discount codes (SPEC §4 billing, §5): the amount off, the rules of use, placement, release, races, the API."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.tasks import send_order_email
from catalog.factories import ProductFactory
from conftest import bearer_client
from customers.factories import CustomerFactory
from orders.exceptions import InvalidDiscountCode
from orders.factories import OrderFactory
from orders.models import DiscountCode, Order
from orders.status import Status
from tests.utils import assert_error, race, requires_postgresql, stock_of

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
CODES = "/api/v1/discount-codes/"


def code_url(code) -> str:
    return f"{CODES}{code.pk}/"


def make_code(code: str = "WELCOME10", kind: str = "percent", value: str = "10", **fields) -> DiscountCode:
    return DiscountCode.objects.create(code=code, kind=kind, value=Decimal(value), **fields)


def order_body(*lines, payment: str = "cash", **extra) -> dict:
    """Return an order request body for `(product, quantity)` pairs, picked up in store."""
    return {
        "items": [{"product": product.pk, "quantity": quantity} for product, quantity in lines],
        "delivery_method": "pickup",
        "payment_method": payment,
        **extra,
    }


def times_used(code: DiscountCode) -> int:
    return DiscountCode.objects.values_list("times_used", flat=True).get(pk=code.pk)


@pytest.fixture
def welcome10():
    return make_code("WELCOME10", "percent", "10")


# --- DiscountCode.discount_for ---------------------------------------------------------------


class TestDiscountFor:
    @pytest.mark.parametrize(
        ("kind", "value", "subtotal", "expected"),
        [
            ("percent", "10", "59.97", "6.00"),  # 5.997 rounds to the cent
            ("percent", "10", "12.25", "1.23"),  # 1.225: half up, not half even (1.22)
            ("percent", "100", "59.97", "59.97"),
            ("fixed", "5.00", "3.00", "3.00"),  # never more than the subtotal
            ("fixed", "5.00", "20.00", "5.00"),
        ],
        ids=["percent-rounds", "percent-half-up", "percent-100-is-everything", "fixed-capped", "fixed"],
    )
    def test_discount_for_takes_the_percentage_or_amount_off_rounded_half_up_and_never_above_the_subtotal(
        self, kind, value, subtotal, expected
    ):
        code = DiscountCode(code="ANY", kind=kind, value=Decimal(value))

        assert code.discount_for(Decimal(subtotal)) == Decimal(expected)


# --- Database constraints --------------------------------------------------------------------


class TestConstraints:
    def test_the_code_is_unique_in_any_letter_case(self, welcome10):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_code("welcome10")

    @pytest.mark.parametrize(("kind", "value"), [("percent", "0"), ("fixed", "0"), ("fixed", "-1.00")])
    def test_the_value_must_be_positive(self, kind, value):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_code("NOTHING", kind, value)

    def test_a_percentage_is_at_most_100(self):
        make_code("ALL", "percent", "100")
        make_code("BIGFIXED", "fixed", "150")  # an amount may be above 100

        with pytest.raises(IntegrityError), transaction.atomic():
            make_code("MORE", "percent", "100.01")

    def test_times_used_never_goes_above_max_uses(self):
        code = make_code(max_uses=3)
        DiscountCode.objects.filter(pk=code.pk).update(times_used=3)

        with pytest.raises(IntegrityError), transaction.atomic():
            DiscountCode.objects.filter(pk=code.pk).update(times_used=4)

        assert times_used(code) == 3


# --- find_usable, redeem, release ------------------------------------------------------------


class TestFindUsable:
    def test_find_usable_matches_any_case_and_ignores_surrounding_spaces(self, welcome10):
        assert DiscountCode.objects.find_usable("  welcome10 ") == welcome10
        assert DiscountCode.objects.find_usable("Welcome10") == welcome10

    def test_an_unknown_code_is_refused_naming_the_code(self, welcome10):
        with pytest.raises(InvalidDiscountCode, match="NOPE") as refused:
            DiscountCode.objects.find_usable(" NOPE ")

        assert refused.value.status_code == 400
        assert refused.value.code == "invalid_discount_code"

    @pytest.mark.parametrize(
        "fields",
        [
            {"is_active": False},
            {"valid_from": timezone.now() + timedelta(days=1)},
            {"valid_from": timezone.now() - timedelta(days=10), "valid_until": timezone.now() - timedelta(days=1)},
        ],
        ids=["inactive", "not-yet-valid", "expired"],
    )
    def test_an_inactive_future_or_expired_code_is_not_valid_now(self, fields):
        make_code("SPRING", **fields)

        with pytest.raises(InvalidDiscountCode, match="SPRING is not valid now") as refused:
            DiscountCode.objects.find_usable("spring")

        assert refused.value.code == "invalid_discount_code"

    def test_a_code_with_no_uses_left_is_used_up(self):
        make_code("ONCE", max_uses=1, times_used=1)

        with pytest.raises(InvalidDiscountCode, match="ONCE has been used up"):
            DiscountCode.objects.find_usable("once")

    def test_a_code_with_an_end_date_in_the_future_and_uses_left_is_usable(self):
        code = make_code("SUMMER", valid_until=timezone.now() + timedelta(days=1), max_uses=2, times_used=1)

        assert DiscountCode.objects.find_usable("summer") == code


class TestRedeemAndRelease:
    def test_redeem_counts_a_use_until_the_code_is_used_up(self):
        code = make_code(max_uses=2)

        DiscountCode.objects.redeem(code)
        DiscountCode.objects.redeem(code)
        with pytest.raises(InvalidDiscountCode, match="used up"):
            DiscountCode.objects.redeem(code)

        assert times_used(code) == 2

    def test_release_gives_a_use_back_but_never_goes_below_zero(self):
        code = make_code(times_used=2)

        DiscountCode.objects.release(code.pk)
        assert times_used(code) == 1
        DiscountCode.objects.release(code.pk)
        DiscountCode.objects.release(code.pk)
        assert times_used(code) == 0


# --- Placing an order with a code ------------------------------------------------------------


class TestPlacement:
    @pytest.mark.parametrize("typed", ["welcome10", "WELCOME10", " Welcome10 "])
    def test_a_code_in_any_case_takes_its_discount_off_the_total(self, customer_client, product, welcome10, typed):
        response = customer_client.post(ORDERS, order_body((product, 2), discount_code=typed), format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["subtotal"], body["discount"], body["total"]) == ("39.98", "4.00", "35.98")
        assert body["discount_code"] == "WELCOME10"
        order = Order.objects.get()
        assert order.discount_code == welcome10
        assert (order.subtotal, order.discount, order.total) == (Decimal("39.98"), Decimal("4.00"), Decimal("35.98"))
        assert times_used(welcome10) == 1
        assert stock_of(product) == 8

    def test_an_order_without_a_code_has_no_discount(self, customer_client, product, welcome10):
        response = customer_client.post(ORDERS, order_body((product, 2), discount_code=""), format="json")

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["discount_code"], body["discount"], body["total"]) == (None, "0.00", "39.98")
        assert times_used(welcome10) == 0

    @pytest.mark.parametrize(
        ("fields", "typed", "reason"),
        [
            ({}, "NOPE", "no discount code 'NOPE'"),
            ({"valid_from": timezone.now() - timedelta(days=9), "valid_until": timezone.now() - timedelta(days=1)},
             "spring", "not valid now"),
            ({"max_uses": 3, "times_used": 3}, "spring", "used up"),
            ({"is_active": False}, "spring", "not valid now"),
        ],
        ids=["unknown", "expired", "used-up", "inactive"],
    )  # fmt: skip
    def test_a_code_that_cannot_be_used_refuses_the_order_and_leaves_nothing_behind(
        self, customer_client, product, fields, typed, reason
    ):
        code = make_code("SPRING", **fields)
        before = code.times_used

        response = customer_client.post(ORDERS, order_body((product, 2), discount_code=typed), format="json")

        body = assert_error(response, 400, "invalid_discount_code")
        assert reason in body["detail"]
        assert not Order.objects.exists()
        assert stock_of(product) == 10
        assert times_used(code) == before

    def test_insufficient_stock_with_a_valid_code_rolls_the_use_back(self, customer_client, product, welcome10):
        response = customer_client.post(ORDERS, order_body((product, 11), discount_code="welcome10"), format="json")

        assert_error(response, 409, "insufficient_stock")
        assert not Order.objects.exists()
        assert stock_of(product) == 10
        assert times_used(welcome10) == 0


# --- Giving the use back ---------------------------------------------------------------------


class TestRelease:
    def test_a_customer_cancelling_gives_the_use_back(self, customer_client, customer, product, welcome10):
        order = OrderFactory(customer=customer, lines=[(product, 2)], discount_code="welcome10")
        assert times_used(welcome10) == 1

        response = customer_client.post(f"{ORDERS}{order.pk}/cancel/")

        assert response.status_code == 200, response.content
        assert times_used(welcome10) == 0
        assert stock_of(product) == 10

    def test_a_failed_payment_gives_the_use_back(self, customer, product, welcome10):
        order = OrderFactory(customer=customer, lines=[(product, 2)], payment_method="card", discount_code="welcome10")
        assert times_used(welcome10) == 1

        order.transition_to(Status.PAYMENT_PROCESSING)
        order.transition_to(Status.PAYMENT_FAILED)

        assert times_used(welcome10) == 0
        assert stock_of(product) == 10

    def test_cancelling_twice_gives_the_use_back_once(self, customer_client, customer, product, welcome10):
        first = OrderFactory(customer=customer, lines=[(product, 1)], discount_code="welcome10")
        OrderFactory(customer=customer, lines=[(product, 1)], discount_code="welcome10")
        assert times_used(welcome10) == 2

        assert customer_client.post(f"{ORDERS}{first.pk}/cancel/").status_code == 200
        assert_error(customer_client.post(f"{ORDERS}{first.pk}/cancel/"), 409, "invalid_transition")

        assert times_used(welcome10) == 1
        assert stock_of(product) == 9


# --- The race for the last uses (PostgreSQL) -------------------------------------------------


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_twenty_customers_racing_for_a_code_with_five_uses_get_exactly_five(monkeypatch):
    monkeypatch.setattr(send_order_email, "delay", lambda *args, **kwargs: None)  # no worker in this test
    product = ProductFactory(price=Decimal("10.00"), stock=100)
    code = make_code("FLASH5", "fixed", "2.00", max_uses=5)
    buyers = [bearer_client(CustomerFactory().user) for _ in range(20)]

    responses = race(
        [
            lambda client=client: client.post(ORDERS, order_body((product, 1), discount_code="flash5"), format="json")
            for client in buyers
        ]
    )

    assert Counter(response.status_code for response in responses) == {201: 5, 400: 15}
    refusals = [response.json() for response in responses if response.status_code == 400]
    assert all(body["code"] == "invalid_discount_code" for body in refusals)
    assert all("used up" in body["detail"] for body in refusals), [body["detail"] for body in refusals]
    assert Order.objects.count() == 5
    assert Order.objects.filter(discount_code=code, discount=Decimal("2.00")).count() == 5
    assert times_used(code) == 5
    assert stock_of(product) == 95


# --- /api/v1/discount-codes/ -----------------------------------------------------------------


class TestDiscountCodeApi:
    def test_staff_list_and_retrieve_codes(self, staff_client, welcome10):
        make_code("AAA", "fixed", "5.00", max_uses=10)

        listed = staff_client.get(CODES)
        detail = staff_client.get(code_url(welcome10))

        assert listed.status_code == 200
        assert listed.json()["count"] == 2
        assert [row["code"] for row in listed.json()["results"]] == ["AAA", "WELCOME10"]
        assert detail.status_code == 200
        body = detail.json()
        assert {key: body[key] for key in ("id", "code", "kind", "value", "max_uses", "times_used", "is_active")} == {
            "id": welcome10.pk,
            "code": "WELCOME10",
            "kind": "percent",
            "value": "10.00",
            "max_uses": None,
            "times_used": 0,
            "is_active": True,
        }
        assert {"valid_from", "valid_until", "created_at", "updated_at"} <= set(body)

    def test_staff_create_a_code(self, staff_client):
        response = staff_client.post(
            CODES,
            {"code": " SPRING20 ", "kind": "percent", "value": "20", "max_uses": 100, "times_used": 50},
            format="json",
        )

        assert response.status_code == 201, response.content
        code = DiscountCode.objects.get()
        assert (code.code, code.kind, code.value, code.max_uses) == ("SPRING20", "percent", Decimal("20"), 100)
        assert code.times_used == 0  # counted by redemptions only, never written through the API
        assert response.json()["id"] == code.pk

    def test_staff_patch_a_code(self, staff_client, welcome10):
        response = staff_client.patch(code_url(welcome10), {"is_active": False, "times_used": 9}, format="json")

        assert response.status_code == 200, response.content
        welcome10.refresh_from_db()
        assert welcome10.is_active is False
        assert welcome10.times_used == 0

    def test_staff_delete_an_unused_code(self, staff_client, welcome10):
        response = staff_client.delete(code_url(welcome10))

        assert response.status_code == 204
        assert not DiscountCode.objects.exists()

    def test_put_is_not_offered(self, staff_client, welcome10):
        response = staff_client.put(code_url(welcome10), {"code": "X", "kind": "fixed", "value": "1"}, format="json")

        assert_error(response, 405, "method_not_allowed")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"code": "welcome10", "kind": "fixed", "value": "5"}, "code"),
            ({"code": "HUGE", "kind": "percent", "value": "100.01"}, "value"),
            ({"code": "ZERO", "kind": "fixed", "value": "0"}, "value"),
            (
                {"code": "BACKWARDS", "kind": "fixed", "value": "5", "valid_from": "2026-03-01T00:00:00Z",
                 "valid_until": "2026-02-01T00:00:00Z"},
                "valid_until",
            ),
        ],
        ids=["duplicate-in-another-case", "percent-above-100", "value-0", "ends-before-it-starts"],
    )  # fmt: skip
    def test_an_invalid_code_is_a_validation_error_keyed_by_field(self, staff_client, welcome10, body, field):
        response = staff_client.post(CODES, body, format="json")

        errors = assert_error(response, 400, "validation_error")["errors"]
        assert errors[field], errors
        assert DiscountCode.objects.count() == 1

    def test_renaming_a_code_to_another_codes_name_in_another_case_is_refused(self, staff_client, welcome10):
        other = make_code("OTHER")

        response = staff_client.patch(code_url(other), {"code": "Welcome10"}, format="json")

        assert assert_error(response, 400, "validation_error")["errors"]["code"]

    def test_raising_a_percentage_above_100_by_patch_is_refused(self, staff_client, welcome10):
        response = staff_client.patch(code_url(welcome10), {"value": "150"}, format="json")

        assert assert_error(response, 400, "validation_error")["errors"]["value"]

    def test_deleting_a_code_an_order_used_is_a_conflict(self, staff_client, customer, product, welcome10):
        OrderFactory(customer=customer, lines=[(product, 1)], discount_code="welcome10")

        response = staff_client.delete(code_url(welcome10))

        body = assert_error(response, 409, "conflict")
        assert body["blocked_by"] == {"orders": 1}
        assert DiscountCode.objects.filter(pk=welcome10.pk).exists()

    @pytest.mark.parametrize(
        ("method", "detail"),
        [("get", False), ("post", False), ("get", True), ("patch", True), ("put", True), ("delete", True)],
        ids=["list", "create", "retrieve", "patch", "put", "delete"],
    )
    def test_a_customer_is_refused_every_method(self, customer_client, welcome10, method, detail):
        url = code_url(welcome10) if detail else CODES

        response = getattr(customer_client, method)(url, {"code": "MINE", "kind": "fixed", "value": "1"}, format="json")

        assert_error(response, 403, "permission_denied")
        assert DiscountCode.objects.get().code == "WELCOME10"

    @pytest.mark.parametrize(
        ("method", "detail"),
        [("get", False), ("post", False), ("get", True), ("patch", True), ("delete", True)],
        ids=["list", "create", "retrieve", "patch", "delete"],
    )
    def test_anonymous_must_authenticate(self, api_client, welcome10, method, detail):
        url = code_url(welcome10) if detail else CODES

        response = getattr(api_client, method)(url, {"code": "MINE", "kind": "fixed", "value": "1"}, format="json")

        assert_error(response, 401, "not_authenticated")

    @pytest.mark.parametrize(
        ("method", "detail"),
        [("get", False), ("post", False), ("get", True), ("patch", True), ("delete", True)],
        ids=["list", "create", "retrieve", "patch", "delete"],
    )
    def test_staff_without_the_permission_are_refused(self, staff_without_permissions, welcome10, method, detail):
        client = bearer_client(staff_without_permissions)
        url = code_url(welcome10) if detail else CODES

        response = getattr(client, method)(url, {"code": "MINE", "kind": "fixed", "value": "1"}, format="json")

        assert_error(response, 403, "permission_denied")
        assert DiscountCode.objects.get().code == "WELCOME10"
