"""Refunds, returns and credit notes (SPEC §4 billing, §5): the rules at `Refund.objects.issue`, then the API."""

from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.factories import CardOrderFactory, RefundFactory
from billing.models import CreditNote, Invoice, Payment, Refund
from billing.tasks import hand_over, refund_payment
from catalog.factories import ProductFactory
from conftest import bearer_client
from orders.factories import DiscountCodeFactory, OrderFactory
from orders.models import Order
from orders.status import Status
from tests.billing.test_payments import ALWAYS_CAPTURES, configure
from tests.utils import assert_error, race_n, requires_postgresql, reset_breaker, stock_of

pytestmark = pytest.mark.django_db

PRODUCT = {"price": Decimal("10.00")}  # the conftest's product at this price, 10 in stock


@pytest.fixture(autouse=True)
def gateway_up(settings):
    configure(settings, PAYMENT_GATEWAY_OPTIONS=ALWAYS_CAPTURES)
    reset_breaker()
    yield
    reset_breaker()


@pytest.fixture
def delivered(customer, product):
    """A delivered cash order: 3 of the product (30.00) and 1 of another at 5.00; its cash collected."""
    other = ProductFactory(price=Decimal("5.00"), stock=10)
    return OrderFactory(customer=customer, lines=[(product, 3), (other, 1)], status=Status.DELIVERED)


def item_of(order, product):
    return order.items.get(product=product)


def refunds_url(order) -> str:
    return f"/api/v1/orders/{order.pk}/refunds/"


class TestIssuingRefunds:
    def test_a_return_of_some_units_refunds_them_restocks_them_and_credits_the_invoice(
        self, delivered, product, staff_user
    ):
        item = item_of(delivered, product)

        refund = Refund.objects.issue(
            delivered, units={item.pk: 2}, restock=True, reason="Wrong size.", actor=staff_user
        )

        assert (refund.amount, refund.status, refund.restock) == (Decimal("20.00"), "succeeded", True)  # cash: at once
        assert [(line.item_id, line.quantity, line.amount) for line in refund.lines.all()] == [
            (item.pk, 2, Decimal("20.00"))
        ]
        assert stock_of(product) == 7 + 2
        item.refresh_from_db()
        assert item.quantity_returned == 2
        payment = Payment.objects.get(order=delivered)
        assert payment.status == Payment.Status.PARTIALLY_REFUNDED
        note = refund.credit_note
        assert (note.invoice, note.amount, note.reason) == (delivered.invoice, Decimal("20.00"), "Wrong size.")
        assert note.lines == [
            {"item": item.pk, "product_name": item.product_name, "sku": item.sku, "quantity": 2, "amount": "20.00"}
        ]
        event = delivered.events.last()
        assert (event.from_status, event.to_status, event.actor) == (Status.DELIVERED, Status.DELIVERED, staff_user)
        assert event.note == f"Refund of 20.00 USD: 2 x {item.product_name} (returned to stock). Reason: Wrong size."
        assert Invoice.objects.with_state().get(order=delivered).state == Invoice.State.PARTIALLY_REFUNDED

    def test_refunding_the_whole_order_takes_what_is_left_and_refunds_the_payment(self, delivered, product):
        RefundFactory(order=delivered, units={item_of(delivered, product).pk: 1})

        rest = Refund.objects.issue(delivered)

        assert rest.amount == Decimal("25.00")
        assert sorted((line.quantity, line.amount) for line in rest.lines.all()) == [
            (1, Decimal("5.00")),
            (2, Decimal("20.00")),
        ]
        assert Payment.objects.get(order=delivered).status == Payment.Status.REFUNDED
        assert Invoice.objects.get(order=delivered).state == Invoice.State.REFUNDED
        assert stock_of(product) == 7  # nothing restocked
        with pytest.raises(Exception, match="refunded already") as refused:
            Refund.objects.issue(delivered)
        assert refused.value.code == "refund_exceeds_payment"

    def test_units_beyond_those_not_refunded_yet_are_refused_with_each_line(self, delivered, product):
        item = item_of(delivered, product)
        RefundFactory(order=delivered, units={item.pk: 2})

        with pytest.raises(Exception) as refused:
            Refund.objects.issue(delivered, units={item.pk: 2})

        assert refused.value.code == "refund_exceeds_payment"
        assert refused.value.facts["lines"] == [{"item": item.pk, "requested": 2, "refundable": 1}]
        assert Refund.objects.count() == 1

    def test_nothing_is_refunded_before_the_money_came_in(self, customer, product):
        cash_not_collected = OrderFactory(customer=customer, lines=[(product, 1)])  # confirmed, cash due on delivery
        card_pending = CardOrderFactory(customer=customer, lines=[(product, 1)])

        for order in (cash_not_collected, card_pending):
            with pytest.raises(Exception, match="Nothing has been paid") as refused:
                Refund.objects.issue(order)
            assert refused.value.code == "refund_exceeds_payment"
        assert not Refund.objects.exists() and not CreditNote.objects.exists()

    def test_a_discounted_order_refunds_what_was_paid_and_never_more_in_total(self, customer):
        products = [ProductFactory(price=Decimal("3.33"), stock=10) for _ in range(3)]
        code = DiscountCodeFactory(kind="percent", value=Decimal("10"))
        order = OrderFactory(
            customer=customer, lines=[(p, 1) for p in products], discount_code=code, status=Status.DELIVERED
        )
        assert order.total == Decimal("8.99")  # 9.99 less 1.00
        first, second, third = order.items.all()

        amounts = [
            RefundFactory(order=order, units={first.pk: 1}).amount,
            RefundFactory(order=order, units={second.pk: 1}).amount,
            RefundFactory(order=order, units={third.pk: 1}).amount,
        ]

        assert amounts[:2] == [Decimal("3.00"), Decimal("3.00")]  # 3.33 x 8.99 / 9.99
        assert sum(amounts) == order.total  # the last takes what is left: 2.99
        assert Payment.objects.get(order=order).status == Payment.Status.REFUNDED

    def test_an_item_of_another_order_is_refused(self, delivered, customer, product):
        elsewhere = OrderFactory(customer=customer, lines=[(product, 1)], status=Status.DELIVERED)

        with pytest.raises(Exception, match="not a line of this order"):
            Refund.objects.issue(delivered, units={elsewhere.items.get().pk: 1})

    def test_cancelling_after_a_return_gives_back_only_the_units_not_returned_yet(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 4)], status=Status.CONFIRMED)
        assert stock_of(product) == 6
        RefundFactory(order=order, units={order.items.get().pk: 1}, restock=True)
        assert stock_of(product) == 7

        Order.objects.get(pk=order.pk).cancel(actor=None)

        assert stock_of(product) == 10  # 3 given back by the cancellation, not 4
        assert sum(refund.amount for refund in Refund.objects.filter(payment__order=order)) == order.total
        assert CreditNote.objects.filter(invoice__order=order).count() == 2


class TestCancellingInvoicedCash:
    def test_cancelling_a_confirmed_cash_order_credits_its_invoice_in_full_and_moves_no_money(
        self, customer, product, staff_user
    ):
        order = OrderFactory(customer=customer, lines=[(product, 2)])

        order.cancel(actor=staff_user)

        payment = Payment.objects.get(order=order)
        note = CreditNote.objects.get(invoice__order=order)
        assert payment.status == Payment.Status.CANCELLED
        assert (note.amount, note.refund, len(note.lines)) == (Decimal("20.00"), None, 1)
        assert not Refund.objects.exists()
        assert Invoice.objects.get(order=order).state == Invoice.State.CANCELLED


class TestCardRefunds:
    def test_a_card_refund_waits_for_the_gateway_then_emails_the_customer(
        self, customer, product, staff_user, mailoutbox, eager, django_capture_on_commit_callbacks
    ):
        order = CardOrderFactory(customer=customer, lines=[(product, 2)], status=Status.DELIVERED)
        with mock.patch.object(refund_payment, "delay") as queued, django_capture_on_commit_callbacks(execute=True):
            refund = RefundFactory(order=order, units={order.items.get().pk: 1}, paid_out=False)
            hand_over(refund)  # what the API and the admin do after issuing
        queued.assert_called_once_with(refund.pk)
        assert refund.status == Refund.Status.PENDING
        assert Payment.objects.get(order=order).status == Payment.Status.SUCCEEDED

        refund_payment(refund.pk)

        refund.refresh_from_db()
        assert refund.status == Refund.Status.SUCCEEDED and refund.gateway_reference.startswith("mock_re_")
        assert Payment.objects.get(order=order).status == Payment.Status.PARTIALLY_REFUNDED
        [email] = mailoutbox[-1:]
        assert email.to == [customer.email]
        assert "10.00" in email.subject and order.number in email.subject
        assert item_of(order, product).product_name in email.body
        assert refund.credit_note.number in email.body


class TestRefundsApi:
    def test_staff_refund_some_units_and_the_customer_reads_it(self, staff_client, customer_client, delivered, product):
        item = item_of(delivered, product)

        response = staff_client.post(
            refunds_url(delivered),
            {"lines": [{"item": item.pk, "quantity": 1}], "restock": True, "reason": "Too small."},
            format="json",
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert response["Location"].endswith(f"{refunds_url(delivered)}{body['id']}/")
        assert customer_client.get(response["Location"]).json() == body
        assert (body["amount"], body["status"], body["restock"], body["reason"]) == (
            "10.00",
            "succeeded",
            True,
            "Too small.",
        )
        assert body["lines"] == [
            {"item": item.pk, "product_name": item.product_name, "sku": item.sku, "quantity": 1, "amount": "10.00"}
        ]
        assert body["credit_note"]["number"].startswith("CN-")
        assert stock_of(product) == 8
        listed = customer_client.get(refunds_url(delivered))
        assert listed.status_code == 200
        assert [refund["id"] for refund in listed.json()] == [body["id"]]
        order = customer_client.get(f"/api/v1/orders/{delivered.pk}/").json()
        assert {line["id"]: line["quantity_returned"] for line in order["items"]}[item.pk] == 1

    def test_a_repeated_idempotency_key_returns_the_first_refund(self, staff_client, delivered, product):
        body = {"lines": [{"item": item_of(delivered, product).pk, "quantity": 1}], "reason": "Late."}

        first = staff_client.post(refunds_url(delivered), body, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
        again = staff_client.post(refunds_url(delivered), body, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")

        assert (first.status_code, again.status_code) == (201, 201)
        assert "Idempotent-Replayed" not in first
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert again["Location"] == first["Location"]
        assert Refund.objects.count() == 1 and CreditNote.objects.count() == 1
        other = {**body, "reason": "Something else."}
        reused = staff_client.post(refunds_url(delivered), other, format="json", HTTP_IDEMPOTENCY_KEY="refund-1")
        assert_error(reused, 422, "idempotency_key_reused")
        assert_error(
            staff_client.post(refunds_url(delivered), body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256),
            400,
            "validation_error",
        )
        assert Refund.objects.count() == 1

    def test_options_describes_the_refund_request(self, staff_client, customer_client, delivered):
        for client in (staff_client, customer_client):
            response = client.options(refunds_url(delivered))
            assert response.status_code == 200, response.content
        assert set(staff_client.options(refunds_url(delivered)).json()["actions"]["POST"]) == {
            "lines", "restock", "reason",
        }  # fmt: skip

    def test_no_lines_refunds_the_whole_order(self, staff_client, delivered):
        response = staff_client.post(refunds_url(delivered), {}, format="json")

        assert response.status_code == 201
        assert response.json()["amount"] == "35.00"
        assert_error(staff_client.post(refunds_url(delivered), {}, format="json"), 409, "refund_exceeds_payment")

    def test_over_refunding_answers_409_and_writes_nothing(self, staff_client, delivered, product):
        item = item_of(delivered, product)

        response = staff_client.post(
            refunds_url(delivered), {"lines": [{"item": item.pk, "quantity": 4}]}, format="json"
        )

        body = assert_error(response, 409, "refund_exceeds_payment")
        assert body["lines"] == [{"item": item.pk, "requested": 4, "refundable": 3}]
        assert not Refund.objects.exists() and not CreditNote.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            {"lines": []},
            {"lines": [{"item": 1, "quantity": 0}]},
            {"lines": [{"item": "x", "quantity": 1}]},
            {"lines": "all"},
            {"restock": "maybe"},
            {"reason": "x" * 501},
        ],
    )
    def test_malformed_bodies_answer_400(self, staff_client, delivered, body):
        assert_error(staff_client.post(refunds_url(delivered), body, format="json"), 400, "validation_error")
        assert not Refund.objects.exists()

    def test_a_line_given_twice_or_of_another_order_answers_400(self, staff_client, delivered, product):
        item = item_of(delivered, product)
        twice = {"lines": [{"item": item.pk, "quantity": 1}, {"item": item.pk, "quantity": 1}]}

        assert_error(staff_client.post(refunds_url(delivered), twice, format="json"), 400, "validation_error")
        unknown = {"lines": [{"item": 10**9, "quantity": 1}]}
        assert_error(staff_client.post(refunds_url(delivered), unknown, format="json"), 400, "validation_error")

    def test_customers_cannot_refund_and_cannot_see_others_refunds(
        self, customer_client, other_customer_client, delivered
    ):
        assert_error(customer_client.post(refunds_url(delivered), {}, format="json"), 403, "permission_denied")
        assert_error(other_customer_client.get(refunds_url(delivered)), 404, "not_found")
        assert not Refund.objects.exists()

    def test_staff_need_the_add_refund_permission(self, staff_without_permissions, delivered):
        staff_without_permissions.user_permissions.set(Permission.objects.filter(codename="view_order"))
        client = bearer_client(staff_without_permissions)

        assert client.get(refunds_url(delivered)).status_code == 200
        assert_error(client.post(refunds_url(delivered), {}, format="json"), 403, "permission_denied")
        staff_without_permissions.user_permissions.add(Permission.objects.get(codename="add_refund"))
        assert (
            bearer_client(staff_without_permissions).post(refunds_url(delivered), {}, format="json").status_code == 201
        )

    def test_the_refund_list_takes_a_fixed_number_of_queries(self, staff_client, customer, django_assert_num_queries):
        products = [ProductFactory(price=Decimal("2.00"), stock=10) for _ in range(3)]
        order = OrderFactory(customer=customer, lines=[(p, 2) for p in products], status=Status.DELIVERED)
        for item in order.items.all():
            RefundFactory(order=order, units={item.pk: 1})

        staff_client.get(refunds_url(order))  # warm: the permission cache fills on the first request
        # order, refunds (+ credit notes), lines (+ items), and the user's
        with CaptureQueriesContext(connection) as three:
            assert len(staff_client.get(refunds_url(order)).json()) == 3
        RefundFactory(order=order)
        with django_assert_num_queries(len(three.captured_queries)):
            assert len(staff_client.get(refunds_url(order)).json()) == 4


class TestCreditNotesApi:
    def test_customers_list_and_read_their_own_credit_notes(self, customer_client, other_customer_client, delivered):
        refund = RefundFactory(order=delivered)
        note = refund.credit_note

        listed = customer_client.get("/api/v1/credit-notes/")
        detail = customer_client.get(f"/api/v1/credit-notes/{note.pk}/")
        page = customer_client.get(f"/api/v1/credit-notes/{note.pk}/print/")

        assert [row["number"] for row in listed.json()["results"]] == [note.number]
        body = detail.json()
        assert (body["invoice_number"], body["order_number"], body["amount"], body["refund"]) == (
            delivered.invoice.number, delivered.number, "35.00", refund.pk,
        )  # fmt: skip
        assert len(body["lines"]) == 2
        assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
        assert note.number in page.content.decode() and delivered.invoice.number in page.content.decode()
        assert other_customer_client.get("/api/v1/credit-notes/").json()["results"] == []
        by_order = customer_client.get("/api/v1/credit-notes/", {"order": delivered.pk}).json()["results"]
        assert [row["id"] for row in by_order] == [note.pk]
        assert customer_client.get("/api/v1/credit-notes/", {"order": delivered.pk + 1}).json()["results"] == []
        assert_error(other_customer_client.get(f"/api/v1/credit-notes/{note.pk}/"), 404, "not_found")
        assert_error(other_customer_client.get(f"/api/v1/credit-notes/{note.pk}/print/"), 404, "not_found")

    def test_an_invoice_shows_its_state_and_links_its_credit_notes(self, customer_client, delivered, product):
        invoice_url = f"/api/v1/invoices/{delivered.invoice.pk}/"
        assert customer_client.get(invoice_url).json()["state"] == "paid"

        note = RefundFactory(order=delivered, units={item_of(delivered, product).pk: 1}).credit_note

        body = customer_client.get(invoice_url).json()
        assert body["state"] == "partially_refunded"
        assert [(link["number"], link["amount"]) for link in body["credit_notes"]] == [(note.number, "10.00")]
        assert body["credit_notes"][0]["url"].endswith(f"/api/v1/credit-notes/{note.pk}/")
        RefundFactory(order=delivered)
        assert customer_client.get(invoice_url).json()["state"] == "refunded"

    def test_an_unpaid_cash_invoice_says_so(self, customer_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)])

        assert customer_client.get(f"/api/v1/invoices/{order.invoice.pk}/").json()["state"] == "unpaid"

    def test_invoice_and_credit_note_lists_take_a_fixed_number_of_queries(
        self, staff_client, customer, django_assert_num_queries
    ):
        def refunded_order():
            order = OrderFactory(customer=customer, lines=[(ProductFactory(stock=5), 2)], status=Status.DELIVERED)
            RefundFactory(order=order, units={order.items.get().pk: 1})
            RefundFactory(order=order)

        refunded_order()
        staff_client.get("/api/v1/credit-notes/")  # warm: the permission cache fills on the first request
        with CaptureQueriesContext(connection) as invoices:
            staff_client.get("/api/v1/invoices/")
        with CaptureQueriesContext(connection) as notes:
            staff_client.get("/api/v1/credit-notes/")
        for _ in range(3):
            refunded_order()

        with django_assert_num_queries(len(invoices.captured_queries)):
            assert len(staff_client.get("/api/v1/invoices/").json()["results"]) == 4
        with django_assert_num_queries(len(notes.captured_queries)):
            assert len(staff_client.get("/api/v1/credit-notes/").json()["results"]) == 8


@requires_postgresql
@pytest.mark.django_db(transaction=True)
class TestRaces:
    def test_racing_refunds_never_exceed_the_capture(self, customer, staff_user):
        product = ProductFactory(price=Decimal("10.00"), stock=50)
        order = CardOrderFactory(customer=customer, lines=[(product, 5)], status=Status.DELIVERED)
        item = order.items.get()

        def refund_two(_):
            try:
                return Refund.objects.issue(Order.objects.get(pk=order.pk), units={item.pk: 2}, actor=staff_user)
            except Exception as refused:  # noqa: BLE001 (the race's losers are counted, not raised)
                return refused

        results = race_n(8, refund_two)

        issued = [result for result in results if isinstance(result, Refund)]
        refused = [result for result in results if not isinstance(result, Refund)]
        assert len(issued) == 2  # 2 + 2 of 5 units; a third 2 would pass the quantity
        assert {getattr(error, "code", None) for error in refused} == {"refund_exceeds_payment"}
        assert sum(refund.amount for refund in Refund.objects.filter(payment__order=order)) == Decimal("40.00")
        full = race_n(4, lambda _: _issue_or_error(order))
        assert sum(isinstance(result, Refund) for result in full) == 1  # the rest: 1 unit, 10.00
        assert sum(refund.amount for refund in Refund.objects.filter(payment__order=order)) == order.total

    def test_racing_retries_with_one_idempotency_key_refund_once(self, customer, staff_user):
        order = CardOrderFactory(customer=customer, lines=[(ProductFactory(stock=5), 1)], status=Status.DELIVERED)

        def retry(_):
            return Refund.objects.issue_once(
                Order.objects.get(pk=order.pk), idempotency_key="retry-me", request_fingerprint="same", actor=staff_user
            )

        results = race_n(6, retry)

        assert sorted(created for _, created in results) == [False] * 5 + [True]
        assert {refund.pk for refund, _ in results} == {Refund.objects.get().pk}

    def test_racing_refunds_take_credit_note_numbers_without_gaps(self, customer):
        orders = [
            OrderFactory(customer=customer, lines=[(ProductFactory(stock=5), 1)], status=Status.DELIVERED)
            for _ in range(8)
        ]

        race_n(8, lambda n: Refund.objects.issue(Order.objects.get(pk=orders[n].pk)))

        numbers = sorted(CreditNote.objects.values_list("sequence", flat=True))
        assert numbers == list(range(1, 9))
        assert CreditNote.objects.values("number").distinct().count() == 8


def _issue_or_error(order):
    try:
        return Refund.objects.issue(Order.objects.get(pk=order.pk))
    except Exception as refused:  # noqa: BLE001
        return refused
