"""Invoices (SPEC §4 billing, §5): issued on confirmation, gap-free numbers per year, the API, the printable page.

Also the order's payments endpoint, which shows what the invoice was paid with.
"""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.utils import timezone

import billing.managers
from billing.factories import CardOrderFactory
from billing.models import Invoice, InvoiceSequence
from billing.payments import process_payment
from billing.tasks import charge_order, send_order_email
from catalog.factories import ProductFactory
from conftest import bearer_client
from customers.factories import CustomerFactory
from orders.factories import OrderFactory
from orders.models import DiscountCode, Order
from orders.status import Status
from tests.utils import assert_error, race, requires_postgresql, result_ids

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/invoices/"
ORDERS = "/api/v1/orders/"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def invoice_url(invoice) -> str:
    return f"{INVOICES}{invoice.pk}/"


def print_url(invoice) -> str:
    return f"{invoice_url(invoice)}print/"


def payments_url(order) -> str:
    return f"{ORDERS}{order.pk}/payments/"


def number(sequence: int, year: int | None = None) -> str:
    return f"INV-{year or timezone.now().year}-{sequence:06d}"


@pytest.fixture
def no_background_tasks(monkeypatch):
    """Keep the payment worker and the emails out of transactional tests: nothing is queued."""
    monkeypatch.setattr(charge_order, "delay", lambda *args, **kwargs: None)
    monkeypatch.setattr(send_order_email, "delay", lambda *args, **kwargs: None)


# --- Issued on confirmation ------------------------------------------------------------------


class TestIssuedOnConfirmation:
    def test_a_cash_order_gets_its_invoice_when_placed(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 2)])

        invoice = Invoice.objects.get(order=order)
        assert invoice.number == number(1)
        assert order.status == Status.CONFIRMED

    def test_the_invoice_is_written_in_the_placement_transaction(self, customer, product):
        with pytest.raises(RuntimeError), transaction.atomic():
            order = OrderFactory(customer=customer, lines=[(product, 2)])
            assert Invoice.objects.filter(order=order).exists()
            raise RuntimeError("the placement rolls back")

        assert not Invoice.objects.exists()
        assert OrderFactory(customer=customer, lines=[(product, 1)]).invoice.number == number(
            1
        )  # the number was not used up

    def test_a_card_order_gets_its_invoice_only_once_confirmed(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 1)])
        assert not Invoice.objects.exists()

        order.transition_to(Status.PAYMENT_PROCESSING)
        assert not Invoice.objects.exists()

        order.transition_to(Status.CONFIRMED)
        assert Invoice.objects.get().order == order

    def test_a_cancelled_order_never_gets_an_invoice(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 1)])

        order.cancel(actor=customer.user)

        assert not Invoice.objects.exists()

    def test_an_order_whose_payment_failed_never_gets_an_invoice(self, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 1)], status=Status.PAYMENT_PROCESSING)

        order.transition_to(Status.PAYMENT_FAILED)

        assert not Invoice.objects.exists()

    def test_issuing_twice_returns_the_same_invoice_and_spends_no_number(self, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)])
        first = Invoice.objects.get(order=order)

        again = Invoice.objects.issue_for(order)

        assert again == first
        assert Invoice.objects.count() == 1
        assert InvoiceSequence.objects.get(year=first.year).last_number == 1

    def test_the_invoice_copies_the_orders_money_and_payment_method(self, customer, product):
        DiscountCode.objects.create(code="WELCOME10", kind="percent", value=Decimal("10"))

        order = OrderFactory(customer=customer, lines=[(product, 2)], discount_code="welcome10")

        invoice = order.invoice
        assert (invoice.subtotal, invoice.discount, invoice.total) == (
            Decimal("39.98"),
            Decimal("4.00"),
            Decimal("35.98"),
        )
        assert invoice.payment_method == "cash"
        assert (invoice.year, invoice.sequence) == (invoice.issued_at.year, 1)


# --- Numbering -------------------------------------------------------------------------------


class TestNumbering:
    def test_numbers_are_consecutive_within_the_year(self, customer, product):
        orders = [OrderFactory(customer=customer, lines=[(product, 1)]) for _ in range(3)]

        assert [order.invoice.number for order in orders] == [number(1), number(2), number(3)]
        assert [order.invoice.sequence for order in orders] == [1, 2, 3]

    def test_a_new_year_starts_again_at_one(self, customer, product, monkeypatch):
        def at(moment: datetime) -> None:
            """Set the clock the invoice numbering reads."""
            monkeypatch.setattr(billing.managers, "timezone", SimpleNamespace(now=lambda: moment))

        at(datetime(2025, 12, 31, 23, 59, 58, tzinfo=UTC))
        last_year = [OrderFactory(customer=customer, lines=[(product, 1)]).invoice for _ in range(2)]
        at(datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC))
        this_year = [OrderFactory(customer=customer, lines=[(product, 1)]).invoice for _ in range(2)]

        assert [invoice.number for invoice in last_year] == ["INV-2025-000001", "INV-2025-000002"]
        assert [invoice.number for invoice in this_year] == ["INV-2026-000001", "INV-2026-000002"]
        assert this_year[0].issued_at == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
        assert dict(InvoiceSequence.objects.values_list("year", "last_number")) == {2025: 2, 2026: 2}

    def test_last_years_sequence_does_not_continue_into_this_year(self, customer, product):
        year = timezone.now().year
        InvoiceSequence.objects.create(year=year - 1, last_number=41)

        invoice = OrderFactory(customer=customer, lines=[(product, 1)]).invoice

        assert invoice.number == number(1, year)
        assert InvoiceSequence.objects.get(year=year - 1).last_number == 41


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_confirmation_gives_its_number_to_the_next_invoice(no_background_tasks):
    customer, product = CustomerFactory(), ProductFactory(stock=10)
    rolled_back = CardOrderFactory(customer=customer, lines=[(product, 1)], status=Status.PAYMENT_PROCESSING)
    next_one = CardOrderFactory(customer=customer, lines=[(product, 1)], status=Status.PAYMENT_PROCESSING)

    with pytest.raises(RuntimeError), transaction.atomic():
        rolled_back.transition_to(Status.CONFIRMED)
        assert Invoice.objects.get(order=rolled_back).number == number(1)
        raise RuntimeError("something after the confirmation failed")

    assert Order.objects.get(pk=rolled_back.pk).status == Status.PAYMENT_PROCESSING
    assert not Invoice.objects.exists()
    next_one.transition_to(Status.CONFIRMED)
    Order.objects.get(pk=rolled_back.pk).transition_to(Status.CONFIRMED)
    assert Invoice.objects.get(order=next_one).number == number(1)
    assert Invoice.objects.get(order=rolled_back).number == number(2)


# --- Racing confirmations (PostgreSQL) -------------------------------------------------------


def confirm(order_id: int, *, then_fail: bool = False) -> str:
    """Confirm the order in its own transaction; with `then_fail`, roll it back after the invoice was issued."""
    try:
        with transaction.atomic():
            Order.objects.get(pk=order_id).transition_to(Status.CONFIRMED)
            if then_fail:
                raise RuntimeError("rolled back after issuing")
    except RuntimeError:
        return "rolled back"
    return "confirmed"


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_twenty_racing_confirmations_take_numbers_one_to_twenty(no_background_tasks):
    product = ProductFactory(stock=100)
    orders = [
        CardOrderFactory(customer=CustomerFactory(), lines=[(product, 1)], status=Status.PAYMENT_PROCESSING)
        for _ in range(20)
    ]

    outcomes = race([lambda pk=order.pk: confirm(pk) for order in orders])

    assert outcomes == ["confirmed"] * 20
    year = timezone.now().year
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 21))
    assert set(Invoice.objects.values_list("number", flat=True)) == {number(n, year) for n in range(1, 21)}
    assert set(Invoice.objects.values_list("order_id", flat=True)) == {order.pk for order in orders}
    assert InvoiceSequence.objects.get(year=year).last_number == 20


@requires_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_confirmation_rolled_back_in_the_race_leaves_no_gap(no_background_tasks):
    product = ProductFactory(stock=100)
    orders = [
        CardOrderFactory(customer=CustomerFactory(), lines=[(product, 1)], status=Status.PAYMENT_PROCESSING)
        for _ in range(20)
    ]
    failing = orders[7]

    outcomes = race([lambda pk=order.pk: confirm(pk, then_fail=pk == failing.pk) for order in orders])

    assert outcomes.count("rolled back") == 1
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == list(range(1, 20))
    assert not Invoice.objects.filter(order=failing).exists()
    assert Order.objects.get(pk=failing.pk).status == Status.PAYMENT_PROCESSING
    confirm(failing.pk)
    assert Invoice.objects.get(order=failing).number == number(20)


# --- /api/v1/invoices/ -----------------------------------------------------------------------


class TestInvoiceApi:
    def test_a_customer_lists_only_their_own_invoices(self, customer_client, customer, other_customer, product):
        mine = [OrderFactory(customer=customer, lines=[(product, 1)]).invoice for _ in range(2)]
        OrderFactory(customer=other_customer, lines=[(product, 1)])

        response = customer_client.get(INVOICES)

        assert response.status_code == 200
        assert response.json()["count"] == 2
        assert sorted(result_ids(response)) == sorted(invoice.pk for invoice in mine)

    def test_the_body_has_the_number_the_order_and_the_money(self, customer_client, customer, product):
        DiscountCode.objects.create(code="WELCOME10", kind="percent", value=Decimal("10"))
        order = OrderFactory(customer=customer, lines=[(product, 2)], discount_code="welcome10")
        invoice = order.invoice

        response = customer_client.get(invoice_url(invoice))

        assert response.status_code == 200
        body = response.json()
        assert body == {
            "id": invoice.pk,
            "number": number(1),
            "order": order.pk,
            "order_number": order.number,
            "issued_at": body["issued_at"],
            "subtotal": "39.98",
            "discount": "4.00",
            "total": "35.98",
            "payment_method": "cash",
            "state": "unpaid",  # cash, collected on delivery
            "credit_notes": [],
            "print_url": f"http://testserver{print_url(invoice)}",
            "pdf_url": f"http://testserver{invoice_url(invoice)}pdf/",
        }
        assert datetime.fromisoformat(body["issued_at"]) == invoice.issued_at

    def test_another_customers_invoice_and_its_page_are_not_found(self, other_customer_client, customer, product):
        invoice = OrderFactory(customer=customer, lines=[(product, 1)]).invoice

        assert_error(other_customer_client.get(invoice_url(invoice)), 404, "not_found")
        assert_error(other_customer_client.get(print_url(invoice)), 404, "not_found")

    def test_staff_see_every_invoice_and_filter_by_order_and_payment_method(
        self, staff_client, customer, other_customer, product
    ):
        cash = OrderFactory(customer=customer, lines=[(product, 1)])
        card = CardOrderFactory(customer=other_customer, lines=[(product, 1)])
        card.transition_to(Status.PAYMENT_PROCESSING)
        card.transition_to(Status.CONFIRMED)

        everything = staff_client.get(INVOICES)
        by_order = staff_client.get(INVOICES, {"order": card.pk})
        by_method = staff_client.get(INVOICES, {"payment_method": "cash"})

        assert sorted(result_ids(everything)) == sorted([cash.invoice.pk, card.invoice.pk])
        assert result_ids(by_order) == [card.invoice.pk]
        assert result_ids(by_method) == [cash.invoice.pk]
        assert staff_client.get(invoice_url(cash.invoice)).status_code == 200

    def test_staff_without_the_view_permission_are_refused(self, staff_without_permissions, customer, product):
        invoice = OrderFactory(customer=customer, lines=[(product, 1)]).invoice
        client = bearer_client(staff_without_permissions)

        assert_error(client.get(INVOICES), 403, "permission_denied")
        assert_error(client.get(invoice_url(invoice)), 403, "permission_denied")
        assert_error(client.get(print_url(invoice)), 403, "permission_denied")

    def test_anonymous_must_authenticate(self, api_client, customer, product):
        invoice = OrderFactory(customer=customer, lines=[(product, 1)]).invoice

        assert_error(api_client.get(INVOICES), 401, "not_authenticated")
        assert_error(api_client.get(invoice_url(invoice)), 401, "not_authenticated")
        assert_error(api_client.get(print_url(invoice)), 401, "not_authenticated")

    def test_invoices_cannot_be_written_through_the_api(self, staff_client, customer, product):
        invoice = OrderFactory(customer=customer, lines=[(product, 1)]).invoice

        assert staff_client.post(INVOICES, {"order": invoice.order_id}, format="json").status_code == 405
        assert staff_client.patch(invoice_url(invoice), {"total": "0.00"}, format="json").status_code == 405
        assert staff_client.delete(invoice_url(invoice)).status_code == 405
        assert Invoice.objects.get().total == invoice.total


@pytest.mark.parametrize("count", [2, 20])
def test_a_customers_invoice_list_runs_a_fixed_number_of_queries(
    customer_client, customer, other_customer, django_assert_num_queries, count
):
    OrderFactory.create_batch(count, customer=customer)
    OrderFactory(customer=other_customer)

    # 1. the user of the bearer token; 2. the page of invoices with their orders and payment status
    # (joins) and amounts credited (a subquery); 3. their credit notes. No COUNT(*): the page is not full.
    with django_assert_num_queries(3):
        response = customer_client.get(INVOICES, {"page_size": 100})

    assert response.json()["count"] == count
    assert all(row["order_number"] for row in response.json()["results"])


@pytest.mark.parametrize("count", [2, 20])
def test_the_staff_invoice_list_runs_a_fixed_number_of_queries(
    staff_client, customer, django_assert_num_queries, count
):
    OrderFactory.create_batch(count, customer=customer)

    # 1. the user's permissions; 2. their groups' permissions; 3. the page of invoices with their
    # orders, payment status and credited amounts; 4. their credit notes. No COUNT(*): the page is not full.
    with django_assert_num_queries(4):
        response = staff_client.get(INVOICES, {"page_size": 100})

    assert response.json()["count"] == count
    assert all(row["order_number"] for row in response.json()["results"])


# --- The printable page ----------------------------------------------------------------------


class TestPrintPage:
    @pytest.fixture
    def order(self, customer):
        customer.first_name, customer.last_name = "Ada", "Lovelace"
        customer.save()
        DiscountCode.objects.create(code="WELCOME10", kind="percent", value=Decimal("10"))
        teapot = ProductFactory(name="Teapot", sku="TEA-POT", price=Decimal("19.99"), stock=10)
        spoon = ProductFactory(name="Silver spoon", sku="SPN-001", price=Decimal("2.50"), stock=10)
        return OrderFactory(customer=customer, lines=[(teapot, 2), (spoon, 4)], discount_code="welcome10")

    @pytest.mark.parametrize("accept", [BROWSER_ACCEPT, "text/html", "application/json"])
    def test_the_page_is_html_with_the_invoice_the_customer_the_items_and_the_totals(
        self, customer_client, order, settings, accept
    ):
        settings.SHOP_NAME = "Corner Tea Shop"
        invoice = order.invoice

        response = customer_client.get(print_url(invoice), HTTP_ACCEPT=accept)

        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/html")
        page = response.content.decode()
        assert page.lstrip().lower().startswith("<!doctype html>")
        for text in [
            invoice.number,
            order.number,
            "Ada Lovelace",
            "Corner Tea Shop",
            "Teapot",
            "TEA-POT",
            "Silver spoon",
            "SPN-001",
            "39.98",  # the teapots' line
            "10.00",  # the spoons' line
            "49.98",  # subtotal
            "\u22125.00",  # discount, shown as a minus
            "44.98",  # total
            "Discount (WELCOME10)",
        ]:
            assert text in page, text

    def test_an_order_without_a_discount_has_no_discount_line(self, customer_client, customer, product):
        invoice = OrderFactory(customer=customer, lines=[(product, 1)]).invoice

        page = customer_client.get(print_url(invoice)).content.decode()

        assert invoice.number in page
        assert "Discount" not in page

    def test_staff_can_print_any_invoice(self, staff_client, order):
        response = staff_client.get(print_url(order.invoice))

        assert response.status_code == 200
        assert order.invoice.number in response.content.decode()


# --- GET /api/v1/orders/{id}/payments/ -------------------------------------------------------


class TestPaymentsEndpoint:
    def test_a_cash_order_shows_its_cash_to_collect(self, customer_client, customer, product):
        order = OrderFactory(customer=customer, lines=[(product, 1)])

        response = customer_client.get(payments_url(order))

        assert response.status_code == 200
        [payment] = response.json()
        assert (payment["method"], payment["status"], payment["attempts"]) == ("cash", "pending", [])

    def test_a_paid_card_order_shows_its_payment_and_the_attempt(self, customer_client, customer, product, settings):
        settings.PAYMENT_GATEWAY_OPTIONS = {"decline_rate": 0, "outage_rate": 0, "latency_ms": 0}
        order = CardOrderFactory(customer=customer, lines=[(product, 2)])

        process_payment(order.pk)

        response = customer_client.get(payments_url(order))
        assert response.status_code == 200
        [payment] = response.json()
        assert payment["status"] == "succeeded"
        assert (payment["amount"], payment["method"], payment["attempt_count"]) == ("39.98", "card", 1)
        assert payment["gateway_reference"].startswith("mock_ch_")
        [attempt] = payment["attempts"]
        assert (attempt["number"], attempt["outcome"], attempt["error"]) == (1, "succeeded", "")
        assert isinstance(attempt["duration_ms"], int)
        assert attempt["duration_ms"] >= 0
        assert Order.objects.get(pk=order.pk).status == Status.CONFIRMED
        assert Invoice.objects.get(order=order).payment_method == "card"

    def test_another_customers_payments_are_not_found(self, other_customer_client, customer, product):
        order = CardOrderFactory(customer=customer, lines=[(product, 1)])

        assert_error(other_customer_client.get(payments_url(order)), 404, "not_found")
